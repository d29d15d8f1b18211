#include "api/platform_api.h"

#include <atomic>
#include <memory>

#include "api/auth.h"
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

constexpr std::string_view kApiKeyPrefix = "sk_";
constexpr std::string_view kSessionPrefix = "ses_";

HttpResponse Json(int status, std::string body) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

HttpResponse FromApiError(const ApiError& error) {
    return FromError(error.code, error.message, error.param);
}

bool ValidEmail(std::string_view email) {
    const size_t at = email.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 >= email.size()) return false;
    if (email.find('@', at + 1) != std::string_view::npos) return false;
    for (char c : email) {
        if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
    }
    return email.find('.', at) != std::string_view::npos;
}

bool ValidIdempotencyKey(std::string_view key) {
    if (key.empty() || key.size() > payments::kIdempotencyKeyBytesMax) return false;
    for (char c : key) {
        if (c < 0x21 || c > 0x7e) return false;
    }
    return true;
}

// The currency of a request: the field, or the configured default.
std::expected<uint32_t, ApiError> CurrencyOf(const JsonFields& fields, uint32_t fallback) {
    std::optional<std::string> code = fields.String("currency");
    if (!code) return fallback;
    const ledger::CurrencyInfo* currency = ledger::FindCurrencyByCode(*code);
    if (currency == nullptr) {
        return std::unexpected(
            ApiError{ErrorCode::kInvalidRequest, "Unknown currency.", "currency"});
    }
    return currency->id;
}

// A malformed id in a request's path: 400 naming the path parameter.
HttpResponse NotAnId(std::string_view what, std::string_view param) {
    return FromError(ErrorCode::kInvalidRequest, "Not a " + std::string(what) + " id.", param);
}

// Commands that anyone may send: the others need a signed-in caller.
bool NeedsCaller(CommandType type) {
    return type != CommandType::kRegisterUser && type != CommandType::kCreateSession;
}

// The caller of a read that needs one: nullopt for no, unknown, expired or revoked credentials.
std::optional<payments::Caller> SignedIn(const payments::Platform& platform,
                                         const Principal& principal, uint64_t now) {
    std::optional<payments::Caller> caller = platform.Authenticate(principal, now);
    if (!caller || caller->kind == payments::Caller::Kind::kAnonymous) return std::nullopt;
    return caller;
}

constexpr FieldSpec kCurrencyField{"currency", FieldKind::kString, false, 3, 5};
constexpr FieldSpec kAmountField{"amount_minor", FieldKind::kAmount, true};

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

