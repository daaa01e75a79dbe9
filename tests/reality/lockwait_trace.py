#!/usr/bin/env python3
"""Why a woken lock waiter's `lock_wait` ends long after the post (issue 14,
replay point 12: `producer_consumer`'s consumers). Reads a recording and the
kernel trace kept beside it by `wake_trace.py --out PREFIX` (sched_waking /
sched_wakeup / sched_switch in the recorder's clock) and, for each
`lock_wait` of the named threads longer than --min-us, says:

  - post -> on CPU: the kernel's sched_waking of the waiter (the post) to the
    sched_switch that runs it;
  - on CPU -> lock_wait end: what the waiter did after it ran before its
    sem_wait returned (the lock's own re-check, the recorder's overhead);
  - where it was woken: onto the waker's CPU or the other, and what the
    CPU that is not the waker's ran at the post (idle, a thread of the
    program, another process; two CPUs assumed);
  - what it replaced on its CPU when it ran: a thread of the program going to
    sleep (prev_state S: the waiter queued behind it), one preempted (R), or
    another process / idle.

--behind needs no trace: for recordings alone, the share of those waits
that end within 3 us after another thread of the program began a lock wait
(the waiter was queued on that thread's CPU and ran when it went to sleep).

    python3 tests/reality/lockwait_trace.py PREFIX [--threads consumer1,consumer2]
    python3 tests/reality/lockwait_trace.py --behind REC...
    python3 tests/reality/lockwait_trace.py --self-test
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tracefs  # noqa: E402


def med(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    q = statistics.quantiles(xs, n=4) if len(xs) > 1 else [xs[0]] * 3
    return "%.1f (%.1f-%.1f)" % (statistics.median(xs), q[0], q[2])


def running(kev):
    """For each CPU, the list of (t_ns, pid) of who runs from t_ns on."""
    runs = {}
    for t, cpu, kind, f in kev:
        if kind == "sched_switch":
            runs.setdefault(cpu, []).append((t, int(f["next_pid"]), f))
    return runs


def who_at(runs, cpu, t):
    cur = None
    for x in runs.get(cpu, []):
        if x[0] > t:
            break
        cur = x
    return cur


def analyse(prefix, names, min_us):
    r = json.load(open(prefix + ".rec.json"))
    kev = tracefs.sched_events(prefix)
    t0 = r["t0_monotonic_ns"]
    runs = running(kev)
    own = {t["tid"] for t in r["threads"]}
    rows = []
    for th in r["threads"]:
        if th["name"] not in names:
            continue
        pid = th["tid"]
        wakes = [x for x in kev if x[2] == "sched_waking" and int(x[3]["pid"]) == pid]
        ins = [x for x in kev if x[2] == "sched_switch" and int(x[3]["next_pid"]) == pid]
        for e in th["events"]:
            if e[1] != "lock_wait" or (e[2] - e[0]) < min_us * 1e3:
                continue
            a, b = t0 + e[0], t0 + e[2]
            w = next((x for x in wakes if a <= x[0] <= b), None)
            if w is None:
                continue
            on = next((x for x in ins if x[0] >= w[0]), None)
            if on is None or on[0] > b + 2000:
                continue
            target = int(w[3]["target_cpu"])
            o = who_at(runs, 1 - w[1], w[0])  # the CPU that is not the waker's
            if o is None:
                state = "?"
            elif o[1] == 0:
                state = "idle"
            elif o[1] in own:
                state = "own"
            else:
                state = "others"
            prev = int(on[3]["prev_pid"])
            if prev == 0:
                rep = "idle"
            elif prev in own:
                rep = "own " + ("sleeping" if on[3]["prev_state"].startswith(("S", "D")) else "preempted")
            else:
                rep = "others"
            rows.append({"where": "waker's CPU" if target == w[1] else "other CPU",
                         "other": state, "replaced": rep,
                         "post_on": (on[0] - w[0]) / 1e3, "on_end": (b - on[0]) / 1e3,
                         "wait": (b - a) / 1e3})
    return r, rows


def report(r, rows):
    others = r.get("others_cpu_ns", 0) / max(1, r["duration_ns"] * r["host"]["cores_online"])
    print("recorded at %s, others used %.0f%% of the machine; %d lock waits traced"
          % (r.get("recorded_at", "?"), 100 * others, len(rows)))
    print("%-12s %-7s %-16s %4s  %-22s %-20s" % ("woken onto", "other", "ran in place of", "n",
                                                "post->on CPU us", "on CPU->end us"))
    keys = sorted({(x["where"], x["other"], x["replaced"]) for x in rows},
                  key=lambda k: -sum(1 for x in rows if (x["where"], x["other"], x["replaced"]) == k))
    for k in keys:
        xs = [x for x in rows if (x["where"], x["other"], x["replaced"]) == k]
        print("%-12s %-7s %-16s %4d  %-22s %-20s" % (k[0], k[1], k[2], len(xs),
                                                    med([x["post_on"] for x in xs]),
                                                    med([x["on_end"] for x in xs])))
    print("all: post->on CPU %s us, on CPU->end %s us" % (
        med([x["post_on"] for x in rows]), med([x["on_end"] for x in rows])))


def behind(r, names, min_us, window_ns=3000):
    """(waits, how many ended within window_ns after another thread of the
    program began a lock wait) for the named threads' lock waits."""
    starts = sorted((e[0], t["name"]) for t in r["threads"] for e in t["events"]
                    if e[1] == "lock_wait")
    n = k = 0
    for th in r["threads"]:
        if th["name"] not in names:
            continue
        for e in th["events"]:
            if e[1] != "lock_wait" or (e[2] - e[0]) < min_us * 1e3:
                continue
            n += 1
            if any(e[2] - window_ns <= s <= e[2] and who != th["name"] for s, who in starts):
                k += 1
    return n, k


def self_test():
    """lockwait_trace_test.py, on a recording and kernel trace made by hand."""
    import lockwait_trace_test
    return lockwait_trace_test.main()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("prefix", nargs="*", help="PREFIX of PREFIX.rec.json and PREFIX.sched.txt "
                    "(wake_trace.py --out); with --behind, recordings")
    ap.add_argument("--behind", action="store_true", help="recordings alone: the share of the "
                    "waits that ended just after another thread of the program blocked")
    ap.add_argument("--self-test", action="store_true", help="check the classification on a "
                    "made-up trace")
    ap.add_argument("--threads", default="consumer1,consumer2")
    ap.add_argument("--min-us", type=float, default=10.0)
    args = ap.parse_args()
    if args.self_test:
        sys.exit(self_test())
    names = set(args.threads.split(","))
    if args.behind:
        for path in args.prefix:
            try:
                r = json.load(open(path))
            except (OSError, ValueError) as e:
                sys.exit("lockwait_trace: %s: not a readable recording (%s)" % (path, e))
            n, k = behind(r, names, args.min_us)
            print("%s  %d lock waits of %s, %d (%.0f%%) ended within 3 us after another thread "
                  "of the program blocked" % (path, n, args.threads, k, 100 * k / max(1, n)))
        return
    if len(args.prefix) != 1:
        sys.exit("lockwait_trace: give one PREFIX (or --behind REC..., or --self-test)")
    args.prefix = args.prefix[0]
    for suffix in (".rec.json", ".sched.txt"):
        if not os.path.exists(args.prefix + suffix):
            sys.exit("lockwait_trace: %s%s: no such file (record it with wake_trace.py --out %s)"
                     % (args.prefix, suffix, args.prefix))
    r, rows = analyse(args.prefix, names, args.min_us)
    report(r, rows)


if __name__ == "__main__":
    main()
