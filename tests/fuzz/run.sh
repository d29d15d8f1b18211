#!/usr/bin/env bash
# Builds one libFuzzer target with Debian's clang 14 (AddressSanitizer and UBSan on) and runs it
# for a while: `tests/fuzz/run.sh TARGET [SECONDS]` (default 20), TARGET json_input or
# websocket_frame. ctest runs both. It starts from seeds/TARGET; new inputs the fuzzer finds go to
# build/fuzz/TARGET/corpus, and a crash leaves its input in build/fuzz/TARGET.
set -euo pipefail
target=${1:?usage: run.sh json_input|websocket_frame [SECONDS]}
seconds=${2:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
case $target in
    json_input)
        sources=("$root/src/api/json_input.cc" "$root/src/payments/error_codes.cc"
                 "$root/src/base/json_writer.cc" "$root/src/base/u128.cc")
        libraries=(-lsimdjson)
        ;;
    websocket_frame)
        sources=("$root/src/api/websocket_frame.cc" "$root/src/base/assert.cc")
        libraries=()
        ;;
    *)
        echo "run.sh: unknown target '$target'" >&2
        exit 2
        ;;
esac
out=$root/build/fuzz/$target
mkdir -p "$out/corpus"
clang++-14 -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$root/src" "$root/tests/fuzz/${target}_fuzz.cc" "${sources[@]}" "${libraries[@]}" \
    -o "$out/${target}_fuzz"
cp "$root/tests/fuzz/seeds/$target"/* "$out/corpus/"
cd "$out"
"./${target}_fuzz" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 corpus
