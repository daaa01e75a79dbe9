"""The per-version measuring program: runs UNDER the interpreter being
measured (Python 2.7 and 3.6 onwards, so no f-strings, no 1_000 literals) and
prints one JSON object.  versions.py starts it once per interpreter.  It
cannot import programs.py (3.6+ syntax), hence its own spin() and gate.

  vprobe.py REPEATS EXPERIMENT[,EXPERIMENT...]

Experiments:
  spin      ns per turn of `while n: n -= 1`, best of 5
  battle    two CPU-bound threads vs one thread doing both; pairs taken back
            to back (the vCPUs change speed from one second to the next);
            the ratio of each pair, the process's voluntary context switches
            during the threaded run (getrusage: every thread's, the main
            thread's join included) and, per worker thread, from its own
            /proc/thread-self files: voluntary and involuntary switches, CPU
            time and run-queue wait (schedstat), the CPU it started and ended
            on; and the serial run's CPU time
  pinned    the same pairs with the two threads pinned each to its own CPU
            (two CPUs: the battle proper) and both to one CPU (the same
            per-thread figures), to tell the two ways the kernel may place
            them apart; pin2 and pin1 run one of the two
  convoy    one thread sleeping 1 ms REPEATS x 20 times beside one CPU-bound
            thread: the extra delay per sleep over the same sleeps alone
  subinterp two threads, each running the spin loop in its own
            subinterpreter (3.12: _xxsubinterpreters, 3.13: _interpreters),
            vs the same in one; and the cost of creating one
  ftloops   ns of Python between two touches of the shared object in
            ftscalingbench's contended loops, and in a dict.get loop (each
            turn, every loop once; versions.py takes the best turn)
  pickle    pickle.dumps and pickle.loads of a list of ints, ns a byte
"""
import json
import os
import resource
import sys
import threading
import time

perf = getattr(time, "perf_counter", time.time)


def spin(n):
    while n:
        n -= 1


def best(fn, k=5):
    b = None
    for _ in range(k):
        t = perf()
        fn()
        d = perf() - t
        b = d if b is None else min(b, d)
    return b


def gated(fns):
    gate = threading.Event()
    def body(fn):
        gate.wait()
        fn()
    ts = [threading.Thread(target=body, args=(f,)) for f in fns]
    for t in ts:
        t.start()
    t0 = perf()
    gate.set()
    for t in ts:
        t.join()
    return perf() - t0


def nvcsw():
    return resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw


def me():
    """The calling thread's own scheduler figures (Linux), or {}: voluntary
    and involuntary switches (/proc/thread-self/status), the CPU it is on
    (field 39 of stat), CPU time and run-queue wait in ns (schedstat)."""
    d = {}
    try:
        with open("/proc/thread-self/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k == "voluntary_ctxt_switches":
                    d["vol"] = int(v)
                elif k == "nonvoluntary_ctxt_switches":
                    d["invol"] = int(v)
        with open("/proc/thread-self/stat") as f:
            st = f.read()
        d["cpu"] = int(st[st.rindex(")") + 2:].split()[36])
        with open("/proc/thread-self/schedstat") as f:
            run, wait = f.read().split()[:2]
        d["run_ns"], d["wait_ns"] = int(run), int(wait)
    except (IOError, OSError, ValueError, IndexError):
        return {}
    return d


def delta(a, b):
    """What one thread did between two me() readings."""
    if not a or not b:
        return {}
    out = dict((k, b[k] - a[k]) for k in ("vol", "invol", "run_ns", "wait_ns"))
    out["cpu_start"], out["cpu_end"] = a["cpu"], b["cpu"]
    return out


def pin(cpu):
    """Pins the calling thread to one CPU (sched_setaffinity on thread 0 =
    the caller); False where that cannot be done."""
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, set([cpu]))
            return True
        except OSError:
            return False
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        mask = ctypes.c_ulong(1 << cpu)
        return libc.sched_setaffinity(0, ctypes.sizeof(mask), ctypes.byref(mask)) == 0
    except (OSError, AttributeError):
        return False


def exp_spin(reps):
    n = 300000
    return {"spin_ns": best(lambda: spin(n)) / n * 1e9}


def battle_pairs(reps, cpus, key):
    """reps pairs: serial, then the two threads (cpus: the CPU each pins
    itself to, or None)."""
    n = 1000000
    serial, serial_cpu, two, ratios, cs, threads = [], [], [], [], [], []
    for _ in range(reps):
        a = me()
        t = perf()
        spin(n)
        spin(n)
        s = perf() - t
        b = me()
        c0 = nvcsw()
        got = [None, None]
        def body(k):
            def run():
                x = me()
                spin(n)
                got[k] = delta(x, me())
            return run
        def pinned(k):
            def run():
                pin(cpus[k])
                return body(k)()
            return run
        p = gated([pinned(k) if cpus else body(k) for k in (0, 1)])
        cs.append(nvcsw() - c0)
        serial.append(s)
        serial_cpu.append((b["run_ns"] - a["run_ns"]) * 1e-9 if a and b else None)
        two.append(p)
        ratios.append(p / s)
        threads.append(got)
    return {key + "_turns": n, key + "_serial_s": serial, key + "_serial_cpu_s": serial_cpu,
            key + "_two_s": two, key + "_ratio": ratios, key + "_vcsw": cs,
            key + "_threads": threads}


