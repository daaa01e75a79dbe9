"""Writes docs/validation.md from the results of reality.py.

The file is written to a temporary name in the same folder and renamed, so an
interrupted run never leaves half a report. What the page says of the
machine's kernel comes from the run's calibration (the Machine), so a replay
of a tape (reality.py --model-only TAPE --write) describes the machine the
tape was recorded on, and a tape that lacks it is refused before the replay.

  report.py --self-test   the kernel tick read from a replayed tape, and a
                          tape without it refused in one line (exit 2)
"""
import os
import platform
import sys

import explain
from reality import RACE_EXPERIMENTS, RACE_MIN_APART, RACE_NOW_RUNS, RACE_NOW_RUNS5, \
    TARGET, fmt, race_text


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _tick(m):
    """The page's kernel tick: the CONFIG_HZ the calibration read
    (programs.kernel_hz, answered by the tape in a replay), else the tick it
    took from a busy CPU's timer interrupts, else the model's default. Never
    asked of this machine again: a replayed tape's machine may not be it."""
    hz = getattr(m, "config_hz", None)
    if hz:
        return "%d Hz (%.0f ms), CONFIG_HZ" % (hz, 1000 / hz)
    tick = getattr(m, "tick_s", None)
    if tick and "timer interrupts per second on a busy CPU" in m.notes:
        return ("%.0f Hz (%.0f ms), from a busy CPU's timer interrupts (no kernel config "
                "readable)" % (1 / tick, 1000 * tick))
    return "4 ms, the model's default (neither the kernel config nor the timer interrupts " \
        "were readable)"


# programs.py's measurements that the page states and only the calibration
# makes: a replayed tape must hold an answer to each (None counts: the
# recording machine could not read it, and the page says so)
TAPE_NEEDS = {"kernel_hz": "the kernel's CONFIG_HZ, the page's kernel tick"}


def tape_lacks(tape):
    """None if the replayed tape (reality.Tape) holds what the page needs,
    else the one-line error naming what it lacks."""
    lacks = [n for n in TAPE_NEEDS if n not in tape.calls]
    if not lacks:
        return None
    return ("reality: --model-only %s --write: the tape has no answer for %s (recorded "
            "before reality.py asked for it); replay it without --write, or record it again "
            "with --save-real" % (tape.path, ", ".join("%s (%s)" % (n, TAPE_NEEDS[n])
                                                      for n in lacks)))


# how requester_first was set (reality.py Machine.fit_requester_first)
RF_FROM = {
    "measured": "the share of forced drops at which the thread that asked for the drop was "
                "already asleep in its futex when the holder signalled (the holder had found "
                "the GIL's mutex still held by it, or came later), measured in the kernel: "
                "three CPU-bound threads at 1 ms traced (tests/reality/race_trace.py: their "
                "futex calls and switches), the drops whose holder and requester ran on two "
                "CPUs, pooled over the runs other processes disturbed least (a lower bound: the "
                "trace's own cost delays the requester on its way into its wait); the same at 5 ms "
                "gives `requester_first_idle`, the two shares against the idle depth of the "
                "requesters' CPUs (the requester's path is slower after a deeper idle; the "
                "raw figures below); the model fit to the A B A share is kept as a "
                "cross-check",
    "fitted": "the chance that a thread asking for a GIL drop is asleep before the holder "
              "signals, fitted through the model (this run could not trace the kernel, or "
              "its traces had too few drops on two CPUs): with three CPU-bound threads, "
              "the share of GIL switches that go back to the thread before the last one "
              "(A B A), and the model's `requester_first` set so that the model shows the "
              "same share",
    "A B A": "read without a trace (reality.py --race-from aba): with three CPU-bound "
             "threads at 1 ms, untraced, the share of GIL switches that go back to the thread "
             "before the last one (A B A), inverted through the model with the holder woken at "
             "the requester's unlock (`race_holder_sleeps` false in every scenario), where "
             "that share falls as `requester_first` rises; one chance for every drop (the "
             "traced idle curve and own chance, and each experiment's fresh trace, are kept "
             "as cross-checks, not used)",
}


