#!/usr/bin/env python3
"""The lock ping-pong beside a CPU-bound thread (reality experiment (8)),
traced from both sides: the GIL's events with `gilsim record`, and the
kernel's sched_waking / sched_wakeup / sched_switch events from a tracefs
instance of its own, in the same clock (CLOCK_MONOTONIC). Prints the cycle
between two spinner holds as the figures issue 15 was settled with: how
long the forced switch's new holder took from its wake-up to holding the
GIL (its switch_cond signal wakes the dropper's CPU), when the spinner came
back, how many pair hand-offs fit in between, how often a woken partner
preempted its waker on their CPU, how long a partner that asked while the
other held the GIL took to be signalled (the first one of a cycle arms a
timer of the switch interval), and who got the signal of a drop with the
spinner and another thread waiting.

Needs root (tracefs) and a built gilsim. The machine's other load changes
everything here (with the second CPU busy the three threads share one and
the figures are another regime): run it on a quiet machine and look at the
threads' run delays it prints.

    sudo python3 tests/reality/pingpong_trace.py --gilsim build/sim/cli/gilsim --interval 1ms
    python3 tests/reality/pingpong_trace.py --analyse PREFIX   # an earlier run's files
    python3 tests/reality/pingpong_trace.py --model RUN.csv    # a model run, same terms
"""
import argparse
import json
import os
import statistics as st
import subprocess
import sys
import tempfile

from tracefs import TRACEFS, sched_events, sched_trace

PROGRAM = r'''
import sys, threading, time
n = int(sys.argv[1])
a, b = threading.Lock(), threading.Lock()
a.acquire(); b.acquire()
stop = [False]; gate = threading.Event(); res = [0.0]
def ping():
    gate.wait()
    t0 = time.perf_counter()
    for _ in range(n):
        a.acquire(); b.release()
    res[0] = time.perf_counter() - t0
    stop[0] = True
def pong():
    gate.wait()
    for _ in range(n):
        a.release(); b.acquire()
def spinner():
    gate.wait()
    while not stop[0]:
        pass
ts = [threading.Thread(target=f, name=f.__name__) for f in (ping, pong, spinner)]
for t in ts: t.start()
time.sleep(0.01)
gate.set()
for t in ts: t.join()
print("hand-offs per second: %.0f" % (2 * n / res[0]))
'''

EVENTS = ("sched_switch", "sched_waking", "sched_wakeup")


def record(args, prefix):
    with sched_trace("gilsim-pingpong", EVENTS, 20000, PROGRAM, prefix) as (put, prog):
        put("tracing_on", "1")
        subprocess.run([args.gilsim, "record", "-q", "--switch-interval", args.interval,
                        "-o", prefix + ".rec.json", "--", args.python, prog, str(args.rounds)],
                       check=True)
        put("tracing_on", "0")


def load(prefix):
    """Both sides as (t_ns from the recording's start, who, what) in time order:
    who is a thread's first two letters (pi, po, sp, Ma) or K for the kernel."""
    r = json.load(open(prefix + ".rec.json"))
    t0 = r["t0_monotonic_ns"]
    name = {t["tid"]: t["name"][:2] for t in r["threads"]}
    idx = {t["index"]: t["name"][:2] for t in r["threads"]}
    ev = []
    for t in r["threads"]:
        for e in t["events"]:
            if e[1] in ("lock_wait", "call", "wait", "py"):
                continue
            if e[1] == "signal":
                ev.append((e[0], name[t["tid"]], "signal", idx.get(e[2], "-")))
            else:
                ev.append((e[0], name[t["tid"]], e[1], e[2] if len(e) > 2 else None))
    for ts, cpu, kind, f in sched_events(prefix):
        t = ts - t0
        if kind == "sched_switch":
            p, n = name.get(int(f["prev_pid"])), name.get(int(f["next_pid"]))
            if p or n:
                ev.append((t, "K", "switch", (cpu, p, f["prev_state"], n)))
        elif kind in ("sched_waking", "sched_wakeup") and int(f["pid"]) in name:
            ev.append((t, "K", kind[6:], (cpu, name[int(f["pid"])], int(f["target_cpu"]))))
    ev.sort(key=lambda x: x[0])
    return r, ev


