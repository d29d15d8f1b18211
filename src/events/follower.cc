#include "events/follower.h"

#include <chrono>
#include <memory>

#include "base/thread.h"

namespace bursar::events {
namespace {

constexpr uint64_t kPollNs = 100'000'000;  // wake at least this often to notice a stop

}  // namespace

Follower::Follower(FileSystem& fs, const engine::Engine& engine, std::string journal_dir,
                   FollowerOptions options, ApplyFn apply)
    : fs_(fs),
      engine_(engine),
      journal_dir_(std::move(journal_dir)),
      options_(std::move(options)),
      apply_(std::move(apply)) {}

Follower::~Follower() { Stop(); }

void Follower::Start(uint64_t after_seq) {
    position_ = after_seq;
    thread_ = std::thread([this] {
        SetCurrentThreadName(("f-" + options_.name).c_str());
        if (options_.nice != 0) SetCurrentThreadNice(options_.nice);
        Run();
    });
}

void Follower::Stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

uint64_t Follower::position() const {
    std::lock_guard lock(mutex_);
    return position_;
}

bool Follower::WaitFor(uint64_t seq, uint64_t timeout_ms) const {
    std::unique_lock lock(mutex_);
    if (position_ >= seq) return true;
    waiters_++;
    cv_.notify_all();  // ends a linger
    const bool reached = cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
        return position_ >= seq || stopping_;
    }) && position_ >= seq;
    waiters_--;
    return reached;
}

void Follower::Run() {
    auto subscription = std::make_unique<Subscription>(fs_, journal_dir_, position());
    std::vector<Event> events;
    std::vector<Signup> signups;
    while (true) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
        }
        const uint64_t committed_seq = engine_.WaitCommitted(subscription->position(), kPollNs);
        if (options_.linger_ms > 0 && committed_seq > subscription->position()) {
            std::unique_lock lock(mutex_);
            cv_.wait_for(lock, std::chrono::milliseconds(options_.linger_ms),
                         [&] { return stopping_ || waiters_ > 0; });
        }
        const journal::JournalEnd committed = engine_.committed_end();
        events.clear();
        signups.clear();
        auto polled = subscription->Poll(committed, options_.records_per_poll, &events, &signups);
        Status status = polled ? Status::Ok() : polled.error();
        if (status.ok() && *polled > 0) status = apply_(events, signups, subscription->position());
        if (status.ok()) {
            if (*polled > 0) {
                std::lock_guard lock(mutex_);
                position_ = subscription->position();
            }
            cv_.notify_all();
            continue;
        }
        // The subscription may have read past what was applied: start again from what was.
        const uint64_t resume = position();
        if (options_.log) {
            options_.log(options_.name + ": " + status.ToString() + "; reading again after " +
                         std::to_string(resume));
        }
        subscription = std::make_unique<Subscription>(fs_, journal_dir_, resume);
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, std::chrono::milliseconds(options_.retry_ms), [&] { return stopping_; });
    }
}

}  // namespace bursar::events
