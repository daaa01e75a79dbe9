"""What happens after each forced GIL drop of a CPU-bound thread, in a real
recording (gilsim record) or in a model run (gilsim run --csv), measured the
same way, so the two can be compared like with like.

    python3 tests/reality/forced_drops.py REC.json --holder spinner
    gilsim run sc.json --csv run.csv --quiet
    python3 tests/reality/forced_drops.py run.csv --holder spinner

For the threads whose name starts with --holder (the CPU-bound ones) it
prints: their share of the GIL over the other threads' active span; how
many forced drops (one per holder hold that another thread's hold
follows); per forced drop, how long until a holder holds the GIL again and
how many holds of other threads came in between (10th, 50th, 90th
percentiles); and each thread's time runnable without a core (a recording:
the kernel's schedstat total, os_run_delay_ns; a model run: its `ready`
intervals), as a share of the span. It answers the question of
docs/validation.md's "Blocking C calls" rows: does the CPU-bound thread get
the GIL back at once after the forced switch (a few other holds between),
or does it lose its core and let the others pass the GIL among themselves?
The forced drops after which the holder is back only after 1 ms (slow
drops) get lines of their own: how long the GIL was free in them, and, in a
model run, how long the holder was runnable without a core; in a recording,
which has only the kernel's total for that, how the holder's condition
variable waits in them ended, and how the GIL-free time splits by the
signals then pending: one given to the holder, whose wait had not returned
yet; only ones given to other threads not yet back (the holder asleep
behind them); none (nobody woken: the holder not yet in its wait, or a
signal lost).

With --who (a recording, or a model run's --trace JSON, which has the
timeouts and drop requests the CSV lacks) it answers docs/model.md's
condition-variable question instead: after each forced drop that leaves at
least two threads waiting, who takes the GIL next: the thread that asked
for the drop (the requester), the waiter longest in its current wait (since
it asked, or since its last timed-out wait began again), or another waiter.
Optionally --io NAME also counts how often that thread took it.

    python3 tests/reality/forced_drops.py REC.json --who --io io
    gilsim run sc.json --trace run.trace.json --quiet
    python3 tests/reality/forced_drops.py run.trace.json --who --io io
"""

import argparse
import json
import sys

sys.dont_write_bytecode = True
from recording import load_recording, model_lanes  # noqa: E402


def holds_of_recording(path):
    """(holds, names, run_delay): holds as (start_ns, end_ns, name) in time
    order, run_delay per name in ns (None where not recorded)."""
    rec = load_recording(path)
    holds, delay = [], {}
    for t in rec["threads"]:
        name = t["name"]
        delay[name] = t.get("os_run_delay_ns")
        start = None
        for e in t["events"]:
            if e[1] == "hold":
                start = e[0]
            elif e[1] == "release" and start is not None:
                holds.append((start, e[0], name))
                start = None
    holds.sort()
    return holds, delay


def holds_of_csv(path):
    """The GIL's holds of a model run's --csv (every thread, the fitted
    load's too) and each thread's `ready` intervals, for threads with any."""
    holds, lanes = model_lanes(path, load=True)
    ready = {n: [(s, e) for s, e, st, _ in iv if st == "ready"] for n, iv in lanes.items()}
    return holds, {n: v for n, v in ready.items() if v}


def gil_events_of_recording(path):
    """[(t_ns, thread, kind)] with kind ask, hold, timeout, drop_request or
    forced (a release the recording marks forced)."""
    rec = load_recording(path)
    out = []
    for t in rec["threads"]:
        for e in t["events"]:
            if e[1] in ("ask", "hold", "timeout", "drop_request"):
                out.append((e[0], t["name"], e[1]))
            elif e[1] == "release" and len(e) > 2 and e[2] == "forced":
                out.append((e[0], t["name"], "forced"))
    return out


def gil_events_of_trace(path):
    """The same from a model run's Chrome trace (gilsim run --trace): each
    'waiting for the GIL' slice begins a wait (an ask, or the new wait after
    a timeout); a hold is a slice of the process's GIL lane, named after its
    holder."""
    with open(path) as f:
        tr = json.load(f)
    ev = tr["traceEvents"] if isinstance(tr, dict) else tr
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    kinds = {"timeout": "timeout", "drop_request": "drop_request", "forced_switch": "forced"}
    threads = set(names.values())
    out = []
    for e in ev:
        who = names.get((e.get("pid"), e.get("tid")))
        if who is None or "ts" not in e:
            continue
        t = int(round(e["ts"] * 1000))
        if e.get("ph") == "X" and e.get("name") == "waiting for the GIL":
            out.append((t, who, "ask"))
        elif e.get("ph") == "X" and who == "GIL" and e.get("name") in threads:
            out.append((t, e["name"], "hold"))
        elif e.get("ph") == "i" and e.get("args", {}).get("kind") in kinds:
            out.append((t, who, kinds[e["args"]["kind"]]))
    if not out:
        raise ValueError("%s: no GIL waits in this trace (is it gilsim run --trace output?)"
                         % path)
    return out


