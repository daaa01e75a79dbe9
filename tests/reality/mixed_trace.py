#!/usr/bin/env python3
"""examples/mixed_pool.py traced from both sides (issue 14: its two-core
replays were 17-22% short): the GIL's events with `gilsim record`, and the
kernel's sched_switch / sched_wakeup / sched_migrate_task events from a
tracefs instance of its own, in the same clock. For every worker's C call
that released the GIL (hashlib.sha256: from its `release` to its `ask`),
and for every GIL hold, it says how long the thread was on a core, how long
runnable without one (and who had the CPU it waited on: a thread of the
program, or another program), and how long asleep; and how long a woken
GIL waiter took to get a core.

Needs root (tracefs) and a built gilsim. Other programs change what it
sees: the threads' run delays are printed, and --boost runs the recording
in an autogroup of its own at nice -20 (a short burst that other programs
on a shared machine barely slow).

    python3 tests/reality/mixed_trace.py --gilsim build/sim/cli/gilsim [--boost] PREFIX
    python3 tests/reality/mixed_trace.py --analyse PREFIX
    python3 tests/reality/mixed_trace.py --overlap [N]   # no root needed

--overlap measures whether two sha256 calls (or one beside pure Python)
slow each other: each call's CPU time (CLOCK_THREAD_CPUTIME_ID, which other
programs taking the CPU do not inflate) alone on CPU 0, two at once on CPUs 0
and 1, and beside a thread running Python on CPU 1: the medians of N calls.
"""
import argparse
import collections
import json
import os
import statistics as st
import subprocess
import sys

sys.dont_write_bytecode = True
from tracefs import sched_events, sched_trace  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.normpath(os.path.join(HERE, "..", "..", "examples", "mixed_pool.py"))
EVENTS = ("sched_switch", "sched_wakeup", "sched_migrate_task")
BOOST = "echo -20 > /proc/self/autogroup; exec nice -n -20 \"$@\""


def record(args, prefix):
    # sched_trace wants a program text; mixed_pool.py is run as it is
    with sched_trace("gilsim-mixed", EVENTS, 40000, "", prefix) as (put, _prog):
        cmd = [args.gilsim, "record", "-q", "-o", prefix + ".rec.json", "--",
               args.python, EXAMPLE, *args.program_args]
        if args.boost:
            cmd = ["setsid", "sh", "-c", BOOST, "sh", *cmd]
        put("tracing_on", "1")
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        put("tracing_on", "0")


def kernel(prefix, r):
    """Per program thread (by tid), its states over time from the kernel:
    a list of (t, state, cpu) where state is R (on a core), W (runnable
    without one), S (asleep); and per CPU the spans other programs ran."""
    t0 = r["t0_monotonic_ns"]
    tids = {t["tid"] for t in r["threads"]}
    st_ = collections.defaultdict(list)
    oncpu = {}  # cpu -> (pid, since)
    foreign = collections.defaultdict(list)  # cpu -> [(a, b)] another program on it
    occ = collections.defaultdict(list)  # cpu -> [(t, who)]: P a program thread, O another program, I idle
    for ts, cpu, kind, f in sched_events(prefix):
        t = ts - t0
        if kind == "sched_switch":
            p, n = int(f["prev_pid"]), int(f["next_pid"])
            if p in tids:
                st_[p].append((t, "W" if f["prev_state"] in ("R", "R+") else "S", cpu))
            elif p != 0 and cpu in oncpu:
                foreign[cpu].append((oncpu[cpu][1], t))
            if n in tids:
                st_[n].append((t, "R", cpu))
            oncpu[cpu] = (n, t)
            occ[cpu].append((t, "P" if n in tids else ("I" if n == 0 else "O")))
        elif kind == "sched_wakeup" and int(f["pid"]) in tids:
            st_[int(f["pid"])].append((t, "W", int(f["target_cpu"])))
    return st_, foreign, occ


def pieces(states, a, b):
    """(state, start, end) for each stretch between a and b, in time order:
    the state a thread was in from each of its changes to the next."""
    cur, since = None, a
    for t, s, _ in states:
        if t <= a:
            cur = s
            continue
        if t >= b:
            break
        if cur:
            yield cur, since, t
        cur, since = s, t
    if cur:
        yield cur, since, b


def split(states, a, b):
    """Time in each state between a and b."""
    out = collections.Counter()
    for s, x, y in pieces(states, a, b):
        out[s] += y - x
    return out


def waits(states, a, b):
    """The spans between a and b the thread was runnable without a core."""
    return [(x, y) for s, x, y in pieces(states, a, b) if s == "W"]


def occupants(occ, a, b):
    """Time between a and b by what the CPUs ran: a key per CPU (P a thread
    of the program, O another program, I idle), sorted, e.g. 'OP'."""
    cut = sorted({a, b} | {t for v in occ.values() for t, _ in v if a < t < b})
    out = collections.Counter()
    for x, y in zip(cut, cut[1:]):
        key = ""
        for cpu in sorted(occ):
            w = "I"
            for t, who in occ[cpu]:
                if t > x:
                    break
                w = who
            key += w
        out["".join(sorted(key))] += y - x
    return out


