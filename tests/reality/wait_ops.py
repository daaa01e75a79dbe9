#!/usr/bin/env python3
"""Each thread's GIL waits by the op they follow, and who held the GIL
meanwhile: a recording and model runs of its fit, side by side (issue 14,
replay point 36: `http_server`'s handlers).

A GIL wait is an ask to the hold after it. It is put under the op whose
release it comes back from:

  recording  the call whose span holds the ask (`socket.recv`,
             `socket.sendall`, `time.sleep`...); else "forced" after a
             forced drop, "start" before the thread's first hold, or the
             release's own reason ("unnamed", "call")
  model      the op of its first `wait_gil` interval (the CSV's op label):
             "recv" for a `get` on a socket queue ("get" otherwise), "put",
             "sleep", "io", "c_call", "cpu" (a wait inside Python: after a
             forced drop); with --fit, a `c_call` next to a socket `put` in
             the program is "send"

and for each thread and kind it prints how many waits, how many lasted over
--big (200 us), their total, and which thread held the GIL longest in each
of the big ones, counted. A wait the model makes where the recording made
none is a mechanism to look for at that op.

    wait_ops.py REC.json [RUN.csv ...] [--fit FIT.json] [--big US]
    wait_ops.py --self-test

RUN.csv is `gilsim run FIT --csv RUN.csv` of the recording's fit, at any
setting. The fitted "other load" threads and MainThread are left out
(--main to keep MainThread)."""
import argparse
import collections
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from recording import load_recording, model_lanes  # noqa: E402


def recording(path):
    """([(thread, kind, ask, hold)], [(start, end, thread)] holds)."""
    d = load_recording(path)
    waits, holds = [], []
    for th in d["threads"]:
        name, ev = th["name"], th["events"]
        calls = [(e[0], e[2], e[3]) for e in ev if e[1] == "call" and len(e) > 3]
        held, ask, why = None, None, None
        gil = sorted((e for e in ev if e[1] in ("ask", "hold", "release")), key=lambda e: e[0])
        for e in gil:
            if e[1] == "ask":
                ask = e[0]
            elif e[1] == "hold":
                if ask is not None:
                    inside = [c for c in calls if c[0] <= ask <= c[1]]
                    if inside:
                        kind = max(inside)[2]  # the innermost: the latest to begin
                    else:
                        kind = "start" if why is None else why
                    waits.append((name, kind, ask, e[0]))
                held, ask = e[0], None
            elif e[1] == "release":
                if held is not None:
                    holds.append((held, e[0], name))
                held, why = None, (e[2] if len(e) > 2 else "release")
    holds.sort()
    return waits, holds


def op_kinds(fit_path):
    """{(thread, program path): kind} of a fitted scenario's ops."""
    with open(fit_path) as f:
        sc = json.load(f)
    out = {}

    def is_socket_put(o):
        return "put" in o and str(o["put"]).startswith("socket ")

    def walk(ops, path, name):
        for i, o in enumerate(ops):
            p = "%s[%d]" % (path, i)
            if "do" in o:
                walk(o["do"], p + ".do", name)
                continue
            near = [ops[j] for j in (i - 1, i + 1) if 0 <= j < len(ops)]
            if "c_call" in o and any(is_socket_put(x) for x in near):
                out[(name, p)] = "send"
    for t in sc.get("threads", []):
        walk(t.get("program", []), "program", t["name"])
    return out


VERB = re.compile(r": (program\S*) (\w+)(?: (.*))?$")


def model_kind(label, name, kinds):
    m = VERB.search(label or "")
    if not m:
        return "?"
    path, verb, arg = m.group(1), m.group(2), m.group(3) or ""
    if (name, path) in kinds:
        return kinds[(name, path)]
    if verb == "get":
        return "recv" if arg.startswith("socket ") else "get"
    return verb


def model(path, kinds=None):
    """The same from `gilsim run --csv`: a wait runs from the first
    `wait_gil` to the thread's next Python or C interval."""
    holds, lanes = model_lanes(path)
    waits = []
    for name, iv in lanes.items():
        ask, label = None, None
        for s, _, st, op in iv:
            if st == "wait_gil" and ask is None:
                ask, label = s, op
            elif st in ("python", "c_gil", "c_nogil") and ask is not None:
                waits.append((name, model_kind(label, name, kinds or {}), ask, s))
                ask = None
    return waits, holds


def holder(holds, a, b):
    """The thread that held the GIL longest in [a, b), or "-"."""
    ov = collections.Counter()
    for s, e, n in holds:
        if s >= b:
            break
        if e > a:
            ov[n] += min(e, b) - max(s, a)
    return ov.most_common(1)[0][0] if ov else "-"


def table(waits, holds, big_ns, keep_main=False):
    """{(thread, kind): (n, n_big, total_ns, Counter of holders in the big)}."""
    out = {}
    for name, kind, a, b in waits:
        if name == "MainThread" and not keep_main:
            continue
        n, nb, tot, hc = out.get((name, kind), (0, 0, 0, collections.Counter()))
        if b - a > big_ns:
            nb += 1
            hc[holder(holds, a, b)] += 1
        out[(name, kind)] = (n + 1, nb, tot + b - a, hc)
    return out


def report(label, t):
    print(label)
    for (name, kind), (n, nb, tot, hc) in sorted(t.items()):
        who = ", ".join("%s %d" % kv for kv in hc.most_common())
        print("  %-12s %-16s waits %4d  big %4d  %9.2f ms%s"
              % (name, kind, n, nb, tot / 1e6, "  (held by: %s)" % who if who else ""))


def self_test():
    """wait_ops_test.py, on a recording, model run and fit made by hand."""
    import wait_ops_test
    return wait_ops_test.main()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("recording", nargs="?")
    ap.add_argument("runs", nargs="*", help="gilsim run FIT --csv RUN.csv of its fit")
    ap.add_argument("--fit", help="the fitted scenario the runs ran: names its sends")
    ap.add_argument("--big", type=float, default=200, help="a big wait, in us (200)")
    ap.add_argument("--main", action="store_true", help="keep MainThread")
    ap.add_argument("--self-test", action="store_true",
                    help="check the kinds and holders on a hand-written recording and run")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.recording:
        ap.error("a recording is needed (or --self-test)")
    big = a.big * 1000
    try:
        kinds = op_kinds(a.fit) if a.fit else None
        real = table(*recording(a.recording), big, a.main)
        runs = [(r, table(*model(r, kinds), big, a.main)) for r in a.runs]
    except (OSError, ValueError, KeyError, IndexError) as e:
        print("wait_ops: %s" % e, file=sys.stderr)
        return 2
    report("real " + a.recording, real)
    for r, t in runs:
        report("model " + r, t)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
