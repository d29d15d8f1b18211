#include "payments/platform.h"

#include <algorithm>

#include "base/assert.h"
#include "base/binary_codec.h"
#include "payments/charges/charges.h"
#include "payments/limits/limits.h"
#include "payments/wallets/wallets.h"

namespace bursar::payments {
namespace {

// The scope of an Idempotency-Key: keys of different callers never meet.
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

Hash256 HashOf(std::string_view bytes) { return Sha256::Of(bytes.data(), bytes.size()); }

constexpr uint32_t kLedgerSectionVersion = 1;
constexpr uint32_t kTxnsSectionVersion = 1;
constexpr uint64_t kSectionBytesMax = 1ull << 36;

struct SectionHeader {
    uint32_t id;
    uint32_t version;
    uint64_t length;
};
static_assert(sizeof(SectionHeader) == 16);

}  // namespace

Platform::Platform(const ledger::StateMachineOptions& options)
    : ledger_(std::make_unique<ledger::StateMachine>(options)) {}

void Platform::BeginBatch(uint64_t timestamp) {
    ledger_->BeginBatch(timestamp);
    FireDeadlines(timestamp);
}

void Platform::FireDeadlines(uint64_t timestamp) {
    while (std::optional<Deadline> due = deadlines_.PopDue(timestamp)) {
        switch (due->module) {
            case DeadlineModule::kSessions:
                users_.ExpireSession(due->object_id, timestamp);
                break;
            case DeadlineModule::kIdempotency:
                idempotency_.Expire(timestamp, deadlines_);
                break;
            case DeadlineModule::kHolds:
                holds_.Expire(due->object_id, wallets::Books{*ledger_, next_txn_id_, timestamp});
                break;
        }
    }
}

bool Platform::HasDeadlineDue(uint64_t timestamp) const {
    return ledger_->HasExpiryDue(timestamp) || deadlines_.Due(timestamp);
}

std::optional<Caller> Platform::Authenticate(const Principal& principal, uint64_t now) const {
    switch (principal.kind) {
        case PrincipalKind::kNone:
            return Caller{};
        case PrincipalKind::kAdmin:
            return Caller{Caller::Kind::kAdmin, 0};
        case PrincipalKind::kSession: {
            std::optional<uint64_t> user = users_.SessionUser(principal.credential_hash, now);
            if (!user) return std::nullopt;
            return Caller{Caller::Kind::kUser, *user};
        }
        case PrincipalKind::kApiKey: {
            std::optional<uint64_t> merchant = merchants_.ByApiKey(principal.credential_hash);
            if (!merchant) return std::nullopt;
            return Caller{Caller::Kind::kMerchant, *merchant};
        }
    }
    return std::nullopt;
}

Outcome Platform::Apply(const Command& command) { return Apply(command, nullptr); }

Outcome Platform::ApplyV1(const Command& command, const V1Result& recorded) {
    return Apply(command, &recorded);
}

// Checks, in order: the credentials (kUnauthenticated), the Idempotency-Key (a stored answer is
// answered again; another request under the same key: kIdempotencyKeyMismatch), then the
// module's own checks.
Outcome Platform::Apply(const Command& command, const V1Result* recorded) {
    const uint64_t timestamp = ledger_->TakeTimestamp();
    std::optional<Caller> caller = Authenticate(command.principal, timestamp);
    if (!caller) return Refused(ResultCode::kUnauthenticated);

    std::string key;
    if (!command.idempotency_key.empty()) {
        key = Scope(*caller) + "\n" + command.idempotency_key;
        if (std::optional<IdempotencyStore::Answer> answer = idempotency_.Find(key)) {
            const bool same = answer->v1 ? command.v1_fingerprint &&
                                               *command.v1_fingerprint == answer->fingerprint
                                         : answer->fingerprint == command.request_fingerprint;
            if (!same) return Refused(ResultCode::kIdempotencyKeyMismatch);
            Outcome replay = answer->outcome;
            replay.replayed = true;
            return replay;
        }
    }
    Outcome outcome = Dispatch(command, *caller, timestamp);
    if (!key.empty() && StoredForIdempotencyKey(outcome.code)) {
        IdempotencyStore::Answer answer;
        answer.created_at = timestamp;
        answer.fingerprint = command.request_fingerprint;
        answer.v1 = command.version == 1;
        if (answer.v1) {
            // What v1 stored: the rendered answer, as a v1 snapshot holds it (LoadV1).
            answer.outcome.code = outcome.ok() ? ResultCode::kOk : ResultCode::kV1Refusal;
            if (recorded != nullptr) {
                answer.outcome.legacy =
                    LegacyAnswer{recorded->status, WithoutSecrets(recorded->body)};
            }
        } else {
            answer.outcome = outcome;
        }
        idempotency_.Store(std::move(key), std::move(answer), deadlines_);
    }
    return outcome;
}

Outcome Platform::Dispatch(const Command& c, const Caller& caller, uint64_t timestamp) {
    const wallets::Books books{*ledger_, next_txn_id_, timestamp};
    switch (c.type) {
        case CommandType::kRegisterUser:
            return users_.Register(c, timestamp);
        case CommandType::kUpdateUser:
            return users_.Update(c, caller);
        case CommandType::kCreateSession:
            return users_.CreateSession(c, deadlines_);
        case CommandType::kRevokeSession:
            return users_.RevokeSession(c, caller, deadlines_);
        case CommandType::kCreateMerchant:
            return merchants_.Create(c, caller, timestamp);
        case CommandType::kChangeTier:
            return merchants_.ChangeTier(c, caller, timestamp);
        case CommandType::kTopup:
            return wallets::Topup(c, caller, users_, books);
        case CommandType::kTransfer:
            return wallets::Transfer(c, caller, users_, books);
        case CommandType::kPay:
            return charges::Pay(c, caller, users_, merchants_, limits_, books);
        case CommandType::kRefund:
            return refunds_.Refund(c, caller, FindTxn(c.txn_id), merchants_, limits_, books);
        case CommandType::kAuthorize:
            return holds_.Authorize(c, caller, users_, merchants_, books, deadlines_);
        case CommandType::kCapture:
            return holds_.Capture(c, caller, merchants_, limits_, books, deadlines_);
        case CommandType::kCancelHold:
            return holds_.Cancel(c, caller, books, deadlines_);
        case CommandType::kConfigureRisk:
            return limits::ConfigureRisk(c, caller, limits_, timestamp);
        case CommandType::kSetMerchantLimits:
            return limits::SetMerchantLimits(c, caller, merchants_, limits_);
        case CommandType::kSetUserLimits:
            return limits::SetUserLimits(c, caller, users_, limits_);
    }
    return Refused(ResultCode::kUnknownCommand);
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
        if (kind == LegKind::kFee || kind == LegKind::kRefundFee) txn.fee += t->amount;
        if (kind == LegKind::kNet || kind == LegKind::kFee || kind == LegKind::kRefundNet ||
            kind == LegKind::kRefundFee) {
            txn.merchant_id = Low64(t->user_data_128);
        }
        if (kind == LegKind::kTransfer) txn.to_user_id = Low64(t->user_data_128);
    }
    if (txn.type == TxnType::kRefund) {
        const refunds::RefundRecord* record = refunds_.Find(txn_id);
        if (record != nullptr) txn.payment_id = record->payment_id;
    }
    return txn;
}

