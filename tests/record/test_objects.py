#!/usr/bin/env python3
"""test_objects.py - object identity in recordings (issue 14: waits whose
other side is unknown).

    test_objects.py --gilsim G [--python PY]... obj|fit

obj   a wrapped method's call carries its bound self as `obj`: the
      Event.wait of a small program is recorded with the address the
      program itself prints (id(ev)), under every CPython 3.8+ found; a
      wrapped module function (time.sleep) has obj 0.
fit   a small lock-contention program (a holder sleeping, then running
      Python, inside a Lock; a waiter blocking on it; a hasher taking a core
      without the GIL until the holder is done) under the default python3:
      its lock waits name the lock's semaphore and the holder's releases
      that woke them (lock_post, same obj); the fitted scenario names the
      lock ("lock-1 for waiter"), the waiter gets from it and the holder puts; at 1 core and 1 ms the
      replay of the program alone (the fitted other load left out) moves:
      the waiter waits longer for the lock (the holder shares its core
      with the hasher), by more than the sleep the same
      waits were fitted as before. The unmatched case: recorded with the
      release hook off (GILSIM_REC_SEM_POSTS=0, as an older gilsim did),
      the same waits are sleeps, the description counts them, and the
      what-if leaves them as they were.
      Sockets: two clients each talking to a handler thread over a
      socketpair; the fit pairs each socket with its peer from who woke whom
      and names the queues "socket clientK to handlerK" and back: each
      thread gets only from its own socket's queue, and only its peer
      wakes it (a put op, or a send that posts
      the queue itself: c_call "posts").
--keep DIR (or $GILSIM_KEEP): a failing or skipped run's recordings, fits
and summaries are copied into DIR/objects-N, to read why.
Exits 0, 1 on a failure, 77 when no CPython 3.8+ with headers is found."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from checks import FAILS, SKIPS, check, executables, exit_status, skip  # noqa: E402  (the tests directory, above)


def pythons(given):
    """The interpreters to record with: the ones given, else Debian's
    python3 and pyenv's 3.8+ (those with C headers)."""
    if given:
        return given
    out = []
    for c in executables("3.*/bin/python3"):
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


# The waiter must reach the lock while the holder has it, whatever the load:
# sleeps racing each other let a descheduled waiter arrive after the release
# (its "wait" is then no wait). So the waiter asks for the lock only once it
# sees it taken (lock.locked(), polled with short sleeps), and the holder
# keeps it for its sleep and its Python (2 ms + ~10 ms): the waiter would
# have to lose its core that long between the two lines to miss it. The
# holder never waits for the waiter (that could deadlock with a waiter
# blocked on the lock), and the waiter stops polling once the holder is done.
# No Event: its Condition would add lock waits on other semaphores.
# The what-if at 1 core moves the waits only through the holder's Python
# inside the lock, which then shares the core with the hasher; the fit keeps
# the waiter's polls as a fixed count of sleeps, which a shared core
# stretches too. So the holder's Python is most of its hold (~10 ms, was
# ~3 ms: with it the waiter's stretched polls matched the holder's stretch
# in 7 of 50 recordings at load 4.5), and the hasher hashes until the
# holder is done (60 hashes ended halfway through the holds, and after
# them the holder had the core to itself). The holder sets done 20 ms after
# its last hold, so that the waiter's exit (3 ms after it) is not at once
# with the holder's and the hasher's: threads ending together wait on
# threading's own locks, and one such wait over 0.1 ms on another semaphore
# failed "its waits name one semaphore" once in ~100 runs at load 6.
# The holder starts its holds once the waiter and the hasher run (a set
# polled with short sleeps, no semaphore): at load 8 the kernel once kept
# the new waiter 270 ms from a core, and the holder was done before it began.
LOCK_PROGRAM = """
import hashlib, threading, time
lock = threading.Lock()
done = [False]
started = set()
def holder():
    while len(started) < 2:
        time.sleep(0.0002)
    for i in range(10):
        with lock:
            time.sleep(0.002)
            x = 0
            for _ in range(600000):
                x += 1
        time.sleep(0.002)
    time.sleep(0.02)
    done[0] = True
def waiter():
    started.add("waiter")
    for i in range(10):
        while not lock.locked() and not done[0]:
            time.sleep(0.0002)
        with lock:
            pass
        time.sleep(0.003)
def hasher():
    started.add("hasher")
    data = b"x" * (1 << 20)
    n = 0
    while not done[0] or n < 60:
        hashlib.sha256(data).digest()
        n += 1
ts = [threading.Thread(target=f, name=f.__name__) for f in (holder, waiter, hasher)]
[t.start() for t in ts]
[t.join() for t in ts]
"""


SOCKET_PROGRAM = """
import socket, threading, time
def handler(s):
    while True:
        d = s.recv(100)
        if not d:
            return
        x = 0
        for _ in range(30000):
            x += 1
        s.sendall(b"r" * 50)
def client(s):
    for i in range(15):
        s.sendall(b"q" * 20)
        s.recv(100)
        time.sleep(0.001)
    s.close()
ts = []
for k in range(2):
    a, b = socket.socketpair()
    ts.append(threading.Thread(target=handler, args=(b,), name="handler%d" % k))
    ts.append(threading.Thread(target=client, args=(a,), name="client%d" % k))
[t.start() for t in ts]
[t.join() for t in ts]
"""


