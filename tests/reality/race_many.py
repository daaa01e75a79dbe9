#!/usr/bin/env python3
"""The race of a forced drop in the convoy-many program (issue 15; docs/model.md,
"No idle core", the paragraph of 2026-12-07 17:05): an I/O thread doing 200 us
sleeps beside 3 or 4 CPU-bound threads (tests/data/reality/convoy_many.py),
under race_trace.py's kernel trace (futex calls, sched_switch, sched_waking;
root, tracefs), read with race_trace.py's functions.

The recordings say that at a forced drop with two or more waiters the holder's
signal wakes the longest waiter about nine times in ten and the thread that
asked for the drop (the requester) one time in twenty, where the plain program
of CPU-bound threads has its requester asleep by the signal in 0.16-0.60 of
the drops. Two readings fit: (a) the requester is in its futex wait at the
signal far more often here, and the kernel wakes the longest-queued waiter on
the word; (b) it waits in glibc's newer group (G2) while the older group (G1)
still holds older sleepers, so the signal goes to G1's word, not to its own.
glibc 2.36's condition variable has one futex word per group
(__g_signals[0] and [1], 4 bytes apart): a waiter waits on its group's word, a
signal wakes on G1's. So per forced drop with two or more waiters (threads in
a timed wait on the condition variable at the signal, plus setters of the
request still on their way into it) this says:

  requester   on its way    not in its futex wait at the signal (or its
                            wait came back at once, -EAGAIN): the signal's
                            value is there for it to take
              asleep, G1    in its futex wait on the word the signal woke
              asleep, G2    in its futex wait on the other word
  woken       the waiter whose wait on the signal's word returned 0 first
              after the signal, and whether it was the longest-queued one
              on that word (the kernel's futex queue is first in, first out
              at one priority)
  taker       who took the GIL (race_trace.py's taker: the switch_cond wake)
  core        the requester's CPU at its timeout against the holder's, how
              long that CPU had idled before the timer woke it, and what it
              ran just before (another program's task, a thread of this
              program, idle under 100 us after one, a longer idle)

    python3 tests/reality/race_many.py run [--threads 3 4] [--intervals 5 1]
        [--repeats 3] [--ops 150] [--nice -20] [--keep DIR] [--json OUT]   (root)
    python3 tests/reality/race_many.py analyse [--pool] PREFIX ...   (kept runs)
    python3 tests/reality/race_many.py recorded REC.json SCHED.txt
        (a recording with the sched events of the same run: the requester's
        CPU, what it ran before, whether the requester took the GIL)
    python3 tests/reality/race_many.py --self-test          (ctest)
"""
import argparse
import collections
import json
import os
import re
import statistics
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import race_trace as RT  # noqa: E402

PROGRAM = os.path.join(HERE, "..", "data", "reality", "convoy_many.py")
STATES = ("on its way", "asleep, G1", "asleep, G2")
TIDS = re.compile(r'"tids": (\{[^{}]*\})')


def in_wait(cs, cond, t):
    """The call of cs (one thread's futex calls) that is a wait on the
    condition variable entered before t and not returned by t, or None."""
    for c in reversed(cs):
        if c["te"] >= t:
            continue
        if c["addr"] in cond and c["cmd"] in (RT.WAIT, RT.WAIT_BITSET) and \
                (c["tx"] is None or c["tx"] > t):
            return c
        return None
    return None


BEFORE = ("another program", "one of ours", "idle, <100 us after one of ours",
          "idle, under 1 ms", "idle, 1 ms or more", "idle")


