#!/usr/bin/env bash
# run_fuzz.sh SECONDS - fuzz the scenario loader with libFuzzer for SECONDS.
#
# Builds libgilsim with clang (coverage + ASan + UBSan) in build-fuzz/, links
# tests/fuzz/fuzz_scenario.c with -fsanitize=fuzzer, and runs it on a scratch
# copy of the seed corpus (scenarios/*.json, tests/scenario/**/*.json,
# tests/fuzz/corpus/*), so new coverage inputs never land in the source tree.
# A crash, leak, hang or out-of-memory input is saved in tests/fuzz/corpus/
# for a human to commit (fuzz_replay then keeps it as a regression test), and
# the exit status is non-zero. `./run.sh fuzz 60` calls this.
set -euo pipefail
secs=${1:-60}
case "$secs" in '' | *[!0-9]*) echo "usage: $0 SECONDS" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-fuzz
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

command -v clang >/dev/null || { echo "run_fuzz.sh: clang is missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGILSIM_WITH_UI=OFF -DGILSIM_BUILD_TESTS=OFF -DGILSIM_WERROR=OFF \
    -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link $san" >/dev/null
cmake --build "$build" -j2 --target libgilsim >/dev/null
# shellcheck disable=SC2046
clang -g -O1 -fsanitize=fuzzer $san -I"$root/sim/include" "$root/tests/fuzz/fuzz_scenario.c" \
    "$build/sim/libgilsim.a" $(pkg-config --libs libcjson) -lpthread -lm -o "$build/fuzz_scenario"

work=$(mktemp -d "${TMPDIR:-/tmp}/gilsim-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
n=0
while IFS= read -r -d '' f; do
    cp "$f" "$work/corpus/seed-$n"
    n=$((n + 1))
done < <(find "$root/scenarios" "$root/tests/scenario" "$root/tests/fuzz/corpus" -type f \
    \( -name '*.json' -o -path '*/tests/fuzz/corpus/*' \) -print0)
echo "run_fuzz.sh: $n seed inputs, fuzzing for ${secs}s" >&2

status=0
"$build/fuzz_scenario" "$work/corpus" -max_total_time="$secs" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -dict="$root/tests/fuzz/scenario.dict" -print_final_stats=1 \
    -artifact_prefix="$root/tests/fuzz/corpus/" 2>"$work/log" || status=$?
tail -n 30 "$work/log" >&2
if [ "$status" -ne 0 ]; then
    echo "run_fuzz.sh: the fuzzer found a bug (exit $status); the input is in tests/fuzz/corpus/:" >&2
    ls -t "$root/tests/fuzz/corpus" | head -n 3 >&2
    exit 1
fi
echo "run_fuzz.sh: no crash in ${secs}s" >&2
