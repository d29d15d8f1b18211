#include "payments/idempotency.h"

#include "base/assert.h"
#include "base/binary_codec.h"

namespace bursar::payments {
namespace {

constexpr uint32_t kKeyBytesMax = 1024;  // scope and key (kIdempotencyKeyBytesMax + a scope)
constexpr uint32_t kOutcomeBytesMax = 1 << 20;
constexpr uint32_t kBodyBytesMax = 1 << 20;

}  // namespace

std::optional<IdempotencyStore::Answer> IdempotencyStore::Find(std::string_view scoped_key) const {
    auto it = answers_.find(scoped_key);
    if (it == answers_.end()) return std::nullopt;
    auto outcome = DecodeOutcome(it->second.outcome);
    BURSAR_ASSERT(outcome.has_value());  // encoded here, checked when loaded
    return Answer{it->second.fingerprint, it->second.v1, std::move(*outcome),
                  it->second.created_at};
}

void IdempotencyStore::Store(std::string scoped_key, Answer answer, DeadlineQueue& deadlines) {
    if (held_.empty()) {
        deadlines.Add(
            Deadline{answer.created_at + kIdempotencyRetentionNs, DeadlineModule::kIdempotency, 0});
    }
    Hold(std::move(scoped_key), std::move(answer));
}

void IdempotencyStore::Hold(std::string key, Answer answer) {
    std::string record;
    BinaryWriter w(&record);
    w.String(key);
    w.Hash(answer.fingerprint);
    w.U8(answer.v1 ? 1 : 0);
    std::string outcome;
    EncodeOutcome(answer.outcome, &outcome);
    w.String(outcome);
    w.U64(answer.created_at);
    log_.Append(record);
    held_.push_back(Held{answer.created_at, key, record.size()});
    if (answer.v1) v1_count_.fetch_add(1, std::memory_order_relaxed);
    answers_.insert_or_assign(std::move(key), Stored{answer.fingerprint, answer.v1,
                                                     std::move(outcome), answer.created_at});
}

void IdempotencyStore::Expire(uint64_t timestamp, DeadlineQueue& deadlines) {
    while (!held_.empty() && held_.front().created_at + kIdempotencyRetentionNs <= timestamp) {
        auto it = answers_.find(held_.front().key);
        if (it != answers_.end() && it->second.created_at == held_.front().created_at) {
            if (it->second.v1) v1_count_.fetch_sub(1, std::memory_order_relaxed);
            answers_.erase(it);
        }
        log_.DropFront(held_.front().log_bytes);
        held_.pop_front();
    }
    if (!held_.empty()) {
        deadlines.Add(Deadline{held_.front().created_at + kIdempotencyRetentionNs,
                               DeadlineModule::kIdempotency, 0});
    }
}

uint64_t IdempotencyStore::MemoryBytes() const {
    // A std::map node: its key and value plus about 48 bytes of links and allocator overhead.
    constexpr uint64_t kNodeBytes = 48;
    // Each answer's key and outcome are held by its map node, its place in held_, and the log:
    // about three times the log's bytes.
    return answers_.size() * (kNodeBytes + sizeof(std::string) + sizeof(Stored) + sizeof(Held)) +
           3 * log_.size();
}

void IdempotencyStore::FreezeInto(Frozen* frozen) const {
    frozen->head.clear();
    BinaryWriter w(&frozen->head);
    w.U64(held_.size());
    log_.FreezeInto(&frozen->records);
}

bool IdempotencyStore::Load(std::string_view section, DeadlineQueue& deadlines) {
    BinaryReader r(section);
    uint64_t count = 0;
    if (!r.U64(&count)) return false;
    for (uint64_t i = 0; i < count; ++i) {
        std::string key, outcome;
        Answer answer;
        uint8_t v1 = 0;
        if (!r.String(&key, kKeyBytesMax) || !r.Hash(&answer.fingerprint) || !r.U8(&v1) || v1 > 1 ||
            !r.String(&outcome, kOutcomeBytesMax) || !r.U64(&answer.created_at)) {
            return false;
        }
        auto decoded = DecodeOutcome(outcome);
        if (!decoded) return false;
        answer.v1 = v1 == 1;
        answer.outcome = std::move(*decoded);
        if (!held_.empty() && answer.created_at < held_.back().created_at) return false;
        Store(std::move(key), std::move(answer), deadlines);
    }
    return r.done();
}

bool IdempotencyStore::LoadV1(std::string_view records, uint64_t count, DeadlineQueue& deadlines) {
    BinaryReader r(records);
    for (uint64_t i = 0; i < count; ++i) {
        std::string key;
        Answer answer;
        LegacyAnswer legacy;
        if (!r.String(&key, kKeyBytesMax) || !r.Hash(&answer.fingerprint) ||
            !r.U16(&legacy.status) || !r.String(&legacy.body, kBodyBytesMax) ||
            !r.U64(&answer.created_at)) {
            return false;
        }
        if (!held_.empty() && answer.created_at < held_.back().created_at) return false;
        answer.v1 = true;
        answer.outcome.code = legacy.status < 300 ? ResultCode::kOk : ResultCode::kV1Refusal;
        legacy.body = WithoutSecrets(legacy.body);
        answer.outcome.legacy = std::move(legacy);
        Store(std::move(key), std::move(answer), deadlines);
    }
    return r.done();
}

}  // namespace bursar::payments
