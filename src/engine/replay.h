#pragma once

// Applies journal records to a state machine: recovery and `bursar verify`. The recorded results
// must come out again: a record whose replay gives other results is reported, since the state
// machine is deterministic and the results were written from the same events.

#include "base/status.h"
#include "journal/reader.h"
#include "payments/platform.h"

namespace bursar::engine {

Status ReplayRecord(payments::Platform& platform, const journal::RecordView& record);

}  // namespace bursar::engine