def before_of(events, by_id):
    """{tid: [(t, what)]}: what each program thread's CPU ran just before the
    thread was switched in at t (BEFORE). The trace holds the switches into
    and out of the program's threads only, so an idle CPU counts as idle
    "after one of ours" only when the last switch seen on it was one of ours
    going to idle under 100 us before; a longer idle has its depth when the
    switch to idle was seen ("idle" when it was not)."""
    last, out = {}, collections.defaultdict(list)
    for t, cpu, _, kind, f in events:
        if kind != "sched_switch":
            continue
        p, q = int(f.get("prev_pid", -1)), int(f.get("next_pid", -1))
        if q in by_id:
            if p in by_id:
                what = BEFORE[1]
            elif p != 0:
                what = BEFORE[0]
            else:
                lt = last.get(cpu)
                if lt is not None and lt[0] == "ours idle" and t - lt[1] < 100000:
                    what = BEFORE[2]
                elif lt is not None and lt[0] != "other":
                    what = BEFORE[3] if t - lt[1] < 1000000 else BEFORE[4]
                else:
                    what = BEFORE[5]
            out[q].append((t, what))
        last[cpu] = ("ours idle" if (p in by_id and q == 0) else "idle" if q == 0
                     else "other", t)
    return out


def drop_groups(res, calls, by_id, io=None, before=None):
    """Per forced drop of res (race_trace.analyse) that has a requester: the
    waiters at the signal, the requester's state, the woken waiter and
    whether it was the oldest on the signal's word. Returns a list of dicts."""
    cond = set(res["cond"])
    tid_of = {v: k for k, v in by_id.items()}
    sig_word = {}
    for tid, cs in calls.items():
        for c in cs:
            if c["cmd"] == RT.WAKE and c["addr"] in cond:
                sig_word[(c["te"], by_id[tid])] = c["addr"]
    out = []
    drops = res["drops"]
    for n, d in enumerate(drops):
        if not d["setters"]:
            continue
        t, word = d["t"], sig_word.get((d["t"], d["holder"]))
        t_next = drops[n + 1]["t"] if n + 1 < len(drops) else float("inf")
        waits = {}  # log id -> its wait call at the signal
        for tid, cs in calls.items():
            i = by_id[tid]
            if i == d["holder"]:
                continue
            c = in_wait(cs, cond, t)
            if c is not None and c["ret"] != RT.EAGAIN:
                waits[i] = c
        setter_ids = [s["id"] for s in d["setters"]]
        on_way = [i for i in setter_ids if i not in waits]
        r = setter_ids[0]
        if r not in waits:
            state = "on its way"
        else:
            state = "asleep, G1" if waits[r]["addr"] == word else "asleep, G2"
        same = {i: c for i, c in waits.items() if c["addr"] == word}
        oldest = min(same, key=lambda i: same[i]["te"]) if same else None
        woke = [(c["tx"], i) for i, c in same.items()
                if c["ret"] == 0 and c["tx"] is not None and c["tx"] < t_next]
        woken = min(woke)[1] if woke else None
        # the requester's place in its word's queue: how many waiters on it
        # entered their wait before the requester's (0: it is the oldest)
        rank = (sum(1 for i, c in waits.items() if c["addr"] == waits[r]["addr"] and
                    c["te"] < waits[r]["te"]) if r in waits else None)
        s0 = d["setters"][0]
        io_in = io is not None and (io in waits or io in setter_ids)
        io_oldest = io_in and io in same and same[io]["te"] == min(c["te"] for c in
                                                                   same.values())
        # what the requester's CPU ran just before its timer woke it
        bl = (before or {}).get(tid_of.get(r), [])
        k = RT.last_at(bl, s0["timeout"]) if s0["timeout"] is not None else -1
        out.append({"t": t, "holder": d["holder"], "requester": r, "state": state,
                    "waiters": len(waits) + len(on_way), "in_g1": len(same),
                    "in_g2": len(waits) - len(same), "woken": woken,
                    "woken_oldest": None if woken is None else woken == oldest,
                    "taker": d.get("taker_id"), "requester_took": d.get("requester_took"),
                    "apart": d.get("apart"), "idle": s0.get("idle"), "cpu": s0["cpu"],
                    "class": d["class"], "tid": tid_of.get(r), "rank": rank, "io_in": io_in,
                    "io_oldest": io_oldest, "before": bl[k][1] if k >= 0 else None})
    return out


