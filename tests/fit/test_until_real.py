#!/usr/bin/env python3
"""test_until_real.py - a loop until an Event is set, recorded and fitted.

    test_until_real.py --gilsim G [--python PY] [--examples DIR]

Records examples/convoy.py (its CPU thread runs `while not stop.is_set()`
until the I/O thread sets `stop`) and checks:
  - the recording has the I/O thread's Event.set of the event and, in the
    CPU thread, one Event.is_set call only (its first True, not every poll,
    with the count of the polls that returned False), of the same object,
    after the set;
  - the fit makes the CPU thread an until loop on that event and the I/O
    thread's set a set op of it, and nothing of the main thread's joins
    (each checks the joined thread's `_started.is_set()`);
  - the replay's CPU thread works longer at a 20 ms switch interval than at
    5 ms, and less at 1 ms (the model is deterministic: no tolerance).
Exits 0, 1 on a failure, 77 when the interpreter cannot be recorded."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)
    return cond


def calls(rec, thread, name):
    return [e for t in rec["threads"] if t["name"] == thread for e in t["events"]
            if e[1] == "call" and e[3] == name]


def find_op(prog, verb):
    for op in prog:
        if verb in op:
            return op
        found = find_op(op.get("do", []), verb)
        if found:
            return found
    return None


def cpu_python(g, scenario, tmp, interval):
    out = os.path.join(tmp, "s-%s.json" % interval)
    r = subprocess.run([g, "run", scenario, "--quiet", "--set",
                        "python.switch_interval=" + interval, "--summary", out],
                       capture_output=True, text=True, timeout=300)
    if not check(r.returncode == 0, "the fit runs at %s (%s)" % (interval, r.stderr.strip()[:200])):
        return -1
    with open(out) as f:
        s = json.load(f)
    return next(t["python_ns"] for t in s["threads"] if t["name"] == "cpu")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gilsim", required=True)
    ap.add_argument("--python", default="python3")
    ap.add_argument("--examples", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                        "examples"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gilsim-until-") as tmp:
        rec_path = os.path.join(tmp, "convoy.rec.json")
        r = subprocess.run([a.gilsim, "record", "--quiet", "-o", rec_path, "--", a.python,
                            os.path.join(a.examples, "convoy.py"), "20", "1"],
                           capture_output=True, text=True, timeout=300)
        if r.returncode in (126, 127):
            print("SKIP: %s cannot be recorded here: %s" % (a.python, r.stderr.strip()[:300]))
            return 77
        if not check(r.returncode == 0, "convoy.py recorded (%s)" % r.stderr.strip()[:300]):
            return 1
        with open(rec_path) as f:
            rec = json.load(f)
        polls = calls(rec, "cpu", "Event.is_set")
        check(len(polls) == 1, "the CPU thread's polls: its first True only (%d recorded)"
              % len(polls))
        check(bool(polls) and len(polls[0]) > 7 and polls[0][7] > 0,
              "the first True poll counts the polls that returned False before it (%s)"
              % (polls[0][7:] if polls else "?"))
        sets = [e for e in calls(rec, "io", "Event.set") if polls and e[6] == polls[0][6]]
        check(len(sets) == 1 and polls[0][6] != 0,
              "the I/O thread's Event.set is of the polled event (obj %s)"
              % (polls[0][6] if polls else "?"))
        if sets:
            check(sets[0][0] <= polls[0][0], "the first True poll comes after the set")

        fit = os.path.join(tmp, "convoy.fit.json")
        r = subprocess.run([a.gilsim, "fit", rec_path, "-o", fit], capture_output=True,
                           text=True, timeout=300)
        if not check(r.returncode == 0, "fitted (%s)" % r.stderr.strip()[:300]):
            return 1
        with open(fit) as f:
            sc = json.load(f)
        progs = {t["name"]: t["program"] for t in sc["threads"]}
        loop, set_op = find_op(progs["cpu"], "until"), find_op(progs["io"], "set")
        check(loop is not None, "the CPU thread is an until loop")
        check(set_op is not None and loop is not None and set_op["set"] == loop["until"],
              "the I/O thread sets the loop's event")
        check("until" in sc["description"] and "by io" in sc["description"],
              "the description says so")
        # Thread.join's own `_started.is_set()` (a first True poll of an event
        # the joined thread set) is inside the join: no loop, no event
        check(find_op(progs["MainThread"], "until") is None and len(sc.get("events", [])) == 1,
              "the joins' polls are no loops (events: %s)" % sc.get("events"))

        at1, at5, at20 = (cpu_python(a.gilsim, fit, tmp, i) for i in ("1ms", "5ms", "20ms"))
        check(0 < at1 < at5 < at20,
              "the replay's CPU thread works longer as the interval grows (Python at 1, 5, "
              "20 ms: %.1f, %.1f, %.1f ms)" % (at1 / 1e6, at5 / 1e6, at20 / 1e6))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
