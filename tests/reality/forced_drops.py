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
"""

import argparse
import csv
import json
import sys


def holds_of_recording(path):
    """(holds, names, run_delay): holds as (start_ns, end_ns, name) in time
    order, run_delay per name in ns (None where not recorded)."""
    with open(path) as f:
        rec = json.load(f)
    if rec.get("format") != "gilsim-recording":
        raise ValueError("%s: not a gilsim recording (format %r)" % (path, rec.get("format")))
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
    holds, ready = [], {}
    with open(path, newline="") as f:
        rows = csv.DictReader(f)
        if rows.fieldnames is None or "lane_kind" not in rows.fieldnames:
            raise ValueError("%s: not a gilsim run --csv file (no lane_kind column)" % path)
        for r in rows:
            s, e = int(r["start_ns"]), int(r["end_ns"])
            if r["lane_kind"] == "gil" and r["state"] == "gil_held":
                holds.append((s, e, r["thread"]))
            elif r["lane_kind"] == "thread" and r["state"] == "ready":
                ready.setdefault(r["thread"], []).append((s, e))
    holds.sort()
    return holds, ready


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
            drops.append((holds[k][0] - e, between))
    return t0, t1, held, drops


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="a recording (.json) or a model run's --csv")
    ap.add_argument("--holder", required=True,
                    help="name prefix of the CPU-bound threads (e.g. spinner)")
    a = ap.parse_args(argv)
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