def q(v):
    if not v:
        return "none"
    v = sorted(v)
    return "median %.0f us (%.0f-%.0f), n=%d" % (st.median(v) / 1e3, v[len(v) // 4] / 1e3,
                                                 v[3 * len(v) // 4] / 1e3, len(v))


def analyse(prefix):
    r = json.load(open(prefix + ".rec.json"))
    states, foreign, occ = kernel(prefix, r)
    print("%s: %.0f ms, other programs %.2f CPUs" % (prefix, r["duration_ns"] / 1e6,
                                                     r.get("others_cpu_ns", 0) / r["duration_ns"]))
    tot = collections.Counter()
    woke = []
    for t in r["threads"]:
        s = states.get(t["tid"], [])
        ev = t["events"]
        calls, holds = [], []
        hold = None
        for i, e in enumerate(ev):
            if e[1] == "hold":
                hold = e[0]
            elif e[1] == "release" and hold is not None:
                holds.append((hold, e[0]))
                hold = None
            if e[1] == "call" and e[4] == "c_nogil" and e[5]:
                rel = [x[0] for x in ev if x[1] == "release" and e[0] <= x[0] <= e[2]]
                ask = [x[0] for x in ev if x[1] == "ask" and e[0] <= x[0] <= e[2]]
                if rel and ask:
                    calls.append((rel[0], ask[-1]))
            if e[1] == "woken":
                woke.append(e[0])
        c = collections.Counter()
        for a, b in calls:
            c.update(split(s, a, b))
        h = collections.Counter()
        for a, b in holds:
            h.update(split(s, a, b))
        tot.update({"c_" + k: v for k, v in c.items()})
        tot.update({"h_" + k: v for k, v in h.items()})
        print("  %-10s os_cpu %5.1f ms run_delay %5.1f ms | C calls %d: on a core %5.1f, "
              "without %5.1f, asleep %5.1f ms | holds %d: on %5.1f, without %5.1f, asleep %5.1f ms"
              % (t["name"], t["os_cpu_ns"] / 1e6, t.get("os_run_delay_ns", 0) / 1e6, len(calls),
                 c["R"] / 1e6, c["W"] / 1e6, c["S"] / 1e6, len(holds), h["R"] / 1e6,
                 h["W"] / 1e6, h["S"] / 1e6))
        oc = collections.Counter()
        for a, b in calls:
            for x, y in waits(s, a, b):
                oc.update(occupants(occ, x, y))
        if oc:
            print("  %-10s its C calls' waits for a core, by what the CPUs ran (P this program, O another): %s"
                  % ("", ", ".join("%s %.1f ms" % (k, v / 1e6) for k, v in oc.most_common())))
        durs = [split(s, a, b)["R"] for a, b in calls]
        if durs:
            print("  %-10s a C call on a core: %s; its span: %s" % ("", q(durs), q([b - a for a, b in calls])))
    fr = sum(b - a for v in foreign.values() for a, b in v)
    print("  other programs on the CPUs while it ran: %.1f ms" % (fr / 1e6))
    return tot


def overlap(n):
    import hashlib
    import threading
    import time
    block = bytes(512 * 1024)

    def hashes(cpu, out, barrier):
        os.sched_setaffinity(0, {cpu})
        barrier.wait()
        for _ in range(n):
            t = time.thread_time_ns()
            hashlib.sha256(block).digest()
            out.append(time.thread_time_ns() - t)

    def spin(cpu, stop, barrier):
        os.sched_setaffinity(0, {cpu})
        barrier.wait()
        while not stop.is_set():
            s = 0
            for k in range(15000):
                s = (s * 33 + k) & 0xFFFFFFFF

    def run(cpus, beside_python=False):
        outs = [[] for _ in cpus]
        b = threading.Barrier(len(cpus) + beside_python)
        stop = threading.Event()
        ts = [threading.Thread(target=hashes, args=(c, o, b)) for c, o in zip(cpus, outs)]
        if beside_python:
            sp = threading.Thread(target=spin, args=(1, stop, b))
            sp.start()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        stop.set()
        if beside_python:
            sp.join()
        return st.median([x for o in outs for x in o])

    if len(os.sched_getaffinity(0)) < 2:
        print("overlap: needs two CPUs")
        return
    alone, two, py = run([0]), run([0, 1]), run([0], True)
    print("sha256 of 512 KiB, CPU time per call (median of %d): alone %.1f us, two at once "
          "%.1f us (%.3fx), beside Python %.1f us (%.3fx)"
          % (n, alone / 1e3, two / 1e3, two / alone, py / 1e3, py / alone))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--overlap":
        overlap(int(sys.argv[2]) if len(sys.argv) > 2 else 300)
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prefix")
    ap.add_argument("--gilsim")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--boost", action="store_true")
    ap.add_argument("--analyse", action="store_true")
    ap.add_argument("program_args", nargs="*")
    args = ap.parse_args()
    if not args.analyse:
        if not args.gilsim:
            ap.error("--gilsim BIN is needed to record")
        record(args, args.prefix)
    analyse(args.prefix)


if __name__ == "__main__":
    main()
