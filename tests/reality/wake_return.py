#!/usr/bin/env python3
"""A woken thread that preempts another program thread and blocks again:
does the CPU go back to the thread it preempted? From a kernel sched trace
of a real run (root: tracefs) or from a model run's CSV, read the same way
(replay point 32: `hash_pool`'s main thread, woken by a hasher's
`set_result`, preempts the hasher that still holds the GIL, asks for the
GIL and sleeps a few microseconds later; who runs next decides whether the
hasher's hold stretches over a whole turn of the other hashers).

For each preemption of a program thread (the victim) by the thread named
--wakee (default MainThread), on one CPU or core:

  ran     how long the victim had run since it last got the CPU (Linux
          EEVDF: within its slice it keeps its virtual deadline, and as long
          as it is eligible it is the next pick once the wakee leaves)
  back    whether the victim is the next to run there when the wakee leaves
          its CPU, or another thread (another program thread or, in a
          kernel trace, another process)

counted by buckets of `ran`, apart for a victim that woke the wakee itself
(kernel: the wakee's last sched_waking was logged by the victim outside an
interrupt; model: the victim was preempted at an op that wakes a waiter, a
put, release, set or notify; a GIL hand-off's wake inside a C call is not
told apart there and counts as not known). With a kernel trace it also says, for each
wake-up of the wakee by another program thread, where the kernel put it:
on the waker's own CPU, on another CPU running a program thread or another
process, or on an idle CPU, and how long until it ran there (a busy other
CPU takes the reschedule IPI).

    sudo python3 tests/reality/wake_return.py --record PREFIX [--one-cpu]
        [--own-group] [-- SCRIPT ARGS...]   (default: examples/hash_pool.py 4 48 4096)
    python3 tests/reality/wake_return.py PREFIX          (PREFIX.sched.txt + PREFIX.tids.json)
    gilsim run FIT --set cpus=0 --csv RUN.csv --quiet
    python3 tests/reality/wake_return.py RUN.csv [...]   (model runs, summed)
    python3 tests/reality/wake_return.py --self-test     (ctest, no root)

--record runs the script under the interpreter with threading.Thread.run
wrapped to note each thread's kernel tid and name (PREFIX.tids.json), while
a tracefs instance of its own keeps sched_switch, sched_waking and
sched_wakeup (PREFIX.sched.txt). --one-cpu runs it under `taskset -c 0`;
--own-group puts it in a session of its own at autogroup nice -20, which
keeps other sessions' programs mostly off its CPUs. The other processes'
share of the CPUs in the run is printed: on a loaded machine they cut the
program's runs short. Exit: 0 done, 1 self-test failed, 2 bad input.
"""
import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # tests/checks.py
sys.dont_write_bytecode = True
from recording import model_rows  # noqa: E402

# "comm-pid [cpu] flags ts: event: fields"
LINE = re.compile(r"^\s*(.+?)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(\d+)\]\s+(\S+)\s+"
                  r"(\d+\.\d+): (\w+): (.*)$")
FIELD = re.compile(r"(\w+)=(\S+)")
BUCKETS = ((0, 50e3), (50e3, 500e3), (500e3, 1.5e6), (1.5e6, 3e6), (3e6, float("inf")))
BUCKET_NAMES = ("< 50 us", "50-500 us", "0.5-1.5 ms", "1.5-3 ms", ">= 3 ms")
WAKING_OP = re.compile(r"\] (put|release|set|notify)\b")
LANDS = ("waker's CPU", "busy (program)", "busy (other)", "idle")

CHILD = r'''
import json, runpy, sys, threading
names = {threading.get_native_id(): "MainThread"}
run = threading.Thread.run
def wrapped(self):
    names[threading.get_native_id()] = self.name
    run(self)
threading.Thread.run = wrapped
out, sys.argv = sys.argv[1], sys.argv[2:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    with open(out, "w") as f:
        json.dump(names, f)
'''


def bucket(ns):
    for i, (lo, hi) in enumerate(BUCKETS):
        if lo <= ns < hi:
            return i
    return len(BUCKETS) - 1


KINDS = ("its waker", "not known to be its waker")


def new_counts():
    return {k: {"back": [0] * len(BUCKETS), "other": [0] * len(BUCKETS)} for k in KINDS} | {
            "lands": collections.defaultdict(list), "cpu_shares": []}


