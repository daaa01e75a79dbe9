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


def pipe_pingpong(n, cpu=None):
    """Round trip of one byte between two threads over two pipes, in seconds.
    With cpu set, both threads are pinned to that CPU (Linux only)."""
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()

    def pin():
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})  # 0 = the calling thread

    def a():
        pin()
        for _ in range(n):
            os.write(w1, b"x")
            os.read(r2, 1)

    def b():
        pin()
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


class TimerIO:
    """The I/O op of the convoy experiment: a blocking wait of fixed length
    (time.sleep releases the GIL like any blocking call)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def round_trip(self):
        time.sleep(self.seconds)


def timer_slack_s():
    """This thread's timer slack (Linux: /proc/self/timerslack_ns, 50 us for a
    normal thread), or None where it cannot be read."""
    try:
        with open("/proc/self/timerslack_ns") as f:
            return int(f.read().strip()) * 1e-9
    except (OSError, ValueError):
        return None


def kernel_version():
    """(major, minor) of the running kernel, or None."""
    import platform
    try:
        major, minor = platform.release().split(".")[:2]
        return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)
    except ValueError:
        return None


def kernel_hz():
    """The kernel's CONFIG_HZ from /proc/config.gz, or None."""
    import gzip
    try:
        with gzip.open("/proc/config.gz", "rt") as f:
            for line in f:
                if line.startswith("CONFIG_HZ="):
                    return int(line.split("=")[1])
    except (OSError, ValueError):
        pass
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


def wake_after_idle(idle_s, n=30):
    """Median delay from a pipe write to the blocked reader running again,
    when both threads (and so both CPUs) idled for idle_s before the write:
    the cost of waking a CPU grows with how deeply it went to sleep."""
    r, w = os.pipe()
    lat, t0 = [], [0.0]

    def reader():
        for _ in range(n):
            os.read(r, 1)
            lat.append(perf() - t0[0])

    th = threading.Thread(target=reader)
    th.start()
    try:
        for _ in range(n):
            time.sleep(idle_s)
            t0[0] = perf()
            os.write(w, b"x")
        th.join()
    finally:
        os.close(r)
        os.close(w)
    lat.sort()
    return lat[len(lat) // 2]
