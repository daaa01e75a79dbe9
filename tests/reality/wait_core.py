#!/usr/bin/env python3
"""Where a GIL waiter's timed wait runs out, and why there: the chain back
from each forced-drop request to the run in which the requester went to
sleep (and armed its timer), in a real recording with the kernel's sched
events or in a model run (gilsim run --csv and --trace of the same run).

The timer of a thread's timed wait fires on the CPU that armed it (Linux's
hrtimers are per CPU; the model's machine.timer_wake "local"), and the
thread is armed where it last ran before it slept. So the requester is on
the GIL holder's CPU at its request (tests/reality/request_core.py: real
56-87% of the convoy's requests, the model 1%) only if it last ran there.
For each drop request this finds the requester's arming run (its last run
before the request's, or for a model's requester, which runs for no time
at its request, its last run) and says:

  why it ran then: what it did last before it slept, the latest of its own
  GIL release ("after its release": a forced dropper back from its switch
  wait, or a thread back from I/O or a C call), a futile wake-up, or an
  earlier timeout;
  where: on the CPU of the thread that held the GIL when that run began
  (for a forced dropper: the new holder that woke it), or elsewhere;
  and at the request: whether the holder then runs on the armed CPU.

And, whatever the CPUs, how long since the requester's own last GIL release
(the last forced dropper asks at once and times out one switch interval
later; an older waiter re-armed after an earlier timeout or a futile
wake-up).

    python3 tests/reality/wait_core.py PREFIX.rec.json [--sched PREFIX.sched.txt]
    python3 tests/reality/wait_core.py RUN.csv --trace RUN.trace.json
    python3 tests/reality/wait_core.py --self-test [--gilsim GILSIM]   (ctest)
"""
import argparse
import bisect
import collections
import json
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import request_core as RC  # noqa: E402


def holds_of_recording(rec):
    """[(start, end, name)] of the GIL's holds in a recording."""
    out, open_ = [], {}
    ev = sorted((e[0], th["name"], e[1]) for th in rec["threads"] for e in th["events"]
                if e[1] in ("hold", "release"))
    for t, name, kind in ev:
        if kind == "hold":
            open_[name] = t
        elif name in open_:
            out.append((open_.pop(name), t, name))
    for name, s in open_.items():
        out.append((s, float("inf"), name))
    out.sort()
    return out


def marks_of_recording(rec):
    """{name: sorted [(t, kind)]} of futile wake-ups and timeouts."""
    out = collections.defaultdict(list)
    for th in rec["threads"]:
        for e in th["events"]:
            if e[1] in ("futile_wakeup", "timeout"):
                out[th["name"]].append((e[0], e[1]))
    for v in out.values():
        v.sort()
    return out


def marks_of_trace(path):
    with open(path) as f:
        doc = json.load(f)
    evs = doc["traceEvents"] if isinstance(doc, dict) else doc
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in evs
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    out = collections.defaultdict(list)
    for e in evs:
        if e.get("ph") == "i" and e["args"]["kind"] in ("futile_wakeup", "timeout"):
            out[names.get((e["pid"], e["tid"]))].append((int(round(e["ts"] * 1000)),
                                                         e["args"]["kind"]))
    for v in out.values():
        v.sort()
    return out


def holder_at(holds, t):
    starts = [h[0] for h in holds]
    j = bisect.bisect_right(starts, t) - 1
    return holds[j][2] if j >= 0 and holds[j][0] <= t < holds[j][1] else None


def last_before(v, t):
    """The last (t, ...) of sorted v at or before t, or None."""
    i = bisect.bisect_right(v, (t, chr(0x10FFFF))) - 1
    return v[i] if i >= 0 else None


def chain(requests, runs, holds, marks, model):
    """Per request: (why, woke_where, at_request) or None if the arming run
    is unknown. why: 'after its release', 'after a futile wake-up', 'after
    an earlier timeout'; woke_where: "holder's CPU" (the arming run on the
    CPU of the thread holding the GIL as it began, that thread on a CPU),
    'other CPU', 'holder off a CPU', 'nobody held'; at_request: 'holder on
    the armed CPU' or 'holder elsewhere'."""
    rel_by = collections.defaultdict(list)
    for s, e, name in holds:
        rel_by[name].append((e, "release"))
    out = []
    for t, req, holder, sig, taker in requests:
        v = runs.get(req, [])
        i = bisect.bisect_right(v, (t, float("inf"), 1 << 30)) - 1
        if not model and i >= 0 and v[i][0] <= t <= v[i][1]:
            i -= 1  # the run holding the request began with the timer's wake
        while i >= 0 and v[i][1] > t:
            i -= 1
        if i < 0:
            out.append(None)
            continue
        s, e, cpu = v[i]
        cand = [x for x in (last_before(rel_by[req], e), last_before(marks.get(req, []), e))
                if x is not None]
        kind = max(cand)[1] if cand else None
        why = {"release": "after its release", "futile_wakeup": "after a futile wake-up",
               "timeout": "after an earlier timeout", None: "nothing seen"}[kind]
        h0 = holder_at(holds, s)
        if h0 is None or h0 == req:
            where = "nobody held"
        else:
            hc = RC.cpu_at(runs, h0, s)
            where = "holder off a CPU" if hc is None else (
                "holder's CPU" if hc == cpu else "other CPU")
        hc_t = RC.cpu_at(runs, holder, t - 1)
        if hc_t is None:
            w = [r for r in runs.get(holder, []) if r[0] <= t]
            hc_t = w[-1][2] if w else None
        out.append((why, where, "holder on the armed CPU" if hc_t == cpu else
                    "holder elsewhere"))
    return out


