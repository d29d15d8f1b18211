#pragma once

// The platform's deterministic state machine (ARCHITECTURE.md §2): the ledger plus users,
// sessions, merchants and stored idempotent responses. A domain command is checked (principal,
// idempotency, authorization, business rules) and compiled into one entry of linked ledger
// transfers, applied in the same batch; its response is produced here, deterministically, so a
// replay gives the same bytes and an Idempotency-Key returns them again after a restart.
//
// Money layout (ledger account ids, kind in the top byte; currencies by ledger id):
//   wallet of user U in C        (1 << 120) | U << 32 | C   debits_must_not_exceed_credits
//   merchant M in C              (2 << 120) | M << 32 | C
//   PSP clearing in C            (3 << 120) | C            (the channel's side of top-ups)
//   fee revenue in C             (4 << 120) | C
// A transaction (txn) is one entry: transfer ids (5 << 120) | txn << 8 | leg, every leg carrying
// user_data_64 = txn id, user_data_32 = type << 8 | leg kind, user_data_128 = user << 64 | other.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/chunked_log.h"
#include "base/sha256.h"
#include "base/status.h"
#include "ledger/state_machine.h"
#include "payments/command.h"

namespace bursar::payments {

inline constexpr uint64_t kIdempotencyRetentionNs = 24ull * 3600 * 1'000'000'000;  // 24 hours

enum class TxnType : uint8_t { kTopup = 1, kPay = 2, kTransfer = 3 };
const char* TxnTypeName(TxnType type);  // TOPUP, PAY, TRANSFER (SPEC.md E1)

enum class LegKind : uint8_t { kTopup = 1, kNet = 2, kFee = 3, kTransfer = 4 };

u128 WalletAccountId(uint64_t user_id, uint32_t currency);
u128 MerchantAccountId(uint64_t merchant_id, uint32_t currency);
u128 ClearingAccountId(uint32_t currency);
u128 FeeAccountId(uint32_t currency);
u128 TxnTransferId(uint64_t txn_id, uint32_t leg);

// The money a command moved: what the read model and the event stream need.
struct Txn {
    uint64_t id = 0;
    TxnType type = TxnType::kTopup;
    uint64_t user_id = 0;      // payer (pay, transfer) or the topped-up user
    uint64_t merchant_id = 0;  // pay
    uint64_t to_user_id = 0;   // transfer
    u128 amount = 0;           // what the payer paid (pay: net + fee)
    u128 fee = 0;
    uint32_t currency = 0;
    uint64_t created_at = 0;
};

struct CommandResult {
    uint16_t status = 200;
    std::string body;       // JSON
    bool replayed = false;  // answered from the stored response of an Idempotency-Key
    std::optional<Txn> txn;
};

void EncodeResult(const CommandResult& result, std::string* out);
Result<CommandResult> DecodeResult(std::string_view bytes);

// A decoded result whose body is a view of the encoded bytes instead of a copy (the event stream
// decodes every result and needs the txn, and the body of registrations only).
struct ResultView {
    uint16_t status = 200;
    std::string_view body;  // JSON, valid while the encoded bytes are
    bool replayed = false;
    std::optional<Txn> txn;
};
Result<ResultView> DecodeResultView(std::string_view bytes);

// Who is calling, once the credential has been checked.
struct Caller {
    enum class Kind : uint8_t { kAnonymous, kAdmin, kUser, kMerchant } kind = Kind::kAnonymous;
    uint64_t id = 0;
};

struct Response {
    uint16_t status = 200;
    std::string body;
};

class FrozenPlatform;

class Platform {
  public:
    explicit Platform(const ledger::StateMachineOptions& options = {});

    ledger::StateMachine& ledger() { return *ledger_; }
    const ledger::StateMachine& ledger() const { return *ledger_; }

    // Batches: the ledger's, plus pruning of expired idempotency records and sessions.
    void BeginBatch(uint64_t timestamp);
    void EndBatch() { ledger_->EndBatch(); }
    CommandResult Apply(const Command& command);

    // Reads (engine thread, between batches or inside one). `now` decides session expiry.
    std::optional<Caller> Authenticate(const Principal& principal, uint64_t now) const;
    Response GetUser(const Principal& principal, uint64_t user_id, uint64_t now) const;
    Response GetWallet(const Principal& principal, uint64_t user_id, uint64_t now) const;
    Response GetPayment(const Principal& principal, uint64_t txn_id, uint64_t now) const;
    struct Login {
        uint64_t user_id;
        std::string password_hash;
    };
    std::optional<Login> FindLogin(std::string_view email) const;
    std::optional<Txn> FindTxn(uint64_t txn_id) const;

