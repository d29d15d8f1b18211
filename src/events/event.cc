#include "events/event.h"

#include <charconv>
#include <ctime>

#include "base/assert.h"
#include "base/json_writer.h"
#include "base/u128.h"
#include "engine/batch_codec.h"
#include "ledger/currency.h"

namespace bursar::events {

std::string Event::EventId() const { return std::string(kEventIdPrefix) + std::to_string(txn.id); }

std::optional<uint64_t> ParseEventId(std::string_view text) {
    return payments::ParsePrefixedId(text, kEventIdPrefix);
}

std::string FormatTimestamp(uint64_t ns) {
    const time_t seconds = static_cast<time_t>(ns / 1'000'000'000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[40];
    const size_t length = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + length, sizeof(text) - length, ".%03lluZ",
                  static_cast<unsigned long long>((ns / 1'000'000) % 1000));
    return text;
}

std::string Event::ToJson() const {
    std::string json;
    EventJsonEncoder().Append(*this, &json);
    return json;
}

namespace {

void AppendDecimal(uint64_t value, std::string* out) {
    char digits[20];  // UINT64_MAX has 20
    const auto result = std::to_chars(digits, digits + sizeof(digits), value);
    out->append(digits, result.ptr);
}

void AppendDecimal(u128 value, std::string* out) {
    if (value <= UINT64_MAX) return AppendDecimal(static_cast<uint64_t>(value), out);
    *out += U128ToString(value);
}

}  // namespace

void EventJsonEncoder::Append(const Event& event, std::string* out) {
    const payments::Txn& txn = event.txn;
    out->append(R"({"event_id":"evt_)");
    AppendDecimal(txn.id, out);
    out->append(R"(","txn_id":"txn_)");
    AppendDecimal(txn.id, out);
    out->append(R"(","type":)");
    AppendJsonString(*out, payments::TxnTypeName(txn.type));
    out->append(R"(,"user_id":"usr_)");
    AppendDecimal(txn.user_id, out);
    out->append(R"(","merchant_id":)");
    if (txn.merchant_id != 0) {
        out->append(R"("mch_)");
        AppendDecimal(txn.merchant_id, out);
        out->push_back('"');
    } else {
        out->append("null");
    }
    out->append(R"(,"to_user_id":)");
    if (txn.to_user_id != 0) {
        out->append(R"("usr_)");
        AppendDecimal(txn.to_user_id, out);
        out->push_back('"');
    } else {
        out->append("null");
    }
    if (txn.type == payments::TxnType::kRefund) {
        out->append(R"(,"payment_id":"txn_)");
        AppendDecimal(txn.payment_id, out);
        out->push_back('"');
    }
    out->append(R"(,"amount_minor":)");
    AppendDecimal(txn.amount, out);
    out->append(R"(,"fee_minor":)");
    AppendDecimal(txn.fee, out);
    out->append(R"(,"currency":)");
    const ledger::CurrencyInfo* currency = ledger::FindCurrency(txn.currency);
    AppendJsonString(*out, currency != nullptr ? currency->code : "?");
    out->append(R"(,"ts":")");
    constexpr uint64_t kNsPerSecond = 1'000'000'000;
    constexpr uint64_t kNsPerMillisecond = 1'000'000;
    constexpr std::string_view kMillisecondsZero = ".000Z";
    const uint64_t second = txn.created_at / kNsPerSecond;
    if (second != second_) {
        date_time_ = FormatTimestamp(second * kNsPerSecond);
        BURSAR_ASSERT(date_time_.ends_with(kMillisecondsZero));
        date_time_.resize(date_time_.size() - kMillisecondsZero.size());
        second_ = second;
    }
    out->append(date_time_);
    const uint64_t milliseconds = txn.created_at / kNsPerMillisecond % 1000;
    const char fraction[] = {'.',
                             static_cast<char>('0' + milliseconds / 100),
                             static_cast<char>('0' + milliseconds / 10 % 10),
                             static_cast<char>('0' + milliseconds % 10),
                             'Z',
                             '"',
                             '}'};
    out->append(fraction, sizeof(fraction));
}

namespace {

// The signup of a journal-v1 registration: the new user's id is in the recorded answer,
// {"user_id":"usr_<n>",...} (a v2 outcome holds it as a number).
Result<Signup> SignupOf(const journal::RecordView& record, std::string_view body) {
    constexpr std::string_view kField = "\"user_id\":\"";
    const size_t start = body.find(kField);
    const size_t end = body.find('"', start + kField.size());
    std::optional<uint64_t> id;
    if (start != std::string_view::npos && end != std::string_view::npos) {
        id = payments::ParseUserId(body.substr(start + kField.size(), end - start - kField.size()));
    }
    if (!id) return Error(StatusCode::kCorruption, "registration without a user id");
    return Signup{*id, record.timestamp};
}

Status AppendEventsOf(const journal::RecordView& record, std::vector<Event>* events,
                      std::vector<Signup>* signups) {
    engine::BatchReader batch(record.payload);
    engine::OperationView operation;
    while (true) {
        Result<bool> more = batch.Next(&operation);
        if (!more) return more.error();
        if (!*more) return Status::Ok();
        if (operation.operation != engine::Operation::kCommand) continue;
        std::optional<payments::CommandHead> head = payments::PeekCommand(operation.command);
        if (!head) return Status(StatusCode::kCorruption, "malformed command");
        auto outcome = payments::SummarizeOutcome(head->version, operation.result);
        if (!outcome) return outcome.error();
        if (outcome->replayed) continue;  // answered again: nothing moved, nobody signed up
        if (outcome->txn) events->push_back(Event{record.seq, *outcome->txn});
        if (signups != nullptr && outcome->ok &&
            head->type == payments::CommandType::kRegisterUser) {
            if (head->version == 1) {
                auto signup = SignupOf(record, outcome->v1_body);
                if (!signup) return signup.error();
                signups->push_back(*signup);
            } else {
                if (outcome->object_id == 0) {
                    return Status(StatusCode::kCorruption, "registration without a user id");
                }
                signups->push_back(Signup{outcome->object_id, record.timestamp});
            }
        }
    }
}

}  // namespace

Status EventsOf(const journal::RecordView& record, std::vector<Event>* events,
                std::vector<Signup>* signups) {
    const size_t events_before = events->size();
    const size_t signups_before = signups != nullptr ? signups->size() : 0;
    Status status = AppendEventsOf(record, events, signups);
    if (!status.ok()) {  // a malformed record adds nothing
        events->resize(events_before);
        if (signups != nullptr) signups->resize(signups_before);
    }
    return status;
}

Result<uint64_t> Subscription::Poll(const journal::JournalEnd& committed, uint64_t records_max,
                                    std::vector<Event>* events, std::vector<Signup>* signups) {
    return tailer_.Poll(committed, records_max, [&](const journal::RecordView& record) {
        return EventsOf(record, events, signups);
    });
}

}  // namespace bursar::events