def own_before(prefix, res):
    """The drops of race_trace.py's kept run PREFIX (res: its analyse) whose
    holder and requester ran on two CPUs and whose requester's CPU ran a
    thread of the program just before its timer woke it, or idled under
    100 us after one (BEFORE[1], BEFORE[2]): drop_groups' dicts, whose
    "state" says whether the requester was in its futex at the signal. What
    the calibration measures machine.requester_first_own by (reality.py)."""
    with open(prefix + ".json") as f:
        info = json.load(f)
    tids = {int(a): b for a, b in info["tids"].items()}
    ev = RT.read_trace(prefix + ".sched.txt")
    by_id = {v: k for k, v in tids.items()}
    gs = drop_groups(res, RT.calls_of(ev, set(tids.values())), by_id, None,
                     before_of(ev, by_id))
    return [g for g in gs if g["apart"] and g["class"] and g["before"] in BEFORE[1:3]]


def share(xs, pred):
    xs = list(xs)
    return (sum(1 for x in xs if pred(x)) / len(xs)) if xs else float("nan")


def summarise(gs, io=None):
    """Figures of the drops with two or more waiters (gs: drop_groups)."""
    many = [g for g in gs if g["waiters"] >= 2]
    s = {"drops": len(gs), "many": len(many)}
    s["state"] = {st: share(many, lambda g, st=st: g["state"] == st) for st in STATES}
    s["took_by_state"] = {st: (share([g for g in many if g["state"] == st and
                                      g["requester_took"] is not None],
                                     lambda g: g["requester_took"]),
                               sum(g["state"] == st for g in many)) for st in STATES}
    s["requester_took"] = share([g for g in many if g["requester_took"] is not None],
                                lambda g: g["requester_took"])
    w = [g for g in many if g["woken"] is not None]
    s["woken_seen"] = len(w)
    s["woken_oldest"] = share(w, lambda g: g["woken_oldest"])
    s["woken_requester"] = share(w, lambda g: g["woken"] == g["requester"])
    s["apart"] = share(many, lambda g: g["apart"])
    # the race of two CPUs only: the requester's CPU not the holder's at its
    # timeout (on one CPU the scheduler orders them, race_trace.py's "apart")
    ap = [g for g in many if g["apart"]]
    s["n_apart"] = len(ap)
    s["state_apart"] = {st: share(ap, lambda g, st=st: g["state"] == st) for st in STATES}
    s["took_apart"] = share([g for g in ap if g["requester_took"] is not None],
                            lambda g: g["requester_took"])
    idle = [g["idle"] for g in many if g["idle"] is not None]
    s["idle_known"] = len(idle)
    s["idle_zero"] = share(idle, lambda x: x == 0)
    s["idle_us"] = RT.quart([x for x in idle if x > 0])
    s["idle_by_state"] = {st: RT.quart([g["idle"] for g in many if g["state"] == st and
                                        g["idle"]]) for st in STATES}
    g1 = [g for g in many if g["state"] == "asleep, G1"]
    s["g1_oldest"] = share(g1, lambda g: g["rank"] == 0)
    s["g1_took_oldest"] = share([g for g in g1 if g["rank"] == 0 and
                                 g["requester_took"] is not None], lambda g: g["requester_took"])
    s["g1_took_behind"] = share([g for g in g1 if g["rank"] and
                                 g["requester_took"] is not None], lambda g: g["requester_took"])
    # the requester on another CPU than the holder's, by what its CPU ran
    # just before its timer woke it
    s["by_before"] = {b: (len([g for g in ap if g["before"] == b]),
                          share([g for g in ap if g["before"] == b and
                                 g["requester_took"] is not None],
                                lambda g: g["requester_took"]),
                          share([g for g in ap if g["before"] == b],
                                lambda g: g["state"] == "on its way")) for b in BEFORE}
    s["g1_size"] = dict(collections.Counter(g["in_g1"] for g in many))
    if io is not None:
        s["io_requester"] = sum(g["requester"] == io for g in many)
        # the drops the I/O thread waits at, a CPU thread the requester (the
        # op's first drop when a CPU waiter asked first, convoy_modes.py)
        mi = [g for g in many if g["io_in"] and g["requester"] != io]
        s["io_n"] = len(mi)
        s["io_state"] = {st: share(mi, lambda g, st=st: g["state"] == st) for st in STATES}
        s["io_requester_took"] = share([g for g in mi if g["requester_took"] is not None],
                                       lambda g: g["requester_took"])
        s["io_took"] = share(mi, lambda g: g["taker"] == io)
        s["io_oldest"] = share(mi, lambda g: g["io_oldest"])
        s["io_took_oldest"] = share([g for g in mi if g["io_oldest"]],
                                    lambda g: g["taker"] == io)
    return s


