#include "api/stream_api.h"

#include <chrono>

namespace bursar::api {

StreamApi::StreamApi(engine::Engine& engine, const PlatformApi& platform_api, FileSystem& fs,
                     const std::string& data_dir)
    : engine_(engine),
      platform_api_(platform_api),
      // Live only: a new connection gets what is committed from now on.
      subscription_(fs, JoinPath(data_dir, "journal"), engine.committed_seq()) {}

StreamApi::~StreamApi() { Stop(); }

void StreamApi::Attach(HttpServer& server) {
    server.SetUpgradeHandler(
        kPath, [this](HttpRequest&& request, WebSocketAccept accept, Responder reject) {
            Upgrade(std::move(request), std::move(accept), std::move(reject));
        });
    thread_ = std::thread([this] { Run(); });
}

void StreamApi::Stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void StreamApi::Upgrade(HttpRequest&& request, WebSocketAccept accept, Responder reject) {
    payments::Principal principal = platform_api_.PrincipalOf(request);
    if (principal.kind == payments::PrincipalKind::kNone) {
        if (auto token = request.QueryParam("token"); token && !token->empty()) {
            principal = platform_api_.PrincipalOfToken(*token);
        }
    }
    platform_api_.Authenticate(
        principal, [this, accept, reject](const Status& status,
                                          std::optional<payments::Caller> caller, uint64_t) {
            if (!status.ok()) return reject(EngineRefusal(status));
            using Kind = payments::Caller::Kind;
            if (!caller || caller->kind == Kind::kAnonymous) {
                return reject(FromError(payments::ErrorCode::kUnauthenticated));
            }
            Audience audience;
            audience.admin = caller->kind == Kind::kAdmin;
            if (caller->kind == Kind::kUser) audience.user_id = caller->id;
            if (caller->kind == Kind::kMerchant) audience.merchant_id = caller->id;
            hub_.Add(accept(), audience);
        });
}

void StreamApi::Run() {
    constexpr uint64_t kPollNs = 100'000'000;
    constexpr uint64_t kRecordsPerPoll = 256;
    constexpr uint64_t kRetryMs = 1000;
    std::vector<events::Event> batch;
    while (true) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
        }
        const uint64_t committed = engine_.WaitCommitted(subscription_.position(), kPollNs);
        batch.clear();
        auto polled = subscription_.Poll(committed, kRecordsPerPoll, &batch);
        if (!polled) {
            std::unique_lock lock(mutex_);
            cv_.wait_for(lock, std::chrono::milliseconds(kRetryMs), [&] { return stopping_; });
            continue;
        }
        for (const events::Event& event : batch) {
            HubMessage message;
            message.json = event.ToJson();
            message.user_ids.push_back(event.txn.user_id);
            if (event.txn.to_user_id != 0) message.user_ids.push_back(event.txn.to_user_id);
            message.merchant_id = event.txn.merchant_id;
            hub_.Publish(message);
        }
    }
}

}  // namespace bursar::api
