#pragma once

// The ledger-entry builder every money-moving module uses: the legs of one transaction as linked
// ledger transfers, the accounts they need, a check that decides the outcome before anything
// changes, and the commit. A refused entry leaves no trace: no account is created and no id is
// consumed before Check() has passed (ARCHITECTURE.md §2.1).

#include <cstdint>
#include <vector>

#include "ledger/state_machine.h"
#include "payments/accounts.h"
#include "payments/outcome.h"

namespace bursar::payments {

class Entry {
  public:
    // `txn` names the transaction (its id is taken from the caller only once Check() passed; the
    // legs carry it from Commit()).
    Entry(ledger::StateMachine& ledger, const Txn& txn) : ledger_(ledger), txn_(txn) {}

    // An account the legs need, created by Commit() when it does not exist.
    void NeedAccount(u128 id, ledger::AccountKind kind, uint16_t flags);
    // An existing account whose debits may not exceed its credits in this entry, whatever its
    // ledger flags (a merchant's balance must cover a refund): Check() answers `code` otherwise.
    void MustCover(u128 id, ResultCode code);
    // A leg: `amount` from `debit` to `credit`, tagged with the leg kind and the other party.
    void Leg(u128 debit, u128 credit, u128 amount, uint16_t code, LegKind kind, uint64_t other);
    // A pending leg (a reserve: the debit's pending balance grows, nothing is posted), with its
    // own transfer id, outside the transaction's numbered legs.
    void PendingLeg(u128 id, u128 debit, u128 credit, u128 amount, uint16_t code, LegKind kind,
                    uint64_t other);
    // Voids the pending transfer `pending_id` (between `debit` and `credit`, of `amount`), with its
    // own transfer id: the pending balances shrink by its amount.
    void VoidLeg(u128 id, u128 pending_id, u128 debit, u128 credit, u128 amount, uint16_t code,
                 LegKind kind, uint64_t other);

    // What committing would give, without changing anything: kOk, kInsufficientFunds (a wallet's
    // debits would exceed its credits; a wallet that does not exist holds nothing) or
    // kBalanceOverflow (a balance would pass 2^128 - 1), for the legs in order.
    ResultCode Check() const;
    // Creates the needed accounts and the legs, numbered from `txn_id`. Only after Check() gave
    // kOk: any failure is a bug (asserted). Returns the timestamp the ledger gave the first
    // numbered leg (the transaction's time as FindTxn reports it; 0 when it has none).
    uint64_t Commit(uint64_t txn_id);

    // Journal v1's order, for replaying its records exactly: the accounts first, then (when
    // `payer_wallet` is not zero) kInsufficientFunds if that wallet does not exist, then the legs,
    // whose refusal leaves those accounts behind, as that version did.
    ResultCode CommitV1(uint64_t txn_id, u128 payer_wallet);

  private:
    std::vector<ledger::Transfer> Transfers(uint64_t txn_id) const;
    void CreateAccounts();

    struct NeededAccount {
        u128 id;
        ledger::AccountKind kind;
        uint16_t flags;
    };
    struct PlannedLeg {
        u128 debit, credit, amount;
        uint16_t code;
        LegKind kind;
        uint64_t other;
        u128 id = 0;          // 0: numbered from the txn id
        uint16_t flags = 0;   // kPending or kVoidPendingTransfer
        u128 pending_id = 0;  // a void's
    };
    ledger::StateMachine& ledger_;
    Txn txn_;
    std::vector<NeededAccount> accounts_;
    struct Covered {
        u128 id;
        ResultCode code;
    };
    std::vector<Covered> covered_;
    std::vector<PlannedLeg> legs_;
};

}  // namespace bursar::payments
