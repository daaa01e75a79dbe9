#!/usr/bin/env bash
# view_xvfb.sh VIEW - opens a real window under Xvfb, draws, and quits by itself.
set -u
VIEW=$1
command -v xvfb-run >/dev/null || { echo "xvfb-run not installed: skipped"; exit 77; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
xvfb-run -a -s "-screen 0 1920x1080x24" "$VIEW" --quit-after 700 --timing >"$log" 2>&1
rc=$?
cat "$log"
[ $rc -eq 0 ] || { echo "FAIL: exited $rc"; exit 1; }
grep -q "first frame" "$log" || { echo "FAIL: no frame was drawn"; exit 1; }
echo ok
