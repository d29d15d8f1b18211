#!/usr/bin/env bash
# Issue 4's benchmark: bench/http.sh's payment load, once with nothing attached and once with
# JetStream publishing on and 100 WebSocket clients connected (100 users watching their wallets
# and an admin watching everything, bench/ws_clients.cc), reporting both throughputs and the event
# lags: commit -> JetStream acknowledgment (the server's metric) and commit -> WebSocket (measured
# by the admin client). A benchmark: it reports numbers. Usage: bench/http-live.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
./scripts/install-deps.sh --bench
cmake --preset release >/dev/null && cmake --build --preset release >/dev/null
bursar=$PWD/build/release/bursar
work=$(mktemp -d /tmp/bursar-live-bench-XXXXXX)
cleanup() { kill "$server" "$nats" "$clients" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
server="" nats="" clients=""

run() {  # $1: live (JetStream + WebSocket clients) or plain
    local dir=$work/$1 port=$((20000 + RANDOM % 20000)) env=()
    "$bursar" seed "$dir" --users=10000 --merchants=100 --balance=100000000 \
        --merchant-limits=1000000000000000 >/dev/null 2>&1
    if [ "$1" = live ]; then
        local nats_port=$((40000 + RANDOM % 10000))
        mkdir -p "$work/nats"
        nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$work/nats" -l "$work/nats.log" &
        nats=$!
        env=(BURSAR_NATS_URL=nats://127.0.0.1:$nats_port)
    fi
    env "${env[@]}" BURSAR_DATA_DIR="$dir" BURSAR_LISTEN=127.0.0.1:$port "$bursar" serve >"$dir.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    local token
    token=$(cat "$dir/admin-token")
    if [ "$1" = live ]; then
        for n in $(seq 1 100); do
            curl -s -X POST "http://127.0.0.1:$port/v1/users/login" \
                -d "{\"email\":\"user$n@example.com\",\"password\":\"bench-password\"}" |
                sed -E 's/.*"token":"([^"]+)".*/\1/'
            echo
        done >"$work/tokens"
        "$(dirname "$bursar")/bench/bursar_ws_clients" "$port" "$token" "$work/tokens" >"$work/ws.out" 2>&1 &
        clients=$!
        sleep 2
        head -1 "$work/ws.out"
    fi
    echo "== $1: wrk 2 threads, 64 connections, ${seconds}s"
    BURSAR_BENCH_TOKEN=$token BURSAR_BENCH_RUN=$(date +%s) \
        wrk -t2 -c64 -d"${seconds}s" -s bench/payment.lua "http://127.0.0.1:$port" |
        grep -E '^(requests|errors|latency):'
    if [ "$1" = live ]; then
        sleep 2
        curl -s "http://127.0.0.1:$port/metrics" |
            grep -E '^bursar_(jetstream_(published_total|lag_seconds_p50|lag_seconds_p99|lag_seconds_max|failures_total)|stream_(messages_total|slow_clients_closed_total)) '
        kill -TERM "$clients"
        wait "$clients" || true
        tail -1 "$work/ws.out"
        kill "$nats"
    fi
    kill -TERM "$server"
    wait "$server" || true
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
run plain
run live