void PlatformApi::AddRoutes(Router& router) {
    auto bind = [this](void (PlatformApi::*method)(HttpRequest&&, const PathParams&, Responder)) {
        return
            [this, method](HttpRequest&& request, const PathParams& params, Responder responder) {
                (this->*method)(std::move(request), params, std::move(responder));
            };
    };
    router.Add("POST", "/v1/users/register", bind(&PlatformApi::Register));
    router.Add("POST", "/v1/users/login", bind(&PlatformApi::Login));
    router.Add("POST", "/v1/users/logout", bind(&PlatformApi::Logout));
    router.Add("GET", "/v1/users/{id}", bind(&PlatformApi::GetUser));
    router.Add("PUT", "/v1/users/{id}", bind(&PlatformApi::UpdateUser));
    router.Add("POST", "/v1/merchants", bind(&PlatformApi::CreateMerchant));
    router.Add("POST", "/v1/wallets/{userId}/topup", bind(&PlatformApi::Topup));
    router.Add("GET", "/v1/wallets/{userId}", bind(&PlatformApi::GetWallet));
    router.Add("POST", "/v1/payments", bind(&PlatformApi::Pay));
    router.Add("GET", "/v1/payments/{id}", bind(&PlatformApi::GetPayment));
    router.Add("POST", "/v1/transfers", bind(&PlatformApi::Transfer));
    router.Add("GET", "/v1/ledger/transactions", bind(&PlatformApi::ListTransactions));
    router.Add("GET", "/v1/ledger/transactions/{id}", bind(&PlatformApi::GetTransaction));
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

void PlatformApi::Register(HttpRequest&& request, const PathParams&, Responder responder) {
    auto fields = JsonFields::Parse(
        request.body, {{"email", FieldKind::kString, true, 3, payments::kEmailBytesMax},
                       {"password", FieldKind::kString, true, kPasswordBytesMin, kPasswordBytesMax},
                       {"name", FieldKind::kString, true, 1, payments::kNameBytesMax}});
    if (!fields) return responder(FromApiError(fields.error()));
    Command command;
    command.type = CommandType::kRegisterUser;
    command.email = *fields->String("email");
    if (!ValidEmail(command.email)) {
        return responder(FromError(ErrorCode::kInvalidRequest, "Not an email address.", "email"));
    }
    command.name = *fields->String("name");
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (!call) return;
    const std::string password = *fields->String("password");
    // argon2 takes tens of milliseconds: on the worker pool, not on an io thread.
    bool posted = workers_.Post([this, call, command, password]() mutable {
        command.password_hash = HashPassword(password);
        Submit(call, std::move(command));
    });
    if (!posted) Finish(call, EngineRefusal(Status(StatusCode::kBusy, "workers")));
}

void PlatformApi::Login(HttpRequest&& request, const PathParams&, Responder responder) {
    auto fields = JsonFields::Parse(
        request.body, {{"email", FieldKind::kString, true, 1, payments::kEmailBytesMax},
                       {"password", FieldKind::kString, true, 1, kPasswordBytesMax}});
    if (!fields) return responder(FromApiError(fields.error()));
    Command command;
    command.type = CommandType::kCreateSession;
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (!call) return;
    // Read the stored hash through the engine, verify on a worker, then create the session.
    auto login = std::make_shared<std::optional<payments::users::Users::Login>>();
    auto* lookup = new engine::Request;
    lookup->operation = engine::Operation::kQuery;
    lookup->query = [login, email = *fields->String("email")](const payments::Platform& p) {
        *login = p.users().FindLogin(email);
    };
    const std::string password = *fields->String("password");
    lookup->done = [this, call, login, command, password](engine::Request& r) mutable {
        std::unique_ptr<engine::Request> owned(&r);
        if (!r.status.ok()) return Finish(call, EngineRefusal(r.status));
        bool posted = workers_.Post([this, call, login, command, password]() mutable {
            // The same answer whether the email or the password is wrong.
            if (!*login || !VerifyPassword((*login)->password_hash, password)) {
                return Finish(
                    call, FromError(ErrorCode::kUnauthenticated, "Email or password is wrong."));
            }
            command.user_id = (*login)->user_id;
            std::string token = RandomSecret(kSessionPrefix);
            command.secret_hash = HashSecret(token);
            command.expires_at = clock_.RealtimeNs() + options_.session_ttl_ns;
            Submit(call, std::move(command), std::move(token));
        });
        if (!posted) Finish(call, EngineRefusal(Status(StatusCode::kBusy, "workers")));
    };
    Status status = engine_.Submit(lookup);
    if (!status.ok()) {
        delete lookup;
        Finish(call, EngineRefusal(status));
    }
}

void PlatformApi::Logout(HttpRequest&& request, const PathParams&, Responder responder) {
    Command command;
    command.type = CommandType::kRevokeSession;
    auto call = Begin(request, nullptr, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

void PlatformApi::GetUser(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseUserId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("user", "id"), std::move(responder));
    Query(
        [principal = PrincipalOf(request), id = *id](const payments::Platform& p, uint64_t now) {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            if (!payments::MayActForUser(*caller, id)) return FromError(ErrorCode::kForbidden);
            const payments::users::User* user = p.users().Find(id);
            if (user == nullptr) return FromError(ErrorCode::kNotFound, "No such user.");
            return Json(200, UserJson(id, *user));
        },
        std::move(responder));
}

void PlatformApi::UpdateUser(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseUserId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("user", "id"), std::move(responder));
    auto fields = JsonFields::Parse(
        request.body, {{"name", FieldKind::kString, true, 1, payments::kNameBytesMax}});
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    Command command;
    command.type = CommandType::kUpdateUser;
    command.user_id = *id;
    command.name = *fields->String("name");
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

void PlatformApi::CreateMerchant(HttpRequest&& request, const PathParams&, Responder responder) {
    auto fields = JsonFields::Parse(request.body,
                                    {{"name", FieldKind::kString, true, 1, payments::kNameBytesMax},
                                     {"tier", FieldKind::kString, false, 1, 32}});
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    const payments::TierInfo* tier = payments::FindTier(fields->String("tier").value_or("starter"));
    if (tier == nullptr) {
        return Refuse(request,
                      FromError(ErrorCode::kInvalidRequest,
                                "tier must be starter, business, enterprise or premium.", "tier"),
                      std::move(responder));
    }
    Command command;
    command.type = CommandType::kCreateMerchant;
    command.name = *fields->String("name");
    command.tier = tier->tier;
    std::string api_key = RandomSecret(kApiKeyPrefix);
    command.secret_hash = HashSecret(api_key);
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command), std::move(api_key));
}

