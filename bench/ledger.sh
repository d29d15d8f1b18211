#!/usr/bin/env bash
# Runs `bursar bench` for the workloads recorded in docs/benchmarks.md: the default (uniform),
# Zipfian, hot accounts, pending transfers, and two requests in flight. A benchmark: it reports
# numbers, it does not pass or fail on them. Extra flags go to every run (e.g. --transfer-count=1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
bursar=./build/release/bursar
[ -x "$bursar" ] || { echo "build first: make build" >&2; exit 1; }

run() {
    echo "== bursar bench $*"
    "$bursar" bench "$@" 2>&1 | grep -v '^bursar: recovery'
    echo
}

run --validate "$@"
run --account-distribution=zipfian "$@"
run --account-distribution=hot "$@"
run --transfer-pending "$@"
run --requests-in-flight=2 "$@"