def _header(meta):
    m = meta["machine"]
    out = [
        "# Validation: gilsim against real CPython",
        "",
        "<!-- Generated by tests/reality/reality.py; do not edit by hand. -->",
        "",
        "Each experiment runs a small threaded program on the real `python3` of this machine, "
        "then the gilsim scenario that describes it, with the costs it needs (one loop turn, "
        "one hash call, one round trip, the wake-up latency) calibrated on the machine in the "
        "same run. A key figure is *within target* when the prediction is within "
        "%d%% of the measurement. The programs are in `tests/reality/programs.py`, the "
        "scenario generators in `tests/reality/scenarios.py`; pass `--keep DIR` to keep the "
        "generated scenario files." % round(TARGET * 100),
        "",
        "Regenerate with `./run.sh reality` on a quiet machine (this page's experiments "
        "take the run time in the table below, most of it the lock ping-pong beside a CPU "
        "thread; the replays and the other versions follow; an "
        "experiment that other processes disturbed is run again, up to three times, and "
        "the least disturbed attempt is kept). "
        "The short version that ctest runs (`ctest -L reality`) checks only the direction "
        "of each effect, on the real interpreter and on the model, never these numbers; "
        "`reality_directions_model` replays two kept real runs through the model at the "
        "calibrations a real machine produced, loaded and quiet, and checks the model's "
        "directions there (tests/reality/directions.py).",
        "",
        "Every other CPython on the machine (2.7, 3.6 to 3.13), each against its "
        "`python.version` preset, and the free-threaded builds against published figures: "
        "[validation-versions.md](validation-versions.md).",
        "",
        "## This run",
        "",
        "| | |",
        "|---|---|",
        "| date | %s |" % meta["date"],
        "| command | `%s` |" % meta["command"],
        "| python | %s (`%s`) |" % (meta["python"], meta["executable"]),
        "| machine | %s, %d CPUs, Linux %s |" % (_cpu_model(), os.cpu_count() or 0,
                                                platform.release()),
        "| kernel tick | %s |" % _tick(m),
        "| measured under load | %s |" % (
            "yes: the load average was above the number of CPUs, other engineers' builds "
            "and tests shared the machine; read the figures with the share of the machine "
            "other processes used, given under each experiment"
            if max(meta["load_before"][0], meta["load_after"][0]) > (os.cpu_count() or 1)
            else "no"),
        "| load average before / after | %.2f %.2f %.2f / %.2f %.2f %.2f |"
        % (*meta["load_before"], *meta["load_after"]),
        "| run time | %.0f s |" % meta["seconds"],
        "| nice value | %d%s |" % (meta["nice"], " (raised priority: the kernel favoured "
                                   "these measurements over other processes)"
                                   if meta["nice"] < 0 else ""),
        "| gilsim | %s |" % ("`%s`, %d scenarios run" % (meta["gilsim"].path, meta["gilsim"].n - 1)
                             if meta["gilsim"].ok else "not run: %s" % meta["gilsim"].error),
        "",
        "Every constant below is measured in blocks (five pipe ping-pongs, three runs of "
        "the rest) and taken from the blocks other processes disturbed least (the median "
        "of the better half, by the share of the machine others used during each), and "
        "the idle wake-ups and the timers count only the trips whose CPU did idle (the "
        "CPU's cpuidle counters), so that one burst of load does not set a constant "
        "every scenario uses (`tests/reality/calib_spread.py N DIR` repeats the "
        "calibration and gives each constant's spread). "
        "Machine model in every generated scenario: %d cores, policy %s (the kernel's: %s), "
        "a run queue per core as Linux keeps one per CPU (`run_queues: \"per_core\"`), "
        "scheduler tick %s (CONFIG_HZ, or the timer interrupts of a busy CPU), context "
        "switch %s (pipe ping-pong with both threads on one CPU). Wake-ups: a *hot* one, "
        "%s, on a CPU that idled about as long (pipe ping-pong between two CPUs, the "
        "threads pinned to one each, minus the write and read themselves), against idle "
        "depth (`wakeup_idle`, a pipe wake-up of a thread on the other CPU after both "
        "slept 0 to 10 ms, at the depth its CPU really waited, the sleep and its "
        "overshoot, over the trips during which that CPU did idle: %s; medians, each "
        "written less half the jitter), plus a "
        "seeded draw from 0 to `wakeup_jitter` %s (the interquartile range of single "
        "round trips), and what a wake-up onto the other, "
        "idle CPU costs the waker beyond the system call, `wake_ipi` %s (a Lock release "
        "that wakes a thread pinned to the other CPU, against one pinned to its own); "
        "where the kernel runs a woken thread whose previous CPU is busy, `wake_affine` "
        "%.2f (of the Lock hand-offs, the threads unpinned, whose woken thread had last "
        "run on its waker's CPU, the share that stayed there; one whose previous CPU is "
        "idle goes back there, as traced). "
        "Thread.start's creation, `python.thread_create` %s (`_thread.start_new_thread` "
        "of an empty function, timed by its caller); the EEVDF base slice: %s. "
        "Timers: the thread's own "
        "timer slack, %s (`/proc/self/timerslack_ns`), plus what a timer of its length "
        "costs beyond the slack and half the jitter "
        "(`timer_late`, from `time.sleep(d)` for d = 0, 50 us, 200 us, 1 ms and 5 ms, "
        "pinned, the sleeps during which the CPU idled: %s; the timer wakes its thread "
        "on its own CPU, `timer_wake: \"local\"`, so no wake-up is subtracted or "
        "charged; 0 where the overshoot is below slack and half the jitter, the raw "
        "figures below say by how much), "
        "plus "
        "a seeded draw from 0 to `timer_jitter` %s (twice the interquartile range of the "
        "1 ms overshoots whose CPU idled, which is what a uniform draw from 0 to the jitter "
        "has), and "
        "`timer_arm` %s, what arming or cancelling a timer that is its CPU's first costs "
        "its thread (the clock event device reprogrammed; tests/reality/timerarm.c: a "
        "20 us timerfd's arming on a pinned busy CPU less a 50 ms one's). glibc's "
        "condition variable: `futex` %s (a Lock release that wakes a thread blocked on "
        "it, both pinned to one CPU, minus a release that wakes nobody), a system call "
        "that finds nothing to do, `syscall` %s (a `futex_wake` with nobody to wake, "
        "through ctypes, minus a libc call that makes none; Python 2's GIL release pays it "
        "while its waiter is awake), and "
        "`requester_first` %.2f, %s (docs/model.md, \"The race between a drop request "
        "and the drop\"). %s `timeslice` and the `cfs_*` "
        "keys serve only policies this kernel does not run. Raw calibration "
        "figures: %s."
        % (m.cores, getattr(m, "policy", "cfs"), m.notes.get("kernel", "unknown"),
           fmt(getattr(m, "tick_s", 0.004), "s"), fmt(m.context_switch_s, "s"),
           fmt(m.wake_hot_s, "s"),
           ", ".join("%s idle: %s" % (fmt(d, "s"), fmt(lat, "s"))
                     for d, lat in getattr(m, "wake_curve", [])) or "none",
           fmt(getattr(m, "wake_jitter_s", 0.0), "s"), fmt(getattr(m, "wake_ipi_s", 0.0), "s"),
           getattr(m, "wake_affine", 0.0),
           fmt(getattr(m, "thread_create_s", None), "s"),
           "%s, read from %s" % (fmt(m.eevdf_slice_s, "s"),
                                 getattr(m, "eevdf_slice_from", "the kernel"))
           if getattr(m, "eevdf_slice_s", None)
           else "not readable here (%s), so the model's default, 0.75 ms x (1 + "
                "log2(cores))" % getattr(m, "eevdf_slice_from", "debugfs"),
           fmt(getattr(m, "slack_s", 0.0), "s"),
           ", ".join("%s: %s" % (fmt(d, "s"), fmt(lat, "s"))
                     for d, lat in getattr(m, "timer_curve", [])) or "none",
           fmt(m.timer_jitter_s, "s"), fmt(getattr(m, "timer_arm_s", 0.0), "s"),
           fmt(m.futex_s, "s"),
           fmt(getattr(m, "bare_syscall_s", None), "s") if getattr(m, "bare_syscall_s", None)
           else "not measured here, the model's default 100 ns", m.requester_first,
           RF_FROM.get(getattr(m, "requester_first_from", "fitted"), RF_FROM["fitted"]),
           migration_text(m),
           "; ".join("%s %s" % (k, v if isinstance(v, str) else
                                fmt(v, "" if "share" in k or "requester_first" in k
                                    or "calls per" in k else "s"))
                     for k, v in m.notes.items())
           + " (other processes used %.0f%% of the machine meanwhile)"
           % (100 * getattr(m, "others", 0))),
        "",
    ]
    return out


