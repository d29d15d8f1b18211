// `bursar projection rebuild DIR`: drops the read model and projects the whole journal again.
// Offline: the data directory's lock must be free (no server running on it).

#include <cstdio>

#include "app/commands.h"
#include "app/data_dir.h"
#include "app/flags.h"
#include "projection/projector.h"

namespace bursar::app {

int ProjectionCommand(const Args& args) {
    auto flags = Flags::Parse(args, {});
    if (!flags || flags->positional().size() != 2 || flags->positional()[0] != "rebuild") {
        LogLine("usage: bursar projection rebuild DIR");
        return 2;
    }
    const std::string dir = flags->positional()[1];
    auto lock = DataDirLock::Acquire(dir);
    if (!lock) {
        LogLine(lock.error().message());
        return 1;
    }
    uint64_t records = 0;
    Status status = projection::Projector::Rebuild(PosixFileSystem(), dir, &records);
    if (!status.ok()) {
        LogLine("rebuild failed: " + status.ToString());
        return 1;
    }
    std::printf("projection rebuilt from %llu journal records into %s\n",
                static_cast<unsigned long long>(records), projection::ReadModelPath(dir).c_str());
    return 0;
}

}  // namespace bursar::app
