#!/usr/bin/env python3
"""bench_record_posts.py - what recording the lock releases that wake a
waiter (the shim's sem_post hook, `lock_post` events) costs a lock-heavy
program.

    bench_record_posts.py --gilsim G [--python PY] [--reps N] [--quick]

Two programs, each recorded alternately with the hook on and off
(GILSIM_REC_SEM_POSTS=0, the shim as it was before the hook), in one run:
  uncontended  one thread taking and releasing a threading.Lock in a loop:
               every release is a sem_post with nobody waiting, the case the
               hook must not slow (it reads the semaphore's waiter count);
  contended    four threads sharing one Lock, sleeping 0 inside now and then:
               many releases wake a waiter and are recorded.
Each program measures its own loop with perf_counter (start-up and the
recorder's work before and after are not counted). The figure is the median
of the per-pair ratios on/off, with the range, and the lock_post events the
hook recorded. Exits 77 without a usable python3."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

UNCONTENDED = r'''
import threading, time, sys
N = int(sys.argv[1])
lock = threading.Lock()
t = time.perf_counter()
for _ in range(N):
    with lock:
        pass
print("elapsed", time.perf_counter() - t)
'''

CONTENDED = r'''
import threading, time, sys
N = int(sys.argv[1])
lock = threading.Lock()
def work():
    for i in range(N):
        with lock:
            if i % 50 == 0:
                time.sleep(0)
t = time.perf_counter()
ts = [threading.Thread(target=work) for _ in range(4)]
[x.start() for x in ts]; [x.join() for x in ts]
print("elapsed", time.perf_counter() - t)
'''


def run(a, script, n, posts, out):
    env = dict(os.environ, GILSIM_REC_SEM_POSTS="1" if posts else "0")
    r = subprocess.run([a.gilsim, "record", "-q", "-o", out, "--", a.python, script, str(n)],
                       capture_output=True, text=True, env=env, timeout=600)
    if r.returncode != 0:
        sys.exit(f"recording failed: {r.stderr.strip()[:300]}")
    el = next(float(l.split()[1]) for l in r.stdout.splitlines() if l.startswith("elapsed"))
    with open(out) as f:
        rec = json.load(f)
    posts_n = sum(1 for t in rec["threads"] for e in t["events"] if e[1] == "lock_post")
    return el, posts_n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gilsim", required=True)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    if not os.access(a.python, os.X_OK):
        print(f"skip: no {a.python}")
        return 77
    reps = 3 if a.quick else a.reps
    with tempfile.TemporaryDirectory(prefix="gilsim-bench-posts-") as tmp:
        for name, body, n in (("uncontended", UNCONTENDED, 300000 if a.quick else 1000000),
                              ("contended", CONTENDED, 5000 if a.quick else 20000)):
            script = os.path.join(tmp, name + ".py")
            with open(script, "w") as f:
                f.write(body)
            ratios, on, off, posts = [], [], [], 0
            for k in range(reps):
                order = (True, False) if k % 2 == 0 else (False, True)
                got = {}
                for p in order:
                    got[p] = run(a, script, n, p, os.path.join(tmp, "r.json"))
                on.append(got[True][0])
                off.append(got[False][0])
                posts = max(posts, got[True][1])
                ratios.append(got[True][0] / got[False][0])
            print(f"{name}: hook off {statistics.median(off) * 1e3:.0f} ms, on "
                  f"{statistics.median(on) * 1e3:.0f} ms (medians of {reps}); ratio on/off, "
                  f"median of pairs {statistics.median(ratios):.3f} (range {min(ratios):.3f} to "
                  f"{max(ratios):.3f}); lock_post events recorded: up to {posts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