def _race_scheme(meta):
    """How the experiments got the race (reality.py race_for)."""
    text = (
        "The race (`requester_first`, `requester_first_idle`) moves with the machine within "
        "half an hour on a quiet host (docs/model.md, \"The race, measured when each "
        "experiment runs\"), so in the full run the experiments whose model depends on it "
        "(a key figure moved by 12%% to 6x between `requester_first` 0.1 and 0.9 on one "
        "tape: %s) get it measured again right "
        "before each attempt, the calibration's program traced the same way (%d runs of "
        "%g s at 1 ms, %d of %g s at 5 ms), in a copy of the calibration that differs in "
        "those two keys only; the other experiments, the short run, a run that cannot "
        "trace the kernel and fresh traces with fewer than %d forced drops on two CPUs "
        "use the calibration's. Each experiment's section says which race it used and "
        "when it was measured."
        % (", ".join(RACE_EXPERIMENTS), len(RACE_NOW_RUNS), RACE_NOW_RUNS[0],
           len(RACE_NOW_RUNS5), RACE_NOW_RUNS5[0], RACE_MIN_APART))
    if meta.get("race_s"):
        text += (" This run traced it again %d times (every attempt, kept or not), for %.0f s "
                 "in all." % (len(meta["race_s"]), sum(meta["race_s"])))
    if meta.get("race") == "shared":
        text += (" This run was made with `--race shared`: every experiment used the "
                 "calibration's race, and the fresh one is given beside it.")
    return [text, ""]


