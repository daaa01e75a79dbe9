#!/usr/bin/env python3
"""Where a socket send's wake-up of its reader goes (issue 14, http_server's
replay), from the files `wake_trace.py --out PREFIX` keeps: PREFIX.rec.json
(a recording) and PREFIX.sched.txt (the kernel's sched_waking / wakeup /
switch beside it, in the recording's clock).

For each send of one thread that ended another thread's blocked recv (the
send's release of the GIL falls inside the recv's time off the GIL, and the
kernel's sched_waking of that reader falls inside the send's), it prints,
per sender
(c: a thread whose name starts with "client", h: any other) and per class
of where the reader was woken (wake_trace.py's classes: `same CPU` is the
sender's own CPU, `busy (other)` a CPU another program held, ...), the
median and quartiles in microseconds of:

  waking   sched_waking of the reader, after the send's release of the GIL
  span     the send's time off the GIL (release to ask)
  on CPU   the reader switched in, after its waking
  ask      the reader's ask for the GIL, after it was switched in
  peer     the reader's ask, after the send's release
  after    the reader's ask, after the sender's ask (negative: the reader
           asked while the send had not returned: it preempted the sender)

    python3 tests/reality/wake_trace.py --out /tmp/w -- examples/http_server.py
    python3 tests/reality/send_trace.py /tmp/w
"""
import argparse
import bisect
import json
import statistics as st
import sys

sys.dont_write_bytecode = True
from wake_trace import Cpus, classify, kernel, wake_of  # noqa: E402


def calls(thread, prefix):
    """(release, ask) of each call named prefix... that let the GIL go."""
    out, rel, ask = [], None, None
    for e in thread["events"]:
        if e[1] == "release":
            rel = e[0]
        elif e[1] == "ask":
            ask = e[0]
        elif (e[1] == "call" and rel is not None and ask is not None and e[0] <= rel <= e[2]
              and e[3].startswith(prefix)):
            out.append((rel, ask))
    return out


def quart(v):
    v = sorted(v)
    return "%.1f (%.1f-%.1f)" % (st.median(v), v[len(v) // 4], v[3 * len(v) // 4])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("prefix", help="PREFIX of PREFIX.rec.json and PREFIX.sched.txt")
    a = ap.parse_args()
    rec = json.load(open(a.prefix + ".rec.json"))
    kev = kernel(a.prefix)
    t0 = rec["t0_monotonic_ns"]
    cpus = Cpus(kev)
    by_pid, ran = {}, {}
    for e in kev:
        t, cpu, kind, f = e
        if kind == "sched_switch":
            ran.setdefault(int(f["next_pid"]), []).append((t, cpu))
        elif f.get("pid"):
            by_pid.setdefault(int(f["pid"]), []).append(e)

    def cpu_of(pid, t):
        lst = ran.get(pid, [])
        i = bisect.bisect_right([x[0] for x in lst], t) - 1
        return lst[i][1] if i >= 0 else None

    threads = rec["threads"]
    own = {t["tid"] for t in threads}
    sends = {t["name"]: calls(t, "socket.send") for t in threads}
    recvs = {t["name"]: calls(t, "socket.recv") for t in threads}
    rows = {}
    for sender in threads:
        for s_rel, s_ask in sends[sender["name"]]:
            for reader in threads:
                if reader is sender:
                    continue
                r = next((r for r in recvs[reader["name"]] if r[0] < s_rel < r[1]), None)
                if not r:
                    continue
                S, E, A = s_rel + t0, s_ask + t0, r[1] + t0
                waking, wakeup = wake_of(by_pid, reader["tid"], S, A)
                if not waking or waking[0] > E:
                    continue  # not woken by this send (another's, or not asleep)
                target = int(wakeup[2].get("target_cpu", wakeup[1])) if wakeup else None
                if target is None:
                    continue
                cls, _ = classify(cpus, cpu_of(sender["tid"], waking[0]), target, waking[0], own)
                on = cpus.switch_in(target, reader["tid"], waking[0], A) or A
                who = "c" if sender["name"].startswith("client") else "h"
                rows.setdefault((who, cls), []).append(
                    ((waking[0] - S) / 1e3, (E - S) / 1e3, (on - waking[0]) / 1e3,
                     (A - on) / 1e3, (A - S) / 1e3, (A - E) / 1e3))
                break
    if not rows:
        print("send_trace: no send ended a blocked recv in %s" % a.prefix)
        return 1
    cols = ("waking", "span", "on CPU", "ask", "peer", "after")
    print("%-6s %-13s %4s  %s" % ("sender", "class", "n", "  ".join("%-20s" % c for c in cols)))
    for (who, cls), v in sorted(rows.items()):
        print("%-6s %-13s %4d  %s" % (who, cls, len(v),
                                      "  ".join("%-20s" % quart([x[i] for x in v])
                                                for i in range(len(cols)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
