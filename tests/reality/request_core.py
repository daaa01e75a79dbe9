#!/usr/bin/env python3
"""Where the thread that asks for a forced drop runs when it asks, and what
that does to the race between its return into the condition variable and
the holder's drop: from a real recording and the kernel's sched events of
the same run (--record writes both), or from a model run (gilsim run --csv
and --trace of the same run).

docs/validation.md's blocking-C rows (three hashing threads beside one
spinner on 2 CPUs): the model's requester takes the forced drop itself,
still on its way into its futex wait, in 60-70% of the drops, the real one
in 5-12%; the real holder signals 3-10 us after the request (p10-p90, the
kept recording), by when the requester sleeps. For each drop request this
says on which CPU the requester ran at its request and whether that was the
holder's CPU (the holder then off its core: it cannot see the request until
the requester has gone back to sleep, so it cannot win the race), the time
from the request to the holder's signal, and who took the GIL next (the
requester, or another waiter).

    python3 tests/reality/request_core.py --record PREFIX [--cpu 1 --k 150]
    python3 tests/reality/request_core.py PREFIX.rec.json [--sched PREFIX.sched.txt]
    python3 tests/reality/request_core.py RUN.csv --trace RUN.trace.json
    python3 tests/reality/request_core.py --self-test [--gilsim GILSIM]   (ctest)

--record runs tests/data/reality/blocking_c.py under gilsim record with the
sched_switch and sched_waking events on (root; tracefs.py). A recording
without --sched gets the lags and who took the GIL, its CPUs unknown.
"""
import argparse
import bisect
import collections
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True
from recording import load_recording, model_rows, pct  # noqa: E402

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(HERE, "..", "data", "reality", "blocking_c.py")


def requests_of_recording(path):
    """(requests, names): requests as (t, requester, holder, signal_t, taker),
    t on the recording's clock; the holder is the thread holding the GIL at
    the request, signal_t the holder's next signal (None if it made none
    before the GIL changed hands), taker the next thread to hold it."""
    rec = load_recording(path)
    ev = []
    for th in rec["threads"]:
        for e in th["events"]:
            if e[1] in ("drop_request", "signal", "hold", "release"):
                ev.append((e[0], th["name"], e[1]))
    ev.sort()
    out, holder = [], None
    for i, (t, name, kind) in enumerate(ev):
        if kind == "hold":
            holder = name
        elif kind == "release" and name == holder:
            holder = None
        elif kind == "drop_request" and holder and holder != name:
            sig = taker = None
            for u, n2, k2 in ev[i + 1:]:
                if k2 == "signal" and n2 == holder and sig is None:
                    sig = u
                if k2 == "hold":
                    taker = n2
                    break
            out.append((t, name, holder, sig, taker))
    return out, rec


def cpu_runs(sched_path, t0, tids):
    """{name: sorted [(start, end, cpu)]} of our threads' times on a CPU."""
    from tracefs import read_sched_events
    runs, open_ = collections.defaultdict(list), {}
    for t, cpu, kind, f in read_sched_events(sched_path):
        if kind != "sched_switch":
            continue
        t -= t0
        a, b = int(f["prev_pid"]), int(f["next_pid"])
        if a in tids and a in open_:
            s, c = open_.pop(a)
            runs[tids[a]].append((s, t, c))
        if b in tids:
            open_[b] = (t, cpu)
    for pid, (s, c) in open_.items():
        runs[tids[pid]].append((s, float("inf"), c))
    for v in runs.values():
        v.sort()
    return runs


def cpu_shares(sched_path, t0, tids, a, b):
    """{cpu: (ours, others, idle)} shares of [a, b] (recording clock): how
    much of each CPU other programs took while ours ran."""
    from tracefs import read_sched_events
    acc, cur = collections.defaultdict(lambda: [0, 0, 0]), {}
    for t, cpu, kind, f in read_sched_events(sched_path):
        if kind != "sched_switch":
            continue
        t -= t0
        if cpu in cur:
            s, who = cur[cpu]
            lo, hi = max(s, a), min(t, b)
            if hi > lo:
                acc[cpu][who] += hi - lo
        nxt = int(f["next_pid"])
        cur[cpu] = (t, 0 if nxt in tids else (2 if nxt == 0 else 1))
    return {c: tuple(x / (b - a) for x in v) for c, v in sorted(acc.items())}


