#!/usr/bin/env bash
# run_doc_commands.sh - runs every ```sh block of the given Markdown files, so
# the documentation cannot drift from the programs.
#
#   run_doc_commands.sh [--source DIR] [--path DIR]... FILE.md...
#
# The convention (documented in docs/guide.md, "Documentation that runs"):
#   - a fenced block whose info string is exactly `sh` is run;
#   - any other block (```text, ```console, ```json, ```c ...) is not;
#   - a `sh` block right after a line `<!-- doc-test: skip (reason) -->` is
#     not run either: for commands that open a window, need the network or
#     rebuild the project. Use it sparingly, always with a reason.
# Each file's blocks run in order, each in its own `bash -euo pipefail`, in one
# fresh temporary directory per file that holds a copy of scenarios/, docs/ and examples/
# from --source, so `gilsim run scenarios/03-convoy.json` works as it does in
# the repository. The --path directories (the build's gilsim and gilsim-view)
# come first on PATH. A block that calls gilsim-view is skipped, and says so,
# when no gilsim-view is on PATH (a build without the UI).
# Exit status: 0 when every block ran and succeeded, 1 otherwise; each failure
# is reported as FILE:LINE with the block and its output.
set -uo pipefail

src=$(pwd)
paths=()
while [ $# -gt 0 ]; do
    case "$1" in
    --source) src=$2; shift 2 ;;
    --path) paths+=("$2"); shift 2 ;;
    --) shift; break ;;
    -*) echo "run_doc_commands.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: run_doc_commands.sh [--source DIR] [--path DIR]... FILE.md..." >&2; exit 2; }
for p in "${paths[@]}"; do PATH="$p:$PATH"; done
export PATH
block_timeout=${DOC_BLOCK_TIMEOUT:-120}

# extract LABEL OUTDIR <FILE: writes OUTDIR/NNNN.sh per runnable block (first line a
# comment "# FILE:LINE") and OUTDIR/skipped with one "FILE:LINE reason" each.
extract() {
    awk -v file="$1" -v out="$2" '
    function flush() { close(cur) }
    BEGIN { infence = 0; n = 0; prev = "" }
    {
        line = $0
        if (!infence) {
            rest = line; sub(/^ */, "", rest); indent = length(line) - length(rest)
            if (rest ~ /^```/) {
                match(rest, /^`+/); fence = RLENGTH
                info = substr(rest, fence + 1); gsub(/^[ \t]+|[ \t]+$/, "", info)
                infence = 1; run = 0
                if (info == "sh") {
                    if (prev ~ /^[ ]*<!--[ ]*doc-test:[ ]*skip/) {
                        print file ":" NR " " prev > (out "/skipped")
                    } else {
                        run = 1; n++
                        cur = sprintf("%s/%04d.sh", out, n)
                        print "# " file ":" NR > cur
                    }
                }
            } else if (line !~ /^[ \t]*$/) {
                prev = line
            }
            next
        }
        # inside a fence: does this line close it?
        t = line; sub(/^[ ]*/, "", t)
        if (t ~ /^`+[ \t]*$/ && match(t, /^`+/) && RLENGTH >= fence) {
            if (run) flush()
            infence = 0; prev = ""
            next
        }
        if (run) {
            for (i = 0; i < indent && substr(line, 1, 1) == " "; i++) line = substr(line, 2)
            print line > cur
        }
    }
    END {
        if (infence) { print file ": a fence opened in this file is never closed" > "/dev/stderr"; exit 3 }
    }'
}

status=0
for md in "$@"; do
    if [ ! -f "$md" ]; then
        echo "FAIL $md: no such file" >&2
        status=1
        continue
    fi
    name=${md#"$src"/}
    work=$(mktemp -d "${TMPDIR:-/tmp}/gilsim-doc.XXXXXX")
    blocks="$work/.blocks"
    mkdir -p "$blocks"
    if ! extract "$name" "$blocks" <"$md" 2>"$work/.err"; then
        echo "FAIL $(cat "$work/.err")" >&2
        status=1
        rm -rf "$work"
        continue
    fi
    for d in scenarios docs examples; do
        [ -d "$src/$d" ] && cp -r "$src/$d" "$work/$d"
    done
    if [ -f "$blocks/skipped" ]; then
        while IFS= read -r s; do echo "skip $s"; done <"$blocks/skipped"
    fi
    n_run=0
    for b in "$blocks"/*.sh; do
        [ -e "$b" ] || continue
        where=$(head -n1 "$b" | cut -c3-)
        if grep -q 'gilsim-view' "$b" && ! command -v gilsim-view >/dev/null; then
            echo "skip $where (gilsim-view is not built)"
            continue
        fi
        if (cd "$work" && GILSIM_SOURCE_DIR="$src" timeout "$block_timeout" \
            bash -euo pipefail "$b") >"$work/.out" 2>&1; then
            echo "ok   $where"
            n_run=$((n_run + 1))
        else
            rc=$?
            echo "FAIL $where (exit status $rc)" >&2
            echo "---- the block:" >&2
            tail -n +2 "$b" | sed 's/^/    /' >&2
            echo "---- its output:" >&2
            tail -n 40 "$work/.out" | sed 's/^/    /' >&2
            status=1
        fi
    done
    echo "$name: $n_run block(s) ran"
    rm -rf "$work"
done
exit $status
