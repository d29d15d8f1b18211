#pragma once

// The platform's deterministic state machine (ARCHITECTURE.md §2): the composition root of the
// domain modules (users/, merchants/, wallets/, charges/) over the ledger, with the idempotency
// store and the deadline queue. Apply(command) = authenticate → idempotency → dispatch to the
// module → store the outcome. Outcomes are typed (outcome.h): the API layer renders them.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "base/status.h"
#include "ledger/state_machine.h"
#include "payments/accounts.h"
#include "payments/authorization.h"
#include "payments/command.h"
#include "payments/deadlines.h"
#include "payments/holds/holds.h"
#include "payments/idempotency.h"
#include "payments/ids.h"
#include "payments/merchants/merchants.h"
#include "payments/outcome.h"
#include "payments/refunds/refunds.h"
#include "payments/sections.h"
#include "payments/users/users.h"
#include "risk/limits.h"

namespace bursar::payments {

class FrozenPlatform;

class Platform {
  public:
    explicit Platform(const ledger::StateMachineOptions& options = {});

    ledger::StateMachine& ledger() { return *ledger_; }
    const ledger::StateMachine& ledger() const { return *ledger_; }
    const users::Users& users() const { return users_; }
    const merchants::Merchants& merchants() const { return merchants_; }
    const refunds::Refunds& refunds() const { return refunds_; }
    const holds::Holds& holds() const { return holds_; }
    const risk::Limits& limits() const { return limits_; }
    const IdempotencyStore& idempotency() const { return idempotency_; }

    // Batches: the ledger's, and the deadlines due at `timestamp` fire first.
    void BeginBatch(uint64_t timestamp);
    void EndBatch() { ledger_->EndBatch(); }
    // Whether a batch at `timestamp` has work without any command: a ledger expiry or a deadline.
    bool HasDeadlineDue(uint64_t timestamp) const;
    std::optional<uint64_t> EarliestDeadline() const { return deadlines_.Earliest(); }

    Outcome Apply(const Command& command);
    // Replaying a journal-v1 record: the same, and an answer stored for its Idempotency-Key is
    // `recorded` (what that version answered, secrets taken out).
    Outcome ApplyV1(const Command& command, const V1Result& recorded);

    // Reads (engine thread, between batches or inside one). `now` decides session expiry.
    std::optional<Caller> Authenticate(const Principal& principal, uint64_t now) const;
    std::optional<Txn> FindTxn(uint64_t txn_id) const;

    // The memory the state holds: the ledger's tables exactly, the modules' maps estimated.
    uint64_t MemoryBytes() const;
    // The ledger's and every module's invariants (the deadline queue's too).
    Status CheckInvariants() const;

    Hash256 StateHash() const;
    // Of a state read by Load: the state hash of its sections as they were written (their
    // versions and bytes), which the snapshot's header holds; StateHash() is of the state as
    // this binary writes it, which differs once a section's version has moved on.
    std::optional<Hash256> loaded_hash() const { return loaded_hash_; }
    std::vector<SectionHash> SectionHashes() const;
    std::shared_ptr<FrozenPlatform> Freeze() const;
    void FreezeInto(FrozenPlatform* frozen) const;

    // Reads a state saved by FrozenPlatform::Save (sections), or by a journal-v1 binary
    // (`v1`: the ledger, then the domain blob). `v1_hash` receives the state hash as that version
    // computed it, for checking its snapshot's header.
    static Result<std::unique_ptr<Platform>> Load(const ledger::ReadFn& read,
                                                  const ledger::StateMachineOptions& options);
    static Result<std::unique_ptr<Platform>> LoadV1(const ledger::ReadFn& read,
                                                    const ledger::StateMachineOptions& options,
                                                    Hash256* v1_hash);

  private:
    Outcome Apply(const Command& command, const V1Result* recorded);
    Outcome Dispatch(const Command& command, const Caller& caller, uint64_t timestamp);
    void FireDeadlines(uint64_t timestamp);

    std::unique_ptr<ledger::StateMachine> ledger_;
    users::Users users_;
    merchants::Merchants merchants_;
    refunds::Refunds refunds_;
    holds::Holds holds_;
    risk::Limits limits_;
    IdempotencyStore idempotency_;
    DeadlineQueue deadlines_;
    uint64_t next_txn_id_ = 1;
    std::optional<Hash256> loaded_hash_;
};

// The platform's state at a batch boundary, for a snapshot thread (see ledger::FrozenState).
class FrozenPlatform {
  public:
    Hash256 StateHash() const { return CombineSectionHashes(SectionHashes()); }
    std::vector<SectionHash> SectionHashes() const;
    // The sections in id order: {u32 id, u32 version, u64 length, bytes} each.
    bool Save(const ledger::WriteFn& write) const;

  private:
    friend class Platform;
    ledger::FrozenState ledger_;
    std::string txns_;
    std::string users_;
    std::string merchants_;
    IdempotencyStore::Frozen idempotency_;
    std::optional<std::string> refunds_;  // none: no refund yet (the section is not written)
    std::optional<std::string> holds_;    // none: no pre-authorization yet
    std::optional<std::string> limits_;   // none: limits never configured nor overridden
};

}  // namespace bursar::payments