ORDER = {"drop_request": 0, "forced": 1, "timeout": 2, "ask": 3, "hold": 4}


def who_takes(events, io=None):
    """Counts, over the forced drops that leave two or more waiters: who
    took the GIL next (requester, longest, other), and, with io, how many of
    those drops the io thread asked for and how many it took."""
    events = sorted(events, key=lambda x: (x[0], ORDER[x[2]]))
    waiting, requester, pending = {}, None, None
    n = {"drops": 0, "requester": 0, "longest": 0, "other": 0, "io_asked": 0, "io_took": 0,
         "io_took_own": 0}
    for t, who, kind in events:
        if kind == "ask":
            waiting[who] = t
        elif kind == "timeout" and who in waiting:
            waiting[who] = t
        elif kind == "drop_request":
            # the recording writes one per waiter that sets the flag; the
            # first one after a switch is the request, and each starts a
            # new wait
            if who in waiting:
                waiting[who] = t
            if requester is None:
                requester = who
        elif kind == "forced":
            w = {k: v for k, v in waiting.items() if k != who}
            pending = (w, requester) if len(w) >= 2 else None
            requester = None
        elif kind == "hold":
            waiting.pop(who, None)
            if pending is None:
                continue
            w, req = pending
            pending = None
            if who not in w:
                continue
            n["drops"] += 1
            longest = min(w, key=lambda k: w[k])
            if who == req:
                n["requester"] += 1
            elif who == longest:
                n["longest"] += 1
            else:
                n["other"] += 1
            if io is not None and req is not None and req.startswith(io):
                n["io_asked"] += 1
                n["io_took_own"] += who == req
            if io is not None and who.startswith(io):
                n["io_took"] += 1
    return n


def timeout_groups(events, gap_ns=10000):
    """The GIL waits' ends by timeout (timeout and drop_request events), in
    groups whose members are within gap_ns of the previous one: (count,
    groups, median spread of the waits' lengths within a group of two or
    more, ns, or None)."""
    start, ends = {}, []
    for t, who, kind in sorted(events, key=lambda x: (x[0], ORDER[x[2]])):
        if kind in ("timeout", "drop_request"):
            if who in start:
                ends.append((t, t - start[who]))
            start[who] = t
        elif kind == "ask":
            start[who] = t
        elif kind == "hold":
            start.pop(who, None)
    groups, cur = [], []
    for e in sorted(ends):
        if cur and e[0] - cur[-1][0] > gap_ns:
            groups.append(cur)
            cur = []
        cur.append(e)
    if cur:
        groups.append(cur)
    spreads = [max(x[1] for x in g) - min(x[1] for x in g) for g in groups if len(g) > 1]
    return len(ends), len(groups), pct(spreads, .5)


def dropper_returns(events):
    """For each forced drop, how long (ns) until its dropper asks for the
    GIL again (take_gil after the FORCE_SWITCHING wait): a dropper queued
    behind the new holder asks only when a core runs it."""
    events = sorted(events, key=lambda x: (x[0], ORDER[x[2]]))
    dropped, out = {}, []
    for t, who, kind in events:
        if kind == "forced":
            dropped[who] = t
        elif kind == "ask" and who in dropped:
            out.append(t - dropped.pop(who))
        elif kind == "hold":
            dropped.pop(who, None)
    return out


def print_who(n, io):
    d = max(1, n["drops"])
    print("forced drops with two or more waiters: %d" % n["drops"])
    print("the GIL went to: the requester %.0f%%, the longest waiter %.0f%%, another %.0f%%"
          % (100 * n["requester"] / d, 100 * n["longest"] / d, 100 * n["other"] / d))
    if io is not None:
        print("%s*: asked for %.0f%% of these drops (took %d of its own), took %.0f%% of them"
              % (io, 100 * n["io_asked"] / d, n["io_took_own"], 100 * n["io_took"] / d))


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] if xs else None


