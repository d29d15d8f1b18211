#pragma once

// The event stream (SPEC.md E1, docs/events.md): one event per committed money movement, derived
// from the journal, in commit order. An event is never emitted for an uncommitted change and never
// lost: a subscriber keeps its own journal position and reads the journal from there, so a slow or
// restarted subscriber catches up instead of blocking the engine.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/file_system.h"
#include "base/status.h"
#include "journal/reader.h"
#include "journal/tailer.h"
#include "payments/platform.h"

namespace bursar::events {

inline constexpr const char* kSubject = "payments.events.v1";
inline constexpr std::string_view kEventIdPrefix = "evt_";

// The transaction of an event id (evt_<txn id>), or nullopt for anything else.
std::optional<uint64_t> ParseEventId(std::string_view text);

struct Event {
    uint64_t seq = 0;  // the journal record it comes from
    payments::Txn txn;

    // evt_<txn id>: unique and stable, so a re-sent event is recognized as the same one.
    std::string EventId() const;
    // {event_id, txn_id, type, user_id, merchant_id, to_user_id, amount_minor, fee_minor,
    //  currency, ts}: ts in RFC 3339 UTC with milliseconds.
    std::string ToJson() const;
};

// An event's JSON (Event::ToJson()), appended without temporary strings, with the date and time
// of a commit second formatted once for all the events of that second: for subscribers that encode
// many events (the JetStream publisher, the WebSocket stream). Not thread-safe: one per thread.
class EventJsonEncoder {
  public:
    void Append(const Event& event, std::string* out);

  private:
    uint64_t second_ = UINT64_MAX;  // the commit second whose date and time date_time_ holds
    std::string date_time_;         // FormatTimestamp() of that second, without ".mmmZ"
};

// A user's registration, for the analytics (cohorts); not published as an event.
struct Signup {
    uint64_t user_id = 0;
    uint64_t ts = 0;  // the journal record's timestamp
};

// Appends the events of one journal record (commands that moved money; replays move nothing), and,
// when `signups` is given, its registrations. Reads the record in place: nothing is copied but the
// events. A malformed record is kCorruption and appends nothing.
Status EventsOf(const journal::RecordView& record, std::vector<Event>* events,
                std::vector<Signup>* signups = nullptr);

std::string FormatTimestamp(uint64_t ns);  // RFC 3339, UTC, milliseconds

// A reader of the event stream with its own position in the journal.
class Subscription {
  public:
    Subscription(FileSystem& fs, std::string journal_dir, uint64_t after_seq)
        : tailer_(fs, std::move(journal_dir), after_seq) {}

    // The events of up to `records_max` journal records committed up to `committed` (appended
    // to `events`); returns the number of records read. position() then names the last record
    // read, whole. Given only a sequence number, reads a journal no longer written.
    Result<uint64_t> Poll(const journal::JournalEnd& committed, uint64_t records_max,
                          std::vector<Event>* events, std::vector<Signup>* signups = nullptr);
    Result<uint64_t> Poll(uint64_t committed_seq, uint64_t records_max, std::vector<Event>* events,
                          std::vector<Signup>* signups = nullptr) {
        return Poll(journal::JournalEnd{.seq = committed_seq}, records_max, events, signups);
    }
    uint64_t position() const { return tailer_.position(); }

  private:
    journal::Tailer tailer_;
};

}  // namespace bursar::events
