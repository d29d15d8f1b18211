#!/usr/bin/env bash
# The two-step flows of issue 9 over HTTP against plain payments, in the same run on one server:
# wrk with 64 connections for SECONDS each: plain payments, authorize-then-capture
# (bench/flows.lua, BURSAR_BENCH_FLOW=preauth), pay-then-refund (BURSAR_BENCH_FLOW=refund), then
# the three again in the reverse order; 10 000 funded users and 100 enterprise merchants (pre-authorization needs the
# tier) whose limits are raised out of the way (`bursar seed --merchant-limits`). Every request is
# a command with its own Idempotency-Key, durable before its reply. Then the server is stopped and
# `bursar verify` run. Bytes per pre-authorization and per refund: bench/domain_memory.cc.
# A benchmark: it reports numbers. Usage: bench/http-flows.sh [SECONDS] [CONNECTIONS];
# BENCH_BURSAR_BINARY runs another binary.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
./scripts/install-deps.sh --bench
cmake --preset release >/dev/null && cmake --build --preset release >/dev/null
bursar=${BENCH_BURSAR_BINARY:-./build/release/bursar}
dir=$(mktemp -d /tmp/bursar-flows-bench-XXXXXX)
port=$((20000 + RANDOM % 20000))
server=""
trap 'kill ${server:-} 2>/dev/null || true; rm -rf "$dir" "$dir.log"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs)), $(nproc) cores"
"$bursar" seed "$dir" --users=10000 --merchants=100 --tier=enterprise --balance=100000000 \
    --merchant-limits=1000000000000000 2>/dev/null
BURSAR_DATA_DIR=$dir BURSAR_LISTEN=127.0.0.1:$port "$bursar" serve >"$dir.log" 2>&1 &
server=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
token=$(cat "$dir/admin-token")
run() {  # name, script, flow
    echo "$1 (wrk: 2 threads, $connections connections, ${seconds}s):"
    BURSAR_BENCH_TOKEN=$token BURSAR_BENCH_RUN=$(date +%s%N) BURSAR_BENCH_FLOW=${3:-} \
        wrk -t2 -c"$connections" -d"${seconds}s" -s "$2" "http://127.0.0.1:$port" |
        grep -E '^(requests|errors|latency):' | sed 's/^/  /'
}
# A B C C B A by default: the server slows as its state grows, so each kind's two runs average out
# a drift that is linear in time. BENCH_FLOWS_ORDER="refund plain" runs others, in that order.
for kind in ${BENCH_FLOWS_ORDER:-plain preauth refund refund preauth plain}; do
    case $kind in
        plain) run "plain payments" bench/payment.lua ;;
        preauth) run "authorize then capture" bench/flows.lua preauth ;;
        refund) run "pay then refund" bench/flows.lua refund ;;
        *) echo "unknown kind: $kind" >&2; exit 2 ;;
    esac
done
curl -s "http://127.0.0.1:$port/metrics" |
    grep -E '^bursar_engine_(batches_total|batch_events_mean|fsyncs_total|state_bytes) '
kill -TERM $server
wait $server
echo "server stopped with exit code $?"
"$bursar" verify "$dir" | grep -E '^(verify|records|transfers|users|merchants):'
