#include "events/event.h"

#include <ctime>

#include "base/json_writer.h"
#include "engine/batch_codec.h"
#include "ledger/currency.h"

namespace bursar::events {

std::string Event::EventId() const { return "evt_" + std::to_string(txn.id); }

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
    JsonWriter json;
    json.BeginObject();
    json.Key("event_id").String(EventId());
    json.Key("txn_id").String(payments::FormatTxnId(txn.id));
    json.Key("type").String(payments::TxnTypeName(txn.type));
    json.Key("user_id").String(payments::FormatUserId(txn.user_id));
    json.Key("merchant_id");
    if (txn.merchant_id != 0) {
        json.String(payments::FormatMerchantId(txn.merchant_id));
    } else {
        json.Null();
    }
    json.Key("to_user_id");
    if (txn.to_user_id != 0) {
        json.String(payments::FormatUserId(txn.to_user_id));
    } else {
        json.Null();
    }
    json.Key("amount_minor").Number(txn.amount);
    json.Key("fee_minor").Number(txn.fee);
    const ledger::CurrencyInfo* currency = ledger::FindCurrency(txn.currency);
    json.Key("currency").String(currency != nullptr ? currency->code : "?");
    json.Key("ts").String(FormatTimestamp(txn.created_at));
    json.EndObject();
    return json.Take();
}

namespace {

// The signup of a registration: the new user's id is in the response, {"user_id":"usr_<n>",...}.
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
        auto result = payments::DecodeResultView(operation.result);
        if (!result) return result.error();
        if (result->replayed) continue;  // answered again: nothing moved, nobody signed up
        if (result->txn) events->push_back(Event{record.seq, *result->txn});
        if (signups != nullptr && result->status == 201) {
            auto command = payments::DecodeCommand(operation.command);
            if (!command) return command.error();
            if (command->type == payments::CommandType::kRegisterUser) {
                auto signup = SignupOf(record, result->body);
                if (!signup) return signup.error();
                signups->push_back(*signup);
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
