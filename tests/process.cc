#include "process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace bursar::testing {

Process::Process(const std::vector<std::string>& argv) {
    int input[2], output[2];
    if (::pipe2(input, O_CLOEXEC) != 0 || ::pipe2(output, O_CLOEXEC) != 0) std::abort();
    pid_ = ::fork();
    if (pid_ == 0) {
        ::dup2(input[0], 0);
        ::dup2(output[1], 1);
        std::vector<char*> args;
        for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(input[0]);
    ::close(output[1]);
    input_fd_ = input[1];
    output_ = ::fdopen(output[0], "r");
}

Process::~Process() {
    CloseInput();
    if (!waited_) {
        Kill(SIGKILL);
        Wait();
    }
    if (output_ != nullptr) std::fclose(output_);
}

bool Process::WriteLine(const std::string& line) {
    std::string data = line + "\n";
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(input_fd_, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

bool Process::ReadLine(std::string* line) {
    char* buffer = nullptr;
    size_t capacity = 0;
    ssize_t length = ::getline(&buffer, &capacity, output_);
    if (length < 0) {
        std::free(buffer);
        return false;
    }
    line->assign(buffer, static_cast<size_t>(length));
    std::free(buffer);
    if (!line->empty() && line->back() == '\n') line->pop_back();
    return true;
}

void Process::CloseInput() {
    if (input_fd_ >= 0) ::close(input_fd_);
    input_fd_ = -1;
}

void Process::Kill(int signal) {
    if (!waited_) ::kill(pid_, signal);
}

int Process::Wait() {
    if (waited_) return exit_code_;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    waited_ = true;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
}

int RunCommand(const std::vector<std::string>& argv, std::string* output) {
    Process process(argv);
    process.CloseInput();
    output->clear();
    std::string line;
    while (process.ReadLine(&line)) *output += line + "\n";
    return process.Wait();
}

}  // namespace bursar::testing