def exp_battle(reps):
    return battle_pairs(reps, None, "battle")


def exp_pin2(reps):
    return battle_pairs(reps, (0, 1), "pin2")


def exp_pin1(reps):
    return battle_pairs(reps, (0, 0), "pin1")


def exp_pinned(reps):
    out = exp_pin2(reps)
    out.update(exp_pin1(reps))
    return out


def exp_convoy(reps):
    """Mean duration of a 1 ms sleep alone, then beside a CPU-bound thread;
    the sleeps beside it also in `reps` blocks of 20 (their means give the
    spread from block to block)."""
    k = 20 * reps
    t = perf()
    for _ in range(k):
        time.sleep(0.001)
    alone = (perf() - t) / k
    stop = [False]
    def cpu():
        while not stop[0]:
            spin(1000)
    def io():
        for _ in range(reps):
            t = perf()
            for _ in range(20):
                time.sleep(0.001)
            res.append((perf() - t) / 20)
        stop[0] = True
    res = []
    gated([cpu, io])
    return {"convoy_sleep_alone_s": alone, "convoy_sleep_beside_cpu_s": sum(res) / len(res),
            "convoy_blocks_s": res, "convoy_ops": k}


def exp_subinterp(reps):
    mod = None
    for name in ("_interpreters", "_xxsubinterpreters"):
        try:
            mod = __import__(name)
            break
        except ImportError:
            pass
    if mod is None:
        return {"subinterp": None}
    n = 1000000
    # the same function as spin(), so both sides run the same bytecode
    code = "def spin(n):\n    while n:\n        n -= 1\nspin(%d)\n" % n
    t = perf()
    ids = [mod.create() for _ in range(2)]
    create = (perf() - t) / 2
    run = getattr(mod, "run_string", None) or getattr(mod, "exec")
    ratios = []
    for _ in range(reps):
        t = perf()
        spin(n)
        spin(n)
        s = perf() - t
        p = gated([lambda: run(ids[0], code), lambda: run(ids[1], code)])
        ratios.append(p / s)
    for i in ids:
        mod.destroy(i)
    return {"subinterp": mod.__name__, "subinterp_create_s": create, "subinterp_ratio": ratios}


# --- ftloops: the Python time between two touches of the shared object in
# the loops of CPython's Tools/ftscalingbench (the free-threaded model's
# `every`), measured here on one thread. Each body is the benchmark's own
# loop, written again; accesses counts the touches of the contended object
# per turn.
class _Local(object):
    pass


def _double(x):
    return x + x


def _ft_module_function(n):
    mod = sys.modules[__name__]
    total = 0
    for i in range(n):
        total += mod._double(i)


def _ft_cmodule_function(n):
    import math
    for i in range(n):
        math.cos(i / float(n))


def _ft_thread_local_read(n):
    tmp = threading.local()
    tmp.x = 10
    for i in range(n):
        _ = tmp.x
        _ = tmp.x
        _ = tmp.x
        _ = tmp.x
        _ = tmp.x


def _ft_load_string_const(n):
    accu = 0
    for i in range(n):
        if i == 'a string':
            accu += 7
        else:
            accu += 1


def _ft_dict_get(n):
    d = {"key": _Local()}
    for i in range(n):
        d.get("key")


FT_LOOPS = [("module_function", _ft_module_function, 1),
            ("cmodule_function", _ft_cmodule_function, 1),
            ("thread_local_read", _ft_thread_local_read, 5),
            ("load_string_const", _ft_load_string_const, 1),
            ("dict_get", _ft_dict_get, 1)]


def exp_ftloops(reps):
    """Best of several turns, the loops interleaved: other load on the
    machine only ever adds time, and it changes from second to second."""
    n = 50000
    out = dict((name, []) for name, _, _ in FT_LOOPS)
    for _ in range(max(5, 3 * reps)):
        for name, fn, acc in FT_LOOPS:
            t = perf()
            fn(n)
            out[name].append((perf() - t) / (n * acc) * 1e9)
    return {"ftloops_ns": out}


def exp_pickle(reps):
    """pickle.dumps and loads of a list of 100,000 ints, ns a byte."""
    import pickle
    obj = list(range(100000))
    b = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    d, l = [], []
    for _ in range(max(3, reps)):
        t = perf()
        pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
        d.append((perf() - t) / len(b) * 1e9)
        t = perf()
        pickle.loads(b)
        l.append((perf() - t) / len(b) * 1e9)
    return {"pickle_ns_per_byte": d, "unpickle_ns_per_byte": l}


def main():
    reps = int(sys.argv[1])
    out = {"version": "%d.%d" % sys.version_info[:2],
           "gil_disabled": bool(getattr(sys, "_is_gil_enabled", lambda: True)() is False)}
    for e in sys.argv[2].split(","):
        out.update(globals()["exp_" + e](reps))
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