def analyse_prefix(prefix):
    """A kept run: PREFIX.json and PREFIX.sched.txt, either race_many.py's
    (trace_cmd's JSON, convoy_many.py's --lat line in its stdout naming the
    threads) or a run of race_trace.py's own program (its JSON's tids, no
    I/O thread). Returns (summary, per-drop list)."""
    with open(prefix + ".json") as f:
        info = json.load(f)
    m = TIDS.search(info.get("stdout", ""))
    if m:
        names = json.loads(m.group(1))
        tids = {n + 1: t for n, t in enumerate(sorted(names.values()))}
    elif isinstance(info.get("tids"), dict) and info.get("k") != "cmd" and info["tids"]:
        names = {}
        tids = {int(a): b for a, b in info["tids"].items()}
    else:
        raise ValueError("%s.json: neither convoy_many.py's --lat line (\"tids\") in its "
                         "stdout nor race_trace.py's program's tids" % prefix)
    ev = RT.read_trace(prefix + ".sched.txt")
    res = RT.analyse(ev, tids)
    by_id = {v: k for k, v in tids.items()}
    io = by_id.get(names.get("io"))
    gs = drop_groups(res, RT.calls_of(ev, set(tids.values())), by_id, io, before_of(ev, by_id))
    s = summarise(gs, io)
    s["layout_ok"], s["others"], s["load"] = res["layout_ok"], info.get("others"), \
        info.get("load")
    return s, gs


