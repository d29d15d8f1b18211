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

Status EventsOf(const journal::RecordView& record, std::vector<Event>* events) {
    auto operations = engine::DecodeBatch(record.payload);
    if (!operations) return operations.error();
    for (const engine::DecodedOperation& operation : *operations) {
        if (operation.operation != engine::Operation::kCommand) continue;
        auto result = payments::DecodeResult(operation.result);
        if (!result) return result.error();
        if (result->txn && !result->replayed) events->push_back(Event{record.seq, *result->txn});
    }
    return Status::Ok();
}

Result<uint64_t> Subscription::Poll(uint64_t committed_seq, uint64_t records_max,
                                    std::vector<Event>* events) {
    return tailer_.Poll(committed_seq, records_max, [&](const journal::RecordView& record) {
        return EventsOf(record, events);
    });
}

}  // namespace bursar::events