# ---------------------------------------------------------------- kernel trace

def read_trace(path):
    """[(t_ns, cpu, event, logger_pid, fields)] in the file's order; fields
    has irq_ true when the event was logged in an interrupt (a timer's
    expiry: no program thread woke anyone)."""
    out = []
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if m:
                f = dict(FIELD.findall(m.group(7)))
                f["irq_"] = any(c in "hHsz" for c in m.group(4)[2:4])
                out.append((int(round(float(m.group(5)) * 1e9)), int(m.group(3)), m.group(6),
                            int(m.group(2)), f))
    return out


def kernel(prefix, wakee, counts):
    """Adds one kernel trace's preemptions and wakes to counts."""
    try:
        with open(prefix + ".tids.json") as f:
            tids = {int(k): v for k, v in json.load(f).items()}
        ev = read_trace(prefix + ".sched.txt")
    except (OSError, ValueError) as e:
        raise ValueError("%s: not a kept trace (%s)" % (prefix, e))
    main = [k for k, v in tids.items() if v == wakee]
    if not main:
        raise ValueError("%s: no thread named %s in its tids" % (prefix, wakee))
    main = main[0]
    cur, since = {}, {}          # cpu -> running pid; pid -> when it got its CPU
    cur_since = {}               # cpu -> when its running pid got it
    others = collections.Counter()  # cpu -> other processes' time on it in the run
    mine = collections.Counter()    # cpu -> the program's time on it
    pending = None               # (cpu, victim, ran_ns): the wakee preempted victim there
    wake = None                  # (t, waker cpu, landed cpu, class): the wakee's last wake
    waker = None                 # the program thread that woke the wakee last, or None
    first = last = None
    for t, cpu, kind, by, f in ev:
        if kind == "sched_waking" and int(f["pid"]) == main:
            waker = by if by in tids and by != main and not f["irq_"] else None
        if kind == "sched_waking" and int(f["pid"]) == main and waker is not None:
            wake = [t, cpu, None, None]
        elif kind == "sched_wakeup" and int(f["pid"]) == main and wake and wake[2] is None:
            tgt = int(f["target_cpu"])
            on = cur.get(tgt, 0)
            wake[2] = tgt
            wake[3] = (LANDS[0] if tgt == wake[1] else LANDS[3] if on == 0 else
                       LANDS[1] if on in tids else LANDS[2])
        if kind != "sched_switch":
            continue
        prev, nxt, state = int(f["prev_pid"]), int(f["next_pid"]), f["prev_state"]
        if first is not None and cpu in cur and cur[cpu] != 0:
            ran = t - max(cur_since[cpu], first)
            (mine if cur[cpu] in tids else others)[cpu] += ran
        if nxt in tids and first is None:
            first = t
        if prev in tids:
            last = t
        if prev == main and pending and pending[0] == cpu:
            k = "back" if nxt == pending[1] else "other"
            counts[pending[3]][k][bucket(pending[2])] += 1
            pending = None
        if nxt == main:
            if prev in tids and prev != main and state.startswith("R"):
                pending = (cpu, prev, t - since.get(prev, t), KINDS[prev != waker])
            if wake and wake[3] is not None and wake[2] == cpu:
                counts["lands"][wake[3]].append(t - wake[0])
            wake = None
        cur[cpu] = nxt
        cur_since[cpu] = t
        since[nxt] = t
    if first is not None and last is not None:
        for c in sorted(mine):
            counts["cpu_shares"].append((c, mine[c] / (last - first), others[c] / (last - first)))
    return counts


# ---------------------------------------------------------------- model run

