#!/usr/bin/env bash
# selftest.sh - the doc-command runner must run exactly the `sh` blocks, skip
# the rest, and fail loudly (with FILE:LINE) on a failing block or a broken
# fence. Otherwise a runner that silently ran nothing would pass every doc.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runner="$here/run_doc_commands.sh"
fx="$here/fixtures"
fail=0
check() { # check DESCRIPTION COMMAND...
    if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
out=$("$runner" --source "$here/../.." "$fx/passing.md" 2>&1); rc=$?
check "passing.md exits 0" test "$rc" -eq 0
check "passing.md runs its 4 sh blocks, in order, sharing a directory" \
    grep -q 'passing.md: 4 block(s) ran' <<<"$out"
check "passing.md reports its skipped block" grep -q 'skip .*passing.md:27' <<<"$out"

out=$("$runner" --source "$here/../.." "$fx/failing.md" 2>&1); rc=$?
check "failing.md exits 1" test "$rc" -eq 1
check "failing.md names the failing block's line and status" \
    grep -q 'FAIL .*failing.md:11 (exit status 7)' <<<"$out"
check "failing.md shows the block's output" grep -q 'about to fail' <<<"$out"

out=$("$runner" "$fx/unclosed.md" 2>&1); rc=$?
check "an unclosed fence is an error" test "$rc" -eq 1
check "an unclosed fence is explained" grep -q 'never closed' <<<"$out"

out=$("$runner" "$fx/no-such-file.md" 2>&1); rc=$?
check "a missing file is an error" test "$rc" -eq 1
exit $fail