def ages(requests, holds):
    """Per request: the time since the requester's own last GIL release
    (ns), None if it never held. A forced dropper asks again at once and
    times out one switch interval later; an older waiter has re-armed after
    an earlier timeout or a futile wake-up."""
    rel = collections.defaultdict(list)
    for s, e, name in holds:
        rel[name].append(e)
    out = []
    for t, req, holder, sig, taker in requests:
        i = bisect.bisect_right(rel[req], t) - 1
        out.append(t - rel[req][i] if i >= 0 else None)
    return out


def takers(requests, runs, holds):
    """Per forced drop that another thread took: (n_prev, n_took, other)
    with n_prev 'prev on the dropper's CPU' or 'prev elsewhere' (the CPU of
    the taker's last run before the run in which it took the GIL: where it
    slept, so where Linux's select_task_rq_fair sees its previous CPU), n_took
    'took on the dropper's CPU' or 'took elsewhere', and other 'other CPU
    free' or 'other CPU ours' (a thread of ours besides the two on the other
    CPU as the taker took; two CPUs). The dropper's signal wakes the taker:
    a taker whose previous CPU is the dropper's (the waker's) is the wake
    that Linux does not hand to wake_affine and that select_idle_sibling
    keeps unless its scan finds an idle CPU."""
    starts = [h[0] for h in holds]
    out = []
    for t, drop, holder, sig, taker in requests:
        if not taker or taker == holder:
            continue
        j = bisect.bisect_right(starts, t) - 1
        while 0 <= j < len(holds) and holds[j][2] == holder:
            j += 1
        if j <= 0 or j >= len(holds) or holds[j][2] != taker:
            continue
        td, tn = holds[j - 1][1], holds[j][0]
        dc = RC.cpu_at(runs, holder, td - 1)
        if dc is None:
            v = [r for r in runs.get(holder, []) if r[0] <= td]
            dc = v[-1][2] if v else None
        v = runs.get(taker, [])
        i = bisect.bisect_right(v, (tn, float("inf"), 1 << 30)) - 1
        if i < 0 or dc is None:
            continue
        on = v[i][0] <= tn <= v[i][1]
        took = v[i][2]  # the run holding the take (a model's taker that ran for no time: its last)
        prev = (v[i - 1][2] if i >= 1 else None) if on else took
        busy = any(RC.cpu_at(runs, u, tn) not in (None, dc) for u in runs
                   if u not in (taker, holder))
        out.append(("prev on the dropper's CPU" if prev == dc else "prev elsewhere",
                    "took on the dropper's CPU" if took == dc else "took elsewhere",
                    "other CPU ours" if busy else "other CPU free"))
    return out


def report_takers(rows, out=sys.stdout):
    n = len(rows)
    print("forced drops another thread took: %d; the taker's previous CPU, where it took "
          "the GIL, and the other CPU then:" % n, file=out)
    for k, v in sorted(collections.Counter(rows).items()):
        print("  %-26s %-26s %-15s %5d (%3.0f%%)" % (k + (v, 100.0 * v / n)), file=out)


