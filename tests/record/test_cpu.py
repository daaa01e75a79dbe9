#!/usr/bin/env python3
"""test_cpu.py - the CPU each event of a real recording ran on.

    test_cpu.py --gilsim G [--python PY] [--source DIR]

one CPU     a two-thread program (a queue between them, forced switches)
            recorded under `taskset -c K`: every event that says its CPU
            says K, and every thread's start, asks, holds and releases,
            and its lock and queue waits' ends, say one.
two CPUs    two CPU-bound threads, each pinning itself to its own CPU
            (os.sched_setaffinity on the thread) before a short sleep:
            from that sleep on, each thread's events say its own CPU, so
            the recording has both.
unpinned    two hashing threads (hashlib, no GIL) on the machine's CPUs:
            the CPUs seen are printed, not checked (the load decides).
old         a recording made before CPUs were written loads in `gilsim
            run`, and tests/reality/recording.py says it has none.
Exits 0, 1 on a failure, 77 (skipped) without a recordable python3 or
with fewer than two CPUs allowed for "two CPUs"."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir))
sys.path.insert(0, os.path.join(HERE, os.pardir, "reality"))
from checks import check, exit_status  # noqa: E402
from recording import event_cpu, has_cpus  # noqa: E402

PAIR = r'''
import queue, threading
q = queue.Queue(maxsize=2)
def produce():
    for i in range(300):
        x = 0
        for _ in range(3000):
            x += 1
        q.put(i)
    q.put(None)
def consume():
    while q.get() is not None:
        x = 0
        for _ in range(3000):
            x += 1
ts = [threading.Thread(target=produce, name="producer"),
      threading.Thread(target=consume, name="consumer")]
[t.start() for t in ts]; [t.join() for t in ts]
'''

PINNED = r'''
import os, sys, threading, time
cpus = [int(c) for c in sys.argv[1:3]]
def work(c):
    os.sched_setaffinity(0, {c})  # 0: the calling thread
    time.sleep(0.002)             # the marker: from here on, CPU c
    x, end = 0, time.perf_counter() + 0.3
    while time.perf_counter() < end:
        x += 1
ts = [threading.Thread(target=work, args=(c,), name="on%d" % c) for c in cpus]
[t.start() for t in ts]; [t.join() for t in ts]
'''

HASH = r'''
import hashlib, threading
def work():
    for _ in range(40):
        hashlib.sha256(b"x" * (1 << 20)).digest()
ts = [threading.Thread(target=work, name="h%d" % i) for i in range(2)]
[t.start() for t in ts]; [t.join() for t in ts]
'''


def record(a, tmp, name, text, args=(), prefix=(), must=True):
    src = os.path.join(tmp, name + ".py")
    with open(src, "w") as f:
        f.write(text)
    out = os.path.join(tmp, name + ".rec.json")
    r = subprocess.run([*prefix, a.gilsim, "record", "-q", "-o", out, "--", a.python, src,
                        *args], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        check(not must, "%s: gilsim record exits 0 (%d: %s)" % (name, r.returncode,
                                                             r.stderr.strip()[-300:]))
        return None
    with open(out) as f:
        return json.load(f)


def one_cpu(a, tmp, cpu):
    rec = record(a, tmp, "pair", PAIR, prefix=("taskset", "-c", str(cpu)))
    if rec is None:
        return
    seen, n = set(), 0
    for t in rec["threads"]:
        said = {}
        for e in t["events"]:
            c = event_cpu(e)
            if c is not None:
                seen.add(c)
                n += 1
                said[e[1]] = said.get(e[1], 0) + 1
        want = ["start", "ask", "hold", "release"]
        if t["name"] in ("producer", "consumer"):
            want.append("wait")  # Queue.get / Queue.put's end
        missing = [k for k in want if not said.get(k)]
        check(not missing, "one CPU: %s: %s say their CPU (missing: %s)"
              % (t["name"], ", ".join(want), missing or "none"))
    check(seen == {cpu}, "one CPU: under taskset -c %d all %d events with a CPU say %d (saw %s)"
          % (cpu, n, cpu, sorted(seen)))


def two_cpus(a, tmp, cpus):
    rec = record(a, tmp, "pinned", PINNED, args=[str(c) for c in cpus])
    if rec is None:
        return
    both = set()
    for t in rec["threads"]:
        if not t["name"].startswith("on"):
            continue
        c = int(t["name"][2:])
        marks = [e[0] for e in t["events"] if e[1] == "call" and e[3] == "time.sleep"]
        check(len(marks) == 1, "two CPUs: %s: its one sleep is recorded" % t["name"])
        if not marks:
            continue
        after = [(e[1], event_cpu(e)) for e in t["events"]
                 if e[0] >= marks[0] and event_cpu(e) is not None]
        wrong = [x for x in after if x[1] != c]
        check(len(after) >= 3 and not wrong,
              "two CPUs: %s: its %d events after pinning itself say CPU %d (others: %s)"
              % (t["name"], len(after), c, wrong[:5]))
        both |= {x[1] for x in after}
    check(both == set(cpus), "two CPUs: the recording has both CPUs %s (saw %s)"
          % (cpus, sorted(both)))


def unpinned(a, tmp):
    rec = record(a, tmp, "hash", HASH)
    if rec is None:
        return
    for t in rec["threads"]:
        cs = {}
        for e in t["events"]:
            c = event_cpu(e)
            if c is not None:
                cs[c] = cs.get(c, 0) + 1
        print("unpinned: %s: events by CPU %s" % (t["name"], dict(sorted(cs.items()))))


def old(a):
    path = os.path.join(a.source, "tests", "data", "ui", "mixed_pool8.rec.json")
    r = subprocess.run([a.gilsim, "run", path, "--summary", "-"], capture_output=True, text=True,
                       timeout=120)
    check(r.returncode == 0 and json.loads(r.stdout).get("threads"),
          "old: a recording without CPUs loads in gilsim run (%d)" % r.returncode)
    with open(path) as f:
        check(not has_cpus(json.load(f)), "old: recording.py says it has no CPUs")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gilsim", required=True)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--source", default=os.path.join(HERE, os.pardir, os.pardir))
    a = ap.parse_args()
    old(a)
    allowed = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        probe = record(a, tmp, "probe", "pass\n", must=False)
        if probe is None:
            print("SKIP: %s cannot be recorded here" % a.python)
            return 77
        one_cpu(a, tmp, 0 if 0 in allowed else allowed[0])
        if len(allowed) < 2:
            print("SKIP two CPUs: only CPU %s allowed" % allowed)
        else:
            two_cpus(a, tmp, allowed[:2])
        unpinned(a, tmp)
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
