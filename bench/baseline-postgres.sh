#!/usr/bin/env bash
# Baselines on the same machine (issue 3): PostgreSQL 15's pgbench TPC-B-like workload, and a plain
# SQL ledger (bench/sql_ledger.sql: row locks, synchronous commit) driven by pgbench with the
# payment workload of bench/http.sh. A private cluster on loopback, removed afterwards.
# Usage: bench/baseline-postgres.sh [SECONDS] [CLIENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
clients=${2:-64}
./scripts/install-deps.sh --bench
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
dir=$(mktemp -d /tmp/bursar-pg-XXXXXX)
chown postgres "$dir"
chmod 755 "$dir"
port=$((40000 + RANDOM % 10000))
as_pg() { runuser -u postgres -- "$@"; }  # PostgreSQL refuses to run as root
as_pg "$bin/initdb" -D "$dir/data" -A trust >/dev/null
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c synchronous_commit=on -c fsync=on" >/dev/null
trap 'as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
psql() { as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -X -q "$@"; }
pgbench() { (cd "$dir" && as_pg "$bin/pgbench" -h 127.0.0.1 -p "$port" -U postgres "$@"); }
# p50 / p99 / p99.9 in ms from pgbench's per-transaction log (column 3: microseconds).
percentiles() {
    cat "$dir"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {
        printf "latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n",
            v[int(NR*0.50)]/1000, v[int(NR*0.99)]/1000, v[int(NR*0.999)]/1000}'
    rm -f "$dir"/pgbench_log.*
}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; PostgreSQL $("$bin/postgres" --version | awk '{print $3}')"
psql -c "CREATE DATABASE bench"

echo "== pgbench TPC-B-like, scale 10, $clients clients, ${seconds}s, synchronous commit"
pgbench -i -s 10 -q bench >/dev/null 2>&1
pgbench -c "$clients" -j 2 -T "$seconds" -l bench 2>&1 | grep -E "^(tps|number of failed)"
percentiles

echo "== plain SQL ledger: one payment per transaction, $clients clients, ${seconds}s"
psql -d bench -f bench/sql_ledger.sql
cp bench/sql_ledger_payment.sql "$dir/"
pgbench -n -c "$clients" -j 2 -T "$seconds" -l -f sql_ledger_payment.sql bench 2>&1 |
    grep -E "^(tps|number of failed)"
percentiles
psql -d bench -At -c "SELECT 'ledger check: ' || CASE WHEN
    (SELECT sum(balance) FROM wallets) + (SELECT sum(balance) FROM merchants) + (SELECT fees FROM platform)
    = 10000::bigint * 100000000 THEN 'money conserved' ELSE 'MONEY NOT CONSERVED' END
    || ', ' || (SELECT count(*) FROM entries) || ' payments'"