void PlatformApi::Topup(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseUserId(params.Get("userId"));
    if (!id) return Refuse(request, NotAnId("user", "userId"), std::move(responder));
    auto fields = JsonFields::Parse(request.body, {kAmountField, kCurrencyField});
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    auto currency = CurrencyOf(*fields, options_.default_currency);
    if (!currency) return Refuse(request, FromApiError(currency.error()), std::move(responder));
    Command command;
    command.type = CommandType::kTopup;
    command.user_id = *id;
    command.amount = *fields->Amount("amount_minor");
    command.currency = *currency;
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

void PlatformApi::GetWallet(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseUserId(params.Get("userId"));
    if (!id) return Refuse(request, NotAnId("user", "userId"), std::move(responder));
    Query(
        [principal = PrincipalOf(request), id = *id](const payments::Platform& p, uint64_t now) {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            if (!payments::MayActForUser(*caller, id)) return FromError(ErrorCode::kForbidden);
            if (!p.users().Exists(id)) return FromError(ErrorCode::kNotFound, "No such user.");
            return Json(200, WalletJson(p.ledger(), id));
        },
        std::move(responder));
}

void PlatformApi::Pay(HttpRequest&& request, const PathParams&, Responder responder) {
    auto fields = JsonFields::Parse(request.body, {{"user_id", FieldKind::kString, true, 1, 32},
                                                   {"merchant_id", FieldKind::kString, true, 1, 32},
                                                   kAmountField,
                                                   kCurrencyField});
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    std::optional<uint64_t> user = payments::ParseUserId(*fields->String("user_id"));
    if (!user)
        return Refuse(request, FromError(ErrorCode::kInvalidRequest, "Not a user id.", "user_id"),
                      std::move(responder));
    std::optional<uint64_t> merchant = payments::ParseMerchantId(*fields->String("merchant_id"));
    if (!merchant) {
        return Refuse(request,
                      FromError(ErrorCode::kInvalidRequest, "Not a merchant id.", "merchant_id"),
                      std::move(responder));
    }
    auto currency = CurrencyOf(*fields, options_.default_currency);
    if (!currency) return Refuse(request, FromApiError(currency.error()), std::move(responder));
    Command command;
    command.type = CommandType::kPay;
    command.user_id = *user;
    command.merchant_id = *merchant;
    command.amount = *fields->Amount("amount_minor");
    command.currency = *currency;
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

void PlatformApi::GetPayment(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseTxnId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("payment", "id"), std::move(responder));
    Query(
        [principal = PrincipalOf(request), id = *id](const payments::Platform& p, uint64_t now) {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            std::optional<payments::Txn> txn = p.FindTxn(id);
            // Another caller's payment is answered as missing: existence must not leak.
            if (!txn || txn->type != payments::TxnType::kPay ||
                !payments::MaySeeTxn(*caller, *txn)) {
                return FromError(ErrorCode::kNotFound, "No such payment.");
            }
            return Json(200, PaymentJson(*txn));
        },
        std::move(responder));
}

void PlatformApi::Transfer(HttpRequest&& request, const PathParams&, Responder responder) {
    auto fields =
        JsonFields::Parse(request.body, {{"from_user_id", FieldKind::kString, true, 1, 32},
                                         {"to_user_id", FieldKind::kString, true, 1, 32},
                                         kAmountField,
                                         kCurrencyField});
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    std::optional<uint64_t> from = payments::ParseUserId(*fields->String("from_user_id"));
    if (!from) {
        return Refuse(request,
                      FromError(ErrorCode::kInvalidRequest, "Not a user id.", "from_user_id"),
                      std::move(responder));
    }
    std::optional<uint64_t> to = payments::ParseUserId(*fields->String("to_user_id"));
    if (!to)
        return Refuse(request,
                      FromError(ErrorCode::kInvalidRequest, "Not a user id.", "to_user_id"),
                      std::move(responder));
    if (*from == *to) {
        return Refuse(request,
                      FromError(ErrorCode::kInvalidRequest, "Sender and recipient are the same.",
                                "to_user_id"),
                      std::move(responder));
    }
    auto currency = CurrencyOf(*fields, options_.default_currency);
    if (!currency) return Refuse(request, FromApiError(currency.error()), std::move(responder));
    Command command;
    command.type = CommandType::kTransfer;
    command.user_id = *from;
    command.to_user_id = *to;
    command.amount = *fields->Amount("amount_minor");
    command.currency = *currency;
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

}  // namespace bursar::api

namespace bursar::api {
namespace {

// `id`'s name, or null when `id` is 0 (none) or unknown.
void WriteName(JsonWriter& json, const std::unordered_map<uint64_t, std::string>& names,
               uint64_t id) {
    const auto found = names.find(id);
    if (id == 0 || found == names.end()) {
        json.Null();
    } else {
        json.String(found->second);
    }
}

// A page of GET /v1/ledger/transactions: the rows of the read model with the names the engine
// holds now.
std::string TransactionPageJson(const std::vector<projection::TransactionRow>& rows, bool more,
                                const PlatformApi::Names& names) {
    JsonWriter json;
    json.BeginObject().Key("items").BeginArray();
    for (const projection::TransactionRow& row : rows) {
        json.BeginObject();
        json.Key("txn_id").String(payments::FormatTxnId(row.txn_id));
        json.Key("type").String(row.type);
        json.Key("status").String(row.status);
        json.Key("amount_minor").Number(row.amount_minor);
        json.Key("fee_minor").Number(row.fee_minor);
        json.Key("currency").String(row.currency);
        json.Key("user_id").String(payments::FormatUserId(row.user_id));
        json.Key("user_name");
        WriteName(json, names.users, row.user_id);
        json.Key("merchant_id");
        if (row.merchant_id != 0) {
            json.String(payments::FormatMerchantId(row.merchant_id));
        } else {
            json.Null();
        }
        json.Key("merchant_name");
        WriteName(json, names.merchants, row.merchant_id);
        json.Key("to_user_id");
        if (row.to_user_id != 0) {
            json.String(payments::FormatUserId(row.to_user_id));
        } else {
            json.Null();
        }
        json.Key("to_user_name");
        WriteName(json, names.users, row.to_user_id);
        json.Key("created_at").Number(row.created_at_ns / 1'000'000'000);
        json.Key("postings").BeginArray();
        for (const projection::Posting& posting : row.postings) {
            json.BeginObject();
            json.Key("account_id").String(posting.account);
            json.Key("direction").String(posting.direction);
            json.Key("amount_minor").Number(posting.amount_minor);
            json.EndObject();
        }
        json.EndArray().EndObject();
    }
    json.EndArray().Key("nextCursor");
    if (more && !rows.empty()) {
        json.String(payments::FormatTxnId(rows.back().txn_id));
    } else {
        json.Null();
    }
    json.EndObject();
    return json.Take();
}

}  // namespace

void PlatformApi::GetTransaction(HttpRequest&& request, const PathParams& params,
                                 Responder responder) {
    std::optional<uint64_t> id = payments::ParseTxnId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("transaction", "id"), std::move(responder));
    Query(
        [principal = PrincipalOf(request), id = *id](const payments::Platform& p, uint64_t now) {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            std::optional<payments::Txn> txn = p.FindTxn(id);
            // Another caller's transaction is answered as missing: existence must not leak.
            if (!txn || !payments::MaySeeTxn(*caller, *txn)) {
                return FromError(ErrorCode::kNotFound, "No such transaction.");
            }
            return Json(200, TransactionJson(*txn));
        },
        std::move(responder));
}

void PlatformApi::ListTransactions(HttpRequest&& request, const PathParams&, Responder responder) {
    projection::ListFilter filter;
    if (auto user = request.QueryParam("user_id"); user && !user->empty()) {
        filter.user_id = payments::ParseUserId(*user);
        if (!filter.user_id) {
            return Refuse(request,
                          FromError(ErrorCode::kInvalidRequest, "Not a user id.", "user_id"),
                          std::move(responder));
        }
    }
    if (auto merchant = request.QueryParam("merchant_id"); merchant && !merchant->empty()) {
        filter.merchant_id = payments::ParseMerchantId(*merchant);
        if (!filter.merchant_id) {
            return Refuse(
                request, FromError(ErrorCode::kInvalidRequest, "Not a merchant id.", "merchant_id"),
                std::move(responder));
        }
    }
    if (auto size = request.QueryParam("size"); size && !size->empty()) {
        auto value = U128FromString(*size);
        if (!value || *value < 1 || *value > projection::kListSizeMax) {
            return Refuse(
                request,
                FromError(ErrorCode::kInvalidRequest, "size must be from 1 to 100.", "size"),
                std::move(responder));
        }
        filter.size = static_cast<uint32_t>(*value);
    }
    if (auto cursor = request.QueryParam("cursor"); cursor && !cursor->empty()) {
        filter.before_txn_id = payments::ParseTxnId(*cursor);
        if (!filter.before_txn_id) {
            return Refuse(request, FromError(ErrorCode::kInvalidRequest, "Not a cursor.", "cursor"),
                          std::move(responder));
        }
    }
    // The caller's position is what was committed when the request arrived: the list waits for
    // the read model to reach it.
    auto shared_filter = std::make_shared<projection::ListFilter>(filter);
    Authenticate(PrincipalOf(request), [this, shared_filter, responder](
                                           const Status& status,
                                           std::optional<payments::Caller> caller, uint64_t seq) {
        if (!status.ok()) return responder(EngineRefusal(status));
        using Kind = payments::Caller::Kind;
        if (!caller || caller->kind == Kind::kAnonymous) {
            return responder(FromError(ErrorCode::kUnauthenticated));
        }
        if (caller->kind == Kind::kUser) {
            if (shared_filter->user_id && *shared_filter->user_id != caller->id) {
                return responder(FromError(ErrorCode::kForbidden));
            }
            shared_filter->user_id = caller->id;
        } else if (caller->kind == Kind::kMerchant) {
            if (shared_filter->merchant_id && *shared_filter->merchant_id != caller->id) {
                return responder(FromError(ErrorCode::kForbidden));
            }
            shared_filter->merchant_id = caller->id;
        }
        bool posted = workers_.Post([this, seq, shared_filter, responder] {
            if (!projector_.WaitFor(seq, options_.read_wait_ms_max)) {
                return responder(FromError(ErrorCode::kUnavailable, "The read model is behind."));
            }
            // One SQLite connection per worker thread.
            thread_local std::unique_ptr<projection::ReadModel> model;
            if (!model) {
                auto opened =
                    projection::ReadModel::Open(projection::ReadModelPath(options_.data_dir));
                if (!opened) return responder(FromError(ErrorCode::kInternal));
                model = std::move(*opened);
            }
            bool more = false;
            auto rows = model->List(*shared_filter, &more);
            if (!rows) return responder(FromError(ErrorCode::kInternal));
            std::vector<uint64_t> user_ids;
            std::vector<uint64_t> merchant_ids;
            for (const projection::TransactionRow& row : *rows) {
                user_ids.push_back(row.user_id);
                if (row.to_user_id != 0) user_ids.push_back(row.to_user_id);
                if (row.merchant_id != 0) merchant_ids.push_back(row.merchant_id);
            }
            auto shared_rows =
                std::make_shared<std::vector<projection::TransactionRow>>(std::move(*rows));
            LookUpNames(std::move(user_ids), std::move(merchant_ids),
                        [shared_rows, more, responder](const Status& status, Names names) {
                            if (!status.ok()) return responder(EngineRefusal(status));
                            responder(Json(200, TransactionPageJson(*shared_rows, more, names)));
                        });
        });
        if (!posted) responder(EngineRefusal(Status(StatusCode::kBusy, "workers")));
    });
}

}  // namespace bursar::api