def cpu_at(runs, name, t):
    """The CPU name ran on at t, or None (not on a CPU)."""
    v = runs.get(name, [])
    i = bisect.bisect_right(v, (t, float("inf"), 1 << 30)) - 1
    while i >= 0 and v[i][0] <= t:
        if t <= v[i][1]:
            return v[i][2]
        if t - v[i][1] > 0 and i < len(v) - 1:
            break
        i -= 1
    return None


def runs_of_csv(path):
    """The model's core intervals as cpu_runs gives them, and the GIL's holds."""
    runs, holds = collections.defaultdict(list), []
    for r in model_rows(path):
        s, e = int(r["start_ns"]), int(r["end_ns"])
        if r["lane_kind"] == "core":
            runs[r["thread"]].append((s, e, int(r["lane"].split()[-1])))
        elif r["lane_kind"] == "gil" and r["state"] == "gil_held":
            holds.append((s, e, r["thread"]))
    for v in runs.values():
        v.sort()
    holds.sort()
    return runs, holds


def requests_of_trace(path, holds):
    """The model's drop requests as requests_of_recording gives them; the
    holder's signal is its forced switch (the model's drop and signal are
    one instant)."""
    with open(path) as f:
        doc = json.load(f)
    evs = doc["traceEvents"] if isinstance(doc, dict) else doc
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in evs
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    inst = sorted((int(round(e["ts"] * 1000)), names.get((e["pid"], e["tid"])), e["args"]["kind"])
                  for e in evs if e.get("ph") == "i")
    starts = [h[0] for h in holds]
    out = []
    for i, (t, name, kind) in enumerate(inst):
        if kind != "drop_request":
            continue
        # the hold under way at t (it may end at t: the model drops at
        # once when the holder wins the race)
        j = bisect.bisect_left(starts, t) - 1  # one that starts at t is the taker's
        holder = holds[j][2] if j >= 0 and holds[j][0] <= t <= holds[j][1] else None
        if not holder or holder == name:
            continue
        sig = next((u for u, n2, k2 in inst if u >= t and k2 == "forced_switch" and n2 == holder),
                   None)
        k = j
        while k < len(holds) and holds[k][2] == holder:
            k += 1
        taker = holds[k][2] if k < len(holds) else None
        out.append((t, name, holder, sig, taker))
    return out


def classify(requests, runs, slept_cpu=False):
    """Per drop request: (where, lag_ns or None, requester_took). where:
    'holder's CPU' (the requester ran on the CPU the holder had last run
    on, the holder off it), 'other CPU' (the holder on its own CPU), or
    'holder off its CPU' (neither)."""
    out = []
    for t, req, holder, sig, taker in requests:
        # the holder just before the request, the requester at it
        rc, hc = cpu_at(runs, req, t), cpu_at(runs, holder, t - 1)
        if rc is None and slept_cpu:
            # a model's requester runs for no time at its request: it woke
            # where it went to sleep (timer_wake "local": its timer's core)
            v = [r for r in runs.get(req, []) if r[1] <= t]
            rc = v[-1][2] if v else None
        if hc is not None and rc is not None and rc != hc:
            where = "other CPU"
        elif hc is None and rc is not None:
            v = [r for r in runs.get(holder, []) if r[0] <= t]
            where = "holder's CPU" if v and v[-1][2] == rc else "holder off its CPU"
        elif rc is None:
            where = "no CPU seen"  # a model's requester that ran for no time
        else:
            where = "holder off its CPU"
        out.append((where, None if sig is None else sig - t, taker == req))
    return out


