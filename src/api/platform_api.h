#pragma once

// The platform's HTTP endpoints (issue 3): thin handlers that parse and validate a request, turn
// it into an engine command or query, and map the result. Authorization, idempotency and business
// rules are decided by the state machine (payments::Platform); the handlers only add what needs
// threads or secrets: argon2 on the worker pool, random tokens, and the in-flight check of
// Idempotency-Keys (409 IDEMPOTENCY_KEY_IN_USE).

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/http.h"
#include "api/json_input.h"
#include "api/render.h"
#include "api/router.h"
#include "api/worker_pool.h"
#include "base/clock.h"
#include "engine/engine.h"
#include "payments/error_codes.h"
#include "projection/projector.h"

namespace bursar::api {

struct PlatformApiOptions {
    std::string admin_token;
    uint32_t default_currency = 392;  // JPY
    uint64_t session_ttl_ns = 24ull * 3600 * 1'000'000'000;
    // A pre-authorization's expiry when the request names none (configuration).
    uint64_t preauth_expiry_seconds = 7 * 86'400;
    std::string data_dir;  // where the read model is
    // How long a list waits for the read model to reach the caller's own writes.
    uint64_t read_wait_ms_max = 2000;
};

class PlatformApi {
  public:
    PlatformApi(engine::Engine& engine, Clock& clock, WorkerPool& workers,
                const projection::Projector& projector, PlatformApiOptions options);
    void AddRoutes(Router& router);

    // The principal a request's Authorization header names (none when absent).
    payments::Principal PrincipalOf(const HttpRequest& request) const;
    // The principal a bearer token names: the admin token, an API key (sk_...) or a session.
    payments::Principal PrincipalOfToken(std::string_view token) const;
    // Resolves `principal` on the engine thread (sessions and API keys live in the state machine),
    // after every earlier write, then calls `done` (on an engine thread: it must not block) with
    // the caller (nullopt: unknown, expired or revoked credentials) and the journal position that
    // was committed then. On an engine refusal, `done` gets the status and no caller.
    using AuthenticatedFn = std::function<void(
        const Status& status, std::optional<payments::Caller> caller, uint64_t seq)>;
    void Authenticate(const payments::Principal& principal, AuthenticatedFn done) const;
    using Names = TxnNames;
    using NamesFn = std::function<void(const Status& status, Names names)>;
    // Looks up the names of `user_ids` and `merchant_ids` on the engine thread, then calls `done`
    // (on an engine thread: it must not block) with them, or with the engine's refusal.
    void LookUpNames(std::vector<uint64_t> user_ids, std::vector<uint64_t> merchant_ids,
                     NamesFn done) const;
    // Runs `query` on the engine thread after every earlier write, and answers with its result.
    void Query(std::function<HttpResponse(const payments::Platform&, uint64_t now)> query,
               Responder responder);

    // Answers `refusal` to a request of a route that needs a signed-in caller, or 401 when the
    // request's credentials are missing, unknown or expired: authentication comes first, so a
    // caller without credentials learns nothing about what the route accepts.
    void Refuse(const HttpRequest& request, HttpResponse refusal, Responder responder);

  private:
    // What answering a command needs: the responder and the in-flight key to release.
    struct CommandCall;
    using Method = void (PlatformApi::*)(HttpRequest&&, const PathParams&, Responder);
    RouteHandler Bind(Method method);

    // One route table per domain, each in its own file (users_api.cc, merchants_api.cc,
    // wallets_api.cc, payments_api.cc, ledger_api.cc).
    void AddUserRoutes(Router& router);
    void AddMerchantRoutes(Router& router);
    void AddWalletRoutes(Router& router);
    void AddPaymentRoutes(Router& router);
    void AddLedgerRoutes(Router& router);
    void AddPreauthRoutes(Router& router);
    void AddLimitRoutes(Router& router);

