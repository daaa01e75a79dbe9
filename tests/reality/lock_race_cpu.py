#!/usr/bin/env python3
"""Where a Lock's race is won: on the releaser's own CPU or on another
(issue 14, replay points 39 and 45; recordings with each event's CPU).

For every release that found a thread blocked on the Lock (`lock_post`),
the waiter that took it (another thread's `lock_wait` on the same
semaphore ending before the Lock's next post) is counted by the CPU its
wait ended on: the post's CPU (it preempted the releaser as the futex
wake returned, Linux's wake-up preemption) or another (an idle CPU's
wake-up), with how long after the post its wait ended (p10/p50/p90).

It also reads the releaser's own gap from its release to its next try as
`gilsim fit --lock-race` reads it (sim/fit/lockgap.c): over the same-CPU
wins whose releaser then blocked on the Lock (its next GIL event a drop
signal), from the waiter's GIL ask plus the calibration's context switch
to the releaser's signal; the median, and how many.

    python3 tests/reality/lock_race_cpu.py REC.json [REC.json ...]
    python3 tests/reality/lock_race_cpu.py --self-test
"""
import argparse
import os
import sys
from bisect import bisect_left

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from recording import event_cpu, load_recording, pct  # noqa: E402

GIL_KINDS = ("ask", "hold", "release", "lock_post")


def lost_at(ev, t, obj):
    """The releaser's drop signal after its post at t when it then blocked
    on obj (its next GIL event the signal, its next Lock event a wait on
    obj), else None. ev: its events in time order."""
    sig = None
    for e in ev[bisect_left([x[0] for x in ev], t):]:
        if e[1] == "lock_post" and e[0] == t:
            continue
        if sig is None:
            if e[1] == "signal":
                sig = e[0]
            elif e[1] in GIL_KINDS:
                return None
        elif e[1] in ("lock_wait", "lock_post"):
            return sig if e[1] == "lock_wait" and e[3] == obj else None
    return None


def race_cpu(path):
    """{'same': [wait end - post], 'other': [...], 'posts': n, 'gaps': [...]}"""
    d = load_recording(path)
    cs = d.get("calibration", {}).get("context_switch_ns", 2000)
    evs, posts, waits = {}, [], []
    for th in d["threads"]:
        ev = sorted((e for e in th["events"] if e[1] != "call"), key=lambda e: e[0])
        evs[th["name"]] = ev
        for e in ev:
            if e[1] == "lock_post":
                posts.append((e[2], e[0], th["name"], event_cpu(e)))
            elif e[1] == "lock_wait":
                waits.append((e[3], e[2], e[0], th["name"], event_cpu(e)))
    posts.sort()
    waits.sort()
    out = {"same": [], "other": [], "posts": len(posts), "gaps": []}
    for i, (obj, t, name, cpu) in enumerate(posts):
        nxt = posts[i + 1][1] if i + 1 < len(posts) and posts[i + 1][0] == obj else float("inf")
        won = None
        for w in waits[bisect_left(waits, (obj, t)):]:
            if w[0] != obj or w[1] >= nxt:
                break
            if w[3] != name and w[2] < t:
                won = w
                break
        if won is None or cpu is None or won[4] is None:
            continue
        same = won[4] == cpu
        out["same" if same else "other"].append(won[1] - t)
        if not same:
            continue
        ask = next((e[0] for e in evs[won[3]] if e[0] >= won[1] and e[1] == "ask"), None)
        sig = lost_at(evs[name], t, obj)
        if ask is not None and sig is not None and ask <= sig < nxt:
            out["gaps"].append(max(0, sig - ask - cs))
    return out


def report(path, r):
    def p(v):
        return "/".join("%.1f" % (pct(v, q) / 1e3) for q in (.1, .5, .9)) if v else "-"
    g = sorted(r["gaps"])
    print("%s: %d releases with a waiter; won on the releaser's CPU %d (wait ended %s us "
          "after the post), on another CPU %d (%s us); the releaser's gap to its next try "
          "%s over %d same-CPU hand-offs" % (
              os.path.basename(path), r["posts"], len(r["same"]), p(r["same"]),
              len(r["other"]), p(r["other"]),
              "%.2f us" % (g[len(g) // 2] / 1e3) if g else "-", len(g)))


def self_test():
    """lock_race_cpu_test.py, on a recording made by hand."""
    import lock_race_cpu_test
    return lock_race_cpu_test.main()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("recordings", nargs="*")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.recordings:
        ap.error("a recording is needed (or --self-test)")
    for path in a.recordings:
        try:
            report(path, race_cpu(path))
        except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
            print("lock_race_cpu: %s: %s" % (path, e), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