def report(rows, out=sys.stdout):
    by = collections.defaultdict(list)
    for where, lag, took in rows:
        by[where].append((lag, took))
    n = len(rows)
    print("drop requests while another thread held the GIL: %d" % n, file=out)
    for where in ("holder's CPU", "other CPU", "holder off its CPU", "no CPU seen"):
        v = by.get(where, [])
        if not v:
            continue
        lags = [x[0] / 1e3 for x in v if x[0] is not None]
        print("  requester on %-18s %4d (%3.0f%%): request -> holder's signal p10 %.1f p50 %.1f "
              "p90 %.1f us; the requester took the GIL %d" %
              (where + ":", len(v), 100.0 * len(v) / n, pct(lags, 0.1), pct(lags, 0.5),
               pct(lags, 0.9), sum(1 for x in v if x[1])), file=out)


def record(a):
    sys.path.insert(0, HERE)
    from tracefs import sched_trace
    prog = open(PROGRAM).read()
    with sched_trace("gilsim-cblock", ("sched_switch", "sched_waking"), 40000, prog,
                     a.record) as (put, p):
        put("tracing_on", "1")
        subprocess.run([a.gilsim, "record", "-q", "-o", a.record + ".rec.json", "--",
                        a.python, p, str(a.cpu), str(a.k)], check=True)
        put("tracing_on", "0")


def self_test(gilsim=None):
    """Classification on hand-made runs: a requester on the holder's CPU
    (the holder switched out around the request), one on the other CPU,
    and the lag and taker read from the requests."""
    runs = {"spinner": [(0, 100, 0), (110, 300, 0)],
            "h1": [(100, 110, 0)], "h2": [(190, 210, 1)]}
    reqs = [(105, "h1", "spinner", 112, "h2"),   # on the holder's CPU
            (200, "h2", "spinner", 201, "h2"),   # on the other CPU, took it
            (250, "h3", "spinner", None, "h1")]  # h3 never on a CPU here
    got = classify(reqs, runs)
    want = [("holder's CPU", 7, False), ("other CPU", 1, True), ("no CPU seen", None, False)]
    ok = got == want
    print("%s classify: %s" % ("ok" if ok else "FAIL", got))
    rec_path = os.path.join(HERE, "..", "data", "reality", "blocking_c_1spinner.rec.json")
    reqs, _ = requests_of_recording(rec_path)
    # the kept recording: 202 drop requests with another thread holding,
    # nearly all by a hashing thread against the spinner
    n_spin = sum(1 for r in reqs if r[2].startswith("spinner"))
    lags = [r[3] - r[0] for r in reqs if r[3] is not None and r[2].startswith("spinner")]
    ok2 = len(reqs) >= 190 and n_spin >= 180 and pct(lags, 0.1) >= 2000
    print("%s recording: %d requests, %d against the spinner, request -> signal p10 %.1f us "
          "(>= 2 us: the holder never answers within the requester's futex call)"
          % ("ok" if ok2 else "FAIL", len(reqs), n_spin, pct(lags, 0.1) / 1e3))
    ok3 = True
    if gilsim:
        ok3 = model_self_test(gilsim)
    return 0 if ok and ok2 and ok3 else 1


# A short run of the blocking-C rows' scenario (tests/reality/scenarios.py
# c_release_beside_cpu), its machine written out as the tool's reading of a
# model run depends on it: run queues per core, timers waking on their core.
MODEL = {
    "name": "request_core self-test: 3 GIL-releasing threads beside a spinner",
    "seed": 1,
    "machine": {"cores": 2, "policy": "eevdf", "tick": "4ms", "run_queues": "per_core",
                "timer_wake": "local", "requester_first": 0.3},
    "python": {"gil": "cpython3", "switch_interval": "5ms"},
    "threads": [
        {"name": "hasher", "count": 3, "program": [{"repeat": 40, "do": [
            {"c_call": "525us", "releases_gil": True}, {"cpu": "400ns"}]}]},
        {"name": "spinner", "program": [{"cpu": "200ms"}]}],
}


