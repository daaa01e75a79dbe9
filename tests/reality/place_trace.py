#!/usr/bin/env python3
"""Where the kernel runs a program thread that another program thread wakes,
against where it ran before (issue 15; docs/model.md, "Where a woken thread
runs"). The model's machine key wake_affine is the share of the calibration's
Lock hand-offs whose woken thread ran on its waker's CPU; Linux's
select_task_rq_fair keeps an idle previous CPU (wake_affine_idle, then
select_idle_sibling returns an idle target at once) unless it is not
"available" (vcpu_is_preempted, a wake already pending there). This traces
which of the two the kernel did.

Runs a program under a tracefs instance of its own (sched_waking,
sched_wakeup, sched_switch, sched_migrate_task; root) and, for each wake-up
of one of the program's threads by another (the sched_waking logged in the
waker's own context, not in an interrupt), says:

  prev      the woken thread's previous CPU (sched_waking's target_cpu, the
            kernel's task_cpu before it chooses) and what it was doing at the
            wake: "idle" (its last sched_switch was to the idle task and no
            wake-up has been aimed at it since), "idle, wake pending" (idle,
            but a task woken onto it has not run yet: Linux's idle_cpu() says
            busy), "waker's" (the waker's own CPU: the two shared it),
            "program" / "other" (running another thread of the program, or of
            another process); "not asleep" when the woken thread had not yet
            switched out asleep (no choice is made: it stays where it is);
  landed    sched_wakeup's target_cpu: "prev", "waker's" (the waker's CPU,
            when that is not prev) or "other";
  another   whether a CPU other than the waker's was idle at the wake (the
            model draws wake_affine only then).

Wakes with no waker of the program (a timer's expiry in an interrupt, the
main thread's gate) are counted apart, by the same classes. Per run it gives
the table, the share of wakes with an idle previous CPU that went back there,
the share of the others (previous CPU not idle, another CPU idle) that went
to the waker's CPU (what the model's draw should be), other processes' share
of the machine (noise.Meter) and the program's own figure: for "lock" the
calibration's shares (programs.lock_placement_stay, read by the threads
themselves: hand-offs on the waker's CPU, and of those whose woken thread
had last run on its waker's CPU the ones that stayed there), for "switches"
the switches per second of two CPU threads (programs.switch_rate).

    python3 tests/reality/place_trace.py [--programs lock switches]
        [--repeats 3] [--turns 5000] [--interval-ms 0.1] [--seconds 0.5]
        [--keep DIR] [--json OUT]                    (root: tracefs)
    python3 tests/reality/place_trace.py --analyse PREFIX   (a kept run)
    python3 tests/reality/place_trace.py --self-test        (ctest)
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

EVENTS = ("sched_switch", "sched_waking", "sched_wakeup", "sched_migrate_task")
# "comm-pid [cpu] flags ts: event: fields"; the comm may hold spaces and
# dashes, a tgid column "(  123)" may follow it
LINE = re.compile(r"^\s*(.+?)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(\d+)\]\s+(\S+)\s+"
                  r"(\d+\.\d+): (\w+): (.*)$")
FIELD = re.compile(r"(\w+)=(\S+)")
PREV = ("idle", "idle, wake pending", "waker's", "program", "other", "not asleep")
LANDED = ("prev", "waker's", "other")

# The traced program: each thread the program starts writes its kernel tid
# (threading.Thread.run wrapped before programs.py starts any), then the
# program runs between two lines of its own so the trace can be cut to it.
CHILD = r'''
import json, sys, threading
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import noise, programs as P
tids, run = [], threading.Thread.run
def wrapped(self):
    tids.append(threading.get_native_id())
    run(self)
threading.Thread.run = wrapped
what, turns, interval, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
out = {"program": what}
if what == "switches":
    n = int(seconds / 2 / (P.cal_switch_counter_ns() * 1e-9))
with noise.Meter() as m:
    if what == "lock":
        p = P.lock_placement_stay(turns)
        out["same"] = p[2] if p else None
        out["stayed_shared"] = list(p[:2]) if p else None
    else:
        sw, el = P.switch_rate(interval, n)
        out["switches_per_s"] = sw / el
out["others"] = m.others
out["tids"] = tids
print(json.dumps(out))
'''


def parse(lines):
    """Trace lines -> (t_ns, cpu, kind, fields, by_pid, in_irq): by_pid the
    task that logged the event, in_irq whether it was logged in a hard or
    soft interrupt (the flags' third character: h, H, s, b, z, Z)."""
    out = []
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        f = dict(FIELD.findall(m.group(7)))
        flags = m.group(4)
        irq = len(flags) > 2 and flags[2] not in ".-"
        out.append((int(round(float(m.group(5)) * 1e9)), int(m.group(3)), m.group(6), f,
                    int(m.group(2)), irq))
    return out


def empty_table():
    return {p: dict.fromkeys(LANDED, 0) for p in PREV}


def analyse(events, tids):
    """Classifies each wake-up of a thread in tids (docs above). Returns
    {"by_program": table, "no_waker": table, "by_program_another_idle":
    table} where a table is {prev class: {landed: count}}."""
    w = set(tids)
    cur = {}        # cpu -> pid running (0: the idle task)
    pending = {}    # cpu -> pids woken onto it that have not run yet
    asleep = set()  # program threads switched out asleep, not woken since
    waking = {}     # pid -> (prev, waker cpu, prev class, another idle, by program)
    res = {"by_program": empty_table(), "no_waker": empty_table(),
           "by_program_another_idle": empty_table()}

    def idle(c):
        return cur.get(c) == 0 and not pending.get(c)

    for t, cpu, kind, f, by, irq in events:
        if kind == "sched_switch":
            p, n = int(f["prev_pid"]), int(f["next_pid"])
            cur[cpu] = n
            pending.setdefault(cpu, set()).discard(n)
            if p in w and f.get("prev_state", "R")[0] in "SDI":
                asleep.add(p)
            continue
        pid = int(f.get("pid", -1))
        if kind == "sched_wakeup":  # any task's: its CPU is no longer idle
            pending.setdefault(int(f["target_cpu"]), set()).add(pid)
        elif kind == "sched_migrate_task":
            o, d = int(f["orig_cpu"]), int(f["dest_cpu"])
            if pid in pending.get(o, ()):
                pending[o].discard(pid)
                pending.setdefault(d, set()).add(pid)
        if pid not in w:
            continue
        if kind == "sched_waking":
            prev = int(f["target_cpu"])
            mine = by in w and by != pid and not irq
            if pid not in asleep:
                cls = "not asleep"
            elif mine and prev == cpu:
                cls = "waker's"
            elif cur.get(prev) == 0:
                cls = "idle" if not pending.get(prev) else "idle, wake pending"
            elif cur.get(prev) in w:
                cls = "program"
            else:
                cls = "other"
            another = any(idle(c) for c in cur if c != cpu)
            waking[pid] = (prev, cpu if mine else None, cls, another, mine)
        elif kind == "sched_wakeup":
            asleep.discard(pid)
            tgt = int(f["target_cpu"])
            wk = waking.pop(pid, None)
            if wk is None:
                continue
            prev, wcpu, cls, another, mine = wk
            landed = "prev" if tgt == prev else "waker's" if tgt == wcpu else "other"
            res["by_program" if mine else "no_waker"][cls][landed] += 1
            if mine and another:
                res["by_program_another_idle"][cls][landed] += 1
    return res


def shares(res):
    """kept_idle_prev: of the program's wakes whose previous CPU was idle,
    the share that went back there; affine_busy_prev: of those whose previous
    CPU was not idle (the waker's, or running another thread) while another
    CPU was idle, the share queued on the waker's CPU (the model's draw);
    same: of all the program's wakes of an asleep thread, the share that ran
    on the waker's CPU (what the calibration's getcpu log reads)."""
    t, a = res["by_program"], res["by_program_another_idle"]
    idle = sum(t["idle"].values())
    busy = [a[c] for c in ("waker's", "program", "other", "idle, wake pending")]
    nb = sum(sum(x.values()) for x in busy)
    on_waker = sum(x["waker's"] for x in busy) + a["waker's"]["prev"]
    asleep = [t[c] for c in PREV if c != "not asleep"]
    n = sum(sum(x.values()) for x in asleep)
    same = sum(x["waker's"] for x in asleep) + t["waker's"]["prev"]
    return {"wakes": n, "prev_idle": idle,
            "kept_idle_prev": t["idle"]["prev"] / idle if idle else None,
            "busy_prev_another_idle": nb,
            "affine_busy_prev": on_waker / nb if nb else None,
            "same": same / n if n else None}


def show(name, res, extra):
    print("%s: %s" % (name, ", ".join("%s %s" % (k, v) for k, v in extra.items())))
    for key in ("by_program", "no_waker"):
        print("  %s: previous CPU at the wake -> landed (%s)" % (
            key.replace("_", " "), " / ".join(LANDED)))
        for c in PREV:
            row = res[key][c]
            if sum(row.values()):
                print("    %-20s %s" % (c, " / ".join("%5d" % row[x] for x in LANDED)))
    s = shares(res)
    fmt = lambda v: "-" if v is None else "%.2f" % v  # noqa: E731
    print("  kept an idle previous CPU: %s of %d; queued on the waker's CPU while its previous"
          " CPU was not idle and another was: %s of %d; on the waker's CPU overall: %s of %d"
          % (fmt(s["kept_idle_prev"]), s["prev_idle"], fmt(s["affine_busy_prev"]),
             s["busy_prev_another_idle"], fmt(s["same"]), s["wakes"]))
    return s


def record(args, what, prefix):
    from tracefs import sched_trace
    with sched_trace("gilsim-place", EVENTS, 30000, CHILD, prefix) as (put, prog):
        put("tracing_on", "1")
        try:
            p = subprocess.run([sys.executable, prog, HERE, what, str(args.turns),
                                str(args.interval_ms / 1000.0), str(args.seconds)],
                               capture_output=True, text=True)
        finally:
            put("tracing_on", "0")
    if p.returncode:
        sys.exit("place_trace.py: the %s program failed: %s" % (what, p.stderr.strip()))
    with open(prefix + ".out.json", "w") as f:
        f.write(p.stdout)


def analyse_prefix(prefix):
    try:
        out = json.load(open(prefix + ".out.json"))
        lines = open(prefix + ".sched.txt").readlines()
    except (OSError, ValueError) as e:
        sys.exit("place_trace.py: %s: cannot read this run (%s); --analyse wants the PREFIX "
                 "under which --keep wrote PREFIX.out.json and PREFIX.sched.txt" % (prefix, e))
    if not isinstance(out, dict) or not isinstance(out.get("tids"), list):
        sys.exit("place_trace.py: %s.out.json: want an object with \"tids\" (a list of "
                 "thread ids)" % prefix)
    return out, analyse(parse(lines), out["tids"])


def main_run(args):
    if os.geteuid() != 0:
        sys.exit("place_trace.py: tracing needs root (tracefs); --self-test needs none")
    keep = args.keep or tempfile.mkdtemp(prefix="place_trace-")
    os.makedirs(keep, exist_ok=True)
    runs = []
    for i in range(args.repeats):  # the programs interleaved, round by round
        for what in args.programs:
            prefix = os.path.join(keep, "%s-%d" % (what, i))
            record(args, what, prefix)
            out, res = analyse_prefix(prefix)
            extra = {"others": "?" if out["others"] is None else "%d%%" % round(100 * out["others"])}
            if what == "lock":
                extra["calibration's share"] = "%.2f" % out["same"]
                if out.get("stayed_shared"):
                    extra["its log: stayed on the waker's CPU / last ran there"] = "%d/%d" % tuple(
                        out["stayed_shared"])
            else:
                extra["switches/s"] = "%.0f" % out["switches_per_s"]
            s = show("%s, round %d" % (what, i + 1), res, extra)
            runs.append({"program": what, "round": i + 1, "out": out, "table": res, "shares": s})
    print("medians over rounds (spread):")
    for what in args.programs:
        rs = [r for r in runs if r["program"] == what]
        for k in ("kept_idle_prev", "affine_busy_prev", "same"):
            v = [r["shares"][k] for r in rs if r["shares"][k] is not None]
            if v:
                print("  %-8s %-16s %.2f (%.2f-%.2f)" % (what, k, statistics.median(v), min(v),
                                                        max(v)))
        o = [r["out"]["others"] for r in rs if r["out"]["others"] is not None]
        if o:
            print("  %-8s others used %s" % (what, ", ".join("%d%%" % round(100 * x) for x in o)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f, indent=1)
    print("kept under %s" % keep)


def self_test():
    """place_trace_test.py, on kernel traces made by hand."""
    import place_trace_test
    return place_trace_test.main()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--programs", nargs="+", choices=("lock", "switches"),
                    default=["lock", "switches"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--turns", type=int, default=5000, help="Lock hand-offs (lock)")
    ap.add_argument("--interval-ms", type=float, default=0.1, help="switch interval (switches)")
    ap.add_argument("--seconds", type=float, default=0.5, help="length of the switches run")
    ap.add_argument("--keep", help="directory for the traces (default: a new temporary one)")
    ap.add_argument("--json", help="write every run's tables and shares here")
    ap.add_argument("--analyse", metavar="PREFIX")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if args.analyse:
        out, res = analyse_prefix(args.analyse)
        show(args.analyse, res, {"program": out.get("program"), "others": out.get("others")})
        return 0
    main_run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