def migration_text(m):
    """The page's sentence on machine.migration_cost: measured by migcost.c's
    step, or why not."""
    mc = getattr(m, "migration_cost_s", None)
    if mc is not None:
        return ("`migration_cost` %s, how long after its last run a thread queued on a busy "
                "CPU stays cache-hot, so that an idle CPU's balance leaves it there "
                "(tests/reality/migcost.c: the thread, queued behind a spinner, last ran u "
                "before its CPU's tick, the other CPU idle, and the tick's balance pulls it "
                "once it is cold: the step in the pulls against u plus the pull's delay "
                "after the tick, over the trials whose other CPU idled through them; the "
                "kernel's `sysctl_sched_migration_cost`, whose debugfs file kernel lockdown "
                "refuses to read, is 0.5 ms by default). Not measured:" % fmt(mc, "s"))
    ran = any("migcost.c" in k for k in getattr(m, "notes", {}))
    return ("Not measured: `migration_cost`, the model's 0.5 ms, the kernel's default "
            "(debugfs, where the kernel keeps it, refuses reads under kernel lockdown, and "
            "%s);" % ("tests/reality/migcost.c's pulls at the tick showed no clean step: the "
                      "raw figures below say why" if ran else
                      "tests/reality/migcost.c, which would find it by the kernel's pulls, "
                      "could not run here"))


def _summary(results):
    out = ["## Summary", "", "| experiment | key figures within %d%% | direction of the effect "
           "(real / model) |" % round(TARGET * 100), "|---|---|---|"]
    for r in results:
        keys = [x for x in r.rows if x.key]
        hit = sum(1 for x in keys if x.within)
        known = sum(1 for x in keys if x.within is not None)
        dirs = ", ".join("%s/%s" % ("yes" if c.measured else "NO",
                                    "-" if c.predicted is None else
                                    "yes" if c.predicted else "NO") for c in r.checks)
        out.append("| [%s](#%s) | %s | %s |" % (
            r.title, r.id, "%d of %d" % (hit, known) if known else "no prediction", dirs))
    return out + [""]


def _experiment(r):
    out = ['<a id="%s"></a>' % r.id, "", "## %s" % r.title, "", r.program, ""]
    if r.calibration:
        out.append("Calibrated in this run: " + "; ".join(
            "%s %s" % (k, v if isinstance(v, (int, str)) else fmt(v, "s"))
            for k, v in r.calibration.items()) + ".")
        out.append("")
    if r.model_error:
        out += ["**The model failed on this experiment:** `%s`" % r.model_error, ""]
    out.append("Other processes used %s of the machine during this experiment (%.1f s)."
               % ("an unknown share" if r.others is None else "%.0f%%" % (100 * r.others),
                  r.seconds))
    if getattr(r, "race", None):
        out += ["", "The race between a drop request and the drop: %s." % race_text(r.race)]
    out += ["", "| figure | measured | predicted | predicted / measured | within %d%% |"
            % round(TARGET * 100), "|---|---|---|---|---|"]
    for x in r.rows:
        within = ("n/a" if x.within is None else "yes" if x.within else "**no**") \
            if x.key else "(context)"
        out.append("| %s | %s | %s | %s | %s |" % (
            x.label, fmt(x.measured, x.unit), fmt(x.predicted, x.unit),
            "n/a" if x.ratio is None else "%.2f" % x.ratio, within))
    out += ["", "Direction of the effect:", ""]
    for c in r.checks:
        out.append("- %s: real %s, model %s" % (
            c.text, "yes" if c.measured else "**no**",
            "not run" if c.predicted is None else "yes" if c.predicted else "**no**"))
    out.append("")
    for note in r.notes:
        out += [note, ""]
    text = explain.explain(r)
    if text:
        out += text + [""]
    return out


# What follows this line in the file is not reality.py's: it is kept as it is
# (other generators, e.g. the recordings section, own it).
END = "<!-- end of the part tests/reality/reality.py writes; what follows is kept -->"
OTHERS = ("## Recordings",)
KEPT = "<!-- recordings: begin -->"  # written by bench/bench_record.py, kept here


