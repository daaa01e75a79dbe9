#!/usr/bin/env bash
# man_pages.sh CLI_DIR VIEW_DIR - `man gilsim` and `man gilsim-view` work
# with only the README's set-up: those two folders first on PATH, no MANPATH.
set -u
command -v man >/dev/null || { echo "man is not installed: skipped"; exit 77; }
export PATH="$1:$2:$PATH"
unset MANPATH
export MANPAGER=cat PAGER=cat MANWIDTH=80
rc=0
for page in gilsim gilsim-view; do
    where=$(man -w "$page" 2>&1) || { echo "FAIL: man -w $page: $where"; rc=1; continue; }
    case "$where" in
    "$(cd "$1/../.." && pwd)"/*) echo "ok: $page -> $where" ;;
    *) echo "FAIL: man $page finds $where, not this build's page"; rc=1 ;;
    esac
done
man gilsim 2>/dev/null | grep -q "explain" || { echo "FAIL: man gilsim does not show explain"; rc=1; }
man gilsim-view 2>/dev/null | grep -q "render" || { echo "FAIL: man gilsim-view does not render"; rc=1; }
exit $rc
