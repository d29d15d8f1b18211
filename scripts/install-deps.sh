#!/usr/bin/env bash
# Installs what building and testing Bursar needs on Debian 12, from the compiler up; a bare
# Debian 12 has neither a compiler nor make. Idempotent: installs only what is missing, and asks
# apt nothing when everything is there. Run as root (or with sudo available).
# `install-deps.sh --bench` also installs what the benchmarks under bench/ use.
set -euo pipefail

packages=(
    build-essential   # g++ 12, make
    cmake
    ninja-build
    pkg-config
    ca-certificates
    git
    libssl-dev        # SHA-256 (OpenSSL) for the journal's hash chain
    libgtest-dev      # GoogleTest
    libgmock-dev
    libboost-dev      # Boost.Beast and Asio (header-only in 1.74) for the HTTP API
    libargon2-dev     # argon2id password hashing
    libsimdjson-dev   # JSON request parsing
    libsqlite3-dev    # the embedded read model
    clang-format      # the format check of the test command (clang-format 14 on Debian 12)
    python3           # end-to-end tests drive the binary over HTTP
    prometheus        # promtool checks the /metrics exposition (no server is started)
    libnats-dev       # the NATS client: events to JetStream
    nats-server       # JetStream for the event tests, started by them on loopback
    chromium          # the dashboard's browser test (driven by playwright-core, no browser download)
    clang-14          # libFuzzer over the JSON request decoding
    libclang-rt-14-dev
)
if [ "${1:-}" = "--bench" ]; then
    packages+=(wrk curl postgresql libbenchmark-dev)
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

# Node.js and npm validate the OpenAPI document. Checked by command, not by package: a machine may
# already have another Node.js (with its own npm), which Debian's npm package would conflict with.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi

if ((${#missing[@]} == 0)); then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -q
# prometheus and nats-server are wanted for their programs (promtool, a nats-server that the tests
# start on loopback), not as system services: keep Debian from starting them while installing
# (policy-rc.d answers 101, "not allowed"), and disable them where systemd runs.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    own_policy=1
fi
status=0
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" || status=$?
if [ "$own_policy" = 1 ]; then
    $sudo rm -f "$policy"
fi
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    $sudo systemctl disable --now prometheus nats-server >/dev/null 2>&1 || true
fi
exit "$status"