uint64_t Platform::MemoryBytes() const {
    constexpr uint64_t kDeadlineBytes = 64;  // a std::set node of a Deadline
    return ledger_->MemoryBytes() + users_.MemoryBytes() + merchants_.MemoryBytes() +
           refunds_.MemoryBytes() + holds_.MemoryBytes() + limits_.MemoryBytes() +
           idempotency_.MemoryBytes() + deadlines_.size() * kDeadlineBytes;
}

Status Platform::CheckInvariants() const {
    BURSAR_RETURN_IF_ERROR(ledger_->CheckInvariants());
    BURSAR_RETURN_IF_ERROR(users_.CheckInvariants());
    BURSAR_RETURN_IF_ERROR(merchants_.CheckInvariants());
    BURSAR_RETURN_IF_ERROR(refunds_.CheckInvariants(*ledger_));
    BURSAR_RETURN_IF_ERROR(holds_.CheckInvariants(*ledger_));
    BURSAR_RETURN_IF_ERROR(limits_.CheckInvariants());
    // Every session and open pre-authorization has its deadline, and the idempotency store one
    // while it holds answers.
    const uint64_t expected =
        users_.session_count() + holds_.open_count() + (idempotency_.size() > 0 ? 1 : 0);
    if (deadlines_.size() != expected) {
        return Status(StatusCode::kCorruption, "deadlines: " + std::to_string(deadlines_.size()) +
                                                   " queued, " + std::to_string(expected) +
                                                   " expected");
    }
    if (next_txn_id_ == 0) return Status(StatusCode::kCorruption, "txns: next id 0");
    return Status::Ok();
}