def do_sockets(a, py):
    rec, _ = record(a, py, SOCKET_PROGRAM, "sockets")
    if rec is None:
        return
    scen, _ = fit(a, os.path.join(a.tmp, "sockets.rec.json"))
    if scen is None:
        return
    queues = set(scen.get("queues", {}))
    want = {f"socket client{k} to handler{k}" for k in range(2)} | \
           {f"socket handler{k} to client{k}" for k in range(2)}
    check(want <= queues, f"sockets: each direction of each pair is a queue {sorted(queues)}")
    for k in range(2):
        for me, peer in ((f"handler{k}", f"client{k}"), (f"client{k}", f"handler{k}")):
            gets = set(ops(program(scen, me), "get"))
            puts = set(ops(program(scen, peer), "put")) | set(ops(program(scen, peer), "posts"))
            mine = f"socket {peer} to {me}"
            check(gets == {mine}, f"sockets: {me} gets only from {mine!r} {sorted(gets)}")
            check(mine in puts, f"sockets: {peer} puts into {mine!r} (or its sends post it)")
            others = {q for t in scen["threads"] if t["name"] != peer
                      for q in ops(t["program"], "put") + ops(t["program"], "posts")}
            check(mine not in others, f"sockets: only {peer} wakes {mine!r}")
            n = len(ops(program(scen, me), "get"))
            check(n >= 5 or any("repeat" in op for op in program(scen, me)),
                  f"sockets: {me}'s recvs that blocked are gets ({n} ops, repeats folded)")


def fit(a, rec_path):
    out = rec_path.replace(".rec.json", ".fit.json")
    r = subprocess.run([a.gilsim, "fit", rec_path, "-o", out], capture_output=True, text=True,
                       timeout=120)
    if not check(r.returncode == 0, f"fit {os.path.basename(rec_path)} ({r.stderr.strip()[:300]})"):
        return None, None
    with open(out) as f:
        return json.load(f), out


def summary(a, scen, *sets):
    args = [a.gilsim, "run", scen, "--quiet", "--summary", "-"]
    for s in sets:
        args += ["--set", s]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if not check(r.returncode == 0, f"run {os.path.basename(scen)} {' '.join(sets)} "
                 f"({r.stderr.strip()[:300]})"):
        return None
    return {t["name"]: t for t in json.loads(r.stdout)["threads"]}


def ops(program, verb):
    """Every op of a program (repeat bodies included) with this verb."""
    out = []
    for op in program:
        if "repeat" in op:
            out += ops(op["do"], verb)
        elif verb in op:
            out.append(op[verb])
    return out


def program(scen, name):
    return next(t["program"] for t in scen["threads"] if t["name"] == name)


WHAT_IF = ("machine.cores=1", "python.switch_interval=1ms")
# The replays leave out the fitted other load (as gilsim fit --no-load):
# with it the holder shares the one core with the load's busy threads too,
# and the waits move even with a hasher that hashes nothing (1.9x-2.0x over
# 6 recordings at load 6.3, against 1.00x-1.03x without the load), so the
# check would not be of the hasher.
ALONE = ("processes=[]",)


def waiter_too_loaded(rec, waits):
    """Why this recording's waiter could not block on the lock, or None: it
    blocked fewer than 3 times and the kernel kept it waiting for a core
    (os_run_delay_ns) longer than the holder ran (os_cpu_ns), about as long
    as the holds it had to ask in."""
    ts = {t["name"]: t for t in rec["threads"]}
    delay = ts.get("waiter", {}).get("os_run_delay_ns", 0)
    held = ts.get("holder", {}).get("os_cpu_ns", 0)
    if len(waits) >= 3 or delay <= held:
        return None
    return (f"the kernel kept the waiter {delay / 1e6:.0f} ms from a core, the holder ran "
            f"{held / 1e6:.0f} ms (os_run_delay_ns, os_cpu_ns)")


