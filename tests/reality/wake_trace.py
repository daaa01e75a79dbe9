#!/usr/bin/env python3
"""Where the GIL's hand-offs wake their waiter, against the recorder's pipe
ping-pong (issue 14, the wake-up a replay charges). Records a program with
`gilsim record` while a tracefs instance of its own keeps the kernel's
sched_waking / sched_wakeup / sched_switch events in the same clock
(CLOCK_MONOTONIC), then, for each GIL hand-off (a `signal` to a waiter and
that waiter's `woken`), says where the kernel woke the waiter:

  - `asleep? no`: no sched_waking for it between the signal and its
    `woken` (it had not yet gone to sleep in its futex wait);
  - `same CPU`: onto the waker's own CPU (a context switch, no IPI);
  - `idle CPU`: onto another CPU that was idle, and for how long it had
    been idle when the wake-up came (on this VM an idle vCPU halts at once:
    cpuidle haltpoll with guest_halt_poll_ns 0, so the wake is an IPI that
    the host delivers to a halted vCPU);
  - `busy (own)` / `busy (other)`: onto another CPU running another
    thread of the program / of another process.

For each class: how many, and the medians of signal -> woken (what the
recording sees), sched_waking -> the waiter switched in (the kernel's
part). The recorder's calibration runs in the traced window too, before the
program starts: its pipe wake-ups between the two pinned threads are
classified the same way (threads of the `gilsim` process before the
recording's t0), so both figures come from one trace.

Needs root (tracefs) and a built gilsim. The machine's other load changes
where wakes land: note the load it prints.

    sudo python3 tests/reality/wake_trace.py --gilsim build/sim/cli/gilsim \\
        -- examples/producer_consumer.py 4000
    python3 tests/reality/wake_trace.py --analyse PREFIX   # an earlier run's files
    python3 tests/reality/wake_trace.py --by-wait REC...   # recordings alone, no root

--by-wait needs no trace: each GIL hand-off's signal -> hold against how
long the waiter had waited, which on a machine other programs left idle is
how long its CPU had idled.
"""
import argparse
import bisect
import json
import os
import statistics as st
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
from tracefs import TRACEFS, sched_events, sched_trace  # noqa: E402

EVENTS = ("sched_switch", "sched_waking", "sched_wakeup")


def record(args, prefix):
    with sched_trace("gilsim-wake", EVENTS, 40000, "", prefix) as (put, _prog):
        put("tracing_on", "1")
        subprocess.run([args.gilsim, "record", "-q", "-o", prefix + ".rec.json", "--",
                        args.python] + args.program, check=True)
        put("tracing_on", "0")
    with open(prefix + ".load", "w") as f:
        f.write(open("/proc/loadavg").read())


def kernel(prefix):
    """The trace as (t_ns monotonic, cpu, kind, fields), in time order."""
    return sorted(sched_events(prefix), key=lambda x: x[0])


class Cpus:
    """Each CPU's state at any instant, from sched_switch: who runs there,
    and since when it is idle."""

    def __init__(self, kev):
        self.sw = {}  # cpu -> [(t, next_pid)]
        for t, cpu, kind, f in kev:
            if kind == "sched_switch":
                self.sw.setdefault(cpu, []).append((t, int(f["next_pid"])))
        self.ts = {c: [x[0] for x in v] for c, v in self.sw.items()}

    def at(self, cpu, t):
        """(pid running on cpu just before t, since when), or (None, None)."""
        if cpu not in self.sw:
            return None, None
        i = bisect.bisect_left(self.ts[cpu], t) - 1
        if i < 0:
            return None, None
        return self.sw[cpu][i][1], self.sw[cpu][i][0]

    def switch_in(self, cpu, pid, t, until):
        """When pid was next switched in on cpu after t (before until)."""
        if cpu not in self.sw:
            return None
        i = bisect.bisect_left(self.ts[cpu], t)
        while i < len(self.sw[cpu]) and self.sw[cpu][i][0] <= until:
            if self.sw[cpu][i][1] == pid:
                return self.sw[cpu][i][0]
            i += 1
        return None


def classify(cpus, waker_cpu, target, t, own=()):
    """The class of a wake-up onto target by a thread on waker_cpu at t, and
    the target's idle depth (us) when it was idle; own: the traced
    program's thread ids (a busy CPU running one of them is `busy (own)`)."""
    if target == waker_cpu:
        return "same CPU", None
    pid, since = cpus.at(target, t)
    if pid == 0:
        return "idle CPU", (t - since) / 1e3
    if pid is None:
        return "unknown", None
    return ("busy (own)" if pid in own else "busy (other)"), None


