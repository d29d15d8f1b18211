#pragma once

// A child process with its standard input and output connected to pipes, for black-box tests.

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

namespace bursar::testing {

class Process {
  public:
    // Starts `argv[0]` with the arguments; stderr is inherited.
    explicit Process(const std::vector<std::string>& argv);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    // Writes a line; false once the child is gone.
    bool WriteLine(const std::string& line);
    // Reads a line without its newline; false at end of output.
    bool ReadLine(std::string* line);
    void CloseInput();
    void Kill(int signal);
    // Waits for the child; returns its exit code, or 128 + signal.
    int Wait();

  private:
    pid_t pid_ = -1;
    int input_fd_ = -1;
    FILE* output_ = nullptr;
    bool waited_ = false;
    int exit_code_ = 0;
};

// Runs a command to completion and returns its exit code and standard output.
int RunCommand(const std::vector<std::string>& argv, std::string* output);

}  // namespace bursar::testing
