#pragma once

// Keeps the read model up with the journal: a thread subscribed to the event stream that applies
// the money movements of each batch of journal records, with the last record's position, in one
// SQLite transaction. Reads wait (bounded) for the position that was committed when they arrived,
// so a client always sees its own writes. A read model of another schema version is emptied when
// it is opened (position 0), so Start() then projects the whole journal again.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/file_system.h"
#include "engine/engine.h"
#include "events/event.h"
#include "events/follower.h"
#include "projection/read_model.h"

namespace bursar::projection {

inline constexpr const char* kReadModelFile = "readmodel.sqlite";
inline constexpr uint64_t kRecordsPerTransaction = 256;

std::string ReadModelPath(const std::string& data_dir);

class Projector {
  public:
    Projector(FileSystem& fs, const engine::Engine& engine, std::string data_dir,
              std::function<void(const std::string&)> log);
    ~Projector();

    Status Start();
    void Stop();
    uint64_t position() const;
    // True when the projection reached `seq` within `timeout_ms`.
    bool WaitFor(uint64_t seq, uint64_t timeout_ms) const;

    // Deletes the read model and projects the whole journal again (offline: no engine running).
    static Status Rebuild(FileSystem& fs, const std::string& data_dir, uint64_t* records);

  private:
    const engine::Engine& engine_;
    std::string data_dir_;
    std::unique_ptr<ReadModel> model_;  // used by the follower's thread only
    events::Follower follower_;
};

}  // namespace bursar::projection