def _kept(path):
    """The part of the old file that another generator owns."""
    try:
        with open(path) as f:
            old = f.read()
    except OSError:
        return ""
    if END in old:
        return old.split(END, 1)[1].lstrip("\n")
    if KEPT in old:
        start = old.rfind("\n## ", 0, old.index(KEPT))
        return old[start + 1:]
    for head in OTHERS:
        i = old.find("\n" + head)
        if i >= 0:
            return old[i + 1:]
    return ""


def write(path, results, meta):
    lines = _header(meta) + _race_scheme(meta) + _summary(results)
    for r in results:
        lines += _experiment(r)
    kept = _kept(path)
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("\n".join(lines).rstrip() + "\n\n" + END + "\n")
        if kept:
            f.write("\n" + kept)
    os.replace(tmp, path)


# --- self-test ---------------------------------------------------------------------

def _self_test():
    """The page's kernel tick comes from the calibration's machine (what a
    replayed tape answered), never from this machine; a replay with --write
    of a tape that lacks it stops before the replay, in one line, exit 2,
    writing nothing."""
    import pickle
    import subprocess
    import tempfile
    import types
    import programs
    import reality as R
    fails = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            fails.append(what)

    def header_tick(m):
        meta = {"machine": m, "date": "today", "command": "reality.py", "python": "3",
                "executable": "python3", "load_before": (0.0,) * 3, "load_after": (0.0,) * 3,
                "seconds": 1.0, "nice": 0,
                "gilsim": types.SimpleNamespace(ok=False, error="not run here")}
        rows = [x for x in _header(meta) if x.startswith("| kernel tick |")]
        return rows[0] if len(rows) == 1 else repr(rows)

    live = programs.kernel_hz

    def asked(*a):
        raise AssertionError("the page asked this machine's kernel_hz")
    programs.kernel_hz = asked
    try:
        m = R.Machine.default()
        m.config_hz = 300  # what the tape answered: not this machine's
        row = header_tick(m)
        check(row == "| kernel tick | 300 Hz (3 ms), CONFIG_HZ |", "the tape's CONFIG_HZ: " + row)
        m = R.Machine.default()
        m.tick_s, m.notes["timer interrupts per second on a busy CPU"] = 1e-3, "998"
        row = header_tick(m)
        check("1000 Hz (1 ms), from a busy CPU's timer interrupts" in row,
              "no config, the interrupts' tick: " + row)
        row = header_tick(R.Machine.default())
        check("the model's default" in row, "neither: " + row)
    finally:
        programs.kernel_hz = live

    with tempfile.TemporaryDirectory(prefix="gilsim-report-") as d:
        def tape(name, calls):
            path = os.path.join(d, name)
            with open(path, "wb") as f:
                pickle.dump(calls, f)
            return path
        with_hz = tape("with.tape", {"kernel_hz": [250], "kernel_version": [(6, 18)]})
        none_hz = tape("none.tape", {"kernel_hz": [None]})
        without = tape("without.tape", {"kernel_version": [(6, 18)]})
        t = R.Tape(with_hz, True)
        check(tape_lacks(t) is None, "a tape with kernel_hz is enough for the page")
        check(programs.kernel_hz() == 250, "the replay answers kernel_hz from the tape")
        check(tape_lacks(R.Tape(none_hz, True)) is None,
              "a tape whose machine could not read the config (None) is enough")
        msg = tape_lacks(R.Tape(without, True)) or ""
        check("kernel_hz" in msg and without in msg and "\n" not in msg,
              "a tape without kernel_hz: one line naming it and the tape: " + msg)
        programs.kernel_hz = live

        out = os.path.join(d, "page.md")
        p = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "reality.py"),
                            "--model-only", without, "--write", out],
                           capture_output=True, text=True, timeout=60)
        err = p.stderr.strip()
        check(p.returncode == 2, "reality.py --model-only (no kernel_hz) --write exits 2 "
              "(got %d)" % p.returncode)
        check(err.count("\n") == 0 and "kernel_hz" in err and "Traceback" not in err,
              "its error is one line naming kernel_hz: %r" % err)
        check(not os.path.exists(out), "and it writes no page")
        check(sorted(os.listdir(d)) == ["none.tape", "with.tape", "without.tape"],
              "and leaves no file beside the tapes: %r" % sorted(os.listdir(d)))
    print("%d check(s) failed" % len(fails) if fails else "report self-test: PASS")
    return 1 if fails else 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--self-test"]:
        print("usage: report.py --self-test (reality.py --write uses this module)",
              file=sys.stderr)
        sys.exit(2)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(_self_test())
