#include "api/stream_api.h"

namespace bursar::api {
namespace {

constexpr uint64_t kRecordsPerPoll = 256;  // journal records fanned out between two looks
constexpr uint64_t kRetryMs = 1000;        // after a failed read, before reading again
constexpr uint64_t kLingerMs = 2;          // committed work collected per fan-out (adds to the lag)

}  // namespace

StreamApi::StreamApi(engine::Engine& engine, const PlatformApi& platform_api, FileSystem& fs,
                     const std::string& data_dir)
    : engine_(engine),
      platform_api_(platform_api),
      follower_(fs, engine, JoinPath(data_dir, "journal"),
                events::FollowerOptions{.name = "stream",
                                        .records_per_poll = kRecordsPerPoll,
                                        .retry_ms = kRetryMs,
                                        .linger_ms = kLingerMs},
                [this](const std::vector<events::Event>& events, const std::vector<events::Signup>&,
                       uint64_t) {
                    // Nobody listens: nothing to encode (a connection gets what comes after it).
                    if (hub_.empty()) return Status::Ok();
                    std::vector<HubMessage> messages(events.size());
                    for (size_t i = 0; i < events.size(); ++i) {
                        const events::Event& event = events[i];
                        HubMessage& message = messages[i];
                        encoder_.Append(event, &message.json);
                        message.user_ids.push_back(event.txn.user_id);
                        if (event.txn.to_user_id != 0)
                            message.user_ids.push_back(event.txn.to_user_id);
                        message.merchant_id = event.txn.merchant_id;
                    }
                    hub_.Publish(messages);
                    return Status::Ok();
                }) {}

StreamApi::~StreamApi() { Stop(); }

void StreamApi::Attach(HttpServer& server) {
    server.SetUpgradeHandler(
        kPath, [this](HttpRequest&& request, WebSocketAccept accept, Responder reject) {
            Upgrade(std::move(request), std::move(accept), std::move(reject));
        });
    // Live only: a connection gets what is committed from now on.
    follower_.Start(engine_.committed_seq());
}

void StreamApi::Stop() { follower_.Stop(); }

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

}  // namespace bursar::api
