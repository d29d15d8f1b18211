// The ceiling of an HTTP benchmark on this machine: a server that answers every request with a
// fixed 200 JSON body at once and does nothing else (epoll, one thread per core, keep-alive,
// requests with a Content-Length body). Driven by the same wrk command and script as bursar serve
// in bench/http.sh, it measures what the load generator and the kernel's loopback TCP cost by
// themselves: no server on this machine can answer faster than this one under that load.
//
// Usage: bursar_null_server PORT [THREADS]   (listens on 127.0.0.1 until killed)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr int kListenBacklog = 1024;
constexpr int kEventsPerWait = 256;
constexpr size_t kReadBytes = 64 << 10;
constexpr size_t kConnectionBytesMax = 1 << 20;  // a connection sending more is dropped
// About the size of a payment's answer.
constexpr std::string_view kBody = R"({"txn_id":"txn_0","status":"succeeded","amount_minor":100})";

const std::string& Response() {
    static const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
        std::to_string(kBody.size()) + "\r\n\r\n" + std::string(kBody);
    return response;
}

struct Connection {
    int fd = -1;
    std::string input;
};

// The length of the first whole request in `input` (head and Content-Length body), or 0.
size_t RequestLength(std::string_view input) {
    const size_t head_end = input.find("\r\n\r\n");
    if (head_end == std::string_view::npos) return 0;
    size_t body = 0;
    const std::string_view head = input.substr(0, head_end);
    for (size_t line = head.find("\r\n"); line != std::string_view::npos;
         line = head.find("\r\n", line + 2)) {
        constexpr std::string_view kName = "content-length:";
        if (head.size() - line - 2 < kName.size()) break;
        bool match = true;
        for (size_t i = 0; i < kName.size() && match; i++) {
            char c = head[line + 2 + i];
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            match = c == kName[i];
        }
        if (match) body = std::strtoull(head.data() + line + 2 + kName.size(), nullptr, 10);
    }
    const size_t total = head_end + 4 + body;
    return input.size() >= total ? total : 0;
}

void Serve(int listener) {
    const int epoll = epoll_create1(0);
    epoll_event listen_event{};
    listen_event.events = EPOLLIN | EPOLLEXCLUSIVE;
    listen_event.data.ptr = nullptr;
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &listen_event);
    std::vector<epoll_event> events(kEventsPerWait);
    std::vector<char> buffer(kReadBytes);
    std::string output;
    while (true) {
        const int ready = epoll_wait(epoll, events.data(), kEventsPerWait, -1);
        for (int i = 0; i < ready; i++) {
            auto* connection = static_cast<Connection*>(events[i].data.ptr);
            if (connection == nullptr) {
                const int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
                if (fd < 0) continue;
                const int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                epoll_event event{};
                event.events = EPOLLIN;
                event.data.ptr = new Connection{fd, {}};
                epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
                continue;
            }
            const ssize_t bytes = read(connection->fd, buffer.data(), buffer.size());
            if (bytes <= 0 || connection->input.size() + bytes > kConnectionBytesMax) {
                close(connection->fd);
                delete connection;
                continue;
            }
            connection->input.append(buffer.data(), static_cast<size_t>(bytes));
            output.clear();
            for (size_t length = RequestLength(connection->input); length > 0;
                 length = RequestLength(connection->input)) {
                connection->input.erase(0, length);
                output += Response();
            }
            if (!output.empty() && write(connection->fd, output.data(), output.size()) < 0) {
                close(connection->fd);
                delete connection;
            }
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
        return 2;
    }
    const int port = std::atoi(argv[1]);
    const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    const int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        listen(listener, kListenBacklog) != 0) {
        std::perror("listen");
        return 1;
    }
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; i++) pool.emplace_back(Serve, listener);
    Serve(listener);
}
