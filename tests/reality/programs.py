"""The measured programs: small real-CPython thread programs, one per experiment.

Each function runs threads on the interpreter that imports it and returns what
it measured (seconds from time.perf_counter, counts).  Nothing here knows about
gilsim: reality.py turns the calibrations into scenarios and compares.

Every multi-thread program starts its threads behind a start gate (an Event the
threads wait on, GIL released), so all threads begin together, the way the
scenario's threads all start at t = 0.  Times are taken from the gate opening.
"""
import os
import socket
import statistics
import sys
import threading
import time

perf = time.perf_counter


# --- building blocks --------------------------------------------------------

def spin(n):
    """The CPU-bound unit: n turns of a pure-Python loop (no C call, so the
    eval breaker is checked on every backward jump)."""
    while n:
        n -= 1


def gated(fns):
    """Runs each fn in its own thread, all released at once by one gate.

    Returns (elapsed, results): elapsed from the gate opening to the last
    thread's end; results[i] is fns[i]()'s return value."""
    gate = threading.Event()
    results = [None] * len(fns)
    ends = [0.0] * len(fns)

    def body(i, fn):
        gate.wait()
        results[i] = fn()
        ends[i] = perf()

    threads = [threading.Thread(target=body, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    t0 = perf()
    gate.set()
    for t in threads:
        t.join()
    return max(ends) - t0, results


def with_interval(seconds):
    """Context manager: sys.setswitchinterval for the duration of a block."""
    class _Ctx:
        def __enter__(self):
            self.old = sys.getswitchinterval()
            sys.setswitchinterval(seconds)

        def __exit__(self, *exc):
            sys.setswitchinterval(self.old)
    return _Ctx()


def best_time(fn, repeat=5):
    """Shortest of `repeat` runs of fn(): other processes only ever add time."""
    best = float("inf")
    for _ in range(repeat):
        t = perf()
        fn()
        best = min(best, perf() - t)
    return best


# --- calibrations -----------------------------------------------------------

def cal_spin_ns(n=200_000):
    """Nanoseconds per turn of spin()."""
    return best_time(lambda: spin(n)) / n * 1e9


def switch_counter(me, n, cell):
    """The switch-counting loop: n turns; each turn notices whether another
    thread wrote the shared cell since this one last did (a change of GIL
    holder that ran Python in between) and claims it.  Returns the count."""
    seen = 0
    while n:
        if cell[0] != me:
            cell[0] = me
            seen += 1
        n -= 1
    return seen


def holder_sequence(k, interval_s, n):
    """k threads each run n turns of a loop that, on finding another thread's
    id in a shared cell, claims it and logs its own id: the log is the order
    in which the threads held the GIL (and ran Python).  Returns that list."""
    cell, log = [0], []

    def body(me):
        seen_n = n
        while seen_n:
            if cell[0] != me:
                cell[0] = me
                log.append(me)
            seen_n -= 1
    with with_interval(interval_s):
        gated([(lambda i=i: body(i)) for i in range(1, k + 1)])
    return log


def back_to_second_last(seq):
    """Share of the holder changes in seq that go back to the holder before the
    last one (A B A) rather than to a third thread (A B C)."""
    if len(seq) < 3:
        return float("nan")
    return sum(1 for i in range(2, len(seq)) if seq[i] == seq[i - 2]) / (len(seq) - 2)


def cal_switch_counter_ns(n=200_000):
    return best_time(lambda: switch_counter(1, n, [1])) / n * 1e9


def pin_to(cpu):
    """Pins the calling thread to one CPU (None: leaves it)."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})  # 0 = the calling thread


def pipe_pingpong(n, cpu=None, cpus=None):
    """Round trip of one byte between two threads over two pipes, in seconds.
    With cpu set, both threads are pinned to that CPU; with cpus = (c0, c1),
    the first to c0 and the second to c1 (Linux only): every wake-up then
    crosses CPUs, whatever else the machine runs (unpinned, the kernel puts
    both on one CPU when the other is busy, and the figure changes meaning)."""
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    pa, pb = (cpus if cpus else (cpu, cpu))

    def a():
        pin_to(pa)
        for _ in range(n):
            os.write(w1, b"x")
            os.read(r2, 1)

    def b():
        pin_to(pb)
        for _ in range(n):
            os.read(r1, 1)
            os.write(w2, b"x")

    try:
        elapsed, _ = gated([a, b])
    finally:
        for fd in (r1, w1, r2, w2):
            os.close(fd)
    return elapsed / n


def pipe_self_cost(n=20_000):
    """One write + one read on a pipe by one thread (no wake-up), seconds."""
    r, w = os.pipe()
    try:
        t = perf()
        for _ in range(n):
            os.write(w, b"x")
            os.read(r, 1)
        return (perf() - t) / n
    finally:
        os.close(r)
        os.close(w)


def lock_self_cost(n=50_000):
    """One uncontended Lock acquire + release, seconds."""
    lk = threading.Lock()
    t = perf()
    for _ in range(n):
        lk.acquire()
        lk.release()
    return (perf() - t) / n


def bare_syscall_cost(n=2000, reps=31):
    """A system call that finds nothing to do, seconds: futex_wake on a word
    nobody waits on.  glibc's sem_post (a Python 2 GIL release) makes that
    call whenever a waiter is registered on the semaphore (nptl/sem_post.c),
    and while the registered waiter is awake the call finds nobody queued:
    entering and leaving the kernel is all it costs.  One call is too short
    to time from Python, so n calls through ctypes are timed against n calls
    of a libc function that makes no system call (labs) through the same
    prototype, and the difference is taken between the fastest of reps
    loops of each (other processes' load only ever adds to a loop; short
    loops, many of them, so that some run untouched: 0.10-0.12 us here at a
    load average of 8, where a median of long loops gave 0.3 us).
    None where the futex system call's number is not known here."""
    import ctypes
    import platform
    nr = {"x86_64": 202, "aarch64": 98}.get(platform.machine())
    if nr is None:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    proto = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_long,
                             ctypes.c_long)
    call = proto(ctypes.cast(libc.syscall, ctypes.c_void_p).value)
    none = proto(ctypes.cast(libc.labs, ctypes.c_void_p).value)
    word = ctypes.c_int(0)
    addr = ctypes.addressof(word)
    wake_private = 1 | 128  # FUTEX_WAKE | FUTEX_PRIVATE_FLAG, as sem_post's

    def loop(f):
        t = time.perf_counter_ns()
        for _ in range(n):
            f(nr, addr, wake_private, 1)
        return (time.perf_counter_ns() - t) / n

    calls, nones = [], []
    for _ in range(reps):
        calls.append(loop(call))
        nones.append(loop(none))
    return max(0.0, min(calls) - min(nones)) * 1e-9


def futex_wake_cost(n=4000, cpus=(None, None)):
    """The system call that wakes a thread blocked on a semaphore, seconds.

    A Python Lock is a POSIX semaphore (Python/thread_pthread.h); glibc's
    sem_post makes the futex wake system call only when a thread is
    registered as a waiter on it (nptl/sem_post.c), so a release() that
    wakes a blocked thread costs that call more than one that wakes nobody.
    Two threads pass the turn through two Locks (a semaphore ping-pong, as
    the pipe ping-pong passes it through pipes) and each times its own
    release(), which always finds the other blocked on its Lock; the same
    release() with nobody waiting, timed the same way, is subtracted.
    cpus = (c0, c1) pins the two threads: on one CPU the wake-up queues the
    woken thread behind the waker (the system call alone); on two, it wakes
    the other CPU, which is idle (the system call and the inter-processor
    interrupt, a VM exit on a virtual machine).
    Returns (the wake's cost to the waker, the uncontended release), medians."""
    clock = time.perf_counter_ns
    a, b = threading.Lock(), threading.Lock()
    a.acquire()
    b.acquire()
    woke = []

    def ping():
        pin_to(cpus[0])
        for _ in range(n):
            a.acquire()
            t = clock()
            b.release()
            woke.append(clock() - t)

    def pong():
        pin_to(cpus[1])
        for _ in range(n):
            t = clock()
            a.release()
            woke.append(clock() - t)
            b.acquire()

    gated([ping, pong])
    lk, alone = threading.Lock(), []
    for _ in range(n):
        lk.acquire()
        t = clock()
        lk.release()
        alone.append(clock() - t)
    woke.sort()
    alone.sort()
    base = alone[len(alone) // 2]
    return max(0.0, (woke[len(woke) // 2] - base) * 1e-9), base * 1e-9


def thread_create_cost(n=200):
    """What _thread.start_new_thread costs its caller, seconds (median): the
    OS thread's creation (clone, its stack, the new thread state) that
    Thread.start pays with the GIL held before it waits for the new thread
    (the model's python.thread_create).  Each new thread is an empty
    function; the caller sleeps a little between calls so that they do not
    pile up."""
    import _thread
    done = threading.Semaphore(0)
    times = []

    def empty():
        done.release()

    for _ in range(n):
        t = perf()
        _thread.start_new_thread(empty, ())
        times.append(perf() - t)
        done.acquire()
    times.sort()
    return times[len(times) // 2]


def cpu_pair():
    """Two CPUs this process may run on, (c0, c1), or None."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else None


# sched_getattr(2)'s number where glibc (before 2.41) has no wrapper for it
_SCHED_GETATTR = {"x86_64": 315, "aarch64": 275, "riscv64": 275, "i686": 352,
                  "i386": 352, "armv7l": 381, "ppc64le": 355, "s390x": 346}


def _slice_by_getattr():
    """A new thread's EEVDF slice from sched_getattr(2), seconds, or None.
    Since Linux 6.12 the call gives a SCHED_OTHER thread's slice (se.slice)
    in sched_runtime; a thread that never set its own gets the base slice
    (sysctl_sched_base_slice, the debugfs base_slice_ns) when it is forked,
    so a thread started here reads the base slice of the moment. Older
    kernels leave sched_runtime 0 for such a thread: None."""
    import ctypes
    import platform
    import struct
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    nr = _SCHED_GETATTR.get(platform.machine())
    if nr is None and not hasattr(libc, "sched_getattr"):
        return None
    out = []

    def read():
        buf = ctypes.create_string_buffer(56)  # SCHED_ATTR_SIZE_VER1
        if hasattr(libc, "sched_getattr"):
            rc = libc.sched_getattr(0, buf, 56, 0)
        else:
            rc = libc.syscall(nr, 0, buf, 56, 0)
        if rc == 0:
            # size, policy, flags, nice, priority, runtime
            _, policy, _, _, _, runtime = struct.unpack_from("=IIQiIQ", buf.raw)
            if policy == 0 and runtime > 0:  # SCHED_OTHER
                out.append(runtime * 1e-9)

    t = threading.Thread(target=read)
    t.start()
    t.join()
    return out[0] if out else None


def eevdf_base_slice():
    """The kernel's EEVDF base slice, (seconds, where it came from), or
    (None, why not): debugfs's sched/base_slice_ns (6.6 on; root, and not
    under kernel lockdown, which refuses debugfs reads even to root), an
    older sysctl name, or a new thread's slice from sched_getattr (6.12 on,
    no privilege needed)."""
    why = []
    for path in ("/sys/kernel/debug/sched/base_slice_ns",
                 "/proc/sys/kernel/sched_base_slice_ns"):
        try:
            with open(path) as f:
                return int(f.read().split()[0]) * 1e-9, path
        except FileNotFoundError:
            why.append("%s absent" % path)
        except (OSError, ValueError, IndexError) as e:
            why.append("%s: %s" % (path, getattr(e, "strerror", None) or e))
    s = _slice_by_getattr()
    if s is not None:
        return s, "sched_getattr(2) of a new thread (sched_runtime)"
    why.append("sched_getattr gives no slice (a kernel before 6.12)")
    return None, "; ".join(why)


def spinner_runs(cpu, seconds=0.6):
    """Two processes pinned to one CPU spin, each writing its mark into a
    shared byte; a process that finds the other's mark was switched out for
    it meanwhile. The median time a process ran before the other took the
    CPU, seconds: what the kernel's slice comes to at its tick (EEVDF checks
    a running thread's deadline at each tick, so a slice shorter than the
    tick runs a whole tick), or None without fork or affinity. Other
    processes on the CPU lengthen it (their time falls inside a run)."""
    import mmap
    if not hasattr(os, "fork") or not hasattr(os, "sched_setaffinity") or cpu is None:
        return None
    cell = mmap.mmap(-1, 1)
    r, w = os.pipe()
    pids = []
    try:
        for me in (1, 2):
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    os.close(r)
                    os.sched_setaffinity(0, {cpu})
                    t0 = last = resume = perf()
                    runs = []
                    while last - t0 < seconds:
                        t = perf()
                        if cell[0] != me:
                            runs.append(last - resume)
                            resume = t
                            cell[0] = me
                        last = t
                    # the first two are the start-up, not a slice
                    os.write(w, (" ".join("%.9f" % x for x in runs[2:]) + "\n").encode())
                    code = 0
                finally:
                    os._exit(code)
            pids.append(pid)
    finally:
        os.close(w)
        for pid in pids:
            os.waitpid(pid, 0)
        data = b""
        while True:
            chunk = os.read(r, 1 << 16)
            if not chunk:
                break
            data += chunk
        os.close(r)
    runs = sorted(float(x) for x in data.split())
    return runs[len(runs) // 2] if runs else None


def pipe_wakeups(n=2000, cpus=None):
    """Per-round times of the two-CPU pipe ping-pong (pipe_pingpong timed
    round by round, pinned like it), seconds: the spread of single hot
    wake-ups, which the model draws from 0 to machine.wakeup_jitter."""
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    rounds = []
    pa, pb = cpus if cpus else (None, None)

    def a():
        pin_to(pa)
        for _ in range(n):
            t = perf()
            os.write(w1, b"x")
            os.read(r2, 1)
            rounds.append(perf() - t)

    def b():
        pin_to(pb)
        for _ in range(n):
            os.read(r1, 1)
            os.write(w2, b"x")

    try:
        gated([a, b])
    finally:
        for fd in (r1, w1, r2, w2):
            os.close(fd)
    return rounds


def _getcpu():
    """sched_getcpu() through libc (os has no binding), or None. Called
    through ctypes.PyDLL, which keeps the GIL: through CDLL every call
    released and re-took it, and a spinner sampling its CPU every 1024 turns
    then released the GIL every ~40 us, so a waiter's timed wait never ran
    out and the lock ping-pong beside it took 85 ms a hand-off (2026-12-07:
    lock_placement's 600 rounds at 5 ms ran for minutes)."""
    try:
        import ctypes
        f = ctypes.PyDLL(None).sched_getcpu
        f.restype = ctypes.c_int
        return f
    except (OSError, AttributeError):
        return None


def lock_retake(n, cpus):
    """Who gets a Lock first after a release that wakes a thread blocked on
    it: the releaser, trying to take it straight back (holding the GIL), or
    the woken thread (whose semaphore wait takes it in C, before it needs
    the GIL)?  Returns the share of n releases after which the releaser took
    it back, the threads pinned to cpus = (releaser's, waiter's).  On one
    CPU the answer is the kernel's wake-up preemption: the woken thread wins
    when it preempts the releaser as the release's system call returns."""
    lk = threading.Lock()
    lk.acquire()
    won, stop = [0], [False]

    def waiter():
        pin_to(cpus[1])
        while not stop[0]:
            lk.acquire()  # blocks with the GIL dropped until a release
            lk.release()
            time.sleep(0.0002)

    def releaser():
        pin_to(cpus[0])
        for _ in range(n):
            time.sleep(0.0003)  # the waiter blocks on the lock meanwhile
            lk.release()
            if lk.acquire(False):
                won[0] += 1
            else:
                lk.acquire()
        stop[0] = True
        lk.release()

    gated([waiter, releaser])
    return won[0] / n


def lock_placement(n, spinner=False, interval_s=0.005):
    """Where the kernel runs a thread woken by a Lock release: the lock
    ping-pong (lock_pingpong; with spinner, beside a thread spinning in pure
    Python) with each thread reading its CPU (sched_getcpu) when it has the
    turn.  Returns (the share of hand-offs where the woken thread ran on the
    CPU its waker had just used, the share of the spinner's samples on the
    CPU the ping-pong used most), or None without sched_getcpu.  Run apart
    from the timed ping-pong: reading the CPU costs a C call per turn."""
    got = _placement_log(n, spinner, interval_s)
    if got is None:
        return None
    log, spun = got
    same = sum(1 for x, y in zip(log, log[1:]) if x == y) / max(1, len(log) - 1)
    main = max(set(log), key=log.count) if log else None
    beside = (sum(1 for c in spun if c == main) / len(spun)) if spun else None
    return same, beside


def lock_placement_stay(n):
    """The Lock ping-pong of lock_placement, read by where each woken
    thread's previous turn ran: of the hand-offs whose woken thread had last
    run on its waker's CPU (the pair sharing a CPU: its previous CPU busy
    with the waker at the wake), how many stayed on that CPU; the others'
    previous CPU was the other one, idle on a quiet machine, where Linux
    keeps it (wake_affine_idle).  Returns (stayed, shared, same): same as
    lock_placement's share, or None without sched_getcpu."""
    got = _placement_log(n, False, 0.005)
    if got is None:
        return None
    log = got[0]
    shared = [(p, w, x) for p, w, x in zip(log, log[1:], log[2:]) if p == w]
    stayed = sum(1 for p, w, x in shared if x == w)
    same = sum(1 for x, y in zip(log, log[1:]) if x == y) / max(1, len(log) - 1)
    return stayed, len(shared), same


def _placement_log(n, spinner, interval_s):
    """The ping-pong of lock_placement: (the CPU of each turn, in turn order,
    ping's and pong's alternating; the spinner's samples), or None without
    sched_getcpu.  Turn i's thread was woken by turn i-1's, and last ran at
    turn i-2."""
    getcpu = _getcpu()
    if getcpu is None:
        return None
    a, b = threading.Lock(), threading.Lock()
    a.acquire()
    b.acquire()
    log, spun, stop = [], [], [False]

    def ping():
        for _ in range(n):
            a.acquire()
            log.append(getcpu())
            b.release()
        stop[0] = True

    def pong():
        for _ in range(n):
            log.append(getcpu())
            a.release()
            b.acquire()

    def spin_cpu():
        k = 0
        while not stop[0]:
            k += 1
            if not k & 0x3ff:
                spun.append(getcpu())

    with with_interval(interval_s):
        gated([ping, pong] + ([spin_cpu] if spinner else []))
    return log, spun


# --- (1) CPU-bound threads ----------------------------------------------------

def alternating(jobs):
    """Runs the callables one after the other in the calling thread, each
    pinned to the next CPU in turn, then unpins.  The vCPUs of a shared VM can
    differ in speed by 30% at a given moment; threads that share the GIL run
    on all of them, so a one-thread baseline must too, or it measures one
    vCPU against the average of all."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    try:
        for i, job in enumerate(jobs):
            if len(cpus) > 1:
                os.sched_setaffinity(0, {cpus[i % len(cpus)]})
            job()
    finally:
        if len(cpus) > 1:
            os.sched_setaffinity(0, set(cpus))


def cpu_sequential(k, n):
    """k chunks of n turns, one after the other, in one thread (each chunk on
    the next CPU: see alternating)."""
    elapsed, _ = gated([lambda: alternating([lambda: spin(n)] * k)])
    return elapsed


def cpu_threads(k, n):
    """k threads, each n turns."""
    elapsed, _ = gated([lambda: spin(n)] * k)
    return elapsed


# --- (2) switches per second --------------------------------------------------

def switch_rate(interval_s, n):
    """Two threads run switch_counter(n); returns (switches, elapsed)."""
    cell = [0]
    with with_interval(interval_s):
        elapsed, seen = gated([lambda: switch_counter(1, n, cell),
                               lambda: switch_counter(2, n, cell)])
    return sum(seen), elapsed


# --- (3) I/O latency beside CPU-bound threads (the convoy) ------------------

class EchoPeer:
    """A forked child process that echoes whatever arrives on a socketpair: a
    blocking round trip that leaves the GIL free and needs no thread of ours.
    Fork it before starting any thread."""

    def __init__(self):
        self.sock, child = socket.socketpair()
        self.pid = os.fork()
        if self.pid == 0:  # the child: echo until EOF, never return
            self.sock.close()
            try:
                while True:
                    data = child.recv(64)
                    if not data:
                        break
                    child.sendall(data)
            finally:
                os._exit(0)
        child.close()

    def round_trip(self):
        self.sock.send(b"x")
        self.sock.recv(64)

    def close(self):
        self.sock.close()
        os.waitpid(self.pid, 0)


def io_self_cost(n=20_000):
    """A send + recv on a local socketpair with the data already there, seconds:
    the Python and syscall part of one round trip, without any waiting."""
    a, b = socket.socketpair()
    try:
        t = perf()
        for _ in range(n):
            a.send(b"x")
            b.recv(64)
        return (perf() - t) / n
    finally:
        a.close()
        b.close()


def convoy(io, n_cpu, interval_s, n_ops):
    """One I/O thread does n_ops io.round_trip() while n_cpu threads spin.
    Returns the I/O thread's per-operation latencies (seconds)."""
    stop = [False]
    lat = []

    def io_thread():
        for _ in range(n_ops):
            t = perf()
            io.round_trip()
            lat.append(perf() - t)
        stop[0] = True

    def cpu_thread():
        while not stop[0]:
            pass

    with with_interval(interval_s):
        gated([io_thread] + [cpu_thread] * n_cpu)
    return lat


def python_between(block, n_ops, n_cpu=0, interval_s=0.005, extra=None):
    """The Python a thread runs between two blocking calls, measured in the
    program itself: one thread calls block() n_ops times in the convoy's loop
    (a perf_counter() before and after each call, the op's latency appended
    to a list) while n_cpu threads spin in pure Python, as P.convoy does.
    Each gap runs from the stamp just after one call returned (the GIL taken
    back) to the stamp just before the next call: the bytecode between the
    blocking calls, on caches as warm or as cold as the run leaves them,
    holding the GIL. What the blocking call itself costs (its C wrapper,
    the GIL's drop and take, the system call) lies inside the stamps, not in
    the gap. extra(), if given, runs in the gap (its test: the gap must see
    it). Returns (median, 25th, 75th percentile) of the gaps, seconds."""
    stop = [False]
    starts, ends, lat = [], [], []

    def looper():
        for _ in range(n_ops):
            t = perf()
            starts.append(t)
            block()
            e = perf()
            ends.append(e)
            lat.append(e - t)
            if extra:
                extra()
        stop[0] = True

    def cpu_thread():
        while not stop[0]:
            pass

    with with_interval(interval_s):
        gated([looper] + [cpu_thread] * n_cpu)
    gaps = sorted(starts[i + 1] - ends[i] for i in range(n_ops - 1))
    q = statistics.quantiles(gaps, n=4)
    return statistics.median(gaps), q[0], q[2]


# --- (4) C code that releases the GIL ----------------------------------------

def c_calls(fn, buf, k, n_threads):
    """n_threads threads each call fn(buf) k times; returns elapsed seconds.
    One thread alone alternates its calls between the CPUs (see alternating)."""
    if n_threads == 1:
        elapsed, _ = gated([lambda: alternating([lambda: fn(buf)] * k)])
        return elapsed

    def work():
        for _ in range(k):
            fn(buf)
    elapsed, _ = gated([work] * n_threads)
    return elapsed


def c_calls_beside_cpu(fn, buf, k, n_threads, n_cpu, interval_s):
    """n_threads threads each call fn(buf) k times (C that releases the GIL),
    beside n_cpu threads spinning in pure Python until they are done: more
    runnable threads than cores. Returns the hashing threads' elapsed seconds."""
    stop = [False]

    def work():
        for _ in range(k):
            fn(buf)

    def spinner():
        while not stop[0]:
            pass

    def hashers():
        elapsed, _ = gated([work] * n_threads)
        return elapsed
    if not n_cpu:
        return hashers()
    with with_interval(interval_s):
        t0 = [0.0]

        def main():
            t0[0] = hashers()
            stop[0] = True
        gated([main] + [spinner] * n_cpu)
    return t0[0]


# --- (5) a long C call that keeps the GIL ------------------------------------

def starve(data, tick_turns, n_ticks, delay_s, interval_s):
    """A ticker thread stamps the time every tick_turns spin turns; another
    thread sleeps delay_s, then calls sorted(data) (C that keeps the GIL).
    Returns (longest gap between ticks, the sort's own duration)."""
    stamps = []
    sort_time = [0.0]

    def ticker():
        for _ in range(n_ticks):
            spin(tick_turns)
            stamps.append(perf())

    def sorter():
        time.sleep(delay_s)
        t = perf()
        sorted(data)
        sort_time[0] = perf() - t

    with with_interval(interval_s):
        gated([ticker, sorter])
    gap = max(b - a for a, b in zip(stamps, stamps[1:]))
    return gap, sort_time[0]


# --- (6) overlapping sleeps ----------------------------------------------------

def sleepers(n_threads, sleep_s):
    elapsed, _ = gated([lambda: time.sleep(sleep_s)] * n_threads)
    return elapsed


# --- (7) lock hand-off ---------------------------------------------------------

def lock_pingpong(n):
    """Two threads pass the turn back and forth through two Locks (a Lock may
    be released by any thread): 2n hand-offs.  Returns elapsed seconds."""
    a, b = threading.Lock(), threading.Lock()
    a.acquire()
    b.acquire()

    def ping():
        for _ in range(n):
            a.acquire()
            b.release()

    def pong():
        for _ in range(n):
            a.release()
            b.acquire()

    elapsed, _ = gated([ping, pong])
    return elapsed


def lock_pingpong_beside_cpu(n, interval_s):
    """lock_pingpong with a third thread spinning in pure Python meanwhile.
    Each hand-off now needs the GIL back from the spinner, which gives it up
    only when asked (one switch interval) or when the passing thread blocks
    first.  Returns the ping-pong's elapsed seconds."""
    a, b = threading.Lock(), threading.Lock()
    a.acquire()
    b.acquire()
    stop = [False]

    def ping():
        for _ in range(n):
            a.acquire()
            b.release()
        stop[0] = True

    def pong():
        for _ in range(n):
            a.release()
            b.acquire()

    def spinner():
        while not stop[0]:
            pass

    t0 = [0.0]

    def timed_ping():
        t0[0] = perf()
        ping()
        return perf() - t0[0]

    with with_interval(interval_s):
        _, res = gated([timed_ping, pong, spinner])
    return res[0]


def _pingpong_beside(kind, n, interval_s):
    """One ping-pong of kind "lock" (lock_pingpong's two Locks) or "event"
    (two Events: ping waits for a, clears it, sets b; pong sets a, waits for
    b, clears it: 2n hand-offs), beside a thread spinning in pure Python when
    interval_s is a switch interval, alone when it is None. Returns the
    ping-pong's hand-offs per second."""
    if kind == "lock":
        a, b = threading.Lock(), threading.Lock()
        a.acquire()
        b.acquire()

        def ping_turn():
            a.acquire()
            b.release()

        def pong_turn():
            a.release()
            b.acquire()
    elif kind == "event":
        a, b = threading.Event(), threading.Event()

        def ping_turn():
            a.wait()
            a.clear()
            b.set()

        def pong_turn():
            a.set()
            b.wait()
            b.clear()
    else:
        raise ValueError("pingpong kind %r: expected 'lock' or 'event'" % (kind,))
    stop = [False]

    def ping():
        t0 = perf()
        for _ in range(n):
            ping_turn()
        t = perf() - t0
        stop[0] = True
        return t

    def pong():
        for _ in range(n):
            pong_turn()

    def spinner():
        while not stop[0]:
            pass

    if interval_s is None:
        _, res = gated([ping, pong])
    else:
        with with_interval(interval_s):
            _, res = gated([ping, pong, spinner])
    return 2 * n / res[0]


def pingpong_set(kind, n, runs):
    """The ping-pong of kind ("lock" or "event") once per entry of runs, back
    to back in that order: a switch interval (beside a spinning thread) or
    None (the pair alone). Back to back, a direction between two of them
    (beside a spinner against alone, 1 ms against 5 ms) sees the same load
    on both sides. Returns the hand-offs per second of each run, in order."""
    return [_pingpong_beside(kind, n, iv) for iv in runs]


def event_python_cost(n=2000, reps=9):
    """The Python an Event ping-pong runs per turn of one thread, holding the
    GIL, measured in one thread so that nothing blocks (seconds): (set, wait
    and clear on an Event nobody waits on, each `with` its Condition; the
    blocking wait's own path in Condition.wait: a waiter lock allocated,
    acquired and queued, the Condition's lock released and taken back, the
    waiter taken off the queue, timed as wait(0) less an empty `with`).
    The setter's notify of one waiter (its release, taking it off the
    queue) is about the removal wait(0) does here; the kernel's part of a
    blocking wait and a waking set is the model's futex and wake-up. Each
    figure is the fastest of reps short loops of n, the three kinds of loop
    taking turns (other processes only ever add to a loop, and short loops
    let some run untouched)."""
    e, c = threading.Event(), threading.Condition()

    def ops():
        for _ in range(n):
            e.set()
            e.wait()
            e.clear()

    def waited():
        for _ in range(n):
            with c:
                c.wait(0)

    def empty():
        for _ in range(n):
            with c:
                pass
    best = [float("inf")] * 3
    for _ in range(reps):
        for i, fn in enumerate((ops, waited, empty)):
            t = perf()
            fn()
            best[i] = min(best[i], (perf() - t) / n)
    return best[0], max(0.0, best[1] - best[2])


def queue_consumers(k, n_items, work_turns):
    """One producer puts n_items on a queue.Queue(); k consumers get them, each
    item followed by work_turns spin turns.  Returns (elapsed, the share of
    the items the busiest consumer took)."""
    import queue
    q = queue.Queue()
    done = [0] * k

    def producer():
        for i in range(n_items):
            q.put(i)
        for _ in range(k):
            q.put(None)

    def consumer(i):
        while True:
            item = q.get()
            if item is None:
                return
            spin(work_turns)
            done[i] += 1

    elapsed, _ = gated([producer] + [(lambda i=i: consumer(i)) for i in range(k)])
    return elapsed, max(done) / n_items


def queue_consumers_more(k, n_items, work_turns, n):
    """n more runs of queue_consumers, as a list of their results: the queue
    rows take the median of more runs than the first three (a quiet run of 2
    consumers can take 89k or 239k items/s, tests/reality/row_spread.py). A
    name of its own, so that a tape recorded before it still replays (its
    first three runs, queue_consumers' calls, are where they were)."""
    return [queue_consumers(k, n_items, work_turns) for _ in range(n)]


def locked_work(n_threads, n, hold_turns, free_turns, interval_s):
    """n_threads threads each n times: take one shared Lock, spin hold_turns
    (pure Python, so the GIL may be forced away while the lock is held),
    release it, spin free_turns. Returns (elapsed, acquisitions that had to
    block, in all threads)."""
    lock = threading.Lock()
    blocked = [0] * n_threads

    def body(i):
        for _ in range(n):
            if not lock.acquire(False):
                blocked[i] += 1
                lock.acquire()
            spin(hold_turns)
            lock.release()
            spin(free_turns)
    with with_interval(interval_s):
        elapsed, _ = gated([(lambda i=i: body(i)) for i in range(n_threads)])
    return elapsed, sum(blocked)


def sleep0_rate(n, with_cpu, interval_s=0.005):
    """Calls per second of time.sleep(0) in a loop, alone or beside a thread
    spinning in pure Python (sleep(0) gives the GIL up and takes it back)."""
    stop = [False]
    t = [0.0]

    def sleeper():
        t0 = perf()
        for _ in range(n):
            time.sleep(0)
        t[0] = perf() - t0
        stop[0] = True

    def spinner():
        while not stop[0]:
            pass

    with with_interval(interval_s):
        gated([sleeper] + ([spinner] if with_cpu else []))
    return n / t[0]


def oversleeps(seconds, n):
    """n overshoots of time.sleep(seconds), sorted."""
    return sorted(oversleep(seconds) for _ in range(n))


def oversleep(seconds):
    """How late time.sleep(seconds) returns, seconds."""
    t = perf()
    time.sleep(seconds)
    return perf() - t - seconds


def idle_oversleeps(seconds, n, cpu=None, budget_s=3.0):
    """Overshoots of time.sleep(seconds) whose CPU idled through the sleep
    (cpuidle's counters; the calling thread pinned to cpu meanwhile): a sleep
    during which another program took the CPU measures that program's slice,
    not the timer. Up to 3 n sleeps (and budget_s) for n kept. A dict:
    kept, the kept overshoots sorted; all, every overshoot sorted; filtered,
    whether the counters were readable (False: every sleep kept)."""
    ic = IdleCount(cpu if cpu is not None else 0)
    saved = os.sched_getaffinity(0) if cpu is not None else None
    kept, every = [], []
    t_end = perf() + budget_s
    try:
        pin_to(cpu)
        while len(kept) < n and len(every) < 3 * n and perf() < t_end:
            c0 = ic.read() if ic.ok else None
            t = perf()
            time.sleep(seconds)
            e = perf()
            every.append(e - t - seconds)
            if c0 is None or idled(c0, ic.read(), e - t):
                kept.append(e - t - seconds)
    finally:
        if saved is not None:
            os.sched_setaffinity(0, saved)
        ic.close()
    return {"kept": sorted(kept), "all": sorted(every), "filtered": ic.ok}


class TimerIO:
    """The I/O op of the convoy experiment: a blocking wait of fixed length
    (time.sleep releases the GIL like any blocking call)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def round_trip(self):
        time.sleep(self.seconds)


def timer_arm_costs(pair, reps=400):
    """What arming a timer costs its thread by the timer's length, measured by
    timerarm.c (built here with cc into a temporary directory): its JSON,
    {"arm": {length_us: [p25, median, p75, n, n_over_2us]}, "disarm": ...,
    "wait": ...} in ns, pinned to pair[0] (its signaller on pair[1]). None
    without a C compiler, without two CPUs, or when the run fails."""
    import json
    import subprocess
    import tempfile
    if not pair:
        return None
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as d:
        exe = os.path.join(d, "timerarm")
        try:
            subprocess.run(["cc", "-O2", "-std=gnu11", "-o", exe, os.path.join(here, "timerarm.c"),
                            "-lpthread"], check=True, capture_output=True, timeout=120)
            p = subprocess.run([exe, str(reps), str(pair[0]), str(pair[1])], capture_output=True,
                               text=True, timeout=300, check=True)
            return json.loads(p.stdout)
        except (OSError, subprocess.SubprocessError, ValueError):
            return None


def timer_arm_cost_s(pair, runs=3, reps=400):
    """machine.timer_arm, seconds: a 20 us timer's arming (first on its CPU,
    before the tick, ~96% of the time) less a 50 ms one's (behind the tick:
    no reprogram), the median of `runs` runs of timerarm.c; with the
    per-run figures. (None, []) when it cannot be measured."""
    runs_s = []
    for _ in range(runs):
        j = timer_arm_costs(pair, reps)
        if j:
            runs_s.append(max(0.0, (j["arm"]["20"][1] - j["arm"]["50000"][1]) * 1e-9))
    if not runs_s:
        return None, []
    runs_s.sort()
    return runs_s[len(runs_s) // 2], runs_s


_BUILT = {}


def _built_probe(name, libs):
    """tests/reality/NAME.c built with cc once per process into a temporary
    directory removed at exit: its path, or None without a compiler."""
    import atexit
    import shutil
    import subprocess
    import tempfile
    if name not in _BUILT:
        d = tempfile.mkdtemp(prefix="gilsim-probe-")
        atexit.register(shutil.rmtree, d, True)
        exe = os.path.join(d, name)
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".c")
        try:
            subprocess.run(["cc", "-O2", "-std=gnu11", "-o", exe, src] + libs, check=True,
                           capture_output=True, timeout=120)
            _BUILT[name] = exe
        except (OSError, subprocess.SubprocessError):
            _BUILT[name] = None
    return _BUILT[name]


# how far a pull may follow the tick and still be the tick's balance (the
# kick's IPI, the idle CPU's exit and its balance: 38-153 us on this VM,
# 2026-12-07), how early it may come, and how long after the tick a thread
# not run yet was left by it (a pull between the two came from a later
# balance, at an age not known: 280-440 us after the tick in 4 of 43 pulls)
MIGRATION_AT_TICK_S = 0.2e-3
MIGRATION_EARLY_S = 30e-6
MIGRATION_LEFT_S = 1e-3


def migration_probe():
    """True when migcost.c builds here (a C compiler); None otherwise, so
    that the calibration then meters no block (a replayed record made
    before the probe existed answers None too)."""
    return True if _built_probe("migcost", ["-lpthread", "-lm"]) else None


def migration_pulls(pair, tick_s, trials=60, u_s=(150e-6, 1.25e-3), budget_s=1.0, seed=1):
    """Whether an idle CPU pulls a thread queued behind a spinner on a busy
    CPU, by how long before the busy CPU's tick the thread last ran: Linux's
    task_hot, sysctl_sched_migration_cost (migcost.c, tick mode; built here
    with cc). The thread yields u before the tick on pair[0] (u drawn
    log-uniformly from u_s, below the spinner's slice so that its slice does
    not end at that tick), pair[1] idle; at the tick the idle CPU's balance
    pulls it unless it is still cache-hot. A dict: "trials", each {"u" s,
    "resumed" s from the yield, "where" "idle" or "own" (the CPU it ran on
    next), "outcome" (classify_migration), "idle_ok" (the idle CPU idled
    from before the yield until the tick and woke at it, by its cpuidle
    counters read around the tick; None where they cannot be read)}, and the probe's counts ("no_switch": yields
    the spinner did not take; "lost": draws the thread was preempted on the
    way to; "tick_phase" s). None without a C compiler or two CPUs, or when
    the probe fails."""
    import json
    import subprocess
    if not pair or not tick_s:
        return None
    # migcost.c wants u below the tick (HZ=1000: a 1 ms tick)
    u_s = (u_s[0], min(u_s[1], 0.9 * tick_s))
    exe = _built_probe("migcost", ["-lpthread", "-lm"])
    if exe is None:
        return None
    try:
        p = subprocess.run([exe, "tick", str(trials), str(pair[0]), str(pair[1]),
                            str(round(u_s[0] * 1e6)), str(round(u_s[1] * 1e6)),
                            str(round(tick_s * 1e6)), str(max(1, round(budget_s * 1e3))),
                            str(seed)], capture_output=True, text=True,
                           timeout=budget_s + 30, check=True)
        j = json.loads(p.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    out = []
    for u, resumed, where, pre, post, over in j["trials"]:
        # the idle CPU idled from before the yield to the tick and woke at
        # it (the kick): no idle period ended before the tick, one ended
        # by 0.3 ms after it, and it began before the yield
        t = {"u": u * 1e-9, "resumed": resumed * 1e-9, "where": "idle" if where == 1 else "own",
             "idle_ok": (pre == 0 and post >= 1 and over >= -50_000) if j["cpuidle"] else None}
        t["outcome"] = classify_migration(t)
        out.append(t)
    return {"trials": out, "no_switch": j["no_switch"], "lost": j["lost"],
            "tick_phase": j["phase_ns"] * 1e-9}


def classify_migration(t):
    """What the tick did with a migcost.c trial: "pulled" (the idle CPU took
    the thread, within MIGRATION_AT_TICK_S of the tick), "stayed" (it did
    not run for MIGRATION_LEFT_S after the tick: left there), "own" (it ran
    on its own CPU at the tick: the spinner's slice ended there, which says
    nothing of the pull), "early" (pulled before the tick: another balance,
    the idle CPU not idle), "late" (run between the two: a later balance
    pulled it, at an age not known)."""
    if t["resumed"] >= t["u"] + MIGRATION_LEFT_S:
        return "stayed"
    if t["where"] == "own":
        return "own"
    if t["resumed"] < t["u"] - MIGRATION_EARLY_S:
        return "early"
    return "pulled" if t["resumed"] <= t["u"] + MIGRATION_AT_TICK_S else "late"


def migration_step(trials):
    """The step in the pull share that task_hot makes, from migration_pulls'
    trials whose idle CPU idled through them (idle_ok not False): of those
    the tick pulled or left ("pulled", "stayed"), each at x = u plus the
    median delay from the tick to a pull (the balance reads the thread's age
    then), the split of x that best parts a low pull share below from a high
    one above (the two-level Bernoulli model's likelihood; the midpoint
    between the trials it parts). A dict: "cost" s (None when the step is
    not clean: fewer than 4 trials on a side, more than 20% pulled below or
    fewer than 60% above, or no split at all), "why" (when None), "below" and
    "above" (pulled, trials), "delay" s, and "counts" of every outcome."""
    import math
    counts = {}
    for t in trials:
        # a thread that ran on its own CPU at the tick kept the spinner from
        # reading the idle CPU's counters: "own" whatever they say
        key = t["outcome"] if t["idle_ok"] is not False or t["outcome"] == "own" else "busy"
        counts[key] = counts.get(key, 0) + 1
    use = [t for t in trials if t["idle_ok"] is not False and t["outcome"] in ("pulled", "stayed")]
    pulled = [t for t in use if t["outcome"] == "pulled"]
    res = {"cost": None, "why": None, "below": (0, 0), "above": (0, 0), "delay": None,
           "counts": counts}
    if not use:
        res["why"] = ("no trial's other CPU idled until the tick and woke at it (%d of %d: "
                      "another program ran there, or the spinner's slice ended at the tick)"
                      % (counts.get("busy", 0), len(trials)))
        return res
    if not pulled:
        res["why"] = "no trial was pulled at the tick (%d left there)" % len(use)
        return res
    delays = sorted(t["resumed"] - t["u"] for t in pulled)
    res["delay"] = delay = delays[len(delays) // 2]
    pts = sorted((t["u"] + delay, t["outcome"] == "pulled") for t in use)

    def ll(k, n):
        return 0.0 if k in (0, n) else k * math.log(k / n) + (n - k) * math.log(1 - k / n)
    best, split = None, None
    total = sum(y for _, y in pts)
    k_lo = 0
    for i in range(1, len(pts)):
        k_lo += pts[i - 1][1]
        if pts[i][0] == pts[i - 1][0]:
            continue
        n_lo, n_hi = i, len(pts) - i
        k_hi = total - k_lo
        if k_lo / n_lo >= k_hi / n_hi:
            continue
        v = ll(k_lo, n_lo) + ll(k_hi, n_hi)
        if best is None or v > best:
            best, split = v, i
    if split is None:
        res["why"] = "no split has fewer pulled below than above (%d of %d pulled)" % (
            total, len(pts))
        return res
    k_lo = sum(y for _, y in pts[:split])
    res["below"] = (k_lo, split)
    res["above"] = (total - k_lo, len(pts) - split)
    lo_share, hi_share = k_lo / split, (total - k_lo) / (len(pts) - split)
    if min(split, len(pts) - split) < 4:
        res["why"] = "the step leaves fewer than 4 trials on a side"
    elif lo_share > 0.2 or hi_share < 0.6:
        res["why"] = "no clean step: %.0f%% pulled below, %.0f%% above" % (
            100 * lo_share, 100 * hi_share)
    else:
        res["cost"] = (pts[split - 1][0] + pts[split][0]) / 2
    return res


# newidle_share: a pull "at once" comes within this of the CPU going idle,
# and a trial counts as cold this far beyond the migration cost
NEWIDLE_AT_ONCE_S = 0.1e-3
NEWIDLE_COLD_MARGIN_S = 0.15e-3


def newidle_probe():
    """True when migcost.c builds here, as migration_probe, under a name of
    its own: a record made before the newidle calibration existed answers
    None, and the calibration then meters no block."""
    return True if _built_probe("migcost", ["-lpthread", "-lm"]) else None


def migration_newidle(pair, trials=200, d_s=(150e-6, 1.25e-3), budget_s=1.0, seed=1,
                      sleep_s=0.4e-3):
    """Whether a CPU going idle pulls at once a thread queued behind a
    spinner on the other CPU (Linux sched_balance_newidle; migcost.c,
    newidle mode, built here with cc): S and T spin on pair[0], C on
    pair[1]; when the tick has preempted T, C waits until d (log-uniform in
    d_s) has passed since T last ran, lets T run on both CPUs and sleeps
    sleep_s (pair[1]'s idle periods: its avg_idle). A dict: "trials", each {"d" s, "where" "idle", "own" or None (T
    did not run within the sleep), "delay" s from the sleep's start to T's
    next run (None), "entries" pair[1]'s idle entries during the sleep (0:
    another program ran there instead, None unknown)}, "ran_before" (T got
    its CPU back before C slept) and "late" (draws seen too late). None
    without a C compiler or two CPUs, or when the probe fails."""
    import json
    import subprocess
    if not pair:
        return None
    exe = _built_probe("migcost", ["-lpthread", "-lm"])
    if exe is None:
        return None
    try:
        p = subprocess.run([exe, "newidle", str(trials), str(pair[0]), str(pair[1]),
                            str(round(d_s[0] * 1e6)), str(round(d_s[1] * 1e6)),
                            str(max(1, round(budget_s * 1e3))), str(seed),
                            str(round(sleep_s * 1e6))],
                           capture_output=True, text=True, timeout=budget_s + 30, check=True)
        j = json.loads(p.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    out = [{"d": d * 1e-9, "where": {1: "idle", 2: "own"}.get(where),
            "delay": None if delay < 0 else delay * 1e-9, "entries": None if ent < 0 else ent}
           for d, where, delay, ent in j["trials"]]
    return {"trials": out, "ran_before": j["ran_before"], "late": j["late"]}


def newidle_share(trials, cost_s):
    """The chance that a CPU going idle balances at once, from
    migration_newidle's trials: of those whose thread was cold (d at least
    cost_s + NEWIDLE_COLD_MARGIN_S: task_hot would not refuse it) and whose
    CPU went idle (entries >= 1, or unknown), the share pulled within
    NEWIDLE_AT_ONCE_S onto the idle CPU. Linux 6.18.5+ (NI_RANDOM) runs the
    balance with chance (newidle_ratio + 2) / 1024 and a balance that runs
    pulls a cold thread, so the ratio is 1024 x share - 2 (0 to 1024). A
    dict: "pulled", "cold" (trials), "hot_pulled", "hot", "ratio" (None
    when fewer than 10 cold trials) and "why" (when None)."""
    cold = [t for t in trials if t["d"] >= cost_s + NEWIDLE_COLD_MARGIN_S and t["entries"] != 0]
    hot = [t for t in trials if t["d"] < cost_s and t["entries"] != 0]

    def at_once(t):
        return t["where"] == "idle" and t["delay"] is not None and t["delay"] <= NEWIDLE_AT_ONCE_S
    res = {"pulled": sum(map(at_once, cold)), "cold": len(cold),
           "hot_pulled": sum(map(at_once, hot)), "hot": len(hot), "ratio": None, "why": None}
    if len(cold) < 10:
        res["why"] = "%d cold trials whose CPU went idle, fewer than 10" % len(cold)
        return res
    res["ratio"] = max(0, min(1024, round(1024 * res["pulled"] / len(cold)) - 2))
    return res


def timer_slack_s():
    """This thread's timer slack (Linux: /proc/self/timerslack_ns, 50 us for a
    normal thread), or None where it cannot be read."""
    try:
        with open("/proc/self/timerslack_ns") as f:
            return int(f.read().strip()) * 1e-9
    except (OSError, ValueError):
        return None


def kernel_release_version(release):
    """(major, minor) of a kernel release string as uname gives it
    ("6.18.0-1-cloud-amd64", "6.1.0-13-amd64", "5.15.0", "6.5-rc7"), from
    the two numbers it begins with; None when it does not begin with
    "<digits>.<digits>" (empty, garbage, "6", "v6.6"). Only the leading
    digits of the minor count: "6.5-rc7" is 6.5, not 6.57."""
    import re
    m = re.match(r"(\d+)\.(\d+)", release) if isinstance(release, str) else None
    return (int(m.group(1)), int(m.group(2))) if m else None


def kernel_version():
    """(major, minor) of the running kernel, or None."""
    import platform
    return kernel_release_version(platform.release())


def kernel_hz():
    """The kernel's CONFIG_HZ from /proc/config.gz, else from the
    /boot/config-<release> a distribution installs beside the kernel, or
    None where neither is readable (the calibration and the page both ask
    here, so they cannot disagree)."""
    import gzip
    import platform
    for path, opener in (("/proc/config.gz", gzip.open),
                         ("/boot/config-" + platform.release(), open)):
        try:
            with opener(path, "rt") as f:
                for line in f:
                    if line.startswith("CONFIG_HZ="):
                        return int(line.split("=")[1])
        except (OSError, ValueError):
            continue
    return None


def timer_interrupts_per_s(cpu, seconds=0.5):
    """Local timer interrupts per second on a CPU that this process keeps busy
    (/proc/interrupts, LOC): the scheduler tick, plus the few hrtimers that
    fired there. None where it cannot be read."""
    def loc():
        with open("/proc/interrupts") as f:
            head = f.readline().split()
            for line in f:
                if line.strip().startswith("LOC:"):
                    return int(line.split()[1 + head.index("CPU%d" % cpu)])
        return None
    try:
        os.sched_setaffinity(0, {cpu})
        a, t0 = loc(), perf()
        while perf() - t0 < seconds:
            pass
        b = loc()
        return (b - a) / (perf() - t0) if a is not None and b is not None else None
    except (OSError, ValueError):
        return None


class IdleCount:
    """A CPU's idle states as cpuidle counts them (sysfs
    cpuN/cpuidle/stateK/usage and time): entries into any idle state and the
    microseconds spent in them, read with pread on files kept open. ok is
    False where they cannot be read (no cpuidle driver): nothing can then be
    told about the CPU's idling."""

    def __init__(self, cpu):
        self.fds = []
        for k in range(8):
            base = "/sys/devices/system/cpu/cpu%s/cpuidle/state%d/" % (cpu, k)
            try:
                u = os.open(base + "usage", os.O_RDONLY)
            except OSError:
                break
            try:
                t = os.open(base + "time", os.O_RDONLY)
            except OSError:
                os.close(u)
                break
            self.fds.append((u, t))
        self.ok = bool(self.fds)

    def read(self):
        """(entries, microseconds) summed over the states."""
        n = us = 0
        for u, t in self.fds:
            n += int(os.pread(u, 32, 0) or 0)
            us += int(os.pread(t, 32, 0) or 0)
        return n, us

    def close(self):
        for u, t in self.fds:
            os.close(u)
            os.close(t)
        self.fds = []