def analyse(holds, is_holder):
    """Per forced drop: (ns until a holder holds again, other holds between)."""
    others = [h for h in holds if not is_holder(h[2])]
    if not others:
        raise ValueError("no thread other than the holders ever held the GIL")
    t0, t1 = others[0][0], others[-1][1]
    held = sum(min(e, t1) - max(s, t0) for s, e, n in holds
               if is_holder(n) and e > t0 and s < t1)
    drops = []
    for i, (s, e, n) in enumerate(holds):
        if not is_holder(n) or not (t0 <= e < t1):
            continue
        k, between = i + 1, 0
        while k < len(holds) and not is_holder(holds[k][2]):
            between += 1
            k += 1
        if between and k < len(holds):
            drops.append((holds[k][0] - e, between, e, holds[k][0]))
    return t0, t1, held, drops


def gil_free(holds, a, b):
    """ns of [a, b) during which nobody held the GIL."""
    return (b - a) - sum(min(e, b) - max(s, a) for s, e, n in holds if e > a and s < b)


def holder_returns(path, prefix):
    """A recording's holder threads' GIL-wait returns: [(t_ns, kind)] with
    kind woken, futile_wakeup or timeout (its cond wait ended); and the
    signals still pending: [(signal_ns, return_ns, to_holder)], from each
    signal with a woken thread to that thread's next return (a futex wake
    makes its thread runnable at once, so a late return is a thread that
    waited for a core, or a signal the recorder gave it that a later one
    woke it for)."""
    with open(path) as f:
        rec = json.load(f)
    ends = ("woken", "futile_wakeup", "timeout")
    rets = {t["index"]: sorted(e[0] for e in t["events"] if e[1] in ends) for t in rec["threads"]}
    holder = {t["index"] for t in rec["threads"] if t["name"].startswith(prefix)}
    pending = []
    for t in rec["threads"]:
        for e in t["events"]:
            if e[1] == "signal" and len(e) > 2 and e[2] in rets:
                r = [x for x in rets[e[2]] if x >= e[0]]
                if r:
                    pending.append((e[0], r[0], e[2] in holder))
    returns = sorted((e[0], e[1]) for t in rec["threads"] if t["name"].startswith(prefix)
                     for e in t["events"] if e[1] in ends)
    return returns, pending


def covered(ivs, a, b):
    """ns of [a, b) inside the union of the intervals ivs."""
    pts = sorted((max(s, a), min(e, b)) for s, e in ivs if e > a and s < b)
    n, end = 0, a
    for s, e in pts:
        s = max(s, end)
        if e > s:
            n += e - s
            end = e
    return n


