#!/usr/bin/env python3
"""test_objects.py - object identity in recordings (issue 14: waits whose
other side is unknown).

    test_objects.py --gilsim G [--python PY]... obj

obj   a wrapped method's call carries its bound self as `obj`: the
      Event.wait of a small program is recorded with the address the
      program itself prints (id(ev)), under every CPython 3.8+ found; a
      wrapped module function (time.sleep) has obj 0.
Exits 0, 1 on a failure, 77 when no CPython 3.8+ with headers is found."""
import argparse
import glob
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


def pythons(given):
    """The interpreters to record with: the ones given, else Debian's
    python3 and pyenv's 3.8+ (those with C headers)."""
    if given:
        return given
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    cands = ["/usr/bin/python3"] + sorted(glob.glob(os.path.join(root, "versions/3.*/bin/python3")))
    out, seen = [], set()
    for c in cands:
        real = os.path.realpath(c)
        if real in seen or not os.access(c, os.X_OK):
            continue
        seen.add(real)
        try:
            r = subprocess.run([c, "-c", "import sys, sysconfig, os; print(sys.version_info >= (3, 8)"
                                " and not sysconfig.get_config_var('Py_GIL_DISABLED') and"
                                " os.path.exists(os.path.join(sysconfig.get_paths()['include'],"
                                " 'Python.h')))"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            continue
        if r.stdout.strip() == "True":
            out.append(c)
    return out


def record(a, py, body, name, *args):
    """Records the program `body` (written to name.py) with py; returns
    (recording as JSON or None, the program's stdout)."""
    script = os.path.join(a.tmp, name + ".py")
    with open(script, "w") as f:
        f.write(body)
    out = os.path.join(a.tmp, name + ".rec.json")
    r = subprocess.run([a.gilsim, "record", "--quiet", "-o", out, "--", py, script, *args],
                       capture_output=True, text=True, timeout=300)
    if not check(r.returncode == 0, f"{name} under {py}: recorded ({r.stderr.strip()[:300]})"):
        return None, r.stdout
    with open(out) as f:
        return json.load(f), r.stdout


def events(rec, kind, thread=None):
    return [e for t in rec["threads"] if thread in (None, t["name"]) for e in t["events"]
            if e[1] == kind]


EVENT_PROGRAM = """
import threading, time
ev = threading.Event()
def setter():
    time.sleep(0.01)
    ev.set()
t = threading.Thread(target=setter, name="setter")
t.start()
ev.wait()
t.join()
print("gilsim-objects", id(ev))
"""


def do_obj(a):
    for py in a.pythons:
        rec, out = record(a, py, EVENT_PROGRAM, "event_obj")
        if rec is None:
            continue
        ev_id = next((int(l.split()[1]) for l in out.splitlines()
                      if l.startswith("gilsim-objects ")), None)
        waits = [e for e in events(rec, "wait", "MainThread") if e[3] == "Event.wait"]
        objs = [e[5] for e in waits if len(e) > 5]
        check(ev_id is not None and ev_id in objs,
              f"{py}: the main thread's Event.wait has obj = id(ev) {ev_id} (recorded: {objs})")
        # Thread.start's own Event.wait is on another Event: objects differ
        check(len(set(objs)) == len(objs),
              f"{py}: each Event.wait names its own Event ({len(objs)} waits)")
        sleeps = [e for e in events(rec, "call", "setter") if e[3] == "time.sleep"]
        check(sleeps and all(len(e) > 6 and e[6] == 0 for e in sleeps),
              f"{py}: time.sleep (a module function) has obj 0 {sleeps[:1]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gilsim", required=True)
    ap.add_argument("--python", action="append", default=[])
    ap.add_argument("what", choices=["obj"])
    a = ap.parse_args()
    a.pythons = pythons(a.python)
    if not a.pythons:
        print("skip: no CPython 3.8+ with C headers here")
        return 77
    with tempfile.TemporaryDirectory(prefix="gilsim-objects-") as tmp:
        a.tmp = tmp
        {"obj": do_obj}[a.what](a)
    print(f"{len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