def report(label, runs):
    def ms(key, sub=None):
        return RT.med_spread([(r[key] if sub is None else r[key][sub]) for r in runs])
    print("\n%s: %d runs, forced drops with a requester %s, of them with >= 2 waiters %s"
          % (label, len(runs), "/".join(str(r["drops"]) for r in runs),
             "/".join(str(r["many"]) for r in runs)))
    for st in STATES:
        print("  requester %-12s %-20s it took the GIL %s (n %s)" % (
            st, ms("state", st), RT.med_spread([r["took_by_state"][st][0] for r in runs]),
            "/".join(str(r["took_by_state"][st][1]) for r in runs)))
    print("  requester took the GIL      %s" % ms("requester_took"))
    print("  apart (n %s): %s; the requester took it %s" % (
        "/".join(str(r["n_apart"]) for r in runs),
        ", ".join("%s %s" % (st, ms("state_apart", st)) for st in STATES), ms("took_apart")))
    print("  woken: the oldest on the signal's word %s, the requester %s (woken seen %s)" % (
        ms("woken_oldest"), ms("woken_requester"), "/".join(str(r["woken_seen"]) for r in runs)))
    print("  asleep in G1: the oldest on its word %s, then it took the GIL %s; behind "
          "others, it took it %s" % (ms("g1_oldest"), ms("g1_took_oldest"),
                                     ms("g1_took_behind")))
    print("  waiters on the signal's word at the signal (count: drops): %s" % "; ".join(
        str(dict(sorted(r["g1_size"].items()))) for r in runs))
    if "io_n" in runs[0]:
        print("  the I/O thread waiting, a CPU thread the requester (n %s): %s; the "
              "requester took it %s, the I/O thread %s; the I/O thread the oldest on the "
              "signal's word %s, then it took it %s" % (
                  "/".join(str(r["io_n"]) for r in runs),
                  ", ".join("%s %s" % (st, ms("io_state", st)) for st in STATES),
                  ms("io_requester_took"), ms("io_took"), ms("io_oldest"),
                  ms("io_took_oldest")))
    print("  apart, by what the requester's CPU ran before its timer woke it (n, on its way, "
          "took), per run: %s" % " | ".join(", ".join(
              "%s %d %.2f %.2f" % (b, r["by_before"][b][0], r["by_before"][b][2],
                                   r["by_before"][b][1]) for b in BEFORE
              if r["by_before"][b][0]) for r in runs))
    print("  requester's CPU not the holder's %s; its CPU had idled 0 (took over from a "
          "task) %s of %s; idle depth otherwise %s us" % (
              ms("apart"), ms("idle_zero"), "/".join(str(r["idle_known"]) for r in runs),
              runs[0]["idle_us"] if len(runs) == 1 else
              "; ".join(r["idle_us"] for r in runs)))
    print("  idle depth by the requester's state (run 1): %s" % ", ".join(
        "%s %s" % (st, runs[0]["idle_by_state"][st]) for st in STATES))
    print("  the I/O thread was the requester at %s drops; other processes' share %s; "
          "load %s" % ("/".join(str(r.get("io_requester", "-")) for r in runs),
                       RT.med_spread([r["others"] for r in runs if r["others"] is not None]),
                       RT.med_spread([r["load"] for r in runs if r["load"] is not None])))


def recorded(rec_path, sched_path):
    """A recording (gilsim record) and the kernel's sched events of the same
    run (no futex calls: e.g. convoy_modes.py's quiet runs): per drop request
    made while another thread held the GIL, whether the requester's CPU was
    the holder's (request_core.classify) and, on the other CPU, what its CPU
    ran just before it was switched in (BEFORE); whether it took the GIL.
    Returns {(where, before): [took, ...]}."""
    import request_core as RC
    from tracefs import read_sched_events
    reqs, rec = RC.requests_of_recording(rec_path)
    names = {th["tid"]: th["name"] for th in rec["threads"]}
    t0 = rec["t0_monotonic_ns"]
    runs = RC.cpu_runs(sched_path, t0, names)
    ev = [(t - t0, cpu, None, kind, f) for t, cpu, kind, f in read_sched_events(sched_path)]
    bl = before_of(ev, names)
    out = collections.defaultdict(list)
    for (t, req, _, _, _), (where, _, took) in zip(reqs, RC.classify(reqs, runs)):
        tid = next((k for k, v in names.items() if v == req), None)
        lst = bl.get(tid, [])
        k = RT.last_at(lst, t)
        out[(where, lst[k][1] if k >= 0 and where == "other CPU" else "-")].append(took)
    return out