def wake_of(kev_by_pid, pid, t0, t1):
    """The first (waking, wakeup) events of pid in [t0, t1]."""
    lst = kev_by_pid.get(pid, [])
    i = bisect.bisect_left([x[0] for x in lst], t0)
    waking = wakeup = None
    for t, cpu, kind, f in lst[i:]:
        if t > t1:
            break
        if kind == "sched_waking" and waking is None:
            waking = (t, cpu, f)
        elif kind == "sched_wakeup" and waking is not None:
            wakeup = (t, cpu, f)
            break
    return waking, wakeup


def q(v):
    if not v:
        return "-"
    v = sorted(v)
    return "%.1f (%.1f-%.1f)" % (st.median(v), v[len(v) // 4], v[3 * len(v) // 4])


def table(title, rows):
    """rows: (class, idle_us or None, user latency us or None, kernel latency us)."""
    print(title)
    classes = {}
    for c, idle, user, kern in rows:
        classes.setdefault(c, []).append((idle, user, kern))
    n = len(rows)
    print("  %-12s %6s %6s  %-22s %-22s %-22s" % ("class", "n", "share", "idle before (us)",
                                                   "signal->woken (us)", "waking->on CPU (us)"))
    for c in ("asleep? no", "same CPU", "idle CPU", "busy (own)", "busy (other)", "unknown"):
        if c not in classes:
            continue
        v = classes[c]
        print("  %-12s %6d %5.0f%%  %-22s %-22s %-22s" % (
            c, len(v), 100 * len(v) / max(n, 1), q([x[0] for x in v if x[0] is not None]),
            q([x[1] for x in v if x[1] is not None]), q([x[2] for x in v if x[2] is not None])))
    idle = [(x[0], x[2]) for x in classes.get("idle CPU", []) if x[2] is not None]
    if idle:
        print("  idle CPU by idle depth (us): kernel wake latency median (n)")
        for lo, hi in ((0, 10), (10, 50), (50, 200), (200, 1000), (1000, 1e9)):
            v = [k for d, k in idle if lo <= d < hi]
            if v:
                print("    %6g-%-6g %6.1f (%d)" % (lo, hi if hi < 1e9 else float("inf"),
                                                   st.median(v), len(v)))


def by_pid_of(kev):
    out = {}
    for x in kev:
        if x[2] in ("sched_waking", "sched_wakeup"):
            out.setdefault(int(x[3]["pid"]), []).append(x)
    return out


def handoffs(r, kev):
    """Rows for table(): each GIL hand-off of recording r (a signal to a
    waiter, to the waiter's woken), classified by where the kernel woke it."""
    t0 = r["t0_monotonic_ns"]
    cpus, by_pid = Cpus(kev), by_pid_of(kev)
    tid = {i: t["tid"] for i, t in enumerate(r["threads"])}
    rows = []
    for t in r["threads"]:
        for e in t["events"]:
            if e[1] != "signal" or e[2] not in tid:
                continue
            ts = e[0]
            woken = next((x[0] for x in r["threads"][e[2]]["events"]
                          if x[0] >= ts and x[1] in ("woken", "futile_wakeup", "timeout",
                                                     "drop_request")), None)
            if woken is None:
                continue
            pid = tid[e[2]]
            waking, wakeup = wake_of(by_pid, pid, t0 + ts, t0 + woken)
            user = (woken - ts) / 1e3
            if waking is None or wakeup is None:
                rows.append(("asleep? no", None, user, None))
                continue
            target = int(wakeup[2]["target_cpu"])
            c, idle = classify(cpus, waking[1], target, waking[0], set(tid.values()))
            on = cpus.switch_in(target, pid, waking[0], t0 + woken)
            rows.append((c, idle, user, (on - waking[0]) / 1e3 if on else None))
    return rows


def analyse(prefix):
    r = json.load(open(prefix + ".rec.json"))
    kev = kernel(prefix)
    try:
        print("load average at the end:", open(prefix + ".load").read().strip())
    except OSError:
        pass
    print("program:", " ".join(r.get("command", [])), " others used %.0f%% of the machine" % (
        100 * r.get("others_cpu_ns", 0) / max(1, r["duration_ns"] * r["host"]["cores_online"])))
    print("calibration: wake_hot %.1f us, context switch %.1f us" % (
        r["calibration"]["wake_hot_ns"] / 1e3, r["calibration"]["context_switch_ns"] / 1e3))
    table("GIL hand-offs (a signal to a waiter, to its woken):", handoffs(r, kev))
    # the recorder's pipe ping-pong: wakes of gilsim's threads before t0
    table("the recorder's calibration (its threads' wake-ups before the program):",
          comm_wakes(kev, Cpus(kev), by_pid_of(kev), "gilsim", r["t0_monotonic_ns"]))


def by_wait(paths):
    """--by-wait: from recordings alone (no trace, no root), each GIL
    hand-off's signal -> the waiter's hold against how long the waiter had
    been waiting for the GIL (its ask, or its last timed wait's return, to
    the signal): on a machine other programs left idle, its CPU idled about
    that long, so this is the machine's wake-up against idle depth as the
    GIL itself met it."""
    for p in paths:
        r = json.load(open(p))
        th = r["threads"]
        rows = []
        for t in th:
            for e in t["events"]:
                if e[1] != "signal" or not 0 <= e[2] < len(th):
                    continue
                ev = th[e[2]]["events"]
                since = [x[0] for x in ev if x[0] <= e[0] and x[1] in (
                    "ask", "timeout", "futile_wakeup", "drop_request")]
                hold = next((x[0] for x in ev if x[0] >= e[0] and x[1] == "hold"), None)
                if since and hold is not None and hold - e[0] < 5_000_000:
                    rows.append(((e[0] - since[-1]) / 1e3, (hold - e[0]) / 1e3))
        print("%s: other programs used %.0f%% of the machine" % (os.path.basename(p), 100 * r.get(
            "others_cpu_ns", 0) / max(1, r["duration_ns"] * r["host"].get("cores_online", 1))))
        for lo, hi in ((0, 10), (10, 50), (50, 200), (200, 1000), (1000, 5000), (5000, 1e12)):
            v = [lat for d, lat in rows if lo <= d < hi]
            if v:
                print("  waited %5g-%-5s us: %4d hand-offs, signal->hold %s us" % (
                    lo, "%g" % hi if hi < 1e12 else "", len(v), q(v)))


def self_test():
    """wake_trace_test.py, on a recording and kernel trace made by hand."""
    import wake_trace_test
    return wake_trace_test.main()


def comm_wakes(kev, cpus, by_pid, comm, t_end):
    """Rows for table(): every wake-up of a thread named comm before t_end."""
    rows = []
    own = {pid for pid, lst in by_pid.items() if any(x[3]["comm_"] == comm for x in lst)}
    for pid in own:
        lst = by_pid[pid]
        for t, cpu, kind, f in lst:
            if kind != "sched_waking" or t >= t_end:
                continue
            wakeup = next((x for x in lst if x[0] >= t and x[2] == "sched_wakeup"), None)
            if wakeup is None:
                continue
            target = int(wakeup[3]["target_cpu"])
            c, idle = classify(cpus, cpu, target, t, own)
            on = cpus.switch_in(target, pid, t, t + 20_000_000)
            rows.append((c, idle, None, (on - t) / 1e3 if on else None))
    return rows


def trace_command(args, prefix):
    """--command: trace any program (a wake-up benchmark) and classify the
    wake-ups of its threads the same way."""
    with sched_trace("gilsim-wake", EVENTS, 40000, "", prefix) as (put, _prog):
        put("tracing_on", "1")
        subprocess.run(args.program, check=True)
        put("tracing_on", "0")
    kev = kernel(prefix)
    cpus = Cpus(kev)
    by_pid = {}
    for x in kev:
        if x[2] in ("sched_waking", "sched_wakeup"):
            by_pid.setdefault(int(x[3]["pid"]), []).append(x)
    comm = os.path.basename(args.program[0])[:15]
    table("wake-ups of %s's threads:" % comm, comm_wakes(kev, cpus, by_pid, comm, 1 << 62))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gilsim", default="build/sim/cli/gilsim")
    ap.add_argument("--python", default="python3")
    ap.add_argument("--out", default=None, help="prefix of the files written (default: a temp dir)")
    ap.add_argument("--analyse", metavar="PREFIX", help="only analyse PREFIX.rec.json and "
                    "PREFIX.sched.txt of an earlier run")
    ap.add_argument("--by-wait", action="store_true", help="the programs are recordings: "
                    "their GIL hand-offs' latency against how long the waiter had waited")
    ap.add_argument("--self-test", action="store_true", help="check the classification on a "
                    "hand-written trace (no root) and exit")
    ap.add_argument("--command", action="store_true", help="trace the program as a command "
                    "(not under gilsim record) and classify its own threads' wake-ups")
    ap.add_argument("program", nargs="*", help="the script and its arguments, after --")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if args.by_wait:
        by_wait(args.program)
        return 0
    if args.analyse:
        analyse(args.analyse)
        return 0
    if not args.program:
        ap.error("a program to record, after --")
    if not os.access(os.path.join(TRACEFS, "instances"), os.W_OK):
        print("wake_trace.py: needs a writable %s/instances (root)" % TRACEFS, file=sys.stderr)
        return 2
    prefix = args.out or os.path.join(tempfile.mkdtemp(prefix="wake-"),
                                      os.path.basename(args.program[0]).split(".")[0])
    if args.command:
        trace_command(args, prefix)
        return 0
    record(args, prefix)
    print("files: %s.rec.json, %s.sched.txt" % (prefix, prefix))
    analyse(prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