    void Register(HttpRequest&& request, const PathParams& params, Responder responder);
    void Login(HttpRequest&& request, const PathParams& params, Responder responder);
    void Logout(HttpRequest&& request, const PathParams& params, Responder responder);
    void GetUser(HttpRequest&& request, const PathParams& params, Responder responder);
    void UpdateUser(HttpRequest&& request, const PathParams& params, Responder responder);
    void CreateMerchant(HttpRequest&& request, const PathParams& params, Responder responder);
    void Topup(HttpRequest&& request, const PathParams& params, Responder responder);
    void GetWallet(HttpRequest&& request, const PathParams& params, Responder responder);
    void Pay(HttpRequest&& request, const PathParams& params, Responder responder);
    void GetPayment(HttpRequest&& request, const PathParams& params, Responder responder);
    void GetPayments(HttpRequest&& request, const PathParams& params, Responder responder);
    void Refund(HttpRequest&& request, const PathParams& params, Responder responder);
    void GetRefund(HttpRequest&& request, const PathParams& params, Responder responder);
    void Authorize(HttpRequest&& request, const PathParams& params, Responder responder);
    void Capture(HttpRequest&& request, const PathParams& params, Responder responder);
    void CancelHold(HttpRequest&& request, const PathParams& params, Responder responder);
    void GetHold(HttpRequest&& request, const PathParams& params, Responder responder);
    void ListHolds(HttpRequest&& request, const PathParams& params, Responder responder);
    void SetMerchantLimits(HttpRequest&& request, const PathParams& params, Responder responder);
    void GetMerchantLimits(HttpRequest&& request, const PathParams& params, Responder responder);
    void SetUserLimits(HttpRequest&& request, const PathParams& params, Responder responder);
    void GetUserLimits(HttpRequest&& request, const PathParams& params, Responder responder);
    void GetWalletHistory(HttpRequest&& request, const PathParams& params, Responder responder);
    void GetMerchantHistory(HttpRequest&& request, const PathParams& params, Responder responder);
    // A wallet's or a merchant's history (`filter` names which): ?currency=, the page, the read.
    void ReadHistory(const HttpRequest& request, projection::HistoryFilter filter,
                     Responder responder);
    // GET /v1/wallets/{userId}?at=: the balances at a time, from the read model.
    void GetWalletAt(const HttpRequest& request, uint64_t user_id, Responder responder);
    // Authenticates `request`, checks that its caller may act for `user_id`, then runs `read` on a
    // worker with that thread's read-model connection once the read model has reached what was
    // committed when the request arrived, and answers with what `read` returns.
    using ModelReadFn = std::function<HttpResponse(projection::ReadModel& model)>;
    void ReadForUser(const HttpRequest& request, uint64_t user_id, ModelReadFn read,
                     Responder responder);
    // The same for a merchant's data: the admin or the merchant itself.
    void ReadForMerchant(const HttpRequest& request, uint64_t merchant_id, ModelReadFn read,
                         Responder responder);
    // Authenticates, asks `may` of the caller (403 when false), then reads as above.
    void ReadIfAllowed(const HttpRequest& request, std::function<bool(const payments::Caller&)> may,
                       ModelReadFn read, Responder responder);
    // Runs `read` on a worker with that thread's read-model connection once the read model has
    // reached `seq` (503 when it does not in time); `read` answers through the responder it is
    // given, at once or later.
    using ModelFn = std::function<void(projection::ReadModel& model, Responder responder)>;
    void OnReadModel(uint64_t seq, ModelFn read, Responder responder);
    void ListTiers(HttpRequest&& request, const PathParams& params, Responder responder);
    void GetMerchant(HttpRequest&& request, const PathParams& params, Responder responder);
    void ChangeTier(HttpRequest&& request, const PathParams& params, Responder responder);
    void RecommendTier(HttpRequest&& request, const PathParams& params, Responder responder);
    void Transfer(HttpRequest&& request, const PathParams& params, Responder responder);
    void ListTransactions(HttpRequest&& request, const PathParams& params, Responder responder);
    void GetTransaction(HttpRequest&& request, const PathParams& params, Responder responder);

    // Starts a command for `request`: checks the Idempotency-Key header and that no request with
    // the same key is running. Returns null after answering an error itself.
    // `fields`: the request's parameters (their canonical form is its fingerprint); null for a
    // request without a body.
    std::shared_ptr<CommandCall> Begin(const HttpRequest& request, const JsonFields* fields,
                                       payments::Command* command, Responder responder);
    void Submit(std::shared_ptr<CommandCall> call, payments::Command command,
                std::string new_secret = {});
    static void Finish(const std::shared_ptr<CommandCall>& call, HttpResponse response);

    engine::Engine& engine_;
    Clock& clock_;
    WorkerPool& workers_;
    const projection::Projector& projector_;
    PlatformApiOptions options_;
    Hash256 admin_hash_{};
    std::mutex in_flight_mutex_;
    std::set<std::string> in_flight_;  // credential hash + Idempotency-Key of running requests
};

// The mapping of engine refusals: busy → 503 SERVER_BUSY with Retry-After; stopped or failed →
// 503 UNAVAILABLE.
HttpResponse EngineRefusal(const Status& status);
HttpResponse FromError(payments::ErrorCode code, std::string_view message = {},
                       std::string_view param = {});

}  // namespace bursar::api
