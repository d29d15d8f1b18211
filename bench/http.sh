#!/usr/bin/env bash
# HTTP payments benchmark (issue 3): `bursar serve` with 10 000 funded users and 100 merchants,
# wrk with 64 keep-alive connections for 20 s, every request a payment with its own
# Idempotency-Key, durable before its reply. Then the server is stopped and the ledger checked
# (`bursar verify`). A benchmark: it reports numbers. Usage: bench/http.sh [SECONDS] [CONNECTIONS]
# BENCH_BURSAR_BINARY runs another binary (e.g. an older build, for before/after pairs);
# BENCH_NO_CEILING=1 skips the null server's run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
connections=${2:-64}
./scripts/install-deps.sh --bench
cmake --preset release >/dev/null && cmake --build --preset release >/dev/null
bursar=${BENCH_BURSAR_BINARY:-./build/release/bursar}
dir=$(mktemp -d /tmp/bursar-http-bench-XXXXXX)
port=$((20000 + RANDOM % 20000))
server=""
trap 'kill ${server:-} 2>/dev/null || true; rm -rf "$dir"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs)), $(nproc) cores"
echo "wrk: 2 threads, $connections connections, ${seconds}s, POST /v1/payments with Idempotency-Key"
# The ceiling on this machine: the same load against a server that answers at once and does
# nothing else (bench/null_server.cc).
null_port=$((port + 1))
if [ -z "${BENCH_NO_CEILING:-}" ]; then
./build/release/bench/bursar_null_server "$null_port" 2 &
null_server=$!
sleep 0.2
echo "ceiling (bursar_null_server, ${seconds}s):"
BURSAR_BENCH_TOKEN=none wrk -t2 -c"$connections" -d"${seconds}s" -s bench/payment.lua \
    "http://127.0.0.1:$null_port" | grep -E '^(requests|latency):' | sed 's/^/  /'
kill $null_server
wait $null_server 2>/dev/null || true
fi
# Merchants' limits out of the way (a tier's daily limit is passed within seconds), where the
# binary has limits (an older one, for before/after pairs, has none).
limits=()
usage=$("$bursar" seed 2>&1 || true)
if [[ $usage == *merchant-limits* ]]; then limits=(--merchant-limits=1000000000000000); fi
"$bursar" seed "$dir" --users=10000 --merchants=100 --balance=100000000 "${limits[@]}" 2>/dev/null
# Journal payload bytes (the records' own, without preallocated zeros) before and after the load.
payload_bytes() { "$bursar" journal dump "$1" | awk -F'bytes=' '/^seq=/ { split($2, a, " "); s += a[1] } END { print s }'; }
seeded_bytes=$(payload_bytes "$dir")
BURSAR_DATA_DIR=$dir BURSAR_LISTEN=127.0.0.1:$port "$bursar" serve >"$dir.log" 2>&1 &
server=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
echo "bursar serve:"
BURSAR_BENCH_TOKEN=$(cat "$dir/admin-token") BURSAR_BENCH_RUN=$(date +%s) \
    wrk -t2 -c"$connections" -d"${seconds}s" -s bench/payment.lua "http://127.0.0.1:$port" |
    grep -E '^(requests|errors|latency):'
curl -s "http://127.0.0.1:$port/metrics" |
    grep -E '^bursar_engine_(batches_total|batch_events_mean|fsyncs_total|state_bytes) '
kill -TERM $server
wait $server
echo "server stopped with exit code $?"
"$bursar" verify "$dir" | grep -E '^(verify|records|transfers|users|merchants):'
echo "journal payload bytes written under load: $(($(payload_bytes "$dir") - seeded_bytes))"
