#include "payments/platform.h"

#include <algorithm>
#include <charconv>

#include "base/assert.h"
#include "base/binary_codec.h"
#include "base/json_writer.h"
#include "ledger/currency.h"
#include "payments/error_codes.h"

namespace bursar::payments {
namespace {

namespace tf = ledger::transfer_flags;
using ledger::AccountKind;

constexpr u128 kKindShift = 120;

// Ledger transfer codes of the legs.
constexpr uint16_t kCodeTopup = 1;
constexpr uint16_t kCodePayNet = 2;
constexpr uint16_t kCodeFee = 3;
constexpr uint16_t kCodeTransfer = 4;

CommandResult Fail(ErrorCode code, std::string_view message = {}, std::string_view param = {}) {
    return CommandResult{GetError(code).status, ErrorBody(code, message, param), false, {}};
}

Response FailResponse(ErrorCode code, std::string_view message = {}) {
    return Response{GetError(code).status, ErrorBody(code, message)};
}

std::string Scope(const Caller& caller) {
    switch (caller.kind) {
        case Caller::Kind::kAnonymous:
            return "anonymous";
        case Caller::Kind::kAdmin:
            return "admin";
        case Caller::Kind::kUser:
            return FormatUserId(caller.id);
        case Caller::Kind::kMerchant:
            return FormatMerchantId(caller.id);
    }
    return "anonymous";
}

// Responses that are not stored for an Idempotency-Key: validation failures (the request may be
// corrected and retried with the same key) and server errors (SPEC.md P11).
bool Storable(uint16_t status, std::string_view body) {
    if (status >= 500) return false;
    return !(status == 400 && body.find("\"INVALID_REQUEST\"") != std::string_view::npos);
}

bool MayActFor(const Caller& caller, uint64_t user_id) {
    return caller.kind == Caller::Kind::kAdmin ||
           (caller.kind == Caller::Kind::kUser && caller.id == user_id);
}

// Fee of a payment: amount * basis points / 10 000, rounded half up to the minor unit.
u128 Fee(u128 amount, uint32_t basis_points) { return (amount * basis_points + 5000) / 10000; }

}  // namespace

const char* TxnTypeName(TxnType type) {
    switch (type) {
        case TxnType::kTopup:
            return "TOPUP";
        case TxnType::kPay:
            return "PAY";
        case TxnType::kTransfer:
            return "TRANSFER";
    }
    return "UNKNOWN";
}

u128 WalletAccountId(uint64_t user_id, uint32_t currency) {
    return (u128{1} << kKindShift) | (u128{user_id} << 32) | currency;
}
u128 MerchantAccountId(uint64_t merchant_id, uint32_t currency) {
    return (u128{2} << kKindShift) | (u128{merchant_id} << 32) | currency;
}
u128 ClearingAccountId(uint32_t currency) { return (u128{3} << kKindShift) | currency; }
u128 FeeAccountId(uint32_t currency) { return (u128{4} << kKindShift) | currency; }
u128 TxnTransferId(uint64_t txn_id, uint32_t leg) {
    return (u128{5} << kKindShift) | (u128{txn_id} << 8) | leg;
}

std::string FormatUserId(uint64_t id) { return "usr_" + std::to_string(id); }
std::string FormatMerchantId(uint64_t id) { return "mch_" + std::to_string(id); }
std::string FormatTxnId(uint64_t id) { return "txn_" + std::to_string(id); }
std::optional<uint64_t> ParsePrefixedId(std::string_view text, std::string_view prefix) {
    if (text.size() <= prefix.size() || text.substr(0, prefix.size()) != prefix)
        return std::nullopt;
    uint64_t value = 0;
    const char* begin = text.data() + prefix.size();
    const char* end = text.data() + text.size();
    auto [ptr, error] = std::from_chars(begin, end, value);
    if (error != std::errc() || ptr != end || value == 0 || *begin == '0') return std::nullopt;
    return value;
}

std::optional<uint64_t> ParseUserId(std::string_view text) { return ParsePrefixedId(text, "usr_"); }
std::optional<uint64_t> ParseMerchantId(std::string_view text) {
    return ParsePrefixedId(text, "mch_");
}
std::optional<uint64_t> ParseTxnId(std::string_view text) { return ParsePrefixedId(text, "txn_"); }

void EncodeResult(const CommandResult& result, std::string* out) {
    BinaryWriter w(out);
    w.U16(result.status);
    w.String(result.body);
    w.U8(result.replayed ? 1 : 0);
    w.U8(result.txn ? 1 : 0);
    if (result.txn) {
        const Txn& t = *result.txn;
        w.U64(t.id);
        w.U8(static_cast<uint8_t>(t.type));
        w.U64(t.user_id);
        w.U64(t.merchant_id);
        w.U64(t.to_user_id);
        w.U128(t.amount);
        w.U128(t.fee);
        w.U32(t.currency);
        w.U64(t.created_at);
    }
}

// Flattened: BinaryReader's reads are inlined, so each fixed-width field is a plain load instead of
// a call to memcpy (every follower decodes every result: 570 instructions a result without it, 140
// with it, by bench/follower_cost.cc).
[[gnu::flatten]] Result<ResultView> DecodeResultView(std::string_view bytes) {
    auto malformed = [] { return Error(StatusCode::kCorruption, "malformed command result"); };
    // The status and the body's length, then the body, read in place.
    constexpr size_t kBodyOffset = sizeof(uint16_t) + sizeof(uint32_t);
    constexpr uint32_t kBodyBytesMax = 1 << 20;
    ResultView result;
    BinaryReader head(bytes);
    uint32_t body_size = 0;
    if (!head.U16(&result.status) || !head.U32(&body_size) || body_size > kBodyBytesMax ||
        body_size > bytes.size() - kBodyOffset) {
        return malformed();
    }
    result.body = bytes.substr(kBodyOffset, body_size);
    BinaryReader r(bytes.substr(kBodyOffset + body_size));
    uint8_t replayed = 0, has_txn = 0;
    bool ok = r.U8(&replayed) && r.U8(&has_txn);
    if (ok && has_txn) {
        Txn t;
        uint8_t type = 0;
        ok = r.U64(&t.id) && r.U8(&type) && r.U64(&t.user_id) && r.U64(&t.merchant_id) &&
             r.U64(&t.to_user_id) && r.U128(&t.amount) && r.U128(&t.fee) && r.U32(&t.currency) &&
             r.U64(&t.created_at) && type >= 1 && type <= 3;
        t.type = static_cast<TxnType>(type);
        result.txn = t;
    }
    if (!ok || !r.done()) return malformed();
    result.replayed = replayed != 0;
    return result;
}

Result<CommandResult> DecodeResult(std::string_view bytes) {
    auto view = DecodeResultView(bytes);
    if (!view) return Error(view.error());
    return CommandResult{view->status, std::string(view->body), view->replayed, view->txn};
}

Platform::Platform(const ledger::StateMachineOptions& options)
    : ledger_(std::make_unique<ledger::StateMachine>(options)) {}

void Platform::BeginBatch(uint64_t timestamp) {
    ledger_->BeginBatch(timestamp);
    while (!idempotency_order_.empty() &&
           idempotency_order_.front().created_at + kIdempotencyRetentionNs <= timestamp) {
        idempotency_.erase(idempotency_order_.front().key);
        idempotency_log_.DropFront(idempotency_order_.front().log_bytes);
        idempotency_order_.pop_front();
    }
    while (!session_expiry_.empty() && session_expiry_.front().first <= timestamp) {
        auto it = sessions_.find(session_expiry_.front().second);
        if (it != sessions_.end() && it->second.expires_at <= timestamp) sessions_.erase(it);
        session_expiry_.pop_front();
    }
}

std::optional<Caller> Platform::Authenticate(const Principal& principal, uint64_t now) const {
    switch (principal.kind) {
        case PrincipalKind::kNone:
            return Caller{};
        case PrincipalKind::kAdmin:
            return Caller{Caller::Kind::kAdmin, 0};
        case PrincipalKind::kSession: {
            auto it = sessions_.find(principal.credential_hash);
            if (it == sessions_.end() || it->second.expires_at <= now) return std::nullopt;
            return Caller{Caller::Kind::kUser, it->second.user_id};
        }
        case PrincipalKind::kApiKey: {
            auto it = merchants_by_key_.find(principal.credential_hash);
            if (it == merchants_by_key_.end()) return std::nullopt;
            return Caller{Caller::Kind::kMerchant, it->second};
        }
    }
    return std::nullopt;
}

CommandResult Platform::Apply(const Command& command) {
    const uint64_t timestamp = ledger_->TakeTimestamp();
    std::optional<Caller> caller = Authenticate(command.principal, timestamp);
    if (!caller) return Fail(ErrorCode::kUnauthenticated);

    std::string key;
    if (!command.idempotency_key.empty()) {
        key = Scope(*caller) + "\n" + command.idempotency_key;
        auto it = idempotency_.find(key);
        if (it != idempotency_.end()) {
            if (it->second.fingerprint != command.request_fingerprint) {
                return Fail(ErrorCode::kIdempotencyKeyMismatch, {}, "Idempotency-Key");
            }
            return CommandResult{it->second.status, it->second.body, true, {}};
        }
    }
    CommandResult result = Execute(command, *caller, timestamp);
    if (!key.empty() && Storable(result.status, result.body)) {
        StoreIdempotency(std::move(key), Stored{command.request_fingerprint, result.status,
                                                result.body, timestamp});
    }
    return result;
}

void Platform::StoreIdempotency(std::string key, Stored stored) {
    std::string record;
    BinaryWriter w(&record);
    w.String(key);
    w.Hash(stored.fingerprint);
    w.U16(stored.status);
    w.String(stored.body);
    w.U64(stored.created_at);
    idempotency_log_.Append(record);
    idempotency_order_.push_back(StoredOrder{stored.created_at, key, record.size()});
    idempotency_.emplace(std::move(key), std::move(stored));
}

CommandResult Platform::Execute(const Command& c, const Caller& caller, uint64_t timestamp) {
    switch (c.type) {
        case CommandType::kRegisterUser:
            return RegisterUser(c, timestamp);
        case CommandType::kUpdateUser:
            return UpdateUser(c, caller);
        case CommandType::kCreateSession:
            return CreateSession(c);
        case CommandType::kRevokeSession:
            return RevokeSession(c, caller);
        case CommandType::kCreateMerchant:
            return CreateMerchant(c, caller, timestamp);
        case CommandType::kTopup:
        case CommandType::kPay:
        case CommandType::kTransfer:
            return MoveMoney(c, caller, timestamp);
    }
    return Fail(ErrorCode::kInternal);
}

CommandResult Platform::RegisterUser(const Command& c, uint64_t timestamp) {
    if (users_by_email_.contains(c.email)) {
        return Fail(ErrorCode::kEmailAlreadyRegistered, {}, "email");
    }
    users_.push_back(User{c.email, c.name, c.password_hash, timestamp});
    const uint64_t id = users_.size();
    users_by_email_.emplace(c.email, id);
    JsonWriter json;
    json.BeginObject().Key("user_id").String(FormatUserId(id)).Key("email").String(c.email);
    json.EndObject();
    return CommandResult{201, json.Take(), false, {}};
}

std::string Platform::UserJson(uint64_t user_id) const {
    const User& user = users_[user_id - 1];
    JsonWriter json;
    json.BeginObject();
    json.Key("user_id").String(FormatUserId(user_id));
    json.Key("email").String(user.email);
    json.Key("name").String(user.name);
    json.Key("created_at").Number(user.created_at / 1'000'000'000);
    json.EndObject();
    return json.Take();
}

CommandResult Platform::UpdateUser(const Command& c, const Caller& caller) {
    if (caller.kind == Caller::Kind::kAnonymous) return Fail(ErrorCode::kUnauthenticated);
    if (c.user_id == 0 || c.user_id > users_.size()) return Fail(ErrorCode::kNotFound);
    if (!MayActFor(caller, c.user_id)) return Fail(ErrorCode::kForbidden);
    users_[c.user_id - 1].name = c.name;
    return CommandResult{200, UserJson(c.user_id), false, {}};
}

CommandResult Platform::CreateSession(const Command& c) {
    if (c.user_id == 0 || c.user_id > users_.size()) return Fail(ErrorCode::kUnauthenticated);
    sessions_[c.secret_hash] = Session{c.user_id, c.expires_at};
    session_expiry_.emplace_back(c.expires_at, c.secret_hash);
    JsonWriter json;
    json.BeginObject();
    json.Key("token").String(c.secret);
    json.Key("user_id").String(FormatUserId(c.user_id));
    json.Key("expires_at").Number(c.expires_at / 1'000'000'000);
    json.EndObject();
    return CommandResult{200, json.Take(), false, {}};
}

CommandResult Platform::RevokeSession(const Command& c, const Caller& caller) {
    if (caller.kind != Caller::Kind::kUser) return Fail(ErrorCode::kUnauthenticated);
    sessions_.erase(c.principal.credential_hash);
    return CommandResult{200, "{\"revoked\":true}", false, {}};
}

CommandResult Platform::CreateMerchant(const Command& c, const Caller& caller, uint64_t timestamp) {
    if (caller.kind != Caller::Kind::kAdmin) {
        return Fail(caller.kind == Caller::Kind::kAnonymous ? ErrorCode::kUnauthenticated
                                                            : ErrorCode::kForbidden);
    }
    if (merchants_by_key_.contains(c.secret_hash)) return Fail(ErrorCode::kInternal);
    merchants_.push_back(Merchant{c.name, c.tier, c.secret_hash, timestamp});
    const uint64_t id = merchants_.size();
    merchants_by_key_.emplace(c.secret_hash, id);
    JsonWriter json;
    json.BeginObject();
    json.Key("merchant_id").String(FormatMerchantId(id));
    json.Key("name").String(c.name);
    json.Key("tier").String(GetTier(c.tier).name);
    json.Key("api_key").String(c.secret);
    json.EndObject();
    return CommandResult{201, json.Take(), false, {}};
}

void Platform::EnsureAccount(u128 id, uint32_t currency, AccountKind kind, uint16_t flags) {
    if (ledger_->FindAccount(id) != nullptr) return;
    ledger::Account account{};
    account.id = id;
    account.currency = currency;
    account.kind = static_cast<uint16_t>(kind);
    account.flags = flags;
    std::vector<ledger::EventResult> results;
    ledger_->CreateAccounts(std::span<const ledger::Account>(&account, 1), &results);
    BURSAR_ASSERT(results.empty());
}

u128 Platform::WalletBalance(uint64_t user_id, uint32_t currency) const {
    const ledger::Account* wallet = ledger_->FindAccount(WalletAccountId(user_id, currency));
    return wallet == nullptr ? 0 : wallet->credits_posted - wallet->debits_posted;
}

CommandResult Platform::MoveMoney(const Command& c, const Caller& caller, uint64_t timestamp) {
    if (caller.kind == Caller::Kind::kAnonymous) return Fail(ErrorCode::kUnauthenticated);
    if (c.user_id == 0 || c.user_id > users_.size())
        return Fail(ErrorCode::kNotFound, {}, "user_id");
    if (!MayActFor(caller, c.user_id)) return Fail(ErrorCode::kForbidden);
    if (c.amount == 0 || c.amount > kAmountMinorMax ||
        ledger::FindCurrency(c.currency) == nullptr) {
        return Fail(ErrorCode::kInvalidRequest);
    }

    Txn txn;
    txn.id = next_txn_id_++;
    txn.user_id = c.user_id;
    txn.amount = c.amount;
    txn.currency = c.currency;
    txn.created_at = timestamp;
    const u128 wallet = WalletAccountId(c.user_id, c.currency);
    const uint16_t wallet_flags = ledger::account_flags::kDebitsMustNotExceedCredits;
    std::vector<ledger::Transfer> legs;
    auto leg = [&](u128 debit, u128 credit, u128 amount, uint16_t code, LegKind kind,
                   uint64_t other) {
        ledger::Transfer t{};
        t.id = TxnTransferId(txn.id, static_cast<uint32_t>(legs.size()));
        t.debit_account_id = debit;
        t.credit_account_id = credit;
        t.amount = amount;
        t.currency = c.currency;
        t.code = code;
        t.user_data_128 = MakeU128(c.user_id, other);
        t.user_data_64 = txn.id;
        t.user_data_32 =
            (uint32_t{static_cast<uint8_t>(txn.type)} << 8) | static_cast<uint8_t>(kind);
        if (!legs.empty()) legs.back().flags |= tf::kLinked;
        legs.push_back(t);
    };

    switch (c.type) {
        case CommandType::kTopup:
            txn.type = TxnType::kTopup;
            EnsureAccount(ClearingAccountId(c.currency), c.currency, AccountKind::kPspClearing, 0);
            EnsureAccount(wallet, c.currency, AccountKind::kUserWallet, wallet_flags);
            leg(ClearingAccountId(c.currency), wallet, c.amount, kCodeTopup, LegKind::kTopup, 0);
            break;
        case CommandType::kPay: {
            txn.type = TxnType::kPay;
            if (c.merchant_id == 0 || c.merchant_id > merchants_.size()) {
                return Fail(ErrorCode::kNotFound, "No such merchant.", "merchant_id");
            }
            txn.merchant_id = c.merchant_id;
            txn.fee = Fee(c.amount, GetTier(merchants_[c.merchant_id - 1].tier).fee_basis_points);
            EnsureAccount(MerchantAccountId(c.merchant_id, c.currency), c.currency,
                          AccountKind::kMerchant, 0);
            EnsureAccount(FeeAccountId(c.currency), c.currency, AccountKind::kFeeRevenue, 0);
            leg(wallet, MerchantAccountId(c.merchant_id, c.currency), c.amount - txn.fee,
                kCodePayNet, LegKind::kNet, c.merchant_id);
            if (txn.fee > 0) {
                leg(wallet, FeeAccountId(c.currency), txn.fee, kCodeFee, LegKind::kFee,
                    c.merchant_id);
            }
            break;
        }
        case CommandType::kTransfer:
            txn.type = TxnType::kTransfer;
            if (c.to_user_id == 0 || c.to_user_id > users_.size()) {
                return Fail(ErrorCode::kNotFound, "No such recipient.", "to_user_id");
            }
            if (c.to_user_id == c.user_id) {
                return Fail(ErrorCode::kInvalidRequest, "Sender and recipient are the same.",
                            "to_user_id");
            }
            txn.to_user_id = c.to_user_id;
            EnsureAccount(WalletAccountId(c.to_user_id, c.currency), c.currency,
                          AccountKind::kUserWallet, wallet_flags);
            leg(wallet, WalletAccountId(c.to_user_id, c.currency), c.amount, kCodeTransfer,
                LegKind::kTransfer, c.to_user_id);
            break;
        default:
            return Fail(ErrorCode::kInternal);
    }
    // A wallet that never received money does not exist yet: nothing to pay with.
    if (c.type != CommandType::kTopup && ledger_->FindAccount(wallet) == nullptr) {
        return Fail(ErrorCode::kInsufficientFunds);
    }

    std::vector<ledger::EventResult> results;
    ledger_->CreateTransfers(legs, &results);
    for (const ledger::EventResult& r : results) {
        const auto code = static_cast<ledger::CreateTransferResult>(r.result);
        if (code == ledger::CreateTransferResult::kLinkedEventFailed) continue;
        if (code == ledger::CreateTransferResult::kExceedsCredits) {
            return Fail(ErrorCode::kInsufficientFunds);
        }
        if (code >= ledger::CreateTransferResult::kOverflowsDebitsPending &&
            code <= ledger::CreateTransferResult::kOverflowsCredits) {
            return Fail(ErrorCode::kInvalidRequest, "The amount would overflow a balance.",
                        "amount_minor");
        }
        // Ids are fresh and accounts exist: any other result is a bug.
        BURSAR_ASSERT(false);
    }

    JsonWriter json;
    json.BeginObject();
    json.Key("txn_id").String(FormatTxnId(txn.id));
    json.Key("status").String("succeeded");
    json.Key("type").String(TxnTypeName(txn.type));
    json.Key("amount_minor").Number(txn.amount);
    if (txn.type == TxnType::kPay) json.Key("fee_minor").Number(txn.fee);
    json.Key("currency").String(ledger::FindCurrency(c.currency)->code);
    if (txn.type != TxnType::kPay) {
        json.Key("balance_minor").Number(WalletBalance(c.user_id, c.currency));
    }
    json.EndObject();
    return CommandResult{200, json.Take(), false, txn};
}

Response Platform::GetUser(const Principal& principal, uint64_t user_id, uint64_t now) const {
    std::optional<Caller> caller = Authenticate(principal, now);
    if (!caller || caller->kind == Caller::Kind::kAnonymous) {
        return FailResponse(ErrorCode::kUnauthenticated);
    }
    if (!MayActFor(*caller, user_id)) return FailResponse(ErrorCode::kForbidden);
    if (user_id == 0 || user_id > users_.size()) return FailResponse(ErrorCode::kNotFound);
    return Response{200, UserJson(user_id)};
}

Response Platform::GetWallet(const Principal& principal, uint64_t user_id, uint64_t now) const {
    std::optional<Caller> caller = Authenticate(principal, now);
    if (!caller || caller->kind == Caller::Kind::kAnonymous) {
        return FailResponse(ErrorCode::kUnauthenticated);
    }
    if (!MayActFor(*caller, user_id)) return FailResponse(ErrorCode::kForbidden);
    if (user_id == 0 || user_id > users_.size()) return FailResponse(ErrorCode::kNotFound);
    JsonWriter json;
    json.BeginObject().Key("user_id").String(FormatUserId(user_id)).Key("balances").BeginArray();
    for (const ledger::CurrencyInfo& currency : ledger::Currencies()) {
        const ledger::Account* a = ledger_->FindAccount(WalletAccountId(user_id, currency.id));
        if (a == nullptr) continue;
        const u128 balance = a->credits_posted - a->debits_posted;
        json.BeginObject();
        json.Key("currency").String(currency.code);
        json.Key("balance_minor").Number(balance);
        json.Key("available_minor").Number(balance - a->debits_pending);
        json.Key("frozen_minor").Number(a->debits_pending);
        json.EndObject();
    }
    json.EndArray().EndObject();
    return Response{200, json.Take()};
}

uint64_t Platform::MemoryBytes() const {
    // A std::map node: its key and value plus about 48 bytes of links and allocator overhead.
    constexpr uint64_t kNodeBytes = 48;
    // Names, emails and password hashes beyond the strings' own buffers, per user or merchant.
    constexpr uint64_t kTextBytes = 160;
    const uint64_t people = (users_.capacity() + merchants_.capacity()) * kTextBytes +
                            users_.capacity() * sizeof(User) +
                            merchants_.capacity() * sizeof(Merchant) +
                            users_by_email_.size() * (kNodeBytes + sizeof(std::string)) +
                            merchants_by_key_.size() * (kNodeBytes + sizeof(Hash256));
    const uint64_t sessions = sessions_.size() * (kNodeBytes + sizeof(Hash256) + sizeof(Session)) +
                              session_expiry_.size() * sizeof(session_expiry_.front());
    // Each record's key and response are held by its map node, its place in the order, and the
    // log: about three times the log's bytes.
    const uint64_t idempotency = idempotency_.size() * (kNodeBytes + sizeof(std::string) +
                                                        sizeof(Stored) + sizeof(StoredOrder)) +
                                 3 * idempotency_log_.size();
    return ledger_->MemoryBytes() + people + sessions + idempotency;
}

std::optional<Txn> Platform::FindTxn(uint64_t txn_id) const {
    const ledger::Transfer* first = ledger_->FindTransfer(TxnTransferId(txn_id, 0));
    if (first == nullptr) return std::nullopt;
    Txn txn;
    txn.id = txn_id;
    txn.type = static_cast<TxnType>(first->user_data_32 >> 8);
    txn.user_id = High64(first->user_data_128);
    txn.currency = first->currency;
    txn.created_at = first->timestamp;
    for (uint32_t leg = 0;; ++leg) {
        const ledger::Transfer* t =
            leg == 0 ? first : ledger_->FindTransfer(TxnTransferId(txn_id, leg));
        if (t == nullptr) break;
        const auto kind = static_cast<LegKind>(t->user_data_32 & 0xFF);
        txn.amount += t->amount;
        if (kind == LegKind::kFee) txn.fee += t->amount;
        if (kind == LegKind::kNet || kind == LegKind::kFee)
            txn.merchant_id = Low64(t->user_data_128);
        if (kind == LegKind::kTransfer) txn.to_user_id = Low64(t->user_data_128);
    }
    return txn;
}

Response Platform::GetPayment(const Principal& principal, uint64_t txn_id, uint64_t now) const {
    std::optional<Caller> caller = Authenticate(principal, now);
    if (!caller || caller->kind == Caller::Kind::kAnonymous) {
        return FailResponse(ErrorCode::kUnauthenticated);
    }
    std::optional<Txn> txn = FindTxn(txn_id);
    // Another caller's payment is answered as missing: existence must not leak.
    const bool visible =
        txn && txn->type == TxnType::kPay &&
        (caller->kind == Caller::Kind::kAdmin ||
         (caller->kind == Caller::Kind::kUser && caller->id == txn->user_id) ||
         (caller->kind == Caller::Kind::kMerchant && caller->id == txn->merchant_id));
    if (!visible) return FailResponse(ErrorCode::kNotFound);
    JsonWriter json;
    json.BeginObject();
    json.Key("txn_id").String(FormatTxnId(txn->id));
    json.Key("status").String("succeeded");
    json.Key("amount_minor").Number(txn->amount);
    json.Key("fee_minor").Number(txn->fee);
    json.Key("net_minor").Number(txn->amount - txn->fee);
    json.Key("currency").String(ledger::FindCurrency(txn->currency)->code);
    json.Key("user_id").String(FormatUserId(txn->user_id));
    json.Key("merchant_id").String(FormatMerchantId(txn->merchant_id));
    json.Key("created_at").Number(txn->created_at / 1'000'000'000);
    json.EndObject();
    return Response{200, json.Take()};
}

std::optional<Platform::Login> Platform::FindLogin(std::string_view email) const {
    auto it = users_by_email_.find(email);
    if (it == users_by_email_.end()) return std::nullopt;
    return Login{it->second, users_[it->second - 1].password_hash};
}

// Domain state, in a fixed order: the part of the state hash and snapshot beside the ledger.
void Platform::SaveDomain(std::string* out) const {
    BinaryWriter w(out);
    w.U64(next_txn_id_);
    w.U64(users_.size());
    for (const User& u : users_) {
        w.String(u.email);
        w.String(u.name);
        w.String(u.password_hash);
        w.U64(u.created_at);
    }
    w.U64(merchants_.size());
    for (const Merchant& m : merchants_) {
        w.String(m.name);
        w.U8(static_cast<uint8_t>(m.tier));
        w.Hash(m.api_key_hash);
        w.U64(m.created_at);
    }
    w.U64(session_expiry_.size());
    for (const auto& [expires_at, hash] : session_expiry_) {
        w.U64(expires_at);
        w.Hash(hash);
        auto it = sessions_.find(hash);
        // A revoked or replaced session keeps its place in the queue with user 0.
        w.U64(it != sessions_.end() && it->second.expires_at == expires_at ? it->second.user_id
                                                                           : 0);
    }
    // The records themselves follow, as idempotency_log_ holds them (StoreIdempotency).
    w.U64(idempotency_order_.size());
}

bool Platform::LoadDomain(std::string_view bytes) {
    BinaryReader r(bytes);
    uint64_t count = 0;
    if (!r.U64(&next_txn_id_) || !r.U64(&count)) return false;
    for (uint64_t i = 0; i < count; ++i) {
        User u;
        if (!r.String(&u.email) || !r.String(&u.name) || !r.String(&u.password_hash) ||
            !r.U64(&u.created_at)) {
            return false;
        }
        users_by_email_.emplace(u.email, users_.size() + 1);
        users_.push_back(std::move(u));
    }
    if (!r.U64(&count)) return false;
    for (uint64_t i = 0; i < count; ++i) {
        Merchant m;
        uint8_t tier = 0;
        if (!r.String(&m.name) || !r.U8(&tier) || !r.Hash(&m.api_key_hash) ||
            !r.U64(&m.created_at)) {
            return false;
        }
        m.tier = static_cast<Tier>(tier);
        merchants_by_key_.emplace(m.api_key_hash, merchants_.size() + 1);
        merchants_.push_back(std::move(m));
    }
    if (!r.U64(&count)) return false;
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t expires_at = 0, user_id = 0;
        Hash256 hash{};
        if (!r.U64(&expires_at) || !r.Hash(&hash) || !r.U64(&user_id)) return false;
        session_expiry_.emplace_back(expires_at, hash);
        if (user_id != 0) sessions_[hash] = Session{user_id, expires_at};
    }
    if (!r.U64(&count)) return false;
    for (uint64_t i = 0; i < count; ++i) {
        std::string key;
        Stored stored{};
        if (!r.String(&key) || !r.Hash(&stored.fingerprint) || !r.U16(&stored.status) ||
            !r.String(&stored.body) || !r.U64(&stored.created_at)) {
            return false;
        }
        StoreIdempotency(std::move(key), std::move(stored));
    }
    return r.done();
}

void Platform::FreezeInto(FrozenPlatform* frozen) const {
    ledger_->FreezeInto(&frozen->ledger_);
    frozen->domain_.clear();
    SaveDomain(&frozen->domain_);
    idempotency_log_.FreezeInto(&frozen->idempotency_records_);
}

std::shared_ptr<FrozenPlatform> Platform::Freeze() const {
    auto frozen = std::make_shared<FrozenPlatform>();
    FreezeInto(frozen.get());
    return frozen;
}

Hash256 Platform::StateHash() const { return Freeze()->StateHash(); }

Hash256 FrozenPlatform::StateHash() const {
    const Hash256 ledger_hash = ledger_.StateHash();
    Sha256 sha;
    sha.Update(ledger_hash.data(), ledger_hash.size());
    sha.Update(domain_.data(), domain_.size());
    idempotency_records_.ForEachPiece(
        [&](std::string_view piece) { sha.Update(piece.data(), piece.size()); });
    return sha.Finish();
}

bool FrozenPlatform::Save(const ledger::WriteFn& write) const {
    if (!ledger_.Save(write)) return false;
    const uint64_t size = domain_.size() + idempotency_records_.size;
    if (!write(&size, sizeof(size)) || !write(domain_.data(), domain_.size())) return false;
    bool ok = true;
    idempotency_records_.ForEachPiece(
        [&](std::string_view piece) { ok = ok && write(piece.data(), piece.size()); });
    return ok;
}

Result<std::unique_ptr<Platform>> Platform::Load(const ledger::ReadFn& read,
                                                 const ledger::StateMachineOptions& options) {
    auto ledger = ledger::StateMachine::Load(read, options);
    if (!ledger) return Error(ledger.error());
    constexpr uint64_t kDomainBytesMax = 1ull << 36;
    uint64_t size = 0;
    if (!read(&size, sizeof(size)) || size > kDomainBytesMax) {
        return Error(StatusCode::kCorruption, "state: domain length");
    }
    std::string domain(size, '\0');
    if (!read(domain.data(), domain.size())) return Error(StatusCode::kCorruption, "state: domain");
    auto platform = std::make_unique<Platform>(options);
    platform->ledger_ = std::move(*ledger);
    if (!platform->LoadDomain(domain)) return Error(StatusCode::kCorruption, "state: domain");
    return platform;
}

}  // namespace bursar::payments
