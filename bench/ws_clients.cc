// Holds WebSocket clients on /v1/stream for bench/http-live.sh: one per token of TOKENS_FILE
// (users, each seeing the events of their own wallet) and one admin (seeing every event, and
// measuring the lag from commit, the event's "ts", to delivery). Runs until SIGTERM or SIGINT,
// then prints the message count and the lag percentiles.
//
// Written in C++ with epoll rather than a scripting language so that the clients, which share
// the machine's cores with the server in this benchmark, cost as little CPU as they can.
//
// Usage: bursar_ws_clients PORT ADMIN_TOKEN TOKENS_FILE

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

namespace {

constexpr size_t kReadBytes = 1 << 16;
constexpr int kEventsMax = 128;

volatile sig_atomic_t g_running = 1;

struct Client {
    int fd = -1;
    bool admin = false;
    bool open = true;
    std::string buffer;  // bytes received, not yet a whole frame
};

[[noreturn]] void Die(const std::string& what) {
    std::fprintf(stderr, "ws_clients: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

void SendAll(int fd, const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
        ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) continue;  // tiny control frames: spin briefly
        if (n <= 0) return;
        sent += static_cast<size_t>(n);
    }
}

// Opens the connection and completes the handshake (blocking), then makes it non-blocking.
int Connect(uint16_t port, const std::string& token) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) Die("socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) Die("connect");
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    SendAll(fd,
            "GET /v1/stream?token=" + token +
                " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    std::string head;
    char c;
    while (head.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(fd, &c, 1, 0);
        if (n <= 0) Die("handshake");
        head.push_back(c);
    }
    if (head.find(" 101 ") == std::string::npos) {
        std::fprintf(stderr, "ws_clients: upgrade refused: %s\n", head.c_str());
        std::exit(1);
    }
    int flags = 1;
    if (::ioctl(fd, FIONBIO, &flags) != 0) Die("FIONBIO");
    return fd;
}

// Nanoseconds since the epoch of an event's "ts" ("2026-11-25T03:20:40.123Z"); 0 when absent.
uint64_t CommitNs(const char* data, size_t size) {
    static constexpr char kKey[] = "\"ts\":\"";
    const char* end = data + size;
    const char* at = std::search(data, end, kKey, kKey + sizeof(kKey) - 1);
    if (at == end) return 0;
    at += sizeof(kKey) - 1;
    std::tm tm{};
    const char* rest = strptime(at, "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == nullptr) return 0;
    uint64_t ns = static_cast<uint64_t>(timegm(&tm)) * 1'000'000'000ull;
    if (*rest == '.') {
        uint64_t scale = 100'000'000;
        for (++rest; rest < end && *rest >= '0' && *rest <= '9'; ++rest, scale /= 10)
            ns += static_cast<uint64_t>(*rest - '0') * scale;
    }
    return ns;
}

uint64_t NowNs() {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Takes the whole frames out of the client's buffer; counts text messages, answers pings.
void Frames(Client& client, uint64_t* messages, std::vector<uint64_t>* lags) {
    const std::string& b = client.buffer;
    size_t at = 0;
    while (b.size() - at >= 2) {
        const auto* p = reinterpret_cast<const unsigned char*>(b.data() + at);
        uint64_t length = p[1] & 0x7F;
        size_t header = 2;
        if (length == 126) {
            if (b.size() - at < 4) break;
            length = (uint64_t{p[2]} << 8) | p[3];
            header = 4;
        } else if (length == 127) {
            if (b.size() - at < 10) break;
            length = 0;
            for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
            header = 10;
        }
        if (b.size() - at < header + length) break;
        const int opcode = p[0] & 0x0F;
        const char* payload = b.data() + at + header;
        if (opcode == 0x1) {
            ++*messages;
            if (client.admin) {
                const uint64_t committed = CommitNs(payload, length);
                const uint64_t now = NowNs();
                if (committed != 0) lags->push_back(now > committed ? now - committed : 0);
            }
        } else if (opcode == 0x9 && length <= 125) {  // ping: pong with the same payload, masked
            std::string pong = {
                static_cast<char>(0x8A), static_cast<char>(0x80 | length), 0, 0, 0, 0};
            pong.append(payload, length);  // a zero mask leaves the payload as it is
            SendAll(client.fd, pong);
        } else if (opcode == 0x8) {
            client.open = false;
        }
        at += header + length;
    }
    client.buffer.erase(0, at);
}

double Pick(const std::vector<uint64_t>& sorted, double percent) {
    if (sorted.empty()) return 0;
    const size_t index =
        std::min(sorted.size() - 1, static_cast<size_t>(percent / 100 * sorted.size()));
    return static_cast<double>(sorted[index]) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s PORT ADMIN_TOKEN TOKENS_FILE\n", argv[0]);
        return 2;
    }
    const auto port = static_cast<uint16_t>(std::atoi(argv[1]));
    struct sigaction action {};
    action.sa_handler = [](int) { g_running = 0; };
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);

    std::vector<Client> clients;
    std::ifstream tokens(argv[3]);
    for (std::string token; std::getline(tokens, token);) {
        if (!token.empty()) clients.push_back(Client{.fd = Connect(port, token)});
    }
    const size_t users = clients.size();
    clients.push_back(Client{.fd = Connect(port, argv[2]), .admin = true});

    int epoll = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0) Die("epoll_create1");
    for (size_t i = 0; i < clients.size(); ++i) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = i;
        if (::epoll_ctl(epoll, EPOLL_CTL_ADD, clients[i].fd, &event) != 0) Die("epoll_ctl");
    }
    std::printf("ws: %zu user clients and 1 admin client connected\n", users);
    std::fflush(stdout);

    uint64_t messages = 0;
    size_t closed = 0;
    std::vector<uint64_t> lags;
    std::vector<char> chunk(kReadBytes);
    epoll_event events[kEventsMax];
    while (g_running) {
        const int ready = ::epoll_wait(epoll, events, kEventsMax, 200);
        for (int e = 0; e < ready; ++e) {
            Client& client = clients[events[e].data.u64];
            while (client.open) {
                ssize_t n = ::recv(client.fd, chunk.data(), chunk.size(), 0);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0 && errno == EAGAIN) break;
                if (n <= 0) {
                    client.open = false;
                    break;
                }
                client.buffer.append(chunk.data(), static_cast<size_t>(n));
                Frames(client, &messages, &lags);
            }
            if (!client.open) {
                ::epoll_ctl(epoll, EPOLL_CTL_DEL, client.fd, nullptr);
                ++closed;
            }
        }
    }
    std::sort(lags.begin(), lags.end());
    std::printf(
        "ws: %llu messages received, %zu clients closed by the server; commit -> WebSocket lag "
        "p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
        static_cast<unsigned long long>(messages), closed, Pick(lags, 50), Pick(lags, 99),
        Pick(lags, 100));
    return 0;
}