def model_self_test(gilsim):
    """The tool on a model run: every drop request the trace shows while
    another thread held the GIL is read, each with the requester's CPU and
    a signal at or after it; the drop requests against the spinner are the
    spinner's forced switches that a request preceded."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        sc = os.path.join(d, "sc.json")
        with open(sc, "w") as f:
            json.dump(MODEL, f)
        c, tr = os.path.join(d, "run.csv"), os.path.join(d, "run.trace.json")
        subprocess.run([gilsim, "run", sc, "--csv", c, "--trace", tr, "--quiet"], check=True)
        runs, holds = runs_of_csv(c)
        reqs = requests_of_trace(tr, holds)
        rows = classify(reqs, runs, slept_cpu=True)
        with open(tr) as f:
            evs = json.load(f)["traceEvents"]
        n_req = sum(1 for e in evs if e.get("ph") == "i" and e["args"]["kind"] == "drop_request")
        n_fsw = sum(1 for e in evs if e.get("ph") == "i" and e["args"]["kind"] == "forced_switch")
    seen = sum(1 for r in rows if r[0] != "no CPU seen")
    lags_ok = all(r[1] is not None and r[1] >= 0 for r in rows)
    ok = 0 < len(reqs) <= n_req and seen == len(rows) and lags_ok and len(reqs) >= n_fsw
    print("%s model run: %d drop requests (%d in the trace, %d forced switches), %d with "
          "the requester's CPU, lags %s" % ("ok" if ok else "FAIL", len(reqs), n_req, n_fsw,
                                             seen, "all >= 0" if lags_ok else "missing"))
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", nargs="?", help="a recording (.rec.json) or a model run's --csv")
    ap.add_argument("--sched", help="with a recording: the kernel's events of the same run")
    ap.add_argument("--trace", help="with a model CSV: the same run's --trace JSON")
    ap.add_argument("--record", metavar="PREFIX",
                    help="record blocking_c.py with the kernel's events (root) and analyse")
    ap.add_argument("--gilsim", default=None,
                    help="gilsim binary (default build/sim/cli/gilsim; with --self-test: "
                    "also check the reading of a model run)")
    ap.add_argument("--python", default="python3")
    ap.add_argument("--cpu", type=int, default=1, help="spinners beside the hashing threads")
    ap.add_argument("--k", type=int, default=150, help="calls per hashing thread")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    a.gilsim_given = a.gilsim is not None
    a.gilsim = a.gilsim or "build/sim/cli/gilsim"
    if a.self_test:
        return self_test(a.gilsim if a.gilsim_given else None)
    try:
        if a.record:
            record(a)
            a.file, a.sched = a.record + ".rec.json", a.record + ".sched.txt"
        if not a.file:
            ap.error("give a file or --record PREFIX")
        if a.file.endswith(".csv"):
            if not a.trace:
                ap.error("a model CSV needs --trace (the same run's --trace JSON)")
            runs, holds = runs_of_csv(a.file)
            rows = classify(requests_of_trace(a.trace, holds), runs, slept_cpu=True)
        else:
            reqs, rec = requests_of_recording(a.file)
            if not a.sched:
                # no kernel trace: the lags and who took the GIL, CPUs unknown
                print("no --sched (the kernel's events of the same run): the requester's "
                      "CPU is unknown")
                report(classify(reqs, {}))
                return 0
            tids = {th["tid"]: th["name"] for th in rec["threads"]}
            sys.path.insert(0, HERE)
            t0 = rec["t0_monotonic_ns"]
            rows = classify(reqs, cpu_runs(a.sched, t0, tids))
            span = [e[0] for th in rec["threads"] if th["name"].startswith("hasher")
                    for e in th["events"]]
            if span:
                sh = cpu_shares(a.sched, t0, tids, min(span), max(span))
                print("while the hashing threads ran: " + ", ".join(
                    "CPU %d ours %.0f%% others %.0f%% idle %.0f%%" % (c, 100 * x[0], 100 * x[1],
                                                                       100 * x[2])
                    for c, x in sh.items()))
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
        print("request_core: %s" % e, file=sys.stderr)
        return 2
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