def print_slow(holds, drops, ready, returns, prefix, t0, t1, slow_ns=1000000):
    """The forced drops after which the holder is back only after slow_ns:
    how long the GIL was free meanwhile, and where the holder was: a model
    run says how long it was runnable without a core; a recording has no
    such intervals, only the kernel's total, so it says how the holder's
    condition-variable waits in them ended (a wait that never returned: it
    did not sleep on the condition variable, it reached the GIL free)."""
    slow = [(a, b) for ns, k, a, b in drops if ns > slow_ns]
    if not slow:
        return
    total = sum(b - a for a, b in slow)
    free = sum(gil_free(holds, a, b) for a, b in slow)
    print("slow drops (back after over %.0f ms): %d, %.1f ms in all, the GIL free %.1f ms of it"
          % (slow_ns / 1e6, len(slow), total / 1e6, free / 1e6))
    if returns is not None:
        returns, pending = returns
        frees = []  # the GIL-free stretches of the slow drops
        for a, b in slow:
            t = a
            for s, e, n in holds:
                if e > a and s < b:
                    if s > t:
                        frees.append((t, s))
                    t = max(t, e)
            if t < b:
                frees.append((t, b))
        to_h = [(s, r) for s, r, h in pending if h]
        any_p = [(s, r) for s, r, h in pending]
        f_h = sum(covered(to_h, a, b) for a, b in frees)
        f_any = sum(covered(any_p, a, b) for a, b in frees)
        print("  the GIL free with a signal given to the holder not yet back %.1f ms, only to "
              "others not yet back %.1f ms, none pending %.1f ms"
              % (f_h / 1e6, (f_any - f_h) / 1e6, (free - f_any) / 1e6))
        kinds = {"none": 0, "woken": 0, "futile_wakeup": 0, "timeout": 0}
        for a, b in slow:
            got = [k for t, k in returns if a <= t <= b]
            if not got:
                kinds["none"] += 1
            for k in set(got):
                kinds[k] += 1
        print("  the holder's condvar wait in them: none ended (it took the GIL as it reached it) %d, "
              "woken %d, futile wake-up %d, timed out %d"
              % (kinds["none"], kinds["woken"], kinds["futile_wakeup"], kinds["timeout"]))
        delay = sum(v for n, v in ready.items() if n.startswith(prefix) and v)
        print("  the holder's run delay over its whole life (schedstat): %.1f ms" % (delay / 1e6))
    else:
        nocore = sum(min(e, b) - max(s, a) for n, v in ready.items() if n.startswith(prefix)
                     for s, e in v for a, b in slow if e > a and s < b)
        print("  the holder runnable without a core in them: %.1f ms" % (nocore / 1e6))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="a recording (.json) or a model run's --csv")
    ap.add_argument("--holder",
                    help="name prefix of the CPU-bound threads (e.g. spinner)")
    ap.add_argument("--who", action="store_true",
                    help="who takes the GIL after a forced drop (a recording or a --trace JSON)")
    ap.add_argument("--io", help="with --who: name prefix of a thread to count apart")
    a = ap.parse_args(argv)
    if a.who:
        try:
            if a.file.endswith(".csv"):
                raise ValueError("--who needs a recording or a gilsim run --trace JSON "
                                 "(the CSV has no timeouts or drop requests)")
            with open(a.file) as f:
                head = f.read(4096)
            events = (gil_events_of_recording(a.file) if "gilsim-recording" in head
                      else gil_events_of_trace(a.file))
            n = who_takes(events, a.io)
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as err:
            msg = str(err)
            print("forced_drops: %s" % (msg if msg.startswith(a.file) else "%s: %s" % (a.file, msg)),
                  file=sys.stderr)
            return 2
        print_who(n, a.io)
        back = dropper_returns(events)
        if back:
            print("the forced dropper asks again after: p50 %.0f us; %.0f%% within 100 us, "
                  "%.0f%% after 700 us"
                  % (pct(back, .5) / 1e3, 100 * sum(x < 100000 for x in back) / len(back),
                     100 * sum(x >= 700000 for x in back) / len(back)))
        k, g, spread = timeout_groups(events)
        if g:
            print("GIL waits ended by a timeout: %d, in %d groups within 10 us (%.2f a group)%s"
                  % (k, g, k / g, "" if spread is None else
                     "; in a group their lengths differ by a median %.1f us" % (spread / 1e3)))
        return 0
    if not a.holder:
        ap.error("--holder is needed (or --who)")
    try:
        if a.file.endswith(".csv"):
            holds, ready = holds_of_csv(a.file)
        else:
            holds, ready = holds_of_recording(a.file)
        is_holder = lambda name: name.startswith(a.holder)  # noqa: E731
        if not any(is_holder(h[2]) for h in holds):
            names = sorted({h[2] for h in holds})
            raise ValueError("no thread named %s... held the GIL; threads that did: %s"
                             % (a.holder, ", ".join(names)))
        t0, t1, held, drops = analyse(holds, is_holder)
        returns = None if a.file.endswith(".csv") else holder_returns(a.file, a.holder)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as err:
        msg = str(err)
        print("forced_drops: %s" % (msg if msg.startswith(a.file) else "%s: %s" % (a.file, msg)),
              file=sys.stderr)
        return 2
    span = t1 - t0
    print("span of the other threads' holds: %.1f ms" % (span / 1e6))
    print("GIL held by %s*: %.0f%% of it" % (a.holder, 100 * held / span))
    print("forced drops followed by another thread's hold: %d (one per %.2f ms)"
          % (len(drops), span / 1e6 / max(1, len(drops))))
    if drops:
        back = [d[0] for d in drops]
        between = [d[1] for d in drops]
        print("until a %s* holds again: p10 %.0f us, p50 %.0f us, p90 %.0f us"
              % (a.holder, pct(back, .1) / 1e3, pct(back, .5) / 1e3, pct(back, .9) / 1e3))
        print("other threads' holds in between: p10 %d, p50 %d, p90 %d, mean %.1f"
              % (pct(between, .1), pct(between, .5), pct(between, .9),
                 sum(between) / len(between)))
        print_slow(holds, drops, ready, returns, a.holder, t0, t1)
    print("runnable without a core:")
    for name in sorted(ready):
        v = ready[name]
        if v is None:
            continue
        ns = v if isinstance(v, int) else sum(min(e, t1) - max(s, t0) for s, e in v
                                              if e > t0 and s < t1)
        print("  %-12s %6.1f ms, %3.0f%% of the span%s"
              % (name, ns / 1e6, 100 * ns / span,
                 "" if isinstance(v, list) else " (the thread's whole life, schedstat)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