void Platform::FreezeInto(FrozenPlatform* frozen) const {
    ledger_->FreezeInto(&frozen->ledger_);
    frozen->txns_.clear();
    BinaryWriter(&frozen->txns_).U64(next_txn_id_);
    frozen->users_.clear();
    users_.Save(&frozen->users_);
    frozen->merchants_.clear();
    merchants_.Save(&frozen->merchants_);
    idempotency_.FreezeInto(&frozen->idempotency_);
    frozen->refunds_.reset();
    if (!refunds_.empty()) refunds_.Save(&frozen->refunds_.emplace());
    frozen->holds_.reset();
    if (!holds_.empty()) holds_.Save(&frozen->holds_.emplace());
    frozen->limits_.reset();
    if (!limits_.empty()) limits_.Save(&frozen->limits_.emplace());
}

std::shared_ptr<FrozenPlatform> Platform::Freeze() const {
    auto frozen = std::make_shared<FrozenPlatform>();
    FreezeInto(frozen.get());
    return frozen;
}

Hash256 Platform::StateHash() const { return Freeze()->StateHash(); }
std::vector<SectionHash> Platform::SectionHashes() const { return Freeze()->SectionHashes(); }

std::vector<SectionHash> FrozenPlatform::SectionHashes() const {
    Sha256 idempotency;
    idempotency.Update(idempotency_.head.data(), idempotency_.head.size());
    idempotency_.records.ForEachPiece(
        [&](std::string_view piece) { idempotency.Update(piece.data(), piece.size()); });
    std::vector<SectionHash> hashes = {
        {static_cast<uint32_t>(SectionId::kLedger), kLedgerSectionVersion, ledger_.StateHash()},
        {static_cast<uint32_t>(SectionId::kTxns), kTxnsSectionVersion, HashOf(txns_)},
        {static_cast<uint32_t>(SectionId::kUsers), users::Users::kSectionVersion, HashOf(users_)},
        {static_cast<uint32_t>(SectionId::kMerchants), merchants::Merchants::kSectionVersion,
         HashOf(merchants_)},
        {static_cast<uint32_t>(SectionId::kIdempotency), IdempotencyStore::kSectionVersion,
         idempotency.Finish()},
    };
    if (refunds_) {
        hashes.push_back({static_cast<uint32_t>(SectionId::kRefunds),
                          refunds::Refunds::kSectionVersion, HashOf(*refunds_)});
    }
    if (holds_) {
        hashes.push_back({static_cast<uint32_t>(SectionId::kHolds), holds::Holds::kSectionVersion,
                          HashOf(*holds_)});
    }
    if (limits_) {
        hashes.push_back({static_cast<uint32_t>(SectionId::kLimits), risk::Limits::kSectionVersion,
                          HashOf(*limits_)});
    }
    return hashes;
}

