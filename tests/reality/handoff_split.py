#!/usr/bin/env python3
"""Where a ping-pong thread's GIL hold is split by the wake-up it makes:
from taking the GIL (woken by its partner) to the call that wakes the
partner, and from that call to the drop at its own next blocking wait.
reality.py's pingpong-cpu scenarios place their Python on either side of
that wake (the Lock one all before the release, the Event one half and
half, scenarios.py), and the model's hand-offs per second beside a
CPU-bound thread move 2x with it (docs/validation.md): this reads the
split from a real run.

The wake is the recording's `lock_post` (docs/recording.md): a sem_post
made while a thread was blocked on the semaphore, written on the thread
that made it, which is what a Lock's release and an Event's set (the
Condition's notify releasing the waiter's lock) come down to. No root.

  handoff_split.py record --kind lock|event [--interval 5ms] [--spinner]
                   [--rounds N] [--gilsim BIN] [--python PY] [--out PREFIX]
  handoff_split.py analyse REC.json       an earlier recording
  handoff_split.py --self-test            on a recording made by hand

A hold counts when it is a pair thread's (ping, pong), holds exactly one
`lock_post` and ends in a voluntary release (the blocking wait's drop, not
a forced one). The recorder's own stamps cost a little on both sides of
the post; the figures are medians, with quartiles.
Exit: 0 done, 1 self-test failed, 2 bad input.
"""
import argparse
import json
import os
import statistics as st
import subprocess
import sys
import tempfile

PAIR = ("ping", "pong")

PROGRAM = r'''
import sys, threading
kind, n, spinner = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
stop = [False]
if kind == "lock":
    a, b = threading.Lock(), threading.Lock()
    a.acquire(); b.acquire()
    def ping_turn():
        a.acquire(); b.release()
    def pong_turn():
        a.release(); b.acquire()
else:
    a, b = threading.Event(), threading.Event()
    def ping_turn():
        a.wait(); a.clear(); b.set()
    def pong_turn():
        a.set(); b.wait(); b.clear()
gate = threading.Event()
def ping():
    gate.wait()
    for _ in range(n):
        ping_turn()
    stop[0] = True
def pong():
    gate.wait()
    for _ in range(n):
        pong_turn()
def spin():
    gate.wait()
    while not stop[0]:
        pass
fns = [ping, pong] + ([spin] if spinner else [])
ts = [threading.Thread(target=f, name=f.__name__) for f in fns]
for t in ts: t.start()
gate.set()
for t in ts: t.join()
'''


def splits(rec):
    """{thread name: [(before_ns, after_ns)]} of the pair's counted holds
    (the module's rule), from a recording's parsed JSON."""
    out = {}
    for t in rec.get("threads", []):
        name = t.get("name")
        if name not in PAIR:
            continue
        got, hold, posts = [], None, []
        for e in t.get("events", []):
            if not isinstance(e, list) or len(e) < 2:
                continue
            what = e[1]
            if what == "hold":
                hold, posts = e[0], []
            elif what == "lock_post" and hold is not None:
                posts.append(e[0])
            elif what == "release":
                why = e[2] if len(e) > 2 else None
                if hold is not None and why != "forced" and len(posts) == 1:
                    got.append((posts[0] - hold, e[0] - posts[0]))
                hold, posts = None, []
        out[name] = got
    return out


def quart(v):
    v = sorted(v)
    return st.median(v), v[len(v) // 4], v[(3 * len(v)) // 4]


def report(rec, out=sys.stdout):
    """Prints each pair thread's split; returns {name: (median before,
    median after, n)} (ns), an empty dict when no hold counted."""
    res = {}
    for name, got in sorted(splits(rec).items()):
        if not got:
            print("%s: no hold with one wake-up and a voluntary drop" % name, file=out)
            continue
        b, a = [x[0] for x in got], [x[1] for x in got]
        qb, qa = quart(b), quart(a)
        print("%s: %d holds; hold to the wake-up %.2f us (%.2f-%.2f), wake-up to the drop "
              "%.2f us (%.2f-%.2f); before / whole %.2f" % (
                  name, len(got), qb[0] / 1e3, qb[1] / 1e3, qb[2] / 1e3, qa[0] / 1e3,
                  qa[1] / 1e3, qa[2] / 1e3, qb[0] / (qb[0] + qa[0])), file=out)
        res[name] = (qb[0], qa[0], len(got))
    return res


def load(path):
    try:
        with open(path) as f:
            rec = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit("handoff_split.py: %s: %s" % (path, e))
    if not isinstance(rec, dict) or not isinstance(rec.get("threads"), list):
        raise SystemExit("handoff_split.py: %s: not a gilsim recording (no \"threads\" list)"
                         % path)
    if not any(t.get("name") in PAIR for t in rec["threads"] if isinstance(t, dict)):
        raise SystemExit("handoff_split.py: %s: no thread named ping or pong (a recording "
                         "of this tool's program?)" % path)
    return rec


def record(a):
    prefix = a.out or os.path.join(tempfile.mkdtemp(prefix="handoff-"),
                                   "%s%s" % (a.kind, "-spin" if a.spinner else ""))
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(PROGRAM)
        prog = f.name
    try:
        cmd = [a.gilsim, "record", "-q", "-o", prefix + ".rec.json"]
        if a.spinner:
            cmd += ["--switch-interval", a.interval]
        subprocess.run(cmd + ["--", a.python, prog, a.kind, str(a.rounds),
                              "1" if a.spinner else "0"], check=True)
    finally:
        os.unlink(prog)
    print("file: %s.rec.json" % prefix)
    return prefix + ".rec.json"


def self_test():
    """handoff_split_test.py, on a recording made by hand."""
    import handoff_split_test
    return handoff_split_test.main()


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if argv == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record", help="record the ping-pong and read it")
    r.add_argument("--kind", choices=("lock", "event"), required=True)
    r.add_argument("--interval", default="5ms", help="switch interval with --spinner")
    r.add_argument("--spinner", action="store_true", help="beside a thread spinning in Python")
    r.add_argument("--rounds", type=int, default=2000)
    r.add_argument("--gilsim", default="build/sim/cli/gilsim")
    r.add_argument("--python", default="python3")
    r.add_argument("--out", help="prefix of the recording (default: a temp dir)")
    an = sub.add_parser("analyse", help="read an earlier recording")
    an.add_argument("rec")
    a = ap.parse_args(argv)
    path = record(a) if a.cmd == "record" else a.rec
    return 0 if report(load(path)) else 2


if __name__ == "__main__":
    sys.exit(main())