def idled(before, after, seconds):
    """Did a CPU whose IdleCount was read before and after a span of
    `seconds` idle through it: it entered an idle state and idled at least
    half the span? (Another program that took the CPU meanwhile kept it
    busy.)"""
    return after[0] > before[0] and (after[1] - before[1]) * 1e-6 >= 0.5 * seconds


def idle_wakeups(idle_s, n=30, cpus=(None, None), budget_s=3.0):
    """Pipe wake-ups of a thread whose CPU idled: the reader, pinned to
    cpus[1], blocks in a read; the writer (the calling thread, pinned to
    cpus[0]) sleeps idle_s and writes one byte; the latency is the write to
    the reader's return. A trip counts only when the reader's CPU idled
    through the wait (cpuidle's counters, as gilsim record's calibration
    keeps its trips): on a busy machine another program takes the CPU
    meanwhile, and the byte then preempts it or waits for its slice, which
    is not an idle wake-up. Up to 3 n trips (and budget_s) for n kept ones.
    A dict: lat, the median latency of the kept trips (None: none kept);
    depth, the median time the reader's CPU had waited before the write (the
    sleep plus its overshoot: the wake-up curve's depth); kept and tried;
    filtered, whether the counters were readable (False: every trip kept)."""
    r, w = os.pipe()
    t0, woke, ready, waited, ok = [0.0], [0.0], [0.0], [0.0], [True]
    go, done = threading.Event(), threading.Event()
    ic = IdleCount(cpus[1] if cpus[1] is not None else 0)
    saved = os.sched_getaffinity(0) if cpus[0] is not None else None

    def reader():
        pin_to(cpus[1])
        while True:
            c0 = ic.read() if ic.ok else None
            ready[0] = perf()
            go.set()
            if not os.read(r, 1):
                return
            woke[0] = perf()
            waited[0] = t0[0] - ready[0]
            ok[0] = c0 is None or idled(c0, ic.read(), waited[0])
            done.set()

    th = threading.Thread(target=reader)
    th.start()
    lat, depth, tried = [], [], 0
    t_end = perf() + budget_s
    try:
        pin_to(cpus[0])
        while len(lat) < n and tried < 3 * n and perf() < t_end:
            if not go.wait(1.0):
                break
            go.clear()
            done.clear()
            time.sleep(idle_s)
            t0[0] = perf()
            os.write(w, b"x")
            if not done.wait(1.0):
                break
            tried += 1
            if ok[0]:
                lat.append(woke[0] - t0[0])
                depth.append(waited[0])
    finally:
        os.close(w)
        th.join()
        if saved is not None:
            os.sched_setaffinity(0, saved)
        os.close(r)
        ic.close()
    lat.sort()
    depth.sort()
    return {"lat": lat[len(lat) // 2] if lat else None,
            "depth": depth[len(depth) // 2] if depth else idle_s,
            "kept": len(lat), "tried": tried, "filtered": ic.ok}


def race_now(k, runs, runs5):
    """The race measured again now (reality.py race_for): race_drops(k, ...)
    at 1 ms, each (seconds) of runs, then at 5 ms, each of runs5. Returns
    {"runs1": [...], "runs5": [...], "start": ..., "end": ...} (wall-clock
    seconds, so a replayed tape says when the real run measured it); a run
    that could not be traced is left out, and None where none could."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from race_trace import can_trace
    if not can_trace():
        return None
    start = time.time()
    out = {"runs1": [], "runs5": []}
    for key, iv, secs in [("runs1", 1e-3, s) for s in runs] + [("runs5", 5e-3, s)
                                                               for s in runs5]:
        r = race_drops(k, iv, secs)
        if r is not None:
            out[key].append(r)
    out["start"], out["end"] = start, time.time()
    return out if out["runs1"] or out["runs5"] else None


def wall_clock():
    """time.time(), as a measurement: a replayed tape gives the recorded run's
    (reality.py: when the shared calibration was taken)."""
    return time.time()


def race_drops(k, interval_s, seconds):
    """The race between a drop request and the drop, seen in the kernel
    (race_trace.py): holder_sequence(k, interval_s, ...) run once on this
    interpreter under a futex + sched trace (root, tracefs, the x86-tsc trace
    clock). Returns the counts of its forced drops whose holder ran on another
    CPU than the requester ("apart": the race of two CPUs), of those at which
    the requester was asleep when the holder signalled ("asleep") and at which
    the holder found the GIL's mutex taken ("mutex"), all drops ("drops") and
    the run's A B A share ("aba"), the median idle depth in seconds of the
    requesters' CPUs as their timed waits ran out ("depth"), and other
    processes' share of the machine meanwhile ("others"); of the apart drops,
    those whose requester's CPU ran a thread of the program just before its
    timer woke it, or idled under 100 us after one ("own_apart",
    race_many.py's before_of), and of those the requester asleep at the
    signal ("own_asleep"); None where it cannot trace."""
    import tempfile
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import race_trace
    import race_many
    if not race_trace.can_trace():
        return None
    with tempfile.TemporaryDirectory() as d:
        prefix = os.path.join(d, "race")
        try:
            info = race_trace.trace_run(sys.executable, k, interval_s, seconds, prefix)
            _, res, s = race_trace.analyse_prefix(prefix)
            own = race_many.own_before(prefix, res)
        except (OSError, RuntimeError, ValueError):
            return None
    ap = [x for x in res["drops"] if x["class"] and x.get("apart")]
    depths = sorted(x["setters"][0]["idle"] for x in ap if x["setters"][0]["idle"] is not None)
    return {"apart": len(ap), "asleep": sum(x["setters"][0]["asleep"] for x in ap),
            "depth": depths[len(depths) // 2] * 1e-9 if depths else None,
            "mutex": sum(x["class"] == "requester first" for x in ap),
            "drops": s["classified"], "aba": s["aba_log"], "others": info["others"],
            "own_apart": len(own), "own_asleep": sum(g["state"] != "on its way" for g in own)}