def run(a):
    if not RT.can_trace():
        print("race_many: tracing needs root, tracefs with the syscall events and its "
              "x86-tsc clock", file=sys.stderr)
        return 2
    keep = a.keep or tempfile.mkdtemp(prefix="race_many.")
    os.makedirs(keep, exist_ok=True)
    rows = collections.OrderedDict()
    for rep in range(a.repeats):
        for k in a.threads:
            for iv in a.intervals:
                prefix = os.path.join(keep, "k%d-%gms-nice%d-%d" % (k, iv, a.nice, rep))
                ops = a.ops if iv >= 5 else 2 * a.ops
                cmd = ["nice", "-n", str(a.nice), a.python, PROGRAM, str(k), repr(iv / 1e3),
                       str(ops), "--lat"]
                RT.trace_cmd(cmd, prefix)
                s, _ = analyse_prefix(prefix)
                rows.setdefault((k, iv), []).append(s)
    print("traces in %s; the program at nice %d" % (keep, a.nice))
    for (k, iv), runs in rows.items():
        report("%d CPU threads + the I/O thread at %g ms" % (k, iv), runs)
    if a.json:
        with open(a.json, "w") as f:
            json.dump([{"k": k, "interval_ms": iv, "runs": runs}
                       for (k, iv), runs in rows.items()], f)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    r.add_argument("--threads", type=int, nargs="+", default=[3, 4])
    r.add_argument("--intervals", type=float, nargs="+", default=[5, 1], help="ms")
    r.add_argument("--repeats", type=int, default=3)
    r.add_argument("--ops", type=int, default=150, help="I/O ops at 5 ms (twice at 1 ms)")
    r.add_argument("--nice", type=int, default=0)
    r.add_argument("--python", default=os.path.expanduser(
        "~/.pyenv/versions/3.11.7/bin/python3.11"))
    r.add_argument("--keep")
    r.add_argument("--json")
    rc = sub.add_parser("recorded", help="a recording and the sched events of the same run")
    rc.add_argument("rec")
    rc.add_argument("sched")
    an = sub.add_parser("analyse")
    an.add_argument("prefix", nargs="+")
    an.add_argument("--pool", action="store_true", help="one summary of all the runs' drops")
    a = ap.parse_args(argv)
    if a.what == "run":
        if any(k < 1 for k in a.threads) or any(x <= 0 for x in a.intervals) or \
                a.repeats < 1 or a.ops < 1:
            print("race_many: --threads >= 1, --intervals > 0, --repeats >= 1, --ops >= 1",
                  file=sys.stderr)
            return 2
        return run(a)
    if a.what == "recorded":
        try:
            rows = recorded(a.rec, a.sched)
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as err:
            print("race_many: %s" % err, file=sys.stderr)
            return 2
        print("%s: drop requests while another thread held the GIL, by where the requester "
              "ran (and on the other CPU what its CPU ran before): n, the requester took"
              % a.rec)
        for (where, b), took in sorted(rows.items()):
            print("  %-20s %-32s %4d  %4d (%.0f%%)" % (where, b, len(took), sum(took),
                                                       100.0 * sum(took) / len(took)))
        return 0
    pooled, io_ok, others = [], True, []
    for p in a.prefix:
        try:
            s, gs = analyse_prefix(p)
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as err:
            print("race_many: %s" % err, file=sys.stderr)
            return 2
        if a.pool:
            pooled += gs
            io_ok = io_ok and "io_n" in s
            if s["others"] is not None:
                others.append(s["others"])
        else:
            report(p, [s])
    if a.pool:
        # the I/O thread's log id is the same in every run (the tids sorted:
        # it starts first), so its drops pool
        s = summarise(pooled, 1 if io_ok else None)
        s["layout_ok"], s["load"] = True, None
        s["others"] = statistics.median(others) if others else None
        report("%d runs pooled" % len(a.prefix), [s])
    return 0