def model(path, wakee, counts):
    """Adds one `gilsim run --csv` file's preemptions to counts: the wakee's
    run on a core that begins the instant the core's previous thread went
    ready (preempted), and who ran there after it."""
    core, ready_at = collections.defaultdict(list), {}
    try:
        for r in model_rows(path):
            s, e = int(r["start_ns"]), int(r["end_ns"])
            if r["lane_kind"] == "core":
                core[r["lane"]].append((s, e, r["thread"]))
            elif r["lane_kind"] == "thread" and r["state"] == "ready":
                ready_at[(r["thread"], s)] = r["op"]
    except OSError as e:
        raise ValueError("%s: %s" % (path, e))
    for iv in core.values():
        iv.sort()
        runs = []
        for s, e, th in iv:
            if runs and runs[-1][2] == th and runs[-1][1] == s:
                runs[-1][1] = e
            else:
                runs.append([s, e, th])
        for k in range(1, len(runs)):
            prev, w = runs[k - 1], runs[k]
            if (w[2] != wakee or prev[2] == wakee or prev[1] != w[0]
                    or prev[2].startswith("other load") or (prev[2], w[0]) not in ready_at):
                continue
            nxt = runs[k + 1][2] if k + 1 < len(runs) and runs[k + 1][0] == w[1] else None
            # the victim woke the wakee if it was preempted at an op that wakes
            # a waiter (the fit's put on the wakee's queue, a release, a set)
            op = ready_at[(prev[2], w[0])]
            kind = KINDS[not WAKING_OP.search(op)]
            counts[kind]["back" if nxt == prev[2] else "other"][bucket(prev[1] - prev[0])] += 1
    return counts


# ---------------------------------------------------------------- report

def report(counts, label):
    lines = ["%s: the wakee preempted a program thread; did the CPU go back to it when "
             "the wakee left?" % label]
    for kind in KINDS:
        c = counts[kind]
        b, o = sum(c["back"]), sum(c["other"])
        lines.append("  the victim was %s: %d, back %d (%.0f%%)"
                     % (kind, b + o, b, 100.0 * b / (b + o) if b + o else 0))
        for i, name in enumerate(BUCKET_NAMES):
            b, o = c["back"][i], c["other"][i]
            if b + o:
                lines.append("    it had run %-10s back %3d of %3d" % (name, b, b + o))
    for k in LANDS:
        v = counts["lands"].get(k)
        if v:
            lines.append("  woken by a program thread onto %-15s %3d, ran after %.1f us (median)"
                         % (k, len(v), statistics.median(v) / 1e3))
    for c, mine, others in counts["cpu_shares"]:
        lines.append("  CPU %d in the run: the program %.0f%% of the time, other processes %.0f%%"
                     % (c, 100 * mine, 100 * others))
    return lines


def record(a):
    import tracefs
    script = a.script or [os.path.join(HERE, "..", "..", "examples", "hash_pool.py"),
                          "4", "48", "4096"]
    tids = a.record + ".tids.json"
    events = ("sched_switch", "sched_waking", "sched_wakeup")
    with tracefs.sched_trace("gilsim-wake-return", events, 40000, CHILD, a.record) as (put, prog):
        cmd = [a.python, prog, tids] + script
        if a.one_cpu:
            cmd = ["taskset", "-c", "0"] + cmd
        if a.own_group:
            cmd = ["setsid", "sh", "-c", 'echo -20 > /proc/self/autogroup; exec "$@"', "sh"] + cmd
        put("tracing_on", "1")
        try:
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        finally:
            put("tracing_on", "0")
    print("wrote %s.sched.txt and %s" % (a.record, tids))


# ---------------------------------------------------------------- self-test

def self_test():
    """wake_return_test.py, on a kernel trace and model run made by hand."""
    import wake_return_test
    return wake_return_test.main()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("inputs", nargs="*", help="PREFIX of a kept kernel trace, or RUN.csv files")
    ap.add_argument("--wakee", default="MainThread")
    ap.add_argument("--record", metavar="PREFIX")
    ap.add_argument("--one-cpu", action="store_true")
    ap.add_argument("--own-group", action="store_true")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--self-test", action="store_true")
    argv = sys.argv[1:] if argv is None else argv
    script = argv[argv.index("--") + 1:] if "--" in argv else []
    a = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    a.script = script
    if a.self_test:
        return self_test()
    if a.record:
        record(a)
        return 0
    if not a.inputs:
        ap.error("give a kept trace's PREFIX or model RUN.csv files")
    try:
        runs = [p for p in a.inputs if p.endswith(".csv")]
        for p in a.inputs:
            if not p.endswith(".csv"):
                print("\n".join(report(kernel(p, a.wakee, new_counts()), "real " + p)))
        if runs:
            c = new_counts()
            for p in runs:
                model(p, a.wakee, c)
            print("\n".join(report(c, "model, %d run%s" % (len(runs), "" if len(runs) == 1
                                                           else "s"))))
    except ValueError as e:
        print("wake_return: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