def report(rows, age=None, out=sys.stdout):
    known = [r for r in rows if r]
    n = len(known)
    print("drop requests: %d (arming run found for %d)" % (len(rows), n), file=out)
    a = sorted(x / 1e6 for x in (age or []) if x is not None)
    if a:
        print("  the requester's time since its own last release: p10 %.2f p50 %.2f p90 %.2f ms"
              % (RC.pct(a, 0.1), RC.pct(a, 0.5), RC.pct(a, 0.9)), file=out)
    if not n:
        return
    at = collections.Counter(r[2] for r in known)
    print("  at the request: holder on the CPU the requester armed its timer on %d (%.0f%%)"
          % (at["holder on the armed CPU"], 100.0 * at["holder on the armed CPU"] / n), file=out)
    c = collections.Counter(known)
    by_why = collections.Counter(r[0] for r in known)
    for why, nw in by_why.most_common():
        print("  %-24s %5d (%3.0f%%); its arming run began on:" % (why, nw, 100.0 * nw / n),
              file=out)
        for where in ("holder's CPU", "other CPU", "holder off a CPU", "nobody held"):
            a = c[(why, where, "holder on the armed CPU")]
            b = c[(why, where, "holder elsewhere")]
            if a + b:
                print("      the then holder's %-16s %5d, at the request the holder on "
                      "the armed CPU %5d (%3.0f%%)" % (
                          where.replace("holder's ", "") if where == "holder's CPU" else where,
                          a + b, a, 100.0 * a / (a + b)), file=out)


def self_test(gilsim=None):
    """A hand-made run: r1 drops the GIL at 100 on CPU 0, the new holder h
    runs on CPU 0 from 100, r1 runs 105-110 on CPU 0 (woken by h) and asks at
    1200 (holder h still on CPU 0); r2 is woken futilely at 300 and runs
    300-305 on CPU 1, asks at 1300 (h on CPU 0)."""
    runs = {"r1": [(0, 100, 0), (105, 110, 0), (1195, 1205, 0)],
            "h": [(100, 2000, 0)],
            "r2": [(300, 305, 1), (1295, 1305, 1)]}
    holds = [(0, 100, "r1"), (100, 2000, "h")]
    marks = {"r2": [(302, "futile_wakeup")]}
    reqs = [(1200, "r1", "h", 1210, "h"), (1300, "r2", "h", 1310, "h")]
    got = chain(reqs, runs, holds, marks, model=False)
    # r2's run at 300 began while h held the GIL on CPU 0: 'other CPU'
    want = [("after its release", "holder's CPU", "holder on the armed CPU"),
            ("after a futile wake-up", "other CPU", "holder elsewhere")]
    ok = got == want
    print("%s chain (recording): %s" % ("ok" if ok else "FAIL", got))
    # the model's requester runs for no time at its request: its last run arms
    mruns = {"r1": [(0, 100, 0), (105, 110, 1)], "h": [(100, 2000, 0)]}
    got2 = chain([(1200, "r1", "h", 1200, "r1")], mruns, holds, {}, model=True)
    want2 = [("after its release", "other CPU", "holder elsewhere")]
    ok2 = got2 == want2
    print("%s chain (model): %s" % ("ok" if ok2 else "FAIL", got2))
    # takers: d drops on CPU 0 at 100; n slept on CPU 0 (10-20) and takes at
    # 105 there, o running on CPU 1; m slept on CPU 1 and takes at 405 there
    truns = {"d": [(0, 100, 0), (400, 410, 0)], "n": [(10, 20, 0), (105, 400, 0)],
             "o": [(50, 200, 1)], "m": [(30, 40, 1), (405, 600, 1)]}
    tholds = [(0, 100, "d"), (105, 400, "n"), (405, 600, "m")]
    got4 = takers([(90, "n", "d", 100, "n"), (390, "m", "n", 400, "m")], truns, tholds)
    want4 = [("prev on the dropper's CPU", "took on the dropper's CPU", "other CPU ours"),
             ("prev elsewhere", "took elsewhere", "other CPU free")]
    ok4 = got4 == want4
    print("%s takers: %s" % ("ok" if ok4 else "FAIL", got4))
    # with the GIL's mutex held by a preempted dropper against every asker
    # (python.gil_mutex_all, off by default) and without: the same directions
    ok3 = (model_self_test(gilsim) and model_self_test(gilsim, {"gil_mutex_all": True})
           if gilsim else True)
    return 0 if ok and ok2 and ok3 and ok4 else 1


# The convoy with four CPU threads at 1 ms on two cores (tests/reality's
# convoy-many row, shortened), its machine written out as the direction
# checked depends on it: per-core queues, timers waking on their own core.
MODEL = {
    "name": "wait_core self-test: an I/O thread beside 4 CPU threads at 1 ms",
    "seed": 1,
    "machine": {"cores": 2, "policy": "eevdf", "tick": "4ms", "run_queues": "per_core",
                "timer_wake": "local", "wakeup_latency": "20us", "requester_first": 0.35,
                "eevdf_slice": "1400us"},
    "python": {"gil": "cpython3", "switch_interval": "1ms"},
    "threads": [
        {"name": "io", "program": [{"repeat": 60, "do": [{"sleep": "200us"}, {"cpu": "400ns"}]}]},
        {"name": "cpu", "count": 4, "program": [{"cpu": "400ms"}]}],
}
BUSY = [{"name": "other load", "python": {"gil": "none"},
         "threads": [{"name": "load", "daemon": True, "program": [{"cpu": "100s"}]}]}]


