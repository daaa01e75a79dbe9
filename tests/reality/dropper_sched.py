#!/usr/bin/env python3
"""Where a forced dropper's time goes before it asks for the GIL again, from
a real recording and the kernel's sched events of the same run
(io_cycle.py --record PREFIX writes both).

After a forced drop the dropper waits on switch_cond until the new holder
has the GIL, then calls take_gil again (the recording's `ask`). For each
forced drop of a thread named PREFIX* (default cpu) this sorts the time from
the release to that ask into <100 us, 100-700 us and >=700 us, and says
what the kernel did with the dropper meanwhile: woken (sched_waking) onto
which CPU, what that CPU ran at the wake (the thread that took the GIL
after the drop, another of ours, idle, another program), and how long until it ran
(sched_switch to it); or no wake seen (it never slept: `R`, preempted and
queued, or `-`, it did not leave its CPU).

With --beside, for the droppers woken onto the new holder's CPU it also
says what the other CPUs ran at that wake: an idle one there means the
kernel queued the dropper behind its waker although a CPU was idle (Linux
finds an idle CPU other than the target only by select_idle_cpu's scan,
which SIS_UTIL cuts when the CPUs' utilisation is high: the model's
machine.idle_scan "sis_util"); none idle means no CPU was free to take it.
With --prev it sorts every dropper's wake by where the new holder ran
(on the dropper's previous CPU, the one it last left, or elsewhere) and
whether another CPU idled, and counts where the wake put the dropper: a
wake made on the woken thread's own previous CPU leaves Linux no choice
between two CPUs (wake_affine is skipped) and only select_idle_cpu's scan
can move it to the idle one.

    python3 tests/reality/dropper_sched.py PREFIX.rec.json PREFIX.sched.txt [--beside] [--prev]
    python3 tests/reality/dropper_sched.py --self-test   (ctest)
"""
import argparse
import bisect
import collections
import json
import re
import sys

sys.dont_write_bytecode = True
from recording import load_recording  # noqa: E402
from tracefs import read_sched_events  # noqa: E402


def load(rec_path, sched_path):
    rec = load_recording(rec_path)
    t0 = rec["t0_monotonic_ns"]
    names = {th["tid"]: th["name"] for th in rec["threads"]}
    ev = collections.defaultdict(list)  # tid -> [(t, kind, cpu, prev_state)]
    switches = collections.defaultdict(list)  # cpu -> [(t, next pid)]
    for t, cpu, kind, fl in read_sched_events(sched_path):
        t -= t0
        if kind == "sched_waking" and int(fl["pid"]) in names:
            ev[int(fl["pid"])].append((t, "waking", int(fl["target_cpu"]), None))
        elif kind == "sched_switch":
            a, b = int(fl["prev_pid"]), int(fl["next_pid"])
            switches[cpu].append((t, b))
            if a in names:
                ev[a].append((t, "out", cpu, fl["prev_state"]))
            if b in names:
                ev[b].append((t, "in", cpu, None))
    if not switches:
        raise ValueError("%s: no sched_switch events" % sched_path)
    return rec, names, ev, switches


def running(switches, names, cpu, t):
    s = switches.get(cpu, [])
    i = bisect.bisect_right(s, (t, float("inf"))) - 1
    if i < 0:
        return "?"
    pid = s[i][1]
    return "idle" if pid == 0 else names.get(pid, "other")


def others(switches, names, cpu, t):
    """What the CPUs other than cpu ran at t: "idle" if one of them idled,
    else "our threads", "other programs" or "both"."""
    seen = {running(switches, names, c, t) for c in switches if c != cpu}
    if "idle" in seen:
        return "idle"
    ours = {w for w in seen if w not in ("other", "?")}
    return ("both" if ours and "other" in seen else "our threads" if ours
            else "other programs")


def prev_case(switches, names, k, wk, holder):
    """(where the new holder ran, another CPU idle?, where the dropper was
    woken) for a dropper's wake wk; None if the holder was on no CPU or the
    dropper's previous CPU is unknown."""
    outs = [x for x in k if x[1] == "out" and x[0] <= wk[0]]
    hc = [c for c in sorted(switches) if running(switches, names, c, wk[0]) == holder]
    if not outs or not hc:
        return None
    idle = any(running(switches, names, c, wk[0]) == "idle" for c in switches if c != hc[0])
    return ("holder on its previous CPU" if outs[-1][2] == hc[0] else "holder elsewhere",
            "another CPU idle" if idle else "no CPU idle",
            "woken onto the holder's CPU" if wk[2] == hc[0] else "woken elsewhere")