def self_test():
    """A hand-made trace: 11 holds the GIL; 12 and 14 sleep on G1's word
    (12 the older), 13 times out, asks and waits again on the other word (G2);
    the signal goes to G1's word and wakes 12. Then one where the requester
    re-waits on the signal's word behind the older 12, and one where it is
    still on its way."""
    fails = []
    C0, C1, M, SC = 0x1000, 0x1004, 0x1008, 0x1050
    CPU = {11: 1, 12: 0, 13: 0, 14: 0}
    tt = RT.TestTrace(CPU)
    lines, ent, ext, sw = tt.lines, tt.ent, tt.ext, tt.sw
    tt.mark(0)
    sw(0, 11, True)
    ent(1, 11, M, 0x81); ext(1.2, 11, 0)                   # 11 took the GIL
    for base, rword in ((0, C1), (2000, C0), (4000, None)):
        ent(base + 2, 12, C0, 0x89, timed=True)                   # the oldest on G1
        ent(base + 3, 14, C0, 0x89, timed=True)
        ent(base + 4, 13, C0 if rword != C0 else C1, 0x89, timed=True)
        ext(base + 1000, 13, RT.ETIMEDOUT)                  # 13 asks
        ent(base + 1001, 13, M, 0x81); ext(base + 1001.3, 13, 0)
        if rword is not None:
            ent(base + 1002, 13, rword, 0x89, timed=True)         # asleep again
        ent(base + 1010, 11, C0, 0x81); ext(base + 1010.5, 11, 1)  # the signal on G1
        ext(base + 1012, 12, 0)                              # wakes 12
        ent(base + 1013, 12, SC, 0x81); ext(base + 1013.5, 12, 1)
        ent(base + 1014, 12, M, 0x81); ext(base + 1014.2, 12, 0)
        if rword is None:
            ent(base + 1015, 13, C1, 0x89, timed=True)
        # 12 drops back to 11 (nobody asked): the next drop's holder is 11 again
        ent(base + 1900, 12, C0, 0x81); ext(base + 1900.5, 12, 1)
        ext(base + 1901, 11, 0)
        ext(base + 1950, 14, RT.ETIMEDOUT); ext(base + 1951, 13, RT.ETIMEDOUT)
        ent(base + 1952, 11, M, 0x81); ext(base + 1952.2, 11, 0)
    tt.mark(9000)
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "t.txt")
        RT.write_test_trace(p, lines)
        ev = RT.read_trace(p)
        tids = {1: 11, 2: 12, 3: 13, 4: 14}
        res = RT.analyse(ev, tids)
        calls = RT.calls_of(ev, set(tids.values()))
        gs = drop_groups(res, calls, {v: k for k, v in tids.items()})
        got = [(g["requester"], g["state"], g["waiters"], g["in_g1"], g["woken"],
                g["woken_oldest"]) for g in gs if g["requester"] == 3]
        want = [(3, "asleep, G2", 3, 2, 2, True), (3, "asleep, G1", 3, 3, 2, True),
                (3, "on its way", 3, 2, 2, True)]
        if got != want:
            fails.append("drops %r, want %r" % (got, want))
        s = summarise(gs)
        if s["many"] != 3 or abs(s["state"]["asleep, G2"] - 1 / 3) > 1e-9 or \
                s["woken_oldest"] != 1.0 or s["requester_took"] != 0.0:
            fails.append("summary %r" % s)
    # what a CPU ran before a thread of ours was switched in
    def swe(t, cpu, p, q):
        return (t, cpu, p, "sched_switch", {"prev_pid": str(p), "next_pid": str(q)})
    ev = [swe(1000, 0, 12, 0), swe(1050, 0, 0, 13), swe(2000, 1, 999, 11),
          swe(3000, 0, 13, 12), swe(4000, 0, 12, 0), swe(4500, 0, 0, 14),
          swe(5000, 1, 11, 0), swe(105001, 1, 0, 13), swe(200000, 1, 13, 999),
          swe(300000, 1, 999, 0), swe(1300000, 1, 0, 11), swe(1400000, 1, 11, 0),
          swe(1500000, 1, 0, 999), swe(1600000, 1, 999, 12)]
    got = {t: v for t, v in ((k, [w for _, w in v]) for k, v in
                             before_of(ev, {11: 1, 12: 2, 13: 3, 14: 4}).items())}
    want = {13: [BEFORE[2], BEFORE[3]], 11: [BEFORE[0], BEFORE[4]], 12: [BEFORE[1], BEFORE[0]],
            14: [BEFORE[2]]}
    if got != want:
        fails.append("before_of %r, want %r" % (got, want))
    for f in fails:
        print("FAIL: " + f)
    print("race_many self-test: %s" % ("FAIL" if fails else "ok"))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
