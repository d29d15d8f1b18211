#pragma once

// What a command's Apply decided, typed: a result code and the command's output. No HTTP status,
// no JSON, no secret: the API layer renders an outcome (api/render.h), and the journal records it
// next to its command, so a replay compares decisions, not wording (docs/formats/journal.md,
// "Outcome").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/u128.h"
#include "payments/command.h"
#include "payments/result_codes.h"

namespace bursar {
class BinaryReader;
class BinaryWriter;
}  // namespace bursar

namespace bursar::payments {

enum class TxnType : uint8_t { kTopup = 1, kPay = 2, kTransfer = 3, kRefund = 4 };
const char* TxnTypeName(TxnType type);  // TOPUP, PAY, TRANSFER, REFUND (SPEC.md E1)

// The money a command moved: what the read model and the event stream need.
struct Txn {
    uint64_t id = 0;
    TxnType type = TxnType::kTopup;
    uint64_t user_id = 0;      // payer (pay, transfer) or the topped-up user
    uint64_t merchant_id = 0;  // pay
    uint64_t to_user_id = 0;   // transfer
    u128 amount = 0;           // what the payer paid (pay: net + fee); refund: what came back
    u128 fee = 0;              // pay: the fee charged; refund: the fee returned
    uint32_t currency = 0;
    uint64_t created_at = 0;
    uint64_t payment_id = 0;  // refund: the payment refunded

    bool operator==(const Txn&) const = default;
};

// A pre-authorization (SPEC.md P6): what the holds module keeps and what its commands answer.
enum class HoldStatus : uint8_t {
    kAuthorized = 1,
    kPartiallyCaptured = 2,
    kCaptured = 3,
    kCancelled = 4,
    kExpired = 5,
};
const char* HoldStatusName(HoldStatus status);  // authorized, partially_captured, ...
std::optional<HoldStatus> FindHoldStatus(std::string_view name);

struct Hold {
    uint64_t id = 0;
    HoldStatus status = HoldStatus::kAuthorized;
    uint64_t user_id = 0;
    uint64_t merchant_id = 0;
    uint32_t currency = 0;
    u128 amount = 0;    // authorized
    u128 captured = 0;  // sum of the captures
    u128 released = 0;  // given back to the wallet's available balance (cancel, expiry, final)
    uint64_t created_at = 0;
    uint64_t expires_at = 0;
    uint64_t closed_at = 0;          // 0 while open
    std::string reference;           // the merchant's own (empty: none)
    uint32_t transfers = 0;          // ledger transfers of the hold so far (HoldTransferId 0..n-1)
    std::vector<uint64_t> captures;  // the capture payments' txn ids, oldest first

    bool open() const {
        return status == HoldStatus::kAuthorized || status == HoldStatus::kPartiallyCaptured;
    }
    u128 remaining() const { return open() ? amount - captured : 0; }
    bool operator==(const Hold&) const = default;
};

// A hold's bytes, as an outcome and the holds section hold it (docs/formats/journal.md).
void WriteHold(BinaryWriter& w, const Hold& hold);
bool ReadHold(BinaryReader& r, Hold* hold);

// An answer that a journal-v1 binary stored for an Idempotency-Key as rendered JSON: kept as it
// was (secrets taken out) and answered again as it was (docs/formats/compatibility.md).
struct LegacyAnswer {
    uint16_t status = 200;
    std::string body;

    bool operator==(const LegacyAnswer&) const = default;
};

struct Outcome {
    ResultCode code = ResultCode::kOk;
    bool replayed = false;  // answered from the stored outcome of an Idempotency-Key
    // The command's output (each field zero or empty where the command has none):
    uint64_t object_id = 0;  // the user (register, update, session) or merchant (create) acted on
    uint64_t time = 0;       // the user's creation (register, update) or the session's expiry, ns
    u128 balance = 0;        // top-up, transfer: the payer's wallet balance after it
    std::string email;       // register, update: the user's email as registered
    std::optional<Txn> txn;  // money moved (when replayed: what the first answer moved)
    std::optional<LegacyAnswer> legacy;  // replayed from a journal-v1 stored answer
    std::optional<Hold> hold;            // authorize, capture, cancel: the pre-authorization after

    bool ok() const { return code == ResultCode::kOk; }
    bool operator==(const Outcome&) const = default;
};

inline Outcome Refused(ResultCode code) {
    Outcome outcome;
    outcome.code = code;
    return outcome;
}

// The HTTP status the API answers `outcome` of a `type` command with: a stored v1 answer's own,
// 201 for a created user, merchant or pre-authorization, 200 for another success, the error's for a
// refusal.
uint16_t HttpStatusOf(CommandType type, const Outcome& outcome);

inline constexpr uint8_t kOutcomeVersion = 2;  // journal v2's; v1 journaled rendered JSON

void EncodeOutcome(const Outcome& outcome, std::string* out);
Result<Outcome> DecodeOutcome(std::string_view bytes);

// The txn and whether the outcome was a replay, without decoding the rest: every event-stream
// follower reads every outcome. Works on both versions (v2 outcomes and v1 results).
struct OutcomeSummary {
    bool replayed = false;
    bool ok = false;  // v1: a 2xx status
    std::optional<Txn> txn;
    uint64_t object_id = 0;  // v2 only (v1: in `v1_body`)
    std::string_view v1_body;
};
Result<OutcomeSummary> SummarizeOutcome(uint8_t command_version, std::string_view bytes);

// A journal-v1 record's result: HTTP status, JSON body, replay flag, txn.
struct V1Result {
    uint16_t status = 200;
    std::string_view body;  // a view of the encoded bytes
    bool replayed = false;
    std::optional<Txn> txn;
};
Result<V1Result> DecodeV1Result(std::string_view bytes);
// Only for tests and the fixture's checks: the v1 encoding.
void EncodeV1Result(const V1Result& result, std::string* out);

// A v1 stored answer's body with the secrets of login and merchant creation ("token",
// "api_key") replaced by null: they are not kept in memory, snapshots or journal v2.
std::string WithoutSecrets(std::string_view body);

}  // namespace bursar::payments
