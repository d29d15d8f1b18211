#include "payments/outcome.h"

#include "base/binary_codec.h"

namespace bursar::payments {
namespace {

// Presence bits of a v2 outcome: only what a command has is written.
constexpr uint8_t kReplayed = 1 << 0;
constexpr uint8_t kHasTxn = 1 << 1;
constexpr uint8_t kHasLegacy = 1 << 2;
constexpr uint8_t kHasObject = 1 << 3;
constexpr uint8_t kHasTime = 1 << 4;
constexpr uint8_t kHasBalance = 1 << 5;
constexpr uint8_t kHasEmail = 1 << 6;
constexpr uint8_t kHasHold = 1 << 7;
constexpr uint8_t kKnownBits = 0xFF;
constexpr uint32_t kHoldCapturesMax = 1000;  // a decoding bound, above the module's

constexpr uint32_t kLegacyBodyBytesMax = 1 << 20;

void WriteTxn(BinaryWriter& w, const Txn& t) {
    w.U64(t.id);
    w.U8(static_cast<uint8_t>(t.type));
    w.U64(t.user_id);
    w.U64(t.merchant_id);
    w.U64(t.to_user_id);
    w.U128(t.amount);
    w.U128(t.fee);
    w.U32(t.currency);
    w.U64(t.created_at);
    if (t.type == TxnType::kRefund) w.U64(t.payment_id);  // a type added after v2's first
}

// Flattened: BinaryReader's reads are inlined, so each fixed-width field is a plain load instead
// of a call to memcpy (every follower decodes every outcome, bench/follower_cost.cc).
[[gnu::flatten]] bool ReadTxn(BinaryReader& r, Txn* t) {
    uint8_t type = 0;
    const bool ok = r.U64(&t->id) && r.U8(&type) && r.U64(&t->user_id) && r.U64(&t->merchant_id) &&
                    r.U64(&t->to_user_id) && r.U128(&t->amount) && r.U128(&t->fee) &&
                    r.U32(&t->currency) && r.U64(&t->created_at) && type >= 1 && type <= 4;
    t->type = static_cast<TxnType>(type);
    if (ok && t->type == TxnType::kRefund) return r.U64(&t->payment_id) && t->payment_id != 0;
    return ok;
}

std::unexpected<Status> Malformed() {
    return Error(StatusCode::kCorruption, "malformed command outcome");
}

}  // namespace

void WriteHold(BinaryWriter& w, const Hold& h) {
    w.U64(h.id);
    w.U8(static_cast<uint8_t>(h.status));
    w.U64(h.user_id);
    w.U64(h.merchant_id);
    w.U32(h.currency);
    w.U128(h.amount);
    w.U128(h.captured);
    w.U128(h.released);
    w.U64(h.created_at);
    w.U64(h.expires_at);
    w.U64(h.closed_at);
    w.String(h.reference);
    w.U32(h.transfers);
    w.U32(static_cast<uint32_t>(h.captures.size()));
    for (uint64_t capture : h.captures) w.U64(capture);
}

bool ReadHold(BinaryReader& r, Hold* h) {
    uint8_t status = 0;
    uint32_t captures = 0;
    if (!r.U64(&h->id) || !r.U8(&status) || status < 1 || status > 5 || !r.U64(&h->user_id) ||
        !r.U64(&h->merchant_id) || !r.U32(&h->currency) || !r.U128(&h->amount) ||
        !r.U128(&h->captured) || !r.U128(&h->released) || !r.U64(&h->created_at) ||
        !r.U64(&h->expires_at) || !r.U64(&h->closed_at) ||
        !r.String(&h->reference, kReferenceBytesMax) || !r.U32(&h->transfers) ||
        !r.U32(&captures) || captures > kHoldCapturesMax) {
        return false;
    }
    h->status = static_cast<HoldStatus>(status);
    h->captures.resize(captures);
    for (uint64_t& capture : h->captures) {
        if (!r.U64(&capture)) return false;
    }
    return true;
}

const char* HoldStatusName(HoldStatus status) {
    switch (status) {
        case HoldStatus::kAuthorized:
            return "authorized";
        case HoldStatus::kPartiallyCaptured:
            return "partially_captured";
        case HoldStatus::kCaptured:
            return "captured";
        case HoldStatus::kCancelled:
            return "cancelled";
        case HoldStatus::kExpired:
            return "expired";
    }
    return "unknown";
}

std::optional<HoldStatus> FindHoldStatus(std::string_view name) {
    for (uint8_t i = 1; i <= 5; ++i) {
        if (name == HoldStatusName(static_cast<HoldStatus>(i))) return static_cast<HoldStatus>(i);
    }
    return std::nullopt;
}

const char* TxnTypeName(TxnType type) {
    switch (type) {
        case TxnType::kTopup:
            return "TOPUP";
        case TxnType::kPay:
            return "PAY";
        case TxnType::kTransfer:
            return "TRANSFER";
        case TxnType::kRefund:
            return "REFUND";
    }
    return "UNKNOWN";
}

uint16_t HttpStatusOf(CommandType type, const Outcome& outcome) {
    if (outcome.legacy) return outcome.legacy->status;
    const bool creates = type == CommandType::kRegisterUser ||
                         type == CommandType::kCreateMerchant || type == CommandType::kAuthorize;
    return HttpStatusOf(outcome.code, creates ? 201 : 200);
}

void EncodeOutcome(const Outcome& o, std::string* out) {
    BinaryWriter w(out);
    uint8_t bits = 0;
    if (o.replayed) bits |= kReplayed;
    if (o.txn) bits |= kHasTxn;
    if (o.legacy) bits |= kHasLegacy;
    if (o.object_id != 0) bits |= kHasObject;
    if (o.time != 0) bits |= kHasTime;
    if (o.balance != 0) bits |= kHasBalance;
    if (!o.email.empty()) bits |= kHasEmail;
    if (o.hold) bits |= kHasHold;
    w.U8(kOutcomeVersion);
    w.U16(static_cast<uint16_t>(o.code));
    w.U8(bits);
    if (o.txn) WriteTxn(w, *o.txn);
    if (o.legacy) {
        w.U16(o.legacy->status);
        w.String(o.legacy->body);
    }
    if (o.object_id != 0) w.U64(o.object_id);
    if (o.time != 0) w.U64(o.time);
    if (o.balance != 0) w.U128(o.balance);
    if (!o.email.empty()) w.String(o.email);
    if (o.hold) WriteHold(w, *o.hold);
}

Result<Outcome> DecodeOutcome(std::string_view bytes) {
    BinaryReader r(bytes);
    Outcome o;
    uint8_t version = 0, bits = 0;
    uint16_t code = 0;
    if (!r.U8(&version) || version != kOutcomeVersion || !r.U16(&code) || !IsKnownResult(code) ||
        !r.U8(&bits) || (bits & ~kKnownBits) != 0) {
        return Malformed();
    }
    o.code = static_cast<ResultCode>(code);
    o.replayed = (bits & kReplayed) != 0;
    bool ok = true;
    if (bits & kHasTxn) ok = ReadTxn(r, &o.txn.emplace());
    if (ok && (bits & kHasLegacy)) {
        LegacyAnswer& legacy = o.legacy.emplace();
        ok = r.U16(&legacy.status) && r.String(&legacy.body, kLegacyBodyBytesMax);
    }
    if (ok && (bits & kHasObject)) ok = r.U64(&o.object_id) && o.object_id != 0;
    if (ok && (bits & kHasTime)) ok = r.U64(&o.time) && o.time != 0;
    if (ok && (bits & kHasBalance)) ok = r.U128(&o.balance) && o.balance != 0;
    if (ok && (bits & kHasEmail)) ok = r.String(&o.email, kEmailBytesMax) && !o.email.empty();
    if (ok && (bits & kHasHold)) ok = ReadHold(r, &o.hold.emplace());
    if (!ok || !r.done()) return Malformed();
    return o;
}

[[gnu::flatten]] Result<OutcomeSummary> SummarizeOutcome(uint8_t command_version,
                                                         std::string_view bytes) {
    OutcomeSummary summary;
    if (command_version == 1) {
        auto v1 = DecodeV1Result(bytes);
        if (!v1) return Error(v1.error());
        summary.replayed = v1->replayed;
        summary.ok = v1->status >= 200 && v1->status < 300;
        summary.txn = v1->txn;
        summary.v1_body = v1->body;
        return summary;
    }
    // The head, and the txn that follows it at once when there is one.
    BinaryReader r(bytes);
    uint8_t version = 0, bits = 0;
    uint16_t code = 0;
    if (!r.U8(&version) || version != kOutcomeVersion || !r.U16(&code) || !r.U8(&bits)) {
        return Malformed();
    }
    summary.replayed = (bits & kReplayed) != 0;
    summary.ok = code == static_cast<uint16_t>(ResultCode::kOk);
    if (bits & kHasTxn) {
        if (!ReadTxn(r, &summary.txn.emplace())) return Malformed();
    }
    if ((bits & kHasObject) && !(bits & kHasLegacy)) {
        if (!r.U64(&summary.object_id)) return Malformed();
    }
    return summary;
}

[[gnu::flatten]] Result<V1Result> DecodeV1Result(std::string_view bytes) {
    // The status and the body's length, then the body, read in place.
    constexpr size_t kBodyOffset = sizeof(uint16_t) + sizeof(uint32_t);
    constexpr uint32_t kBodyBytesMax = 1 << 20;
    V1Result result;
    BinaryReader head(bytes);
    uint32_t body_size = 0;
    if (!head.U16(&result.status) || !head.U32(&body_size) || body_size > kBodyBytesMax ||
        body_size > bytes.size() - kBodyOffset) {
        return Malformed();
    }
    result.body = bytes.substr(kBodyOffset, body_size);
    BinaryReader r(bytes.substr(kBodyOffset + body_size));
    uint8_t replayed = 0, has_txn = 0;
    bool ok = r.U8(&replayed) && r.U8(&has_txn);
    if (ok && has_txn) ok = ReadTxn(r, &result.txn.emplace());
    if (!ok || !r.done()) return Malformed();
    result.replayed = replayed != 0;
    return result;
}

void EncodeV1Result(const V1Result& result, std::string* out) {
    BinaryWriter w(out);
    w.U16(result.status);
    w.String(result.body);
    w.U8(result.replayed ? 1 : 0);
    w.U8(result.txn ? 1 : 0);
    if (result.txn) WriteTxn(w, *result.txn);
}

std::string WithoutSecrets(std::string_view body) {
    std::string out(body);
    for (std::string_view field : {"\"token\":\"", "\"api_key\":\""}) {
        const size_t start = out.find(field);
        if (start == std::string::npos) continue;
        const size_t value = start + field.size() - 1;  // the opening quote
        const size_t end = out.find('"', value + 1);
        if (end == std::string::npos) continue;
        out.replace(value, end + 1 - value, "null");
    }
    return out;
}

}  // namespace bursar::payments
