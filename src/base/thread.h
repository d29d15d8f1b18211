#pragma once

// Thread attributes: a name (Linux keeps 15 bytes), so `top -H`, perf and gdb tell the engine,
// journal, io and follower threads apart; and a lower scheduling priority for background work.

namespace bursar {

void SetCurrentThreadName(const char* name);

// Makes the calling thread yield the CPU to the request path (io, engine, journal threads) when
// cores are scarce: `nice` 0..19, higher is lower priority. Best effort: a refusal is ignored.
void SetCurrentThreadNice(int nice);

}  // namespace bursar