def do_fit(a):
    py = a.pythons[0]
    for attempt in (1, 2):
        rec, _ = record(a, py, LOCK_PROGRAM, "lock_objects")
        if rec is None:
            return
        waits = [e for e in events(rec, "lock_wait", "waiter") if e[2] - e[0] > 100000]
        why = waiter_too_loaded(rec, waits)
        if why is None:
            break
        print(f"note: recording {attempt} of the lock program too loaded for the waiter to "
              f"block ({len(waits)} waits over 0.1 ms): {why}", flush=True)
    if why is not None:
        skip(f"the lock program's fit: not judged, both recordings were too loaded ({why})")
        do_sockets(a, py)
        return
    posts = events(rec, "lock_post", "holder")
    check(len(waits) >= 3, f"the waiter blocked on the lock ({len(waits)} waits over 0.1 ms)")
    objs = {e[3] for e in waits}
    check(len(objs) == 1 and 0 not in objs, f"its waits name one semaphore {objs}")
    check(any(p[2] in objs for p in posts), "the holder's releases that woke it name the same "
          f"semaphore ({len(posts)} lock_post on the holder)")
    woken = sum(1 for w in waits if any(p[2] == w[3] and w[0] <= p[0] <= w[2] for p in posts))
    check(woken >= len(waits) - 1, f"each wait has a release inside it ({woken} of {len(waits)})")
    scen, path = fit(a, os.path.join(a.tmp, "lock_objects.rec.json"))
    if scen is None:
        return
    queues = list(scen.get("queues", {}))
    check("lock-1 for waiter" in queues, f"the fitted scenario names the lock {queues}")
    gets = ops(program(scen, "waiter"), "get")
    puts = ops(program(scen, "holder"), "put")
    check(gets and set(gets) == {"lock-1 for waiter"}, f"the waiter gets from it {gets[:3]}")
    check("lock-1 for waiter" in puts, f"the holder puts into it {puts[:3]}")
    check("woken by another thread's release" in scen["description"],
          "the description says which waits were matched")
    base = summary(a, path, *ALONE)
    what = summary(a, path, *ALONE, *WHAT_IF)
    # the unmatched case: the same program, the release hook off
    os.environ["GILSIM_REC_SEM_POSTS"] = "0"
    try:
        rec0, _ = record(a, py, LOCK_PROGRAM, "lock_unmatched")
    finally:
        del os.environ["GILSIM_REC_SEM_POSTS"]
    if rec0 is None or base is None or what is None:
        return
    check(not events(rec0, "lock_post"), "with the hook off no release is recorded")
    scen0, path0 = fit(a, os.path.join(a.tmp, "lock_unmatched.rec.json"))
    if scen0 is None:
        return
    check(not any(q.startswith("lock-") for q in scen0.get("queues", {})),
          f"unmatched: no lock queue {list(scen0.get('queues', {}))}")
    desc = scen0["description"]
    n_sleep = [l for l in desc.split("\n") if l.startswith("- waiter")]
    check(n_sleep and "waits fitted as sleeps" in n_sleep[0] and
          "waits on locks, events or conditions whose other side" in desc,
          f"unmatched: the description counts the waits fitted as sleeps {n_sleep[:1]}")
    base0, what0 = summary(a, path0, *ALONE), summary(a, path0, *ALONE, *WHAT_IF)
    if base0 is None or what0 is None:
        return
    w_base, w_what = base["waiter"]["sync_wait_ns"], what["waiter"]["sync_wait_ns"]
    s_base, s_what = base0["waiter"]["sleep_ns"], what0["waiter"]["sleep_ns"]
    print(f"     waiter's wait for the lock: replay {w_base / 1e6:.2f} ms, at 1 core and 1 ms "
          f"{w_what / 1e6:.2f} ms; unmatched (sleeps): {s_base / 1e6:.2f} -> {s_what / 1e6:.2f} ms")
    # 1.16x to 1.78x (median 1.37x) over 70 recordings at load 4-6.5, 1.19x
    # to 1.36x quiet, once 1.075x in a fresh clone's whole suite; with a
    # hasher that hashes nothing 1.00x to 1.03x (6 recordings): 1.05x between
    check(w_what > 1.05 * w_base and w_what - w_base > 2e6,
          "matched: at 1 core and 1 ms the waiter waits longer for the lock (the holder "
          "shares its core with the hasher)")
    check(abs(s_what - s_base) <= 0.02 * s_base + 1e5,
          "unmatched: the same waits, fitted as sleeps, do not move")
    do_sockets(a, py)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gilsim", required=True)
    ap.add_argument("--python", action="append", default=[])
    ap.add_argument("--keep", default=os.environ.get("GILSIM_KEEP"),
                    help="on a failure or skip, copy the run's files into this directory "
                         "(default: $GILSIM_KEEP)")
    ap.add_argument("what", choices=["obj", "fit"])
    a = ap.parse_args()
    a.pythons = pythons(a.python)
    if not a.pythons:
        print("skip: no CPython 3.8+ with C headers here")
        return 77
    with tempfile.TemporaryDirectory(prefix="gilsim-objects-") as tmp:
        a.tmp = tmp
        try:
            {"obj": do_obj, "fit": do_fit}[a.what](a)
        finally:
            keep(a.keep, tmp)
    return exit_status()


def keep(dest, tmp):
    """After a failure or a skip, the run's files go to dest (a new numbered
    directory)."""
    if not dest or not (FAILS or SKIPS):
        return
    os.makedirs(dest, exist_ok=True)
    n = 0
    while os.path.exists(os.path.join(dest, "objects-%d" % n)):
        n += 1
    shutil.copytree(tmp, os.path.join(dest, "objects-%d" % n))
    print("kept the run's files in %s" % os.path.join(dest, "objects-%d" % n), flush=True)


if __name__ == "__main__":
    sys.exit(main())
