#include "api/platform_api.h"

#include <atomic>
#include <memory>

#include "api/auth.h"
#include "api/endpoint_helpers.h"
#include "api/json_input.h"
#include "api/render.h"
#include "base/assert.h"
#include "base/json_writer.h"
#include "ledger/currency.h"
#include "payments/error_codes.h"

namespace bursar::api {

using payments::Command;
using payments::CommandType;
using payments::ErrorCode;
using payments::Principal;
using payments::PrincipalKind;

struct PlatformApi::CommandCall {
    PlatformApi* api;
    Responder responder;
    std::string in_flight_key;          // empty when the request has no Idempotency-Key
    std::atomic<bool> finished{false};  // the first answer wins
};

namespace {

bool ValidIdempotencyKey(std::string_view key) {
    if (key.empty() || key.size() > payments::kIdempotencyKeyBytesMax) return false;
    for (char c : key) {
        if (c < 0x21 || c > 0x7e) return false;
    }
    return true;
}

// Commands that anyone may send: the others need a signed-in caller.
bool NeedsCaller(CommandType type) {
    return type != CommandType::kRegisterUser && type != CommandType::kCreateSession;
}

}  // namespace

HttpResponse FromError(ErrorCode code, std::string_view message, std::string_view param) {
    return Json(payments::GetError(code).status, payments::ErrorBody(code, message, param));
}

void PlatformApi::Refuse(const HttpRequest& request, HttpResponse refusal, Responder responder) {
    const Principal principal = PrincipalOf(request);
    if (principal.kind == PrincipalKind::kNone) {
        return responder(FromError(ErrorCode::kUnauthenticated));
    }
    if (principal.kind == PrincipalKind::kAdmin) return responder(std::move(refusal));
    Authenticate(principal, [responder, refusal = std::move(refusal)](
                                const Status& status, std::optional<payments::Caller> caller,
                                uint64_t) mutable {
        if (!status.ok()) return responder(EngineRefusal(status));
        if (!caller || caller->kind == payments::Caller::Kind::kAnonymous) {
            return responder(FromError(ErrorCode::kUnauthenticated));
        }
        responder(std::move(refusal));
    });
}

HttpResponse EngineRefusal(const Status& status) {
    if (status.code() == StatusCode::kBusy) {
        HttpResponse response = FromError(ErrorCode::kServerBusy);
        response.headers.emplace_back("Retry-After", "1");
        return response;
    }
    if (status.code() == StatusCode::kResourceExhausted) {
        return FromError(ErrorCode::kCapacityExceeded);
    }
    return FromError(ErrorCode::kUnavailable);
}

PlatformApi::PlatformApi(engine::Engine& engine, Clock& clock, WorkerPool& workers,
                         const projection::Projector& projector, PlatformApiOptions options)
    : engine_(engine),
      clock_(clock),
      workers_(workers),
      projector_(projector),
      options_(std::move(options)),
      admin_hash_(HashSecret(options_.admin_token)) {}

Principal PlatformApi::PrincipalOf(const HttpRequest& request) const {
    const std::string* header = request.Header("authorization");
    if (header == nullptr || header->rfind("Bearer ", 0) != 0) return Principal{};
    return PrincipalOfToken(std::string_view(*header).substr(7));
}

Principal PlatformApi::PrincipalOfToken(std::string_view token) const {
    const Hash256 hash = HashSecret(token);
    // Compared by hash: the comparison time says nothing about the admin token.
    if (hash == admin_hash_) return Principal{PrincipalKind::kAdmin, hash};
    if (token.substr(0, kApiKeyPrefix.size()) == kApiKeyPrefix) {
        return Principal{PrincipalKind::kApiKey, hash};
    }
    return Principal{PrincipalKind::kSession, hash};
}

RouteHandler PlatformApi::Bind(Method method) {
    return [this, method](HttpRequest&& request, const PathParams& params, Responder responder) {
        (this->*method)(std::move(request), params, std::move(responder));
    };
}

void PlatformApi::AddRoutes(Router& router) {
    AddUserRoutes(router);
    AddMerchantRoutes(router);
    AddWalletRoutes(router);
    AddPaymentRoutes(router);
    AddLedgerRoutes(router);
    AddPreauthRoutes(router);
    AddLimitRoutes(router);
}

std::shared_ptr<PlatformApi::CommandCall> PlatformApi::Begin(const HttpRequest& request,
                                                             const JsonFields* fields,
                                                             Command* command,
                                                             Responder responder) {
    auto call = std::make_shared<CommandCall>();
    call->api = this;
    call->responder = std::move(responder);
    command->principal = PrincipalOf(request);
    if (const std::string* key = request.Header("idempotency-key")) {
        if (!ValidIdempotencyKey(*key)) {
            HttpResponse invalid = FromError(
                ErrorCode::kInvalidRequest,
                "Idempotency-Key must be 1 to 255 visible ASCII characters.", "Idempotency-Key");
            if (NeedsCaller(command->type)) {
                Refuse(request, std::move(invalid), std::move(call->responder));
            } else {
                call->responder(std::move(invalid));
            }
            return nullptr;
        }
        command->idempotency_key = *key;
        // The parameters, not the bytes: the same JSON with other spacing or key order is the
        // same request (as Stripe compares them).
        std::string canonical = request.method + " " + request.path + "\n";
        if (fields != nullptr) canonical += fields->Canonical();
        command->request_fingerprint = HashSecret(canonical);
        // While answers stored by a journal-v1 binary are held (24 hours after an upgrade at
        // most), their keys are matched by the fingerprint that version used.
        if (engine_.platform().idempotency().v1_count() > 0) {
            command->v1_fingerprint =
                HashSecret(request.method + " " + request.path + "\n" + request.body);
        }
        const Hash256& credential = command->principal.credential_hash;
        std::string in_flight(reinterpret_cast<const char*>(credential.data()), credential.size());
        in_flight += *key;
        std::lock_guard lock(in_flight_mutex_);
        if (!in_flight_.insert(in_flight).second) {
            call->responder(FromError(ErrorCode::kIdempotencyKeyInUse, {}, "Idempotency-Key"));
            return nullptr;
        }
        call->in_flight_key = std::move(in_flight);
    }
    return call;
}

void PlatformApi::Finish(const std::shared_ptr<CommandCall>& call, HttpResponse response) {
    if (call->finished.exchange(true)) return;
    if (!call->in_flight_key.empty()) {
        std::lock_guard lock(call->api->in_flight_mutex_);
        call->api->in_flight_.erase(call->in_flight_key);
    }
    call->responder(std::move(response));
}

void PlatformApi::Submit(std::shared_ptr<CommandCall> call, Command command,
                         std::string new_secret) {
    auto* request = new engine::Request;
    request->operation = engine::Operation::kCommand;
    request->command = std::move(command);
    request->done = [call, new_secret = std::move(new_secret)](engine::Request& r) {
        std::unique_ptr<engine::Request> owned(&r);
        if (!r.status.ok()) return Finish(call, EngineRefusal(r.status));
        Finish(call, RenderOutcome(r.command, r.outcome, new_secret));
    };
    Status status = engine_.Submit(request);
    if (!status.ok()) {
        delete request;
        Finish(call, EngineRefusal(status));
    }
}

void PlatformApi::Query(std::function<HttpResponse(const payments::Platform&, uint64_t now)> query,
                        Responder responder) {
    auto* request = new engine::Request;
    auto response = std::make_shared<HttpResponse>();
    request->operation = engine::Operation::kQuery;
    request->query = [this, query = std::move(query), response](const payments::Platform& p) {
        *response = query(p, clock_.RealtimeNs());
    };
    request->done = [responder, response](engine::Request& r) {
        std::unique_ptr<engine::Request> owned(&r);
        responder(r.status.ok() ? std::move(*response) : EngineRefusal(r.status));
    };
    Status status = engine_.Submit(request);
    if (!status.ok()) {
        delete request;
        responder(EngineRefusal(status));
    }
}

void PlatformApi::Authenticate(const Principal& principal, AuthenticatedFn done) const {
    auto caller = std::make_shared<std::optional<payments::Caller>>();
    auto* query = new engine::Request;
    query->operation = engine::Operation::kQuery;
    query->query = [this, caller, principal](const payments::Platform& p) {
        *caller = p.Authenticate(principal, clock_.RealtimeNs());
    };
    query->done = [caller, done](engine::Request& r) {
        std::unique_ptr<engine::Request> owned(&r);
        done(r.status, r.status.ok() ? *caller : std::nullopt, r.seq);
    };
    Status status = engine_.Submit(query);
    if (!status.ok()) {
        delete query;
        done(status, std::nullopt, 0);
    }
}

void PlatformApi::LookUpNames(std::vector<uint64_t> user_ids, std::vector<uint64_t> merchant_ids,
                              NamesFn done) const {
    auto names = std::make_shared<Names>();
    auto* query = new engine::Request;
    query->operation = engine::Operation::kQuery;
    query->query = [names, user_ids = std::move(user_ids),
                    merchant_ids = std::move(merchant_ids)](const payments::Platform& p) {
        for (uint64_t id : user_ids) {
            if (const payments::users::User* user = p.users().Find(id)) {
                names->users.emplace(id, user->name);
            }
        }
        for (uint64_t id : merchant_ids) {
            if (const payments::merchants::Merchant* merchant = p.merchants().Find(id)) {
                names->merchants.emplace(id, merchant->name);
            }
        }
    };
    query->done = [names, done](engine::Request& r) {
        std::unique_ptr<engine::Request> owned(&r);
        done(r.status, r.status.ok() ? std::move(*names) : Names{});
    };
    Status status = engine_.Submit(query);
    if (!status.ok()) {
        delete query;
        done(status, Names{});
    }
}

void PlatformApi::ReadForUser(const HttpRequest& request, uint64_t user_id, ModelReadFn read,
                              Responder responder) {
    ReadIfAllowed(
        request,
        [user_id](const payments::Caller& caller) {
            return payments::MayActForUser(caller, user_id);
        },
        std::move(read), std::move(responder));
}

void PlatformApi::ReadForMerchant(const HttpRequest& request, uint64_t merchant_id,
                                  ModelReadFn read, Responder responder) {
    ReadIfAllowed(
        request,
        [merchant_id](const payments::Caller& caller) {
            return caller.kind == payments::Caller::Kind::kAdmin ||
                   (caller.kind == payments::Caller::Kind::kMerchant && caller.id == merchant_id);
        },
        std::move(read), std::move(responder));
}

void PlatformApi::ReadIfAllowed(const HttpRequest& request,
                                std::function<bool(const payments::Caller&)> may, ModelReadFn read,
                                Responder responder) {
    Authenticate(PrincipalOf(request),
                 [this, may = std::move(may), read = std::move(read), responder](
                     const Status& status, std::optional<payments::Caller> caller, uint64_t seq) {
                     if (!status.ok()) return responder(EngineRefusal(status));
                     if (!caller || caller->kind == payments::Caller::Kind::kAnonymous) {
                         return responder(FromError(ErrorCode::kUnauthenticated));
                     }
                     if (!may(*caller)) return responder(FromError(ErrorCode::kForbidden));
                     OnReadModel(
                         seq,
                         [read](projection::ReadModel& model, const Responder& answer) {
                             answer(read(model));
                         },
                         responder);
                 });
}

void PlatformApi::OnReadModel(uint64_t seq, ModelFn read, Responder responder) {
    bool posted = workers_.Post([this, seq, read = std::move(read), responder] {
        if (!projector_.WaitFor(seq, options_.read_wait_ms_max)) {
            return responder(FromError(ErrorCode::kUnavailable, "The read model is behind."));
        }
        // One SQLite connection per worker thread.
        thread_local std::unique_ptr<projection::ReadModel> model;
        if (!model) {
            auto opened = projection::ReadModel::Open(projection::ReadModelPath(options_.data_dir));
            if (!opened) return responder(FromError(ErrorCode::kInternal));
            model = std::move(*opened);
        }
        read(*model, responder);
    });
    if (!posted) responder(EngineRefusal(Status(StatusCode::kBusy, "workers")));
}

}  // namespace bursar::api