def q(v, unit=""):
    if not v:
        return "none"
    v = sorted(v)
    return "median %.1f%s (%.1f-%.1f), n=%d" % (st.median(v), unit, v[len(v) // 4],
                                                 v[3 * len(v) // 4], len(v))


def analyse(prefix):
    r, ev = load(prefix)
    for t in r["threads"]:
        print("%-10s on a core %6.1f ms, runnable without one %6.1f ms"
              % (t["name"], t["os_cpu_ns"] / 1e6, t["os_run_delay_ns"] / 1e6))
    # cycles: from the spinner's forced drop to its next hold
    cyc, c = [], None
    for t, who, what, x in ev:
        if who == "sp" and what == "release" and x == "forced":
            c = {"holds": [], "woken": None, "back": None, "start": t}
        elif c is None:
            continue
        elif who == "sp" and what == "switch_done":
            c["back"] = t
        elif who == "sp" and what == "hold":
            c["end"] = t
            cyc.append(c)
            c = None
        elif who in ("pi", "po") and what == "hold":
            c["holds"].append(t)
        elif who in ("pi", "po") and what == "woken" and c["woken"] is None:
            c["woken"] = t
    short = [c for c in cyc if c["holds"] and c["woken"] and c["back"] and len(c["holds"]) < 30]
    print("cycles %d, %d with fewer than 30 pair holds" % (len(cyc), len(short)))
    print("requester's wake-up to its hold (its switch_cond signal):",
          q([(c["holds"][0] - c["woken"]) / 1e3 for c in short], " us"))
    print("requester's wake-up to the spinner's return:",
          q([(c["back"] - c["woken"]) / 1e3 for c in short], " us"))
    print("pair holds per cycle:", q([len(c["holds"]) for c in short]),
          ("mean %.2f" % st.mean([len(c["holds"]) for c in short])) if short else "")
    if len(short) < len(cyc):
        # under load the three threads share one CPU and the pair passes the
        # turn by context switches while the spinner waits: another regime
        print("cycles of 30 pair holds or more (another regime, not counted above):",
              q([len(c["holds"]) for c in cyc if c not in short]))
    print("spinner away (its forced drop to its next hold):",
          q([(c["end"] - c["start"]) / 1e3 for c in cyc], " us"))
    # same-CPU wakes of one pair thread by the other: did the woken one preempt?
    n = pre = 0
    for i, (t, who, what, x) in enumerate(ev):
        if who != "K" or what != "waking" or x[1] not in ("pi", "po") or x[0] != x[2]:
            continue
        for t2, w2, what2, y in ev[i + 1:i + 12]:
            if w2 == "K" and what2 == "switch" and y[0] == x[2]:
                if y[1] in ("pi", "po"):
                    n += 1
                    pre += y[2].startswith("R") and y[3] == x[1]
                break
    print("same-CPU pair wakes with a pair thread running: %d, the woken one preempted it "
          "at once: %d (%.0f%%)" % (n, pre, 100 * pre / max(n, 1)))
    # a partner that asks while the other holds: time to the holder's signal
    holder, pos, pend, first, later = None, 0, None, [], []
    for t, who, what, x in ev:
        if what == "hold":
            holder, pos = who, (0 if who == "sp" else pos + 1)
        elif what == "release" and holder == who:
            holder = None
        elif what == "ask" and who in ("pi", "po") and holder not in (None, who, "sp"):
            pend = (t, holder, pos)
        elif what == "signal" and pend and who == pend[1]:
            (first if pend[2] == 1 else later).append((t - pend[0]) / 1e3)
            pend = None
    print("a partner asks while the other holds, to the holder's signal: first of a cycle",
          q(first, " us"), "; later", q(later, " us"))
    # with the spinner and another waiting, which one a pair drop signalled
    holder, waiting, older, newer = None, [], 0, 0
    for t, who, what, x in ev:
        if who == "K":
            continue
        if what == "ask" and holder not in (None, who):
            waiting.append(who)
        elif what == "hold":
            holder = who
            if who in waiting:
                waiting.remove(who)
        elif what == "release" and holder == who:
            holder = None
        elif what == "signal" and who in ("pi", "po") and len(waiting) >= 2 and "sp" in waiting \
                and x in waiting:
            older += x == waiting[0]
            newer += x != waiting[0]
    print("pair drops with the spinner and another waiting: signal to the older waiter %d, "
          "to a newer one %d" % (older, newer))
    n, w = partner_waiting_rec(r)
    print(PARTNER % (n, w, 100 * w / max(n, 1)))


# What ends the pair's window: a pair thread's voluntary drop while its
# partner already waits for the GIL (the woken partner preempted its waker on
# their CPU and asked first) is signalled to the older waiter, the spinner,
# which then takes the GIL; a drop before the partner asks leaves the GIL
# free for the partner, queued behind its waker, a context switch later.
PARTNER = ("pair holds ending in a voluntary drop %d, the partner already waiting for "
           "the GIL at the drop %d (%.0f%%)")


def partner_waiting_rec(r):
    """(pair drops by a call, those at which the partner had asked for the
    GIL and not yet got it) of a recording's parsed JSON."""
    ev = sorted((e[0], t["name"][:2], e[1], e[2] if len(e) > 2 else None)
                for t in r["threads"] for e in t["events"]
                if isinstance(e, list) and len(e) > 1 and e[1] in ("ask", "hold", "release"))
    asking, n, w = {}, 0, 0
    for _, who, what, x in ev:
        if what == "ask":
            asking[who] = True
        elif what == "hold":
            asking[who] = False
        elif what == "release" and who in ("pi", "po") and x == "call":
            n += 1
            w += asking.get("po" if who == "pi" else "pi", False)
    return n, w


def partner_waiting_model(rows):
    """The same count on a model run's CSV rows (csv.DictReader): pair GIL
    holds whose end falls inside the partner's wait_gil."""
    import bisect
    waits = {"ping": [], "pong": []}
    for r in rows:
        if r["lane_kind"] == "thread" and r["state"] == "wait_gil" and r["thread"] in waits:
            waits[r["thread"]].append((int(r["start_ns"]), int(r["end_ns"])))
    for v in waits.values():
        v.sort()
    n = w = 0
    for r in rows:
        if r["lane_kind"] != "gil" or r["thread"] not in waits:
            continue
        end = int(r["end_ns"])
        ws = waits["pong" if r["thread"] == "ping" else "ping"]
        i = bisect.bisect_right(ws, (end, 1 << 62)) - 1
        n += 1
        w += i >= 0 and ws[i][0] < end <= ws[i][1]
    return n, w


def analyse_model(path):
    """A model run's CSV (gilsim run --csv) in the same terms as a recording's
    cycles: pair holds between two spinner holds and how long the spinner was
    away, so that a trace of the real program and the model's run of
    reality.py's scenario compare like with like."""
    import csv
    rows = list(csv.DictReader(open(path)))
    holds = sorted((int(r["start_ns"]), int(r["end_ns"]), r["thread"])
                   for r in rows if r["lane_kind"] == "gil")
    if not any(t == "spinner" for _, _, t in holds):
        raise SystemExit("pingpong_trace.py: %s has no GIL hold of a thread named spinner "
                         "(a model run of reality.py's ping-pong beside a CPU thread?)" % path)
    cyc, n, last_end = [], None, None
    for s, e, t in holds:
        if t == "spinner":
            if last_end is not None:
                cyc.append((n, (s - last_end) / 1e3))
            n, last_end = 0, e
        elif n is not None:
            n += 1
    print("cycles %d" % len(cyc))
    print("pair holds per cycle:", q([c[0] for c in cyc]),
          "mean %.2f" % st.mean([c[0] for c in cyc]) if cyc else "")
    print("spinner away (its forced drop to its next hold):", q([c[1] for c in cyc], " us"))
    n, w = partner_waiting_model(rows)
    print(PARTNER % (n, w, 100 * w / max(n, 1)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gilsim", default="build/sim/cli/gilsim")
    ap.add_argument("--python", default="python3")
    ap.add_argument("--interval", default="1ms", help="switch interval (1ms, 5ms)")
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--out", default=None, help="prefix of the files written (default: a temp dir)")
    ap.add_argument("--analyse", metavar="PREFIX", help="only analyse PREFIX.rec.json and "
                    "PREFIX.sched.txt of an earlier run")
    ap.add_argument("--model", metavar="CSV", help="only analyse a model run's CSV "
                    "(gilsim run --csv) of reality.py's scenario the same way")
    args = ap.parse_args()
    if args.model:
        analyse_model(args.model)
        return 0
    if args.analyse:
        analyse(args.analyse)
        return 0
    if not os.access(os.path.join(TRACEFS, "instances"), os.W_OK):
        print("pingpong_trace.py: needs a writable %s/instances (root)" % TRACEFS, file=sys.stderr)
        return 2
    prefix = args.out or os.path.join(tempfile.mkdtemp(prefix="pingpong-"), "pp-" + args.interval)
    record(args, prefix)
    print("files: %s.rec.json, %s.sched.txt" % (prefix, prefix))
    analyse(prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