bool FrozenPlatform::Save(const ledger::WriteFn& write) const {
    auto header = [&](SectionId id, uint32_t version, uint64_t length) {
        const SectionHeader h{static_cast<uint32_t>(id), version, length};
        return write(&h, sizeof(h));
    };
    auto plain = [&](SectionId id, uint32_t version, const std::string& bytes) {
        return header(id, version, bytes.size()) && write(bytes.data(), bytes.size());
    };
    const uint32_t count =
        kSectionIdAlways + (refunds_ ? 1 : 0) + (holds_ ? 1 : 0) + (limits_ ? 1 : 0);
    if (!write(&count, sizeof(count))) return false;
    const uint64_t ledger_bytes = ledger_.SaveBytes();
    uint64_t written = 0;
    if (!header(SectionId::kLedger, kLedgerSectionVersion, ledger_bytes) ||
        !ledger_.Save([&](const void* data, size_t size) {
            written += size;
            return write(data, size);
        })) {
        return false;
    }
    BURSAR_ASSERT(written == ledger_bytes);
    if (!plain(SectionId::kTxns, kTxnsSectionVersion, txns_) ||
        !plain(SectionId::kUsers, users::Users::kSectionVersion, users_) ||
        !plain(SectionId::kMerchants, merchants::Merchants::kSectionVersion, merchants_)) {
        return false;
    }
    const uint64_t idempotency_bytes = idempotency_.head.size() + idempotency_.records.size;
    if (!header(SectionId::kIdempotency, IdempotencyStore::kSectionVersion, idempotency_bytes) ||
        !write(idempotency_.head.data(), idempotency_.head.size())) {
        return false;
    }
    bool ok = true;
    idempotency_.records.ForEachPiece(
        [&](std::string_view piece) { ok = ok && write(piece.data(), piece.size()); });
    if (ok && refunds_) {
        ok = plain(SectionId::kRefunds, refunds::Refunds::kSectionVersion, *refunds_);
    }
    if (ok && holds_) ok = plain(SectionId::kHolds, holds::Holds::kSectionVersion, *holds_);
    if (ok && limits_) ok = plain(SectionId::kLimits, risk::Limits::kSectionVersion, *limits_);
    return ok;
}