def analyse(rec, names, ev, switches, prefix, beside=None, prev=None):
    rows, waits = collections.Counter(), collections.defaultdict(list)
    holds = sorted((e[0], th["name"]) for th in rec["threads"] for e in th["events"]
                   if e[1] == "hold")
    for th in rec["threads"]:
        if not th["name"].startswith(prefix):
            continue
        es, k = th["events"], sorted(ev[th["tid"]])
        for i, e in enumerate(es):
            if not (e[1] == "release" and len(e) > 2 and e[2] == "forced"):
                continue
            nxt = next((x for x in es[i + 1:] if x[1] in ("ask", "hold", "end")), None)
            if not nxt or nxt[1] != "ask":
                continue
            d = nxt[0] - e[0]
            cls = "<100us" if d < 100000 else ">=700us" if d >= 700000 else "100-700us"
            kk = [x for x in k if e[0] <= x[0] <= nxt[0]]
            wk = next((x for x in kk if x[1] == "waking"), None)
            if wk is None:
                out = next((x for x in kk if x[1] == "out"), None)
                rows[(cls, "no wake seen, left its CPU %s" % (out[3] if out else "-"))] += 1
                continue
            inn = next((x for x in kk if x[1] == "in" and x[0] >= wk[0]), None)
            what = running(switches, names, wk[2], wk[0])
            j = bisect.bisect_right(holds, (e[0], "\uffff"))
            holder = next((h[1] for h in holds[j:] if h[1] != th["name"]), None)
            if prev is not None:
                pc = prev_case(switches, names, k, wk, holder)
                if pc:
                    prev[pc] += 1
            if beside is not None and what == holder:
                beside[(cls, others(switches, names, wk[2], wk[0]))] += 1
            what = ("the new GIL holder" if what == holder else what
                    if what in ("idle", "other", "?") else
                    "another " + re.sub(r"[-_]?\d+$", "", what) + " thread")
            rows[(cls, "woken onto a CPU running %s, ran %s" %
                  (what, "there" if inn and inn[2] == wk[2] else "elsewhere"))] += 1
            if inn:
                waits[cls].append(inn[0] - wk[0])
    return rows, waits


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))]


def self_test():
    """dropper_sched_test.py, on a recording and kernel trace made by hand."""
    import dropper_sched_test
    return dropper_sched_test.main()


def main(argv=None):
    if argv is None and sys.argv[1:] == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("recording")
    ap.add_argument("sched", help="the kernel's events of the same run (io_cycle.py --record)")
    ap.add_argument("--prefix", default="cpu", help="name prefix of the CPU-bound threads")
    ap.add_argument("--beside", action="store_true",
                    help="for droppers woken onto the new holder's CPU: what the other CPUs ran")
    ap.add_argument("--prev", action="store_true",
                    help="each wake by where the new holder ran and whether a CPU idled")
    a = ap.parse_args(argv)
    beside = collections.Counter() if a.beside else None
    prev = collections.Counter() if a.prev else None
    try:
        rows, waits = analyse(*load(a.recording, a.sched), a.prefix, beside, prev)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as err:
        print("dropper_sched: %s" % err, file=sys.stderr)
        return 2
    total = sum(rows.values())
    if not total:
        print("dropper_sched: no forced drop of a %s* thread followed by an ask" % a.prefix,
              file=sys.stderr)
        return 2
    print("forced drops followed by the dropper's ask: %d" % total)
    for cls in ("<100us", "100-700us", ">=700us"):
        n = sum(v for (c, _), v in rows.items() if c == cls)
        if not n:
            continue
        w = waits.get(cls)
        print("release -> ask %s: %d (%.0f%%)%s" % (
            cls, n, 100 * n / total, "" if not w else
            "; sched_waking -> on a CPU p50 %.0f us, p90 %.0f us"
            % (pct(w, .5) / 1e3, pct(w, .9) / 1e3)))
        for (c, what), v in sorted(rows.items(), key=lambda x: -x[1]):
            if c == cls:
                print("    %4d  %s" % (v, what))
    if beside is not None:
        print("woken onto the new GIL holder's CPU: what the other CPUs ran at the wake")
        for (c, what), v in sorted(beside.items()):
            print("    %-9s %4d  %s" % (c, v, what))
    if prev is not None:
        print("every wake of a dropper: where the new holder ran, whether a CPU idled, "
              "where the dropper went")
        for key, v in sorted(prev.items()):
            print("    %4d  %s" % (v, ", ".join(key)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