def model_share(gilsim, sc, d, tag):
    import subprocess
    path = os.path.join(d, tag + ".json")
    with open(path, "w") as f:
        json.dump(sc, f)
    c, tr = os.path.join(d, tag + ".csv"), os.path.join(d, tag + ".trace.json")
    subprocess.run([gilsim, "run", path, "--csv", c, "--trace", tr, "--quiet"], check=True)
    runs, holds = RC.runs_of_csv(c)
    rows = [r for r in chain(RC.requests_of_trace(tr, holds), runs, holds,
                             marks_of_trace(tr), model=True) if r]
    return sum(1 for r in rows if r[2] == "holder on the armed CPU"), len(rows)


# Beside the busy program the model's run has two regimes: our threads and
# the load share both cores, the load thread moving between them (timers
# mostly off the holder's core), until it settles on one core with our
# threads on the other (timers on the holder's core). When it settles moves
# with any small change of the run's history: at seeds 1-12 the share is
# 6-98% by seed (4 of 12 seeds under 50%) and a 10-event change (the GIL's
# mutex, python.gil_mutex_all) moved seed 1 from 75% to 19% while the
# other seeds went the other way (1 of 12 under 50%, replay note 50). So
# the direction is judged on the median of several seeds, not on one.
BUSY_SEEDS = (1, 2, 3, 4, 5)


def model_self_test(gilsim, sets=None):
    """The direction the convoy's kernel traces give (docs/model.md 'No idle
    core', where a timed wait runs out): with both cores free to our threads
    the requester's timer runs out on the other core than the holder's
    (real, quiet: 10% on the holder's CPU), and with another program's thread
    always busy on one core it runs out on the holder's (real, loaded:
    56-87%), because the four threads then share the one core left (the
    median of BUSY_SEEDS). sets: python keys to add to both runs."""
    import tempfile
    base = json.loads(json.dumps(MODEL))
    base["python"].update(sets or {})
    shares = []
    with tempfile.TemporaryDirectory() as d:
        a, n = model_share(gilsim, base, d, "quiet")
        for seed in BUSY_SEEDS:
            b, m = model_share(gilsim, dict(base, seed=seed, processes=BUSY), d, "busy")
            shares.append((b / m if m else 0.0, b, m))
    shares.sort()
    med, b, m = shares[len(shares) // 2]
    ok = n > 100 and m > 100 and a < 0.2 * n and med > 0.5
    print("%s model%s: the requester's timer on the holder's core at %d of %d requests with "
          "both cores ours (< 20%%); beside another program's busy thread at %s (seeds sorted) "
          "(median > 50%%)"
          % ("ok" if ok else "FAIL", " with %s" % sets if sets else "", a, n,
             " ".join("%.0f%%" % (100 * x[0]) for x in shares)))
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", nargs="?", help="a recording (.rec.json) or a model run's --csv")
    ap.add_argument("--sched", help="with a recording: the kernel's events of the same run")
    ap.add_argument("--trace", help="with a model CSV: the same run's --trace JSON")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--gilsim", help="with --self-test: also check a model run's direction")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test(a.gilsim)
    if not a.file:
        ap.error("give a recording with --sched, or a model CSV with --trace")
    try:
        if a.file.endswith(".csv"):
            if not a.trace:
                ap.error("a model CSV needs --trace (the same run's --trace JSON)")
            runs, holds = RC.runs_of_csv(a.file)
            reqs = RC.requests_of_trace(a.trace, holds)
            age = ages(reqs, holds)
            rows = chain(reqs, runs, holds, marks_of_trace(a.trace), model=True)
            tk = takers(reqs, runs, holds)
        else:
            reqs, rec = RC.requests_of_recording(a.file)
            if not a.sched:
                # no kernel trace: the requesters' ages only, their CPUs unknown
                print("no --sched (the kernel's events of the same run): the CPUs are unknown")
                report([None] * len(reqs), ages(reqs, holds_of_recording(rec)))
                return 0
            tids = {th["tid"]: th["name"] for th in rec["threads"]}
            runs = RC.cpu_runs(a.sched, rec["t0_monotonic_ns"], tids)
            holds = holds_of_recording(rec)
            rows = chain(reqs, runs, holds, marks_of_recording(rec), model=False)
            age = ages(reqs, holds)
            tk = takers(reqs, runs, holds)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
        print("wait_core: %s" % e, file=sys.stderr)
        return 2
    report(rows, age)
    report_takers(tk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