Result<std::unique_ptr<Platform>> Platform::Load(const ledger::ReadFn& read,
                                                 const ledger::StateMachineOptions& options) {
    uint64_t offset = 0;  // of the state's bytes read so far
    auto counted = [&](void* data, size_t size) {
        if (!read(data, size)) return false;
        offset += size;
        return true;
    };
    auto corrupt = [&](const std::string& what) {
        return Error(StatusCode::kCorruption,
                     "state: " + what + " (at byte " + std::to_string(offset) + " of the state)");
    };
    uint32_t count = 0;
    if (!counted(&count, sizeof(count))) return corrupt("section count");
    auto platform = std::make_unique<Platform>(options);
    std::vector<SectionHash> read_hashes;  // of the sections as written, in their versions
    uint32_t last_id = 0;
    for (uint32_t i = 0; i < count; ++i) {
        const uint64_t header_offset = offset;
        SectionHeader h{};
        if (!counted(&h, sizeof(h))) return corrupt("section header");
        if (h.id == 0 || h.id > kSectionIdMax) {
            offset = header_offset;
            return corrupt("unknown section id " + std::to_string(h.id));
        }
        if (h.id <= last_id) return corrupt("section " + std::to_string(h.id) + " out of order");
        if (i < kSectionIdAlways && h.id != i + 1) {
            return corrupt("missing section " + std::to_string(i + 1));
        }
        last_id = h.id;
        // Each section reads every version it was ever written in.
        const uint32_t version_max = static_cast<SectionId>(h.id) == SectionId::kMerchants
                                         ? merchants::Merchants::kSectionVersion
                                         : 1;  // the others have one version so far
        if (h.version < 1 || h.version > version_max || h.length > kSectionBytesMax) {
            return corrupt(std::string(SectionName(h.id)) + " section: version " +
                           std::to_string(h.version) + ", length " + std::to_string(h.length));
        }
        const std::string name = SectionName(h.id);
        if (static_cast<SectionId>(h.id) == SectionId::kLedger) {
            const uint64_t start = offset;
            auto ledger = ledger::StateMachine::Load(counted, options);
            if (!ledger) return corrupt("ledger section: " + ledger.error().message());
            if (offset - start != h.length) return corrupt("ledger section length");
            platform->ledger_ = std::move(*ledger);
            read_hashes.push_back({h.id, h.version, platform->ledger_->StateHash()});
            continue;
        }
        std::string bytes(h.length, '\0');
        if (!counted(bytes.data(), bytes.size())) return corrupt(name + " section: short");
        read_hashes.push_back({h.id, h.version, HashOf(bytes)});
        bool ok = false;
        switch (static_cast<SectionId>(h.id)) {
            case SectionId::kLedger:
                break;
            case SectionId::kTxns: {
                BinaryReader r(bytes);
                ok = r.U64(&platform->next_txn_id_) && r.done() && platform->next_txn_id_ != 0;
                break;
            }
            case SectionId::kUsers:
                ok = platform->users_.Load(bytes, platform->deadlines_);
                break;
            case SectionId::kMerchants:
                ok = platform->merchants_.Load(bytes, h.version);
                break;
            case SectionId::kIdempotency:
                ok = platform->idempotency_.Load(bytes, platform->deadlines_);
                break;
            case SectionId::kRefunds:
                ok = platform->refunds_.Load(bytes, *platform->ledger_) &&
                     !platform->refunds_.empty();
                break;
            case SectionId::kHolds:
                ok =
                    platform->holds_.Load(bytes, platform->deadlines_) && !platform->holds_.empty();
                break;
            case SectionId::kLimits:
                ok = platform->limits_.Load(bytes) && !platform->limits_.empty();
                break;
        }
        if (!ok) return corrupt(name + " section");
    }
    // Sections 1 to kSectionIdAlways, each once in order (checked above), then the later ones
    // present.
    if (count < kSectionIdAlways || last_id < kSectionIdAlways) return corrupt("missing sections");
    platform->loaded_hash_ = CombineSectionHashes(read_hashes);
    Status status = platform->CheckInvariants();
    if (!status.ok()) return Error(status);
    return platform;
}

Result<std::unique_ptr<Platform>> Platform::LoadV1(const ledger::ReadFn& read,
                                                   const ledger::StateMachineOptions& options,
                                                   Hash256* v1_hash) {
    auto ledger = ledger::StateMachine::Load(read, options);
    if (!ledger) return Error(ledger.error());
    uint64_t size = 0;
    if (!read(&size, sizeof(size)) || size > kSectionBytesMax) {
        return Error(StatusCode::kCorruption, "state: domain length");
    }
    std::string domain(size, '\0');
    if (!read(domain.data(), domain.size())) return Error(StatusCode::kCorruption, "state: domain");
    auto platform = std::make_unique<Platform>(options);
    platform->ledger_ = std::move(*ledger);
    // v1's domain blob: the next txn id, users, merchants, sessions, idempotency records.
    BinaryReader r(domain);
    uint64_t stored = 0;
    const bool ok = r.U64(&platform->next_txn_id_) && platform->users_.LoadV1Users(r) &&
                    platform->merchants_.LoadV1(r) &&
                    platform->users_.LoadV1Sessions(r, platform->deadlines_) && r.U64(&stored);
    if (!ok) return Error(StatusCode::kCorruption, "state: v1 domain");
    const size_t records_offset = domain.size() - r.remaining();
    if (!platform->idempotency_.LoadV1(std::string_view(domain).substr(records_offset), stored,
                                       platform->deadlines_)) {
        return Error(StatusCode::kCorruption, "state: v1 idempotency records");
    }
    const Hash256 ledger_hash = platform->ledger_->StateHash();
    Sha256 sha;
    sha.Update(ledger_hash.data(), ledger_hash.size());
    sha.Update(domain.data(), domain.size());
    *v1_hash = sha.Finish();
    Status status = platform->CheckInvariants();
    if (!status.ok()) return Error(status);
    return platform;
}

}  // namespace bursar::payments
