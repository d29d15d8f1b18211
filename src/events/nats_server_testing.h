#pragma once

// Debian's nats-server with JetStream, started on a free loopback port with a store of its own,
// for the JetStream tests and bench/jetstream_publish.cc (library bursar_events_testing).

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/status.h"

namespace bursar::events {

// A loopback TCP port that nothing listened on a moment ago.
uint16_t FreeLoopbackPort();

class NatsServer {
  public:
    static constexpr int kStartPollMs = 50;
    static constexpr int kStartPolls = 200;  // kStartPollMs apart: 10 s for it to listen

    NatsServer(uint16_t port, std::string store) : port_(port), store_(std::move(store)) {}
    ~NatsServer() { Kill(); }
    NatsServer(const NatsServer&) = delete;
    NatsServer& operator=(const NatsServer&) = delete;

    // Starts it (keeping what the store holds) and waits until it listens.
    Status Start();
    // SIGKILL, and waits for it.
    void Kill();
    std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
    pid_t pid() const { return pid_; }

  private:
    uint16_t port_;
    std::string store_;
    pid_t pid_ = -1;
};

}  // namespace bursar::events
