#!/usr/bin/env bash
# gilsim set-up contract: installs what is missing, builds, runs.
#   ./run.sh           the viewer on the default scenario when a display is
#                      there, otherwise the headless run
#   ./run.sh test      every test suite (ctest), non-zero on any failure
#   ./run.sh asan      the whole suite under AddressSanitizer + UBSan
#   ./run.sh tsan      the engine and model suites under ThreadSanitizer
#   ./run.sh fuzz [S]  the scenario loader fuzzer for S seconds (default 60)
#   ./run.sh bench     the benchmarks (figures for docs/performance.md)
#   ./run.sh reality   measures real CPython against the model and rewrites
#                      docs/validation.md (with the replays of recorded
#                      examples/ programs), then every CPython found (pyenv,
#                      Debian) against its version preset into
#                      docs/validation-versions.md; --python 2.7,3.12 (or a
#                      path) measures only those and prints their tables
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages, by what needs them.
PKGS_BUILD=(cmake make gcc pkg-config libcjson-dev check)
PKGS_UI=(libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev fonts-dejavu-core fontconfig)
PKGS_TEST=(xvfb xauth libxml2-utils python3 python3-jsonschema clang libclang-rt-14-dev valgrind man-db)
# gilsim record compiles its probe against the interpreter's headers (python3-dev
# for Debian's python3; gcc comes with PKGS_BUILD).
PKGS_RECORD=(python3-dev)

say() { printf '%s\n' "run.sh: $*" >&2; }

install_missing() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            sudo=(sudo)
        else
            say "missing Debian packages: ${missing[*]}"
            say "run as root, or: sudo apt-get install ${missing[*]}"
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq || say "apt-get update failed; trying the install anyway"
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

jobs() { nproc 2>/dev/null || echo 2; }

build() { # build PRESET
    cmake --preset "$1" >/dev/null
    cmake --build --preset "$1" -j"$(jobs)"
}

cmd=${1:-run}
[ $# -gt 0 ] && shift
case "$cmd" in
run)
    install_missing "${PKGS_BUILD[@]}" "${PKGS_UI[@]}" "${PKGS_RECORD[@]}"
    build default
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x build/ui/gilsim-view ]; then
        exec build/ui/gilsim-view "$@"
    fi
    exec build/sim/cli/gilsim run "$@"
    ;;
test)
    install_missing "${PKGS_BUILD[@]}" "${PKGS_UI[@]}" "${PKGS_TEST[@]}" "${PKGS_RECORD[@]}"
    build default
    ctest --preset default -j"$(jobs)" -LE bench "$@"
    ;;
asan)
    install_missing "${PKGS_BUILD[@]}" "${PKGS_UI[@]}" "${PKGS_TEST[@]}" "${PKGS_RECORD[@]}"
    build asan
    ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0" \
        ctest --preset asan -j"$(jobs)" -LE 'bench|reality' "$@"
    ;;
tsan)
    install_missing "${PKGS_BUILD[@]}" "${PKGS_TEST[@]}"
    build tsan
    TSAN_OPTIONS=halt_on_error=1 ctest --preset tsan -j"$(jobs)" -L unit "$@"
    ;;
fuzz)
    install_missing "${PKGS_BUILD[@]}" "${PKGS_TEST[@]}"
    exec tests/fuzz/run_fuzz.sh "${1:-60}"
    ;;
bench)
    install_missing "${PKGS_BUILD[@]}" "${PKGS_UI[@]}"
    build release
    ctest --test-dir build-release -L bench -V "$@"
    ;;
reality)
    # versions.py puts the whole regeneration's time on its page
    GILSIM_REALITY_START=$(date +%s)
    export GILSIM_REALITY_START
    install_missing "${PKGS_BUILD[@]}" python3 "${PKGS_RECORD[@]}"
    build release
    if [ "${1:-}" = "--python" ]; then
        # only the interpreters named, printed (the page keeps every version)
        exec python3 tests/reality/versions.py --gilsim build-release/sim/cli/gilsim "$@"
    fi
    # Both pages are written whatever the verdict (reality.py says SKIP, 77,
    # when the machine was too busy to judge); the worse status is returned.
    rc=0
    python3 tests/reality/reality.py --full --gilsim build-release/sim/cli/gilsim \
        --write docs/validation.md "$@" || rc=$?
    # issue 14: recordings of examples/ against their fitted replays and
    # what-ifs; rewrites only the "Replays" section of the same page
    python3 tests/reality/replay.py --gilsim build-release/sim/cli/gilsim \
        --write docs/validation.md || rc=$?
    python3 tests/reality/versions.py --gilsim build-release/sim/cli/gilsim \
        --write docs/validation-versions.md || rc=$?
    exit "$rc"
    ;;
-h | --help | help)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    ;;
*)
    say "unknown command '$cmd' (try ./run.sh help)"
    exit 1
    ;;
esac