    uint64_t user_count() const { return users_.size(); }
    uint64_t merchant_count() const { return merchants_.size(); }
    uint64_t idempotency_record_count() const { return idempotency_.size(); }
    // The memory the state holds: the ledger's tables exactly, the domain's maps estimated
    // (their nodes, strings and the idempotency log).
    uint64_t MemoryBytes() const;

    Hash256 StateHash() const;
    std::shared_ptr<FrozenPlatform> Freeze() const;
    void FreezeInto(FrozenPlatform* frozen) const;
    static Result<std::unique_ptr<Platform>> Load(const ledger::ReadFn& read,
                                                  const ledger::StateMachineOptions& options);

  private:
    struct User {
        std::string email;
        std::string name;
        std::string password_hash;
        uint64_t created_at;
    };
    struct Merchant {
        std::string name;
        Tier tier;
        Hash256 api_key_hash;
        uint64_t created_at;
    };
    struct Session {
        uint64_t user_id;
        uint64_t expires_at;
    };
    struct Stored {
        Hash256 fingerprint;
        uint16_t status;
        std::string body;
        uint64_t created_at;
    };

    CommandResult Execute(const Command& command, const Caller& caller, uint64_t timestamp);
    CommandResult RegisterUser(const Command& c, uint64_t timestamp);
    CommandResult UpdateUser(const Command& c, const Caller& caller);
    CommandResult CreateSession(const Command& c);
    CommandResult RevokeSession(const Command& c, const Caller& caller);
    CommandResult CreateMerchant(const Command& c, const Caller& caller, uint64_t timestamp);
    CommandResult MoveMoney(const Command& c, const Caller& caller, uint64_t timestamp);
    void EnsureAccount(u128 id, uint32_t currency, ledger::AccountKind kind, uint16_t flags);
    std::string UserJson(uint64_t user_id) const;
    u128 WalletBalance(uint64_t user_id, uint32_t currency) const;
    void SaveDomain(std::string* out) const;
    bool LoadDomain(std::string_view bytes);

    std::unique_ptr<ledger::StateMachine> ledger_;
    std::vector<User> users_;  // user id = index + 1
    std::map<std::string, uint64_t, std::less<>> users_by_email_;
    std::vector<Merchant> merchants_;  // merchant id = index + 1
    std::map<Hash256, uint64_t> merchants_by_key_;
    std::map<Hash256, Session> sessions_;
    std::deque<std::pair<uint64_t, Hash256>> session_expiry_;  // (expires_at, token hash)
    struct StoredOrder {
        uint64_t created_at;
        std::string key;     // in idempotency_
        uint64_t log_bytes;  // of its record in idempotency_log_
    };
    // Appends the record's snapshot form to idempotency_log_ and its place to idempotency_order_.
    void StoreIdempotency(std::string key, Stored stored);

    std::map<std::string, Stored> idempotency_;  // scope '\n' key -> response
    std::deque<StoredOrder> idempotency_order_;  // oldest first
    // The records of idempotency_order_, in order, as the snapshot's domain holds them (see
    // SaveDomain), kept up to date so that freezing shares them instead of writing them again.
    ChunkedLog idempotency_log_;
    uint64_t next_txn_id_ = 1;
};

// The platform's state at a batch boundary, for a snapshot thread (see ledger::FrozenState).
class FrozenPlatform {
  public:
    Hash256 StateHash() const;
    bool Save(const ledger::WriteFn& write) const;

  private:
    friend class Platform;
    ledger::FrozenState ledger_;
    std::string domain_;  // up to the idempotency records' count; the records follow
    ChunkedLog::Frozen idempotency_records_;
};

std::string FormatUserId(uint64_t id);      // usr_<n>
std::string FormatMerchantId(uint64_t id);  // mch_<n>
std::string FormatTxnId(uint64_t id);       // txn_<n>
std::optional<uint64_t> ParseUserId(std::string_view text);
std::optional<uint64_t> ParseMerchantId(std::string_view text);
std::optional<uint64_t> ParseTxnId(std::string_view text);
// <prefix><n>, n a positive decimal without leading zeros: n; otherwise nullopt.
std::optional<uint64_t> ParsePrefixedId(std::string_view text, std::string_view prefix);

}  // namespace bursar::payments
