#!/usr/bin/env bash
# Builds the libFuzzer target of the JSON request decoding with Debian's clang 14 (AddressSanitizer
# and UBSan on) and runs it for a while: `tests/fuzz/run.sh [SECONDS]` (default 20). ctest runs it.
# New inputs the fuzzer finds go to build/fuzz/corpus; a crash leaves its input in build/fuzz.
set -euo pipefail
seconds=${1:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build/fuzz
mkdir -p "$out/corpus"
clang++-14 -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$root/src" "$root/tests/fuzz/json_input_fuzz.cc" "$root/src/api/json_input.cc" \
    "$root/src/payments/error_codes.cc" "$root/src/base/json_writer.cc" "$root/src/base/u128.cc" \
    -lsimdjson -o "$out/json_input_fuzz"
cp "$root"/tests/fuzz/seeds/* "$out/corpus/"
cd "$out"
./json_input_fuzz -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 corpus
