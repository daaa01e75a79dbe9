"""Scenario generators: for each measured program, the gilsim scenario that
describes it, with the costs calibrated on this machine in the same run.

Every function returns a plain dict in the scenario format of issue 5
(docs/scenarios.md).  Durations are written as whole nanoseconds ("12345ns"),
so nothing is lost to rounding.
"""


def dur(seconds):
    """A duration string in whole nanoseconds (at least 1 ns)."""
    return "%dns" % max(1, round(seconds * 1e9))


def timer_slack_s(machine):
    """The timer slack: the thread's own (/proc/self/timerslack_ns, read by
    the calibration); what a timer's end costs beyond it is the wake-up of a
    core at that idle depth (wake_curve)."""
    slack = getattr(machine, "slack_s", None)
    if slack is not None:
        return slack
    return max(0.0, machine.wake_cold_s - machine.wake_hot_s - timer_jitter_s(machine) / 2)


def timer_late_s(machine, d):
    """A timer of length d's lateness beyond its slack (the calibrated
    timer_late curve, linear between its points)."""
    c = getattr(machine, "timer_curve", None)
    if not c:
        return 0.0
    for (x0, y0), (x1, y1) in zip(c, c[1:]):
        if d <= x1:
            return y0 + (y1 - y0) * (max(d, x0) - x0) / (x1 - x0)
    return c[-1][1]


def timer_jitter_s(machine):
    return getattr(machine, "timer_jitter_s", 0.0)


def wake_base_s(machine, measured_s):
    """The fixed part of a wake-up whose measured median is measured_s: the
    model adds a draw from 0 to wakeup_jitter to it, half the jitter on
    average, as the timers' calibration does with timer_jitter."""
    return max(0.0, measured_s - getattr(machine, "wake_jitter_s", 0.0) / 2)


def base(name, description, machine, interval_s, threads, **extra):
    """A scenario on the calibrated machine (see reality.py: Machine)."""
    sc = {
        "name": name,
        "description": description,
        "seed": 1,
        "until": "120s",
        "machine": {
            "cores": machine.cores,
            "timeslice": "4ms",
            "context_switch": dur(machine.context_switch_s),
            # A wake-up costs the hot latency; a timer (sleep, the GIL's timed
            # wait) also ends late by the rest of the cold figure: the kernel's
            # timer slack and the hrtimer's own delay.
            "wakeup_latency": dur(wake_base_s(machine, min(machine.wake_hot_s,
                                                           machine.wakeup_s))),
            "timer_slack": dur(timer_slack_s(machine)),
            "timer_jitter": dur(timer_jitter_s(machine)),
            # glibc's condvar: one futex call to fall asleep; who reaches the
            # GIL mutex first on a drop request (both calibrated, reality.py)
            "futex": dur(getattr(machine, "futex_s", 1e-6)),
            "requester_first": round(getattr(machine, "requester_first", 0.5), 2),
            # the kernel's scheduler and tick, detected by the calibration
            "policy": getattr(machine, "policy", "cfs"),
            "tick": dur(getattr(machine, "tick_s", 0.004)),
            # Linux keeps a run queue (and EEVDF's V) per CPU; a woken thread
            # is queued on one CPU (docs/model.md "One V per core")
            "run_queues": "per_core",
        },
        "python": {"gil": "cpython3", "switch_interval": dur(interval_s)},
        "threads": threads,
    }
    # measured by the calibration (reality.py, calibrate_machinery): what
    # waking another, idle CPU costs the waker, the spread of wake-ups, the
    # creation of an OS thread, the kernel's base slice when readable
    if getattr(machine, "bare_syscall_s", None):
        # a system call that finds nothing to do (reality.py: a futex_wake
        # with nobody to wake): what a Python 2 GIL release costs while its
        # waiter is awake
        sc["machine"]["syscall"] = dur(machine.bare_syscall_s)
    if getattr(machine, "wake_ipi_s", 0):
        sc["machine"]["wake_ipi"] = dur(machine.wake_ipi_s)
    if getattr(machine, "timer_arm_s", 0):
        # arming a timer that is its CPU's first (reality.py, timerarm.c)
        sc["machine"]["timer_arm"] = dur(machine.timer_arm_s)
    if getattr(machine, "wake_jitter_s", 0):
        sc["machine"]["wakeup_jitter"] = dur(machine.wake_jitter_s)
    if getattr(machine, "wake_affine", 0):
        # where the kernel runs a woken thread: the share of Lock hand-offs
        # on the waker's CPU (reality.py, calibrate_placement)
        sc["machine"]["wake_affine"] = round(machine.wake_affine, 2)
    if getattr(machine, "eevdf_slice_s", None):
        sc["machine"]["eevdf_slice"] = dur(machine.eevdf_slice_s)
    if getattr(machine, "migration_cost_s", None):
        # how long a queued thread stays cache-hot for an idle core's pull
        # (reality.py, calibrate_migration: migcost.c's step at the tick)
        sc["machine"]["migration_cost"] = dur(machine.migration_cost_s)
    if getattr(machine, "newidle_ratio", None) is not None:
        # a CPU going idle balances at once with chance (ratio + 2) / 1024
        # (reality.py, calibrate_newidle: migcost.c's newidle mode; set only
        # with Machine.NEWIDLE_WRITE)
        sc["machine"]["newidle_ratio"] = machine.newidle_ratio
    if getattr(machine, "thread_create_s", None):
        sc["python"]["thread_create"] = dur(machine.thread_create_s)
    curve = getattr(machine, "wake_curve", None)
    if curve:
        # wake-up latency against idle depth, and a timer's lateness beyond
        # its slack against its length (both calibrated, reality.py)
        sc["machine"]["wakeup_idle"] = [[dur(d), dur(wake_base_s(machine, lat))]
                                        for d, lat in curve]
    rcurve = getattr(machine, "requester_first_idle", None)
    if rcurve:
        # the race's chance against the requester's core's idle depth
        # (measured in the kernel, reality.py fit_requester_first)
        sc["machine"]["requester_first_idle"] = [[dur(d), round(p, 2)] for d, p in rcurve]
    if getattr(machine, "race_holder_sleeps", True) is False:
        # the holder's wait for the GIL mutex ends at the requester's unlock
        # (reality.py --race-from aba: the race read from the untraced A B A
        # with this reading, sim/engine/cvrace.c)
        sc["machine"]["race_holder_sleeps"] = False
    if getattr(machine, "requester_first_own", None) is not None:
        # the race's chance when the requester's core ran a thread of its own
        # program just before (measured in the kernel, reality.py
        # fit_requester_first: race_many.py's split of the traced drops)
        sc["machine"]["requester_first_own"] = machine.requester_first_own
    tcurve = getattr(machine, "timer_curve", None)
    if tcurve:
        sc["machine"]["timer_late"] = [[dur(d), dur(lat)] for d, lat in tcurve]
    if getattr(machine, "timer_wake", None):
        # a timer wakes its sleeper on its own CPU: the calibration's
        # timer_late is the whole overshoot beyond slack and jitter, no
        # wake-up subtracted, so the model charges none (reality.py)
        sc["machine"]["timer_wake"] = machine.timer_wake
    sc.update(extra)
    return sc


# (1) CPU-bound threads vs the same work in one thread.
def cpu_threads(machine, k, work_s, interval_s=0.005):
    return base("reality: %d CPU-bound threads" % k,
                "%d threads each run %s of pure-Python loop." % (k, dur(work_s)),
                machine, interval_s,
                [{"name": "spin", "count": k, "program": [{"cpu": dur(work_s)}]}])


def cpu_sequential(machine, k, work_s, interval_s=0.005):
    return base("reality: the same work in one thread",
                "One thread runs %d chunks of %s, one after the other." % (k, dur(work_s)),
                machine, interval_s,
                [{"name": "spin", "program": [{"repeat": k, "do": [{"cpu": dur(work_s)}]}]}])


# (2) Two CPU-bound threads sharing the GIL at a given switch interval.
def switch_rate(machine, work_s, interval_s):
    return base("reality: switches at %s" % dur(interval_s),
                "Two CPU-bound threads; count the changes of GIL holder.",
                machine, interval_s,
                [{"name": "counter", "count": 2, "program": [{"cpu": dur(work_s)}]}])


# (3) An I/O-bound thread beside n_cpu CPU-bound ones.
def convoy(machine, n_cpu, interval_s, n_ops, io_s, py_s, cpu_s, send_s=None):
    """With send_s, each op is two blocking calls, as a socket round trip is: a
    send of send_s, then the wait for the answer (io_s); each gives the GIL up."""
    # time.sleep is a timer (it ends late by the timer slack); the echo's
    # answer is I/O (it ends when the data is there).
    ops = [{"sleep" if send_s is None else "io": dur(io_s)}, {"cpu": dur(py_s)}]
    if send_s is not None:
        ops.insert(0, {"io": dur(send_s)})
    threads = [{"name": "io", "program": [{"repeat": n_ops, "do": ops}]}]
    if n_cpu:
        threads.append({"name": "cpu", "count": n_cpu, "program": [{"cpu": dur(cpu_s)}]})
    return base("reality: I/O beside %d CPU-bound threads" % n_cpu,
                "An echo round trip (I/O) then a little Python, %d times." % n_ops,
                machine, interval_s, threads)


# (4) C calls that release the GIL (hashlib, zlib).
def c_release(machine, n_threads, k, call_s, py_s, interval_s=0.005):
    return base("reality: GIL-releasing C calls in %d threads" % n_threads,
                "Each thread makes %d C calls of %s that release the GIL." % (k, dur(call_s)),
                machine, interval_s,
                [{"name": "hasher", "count": n_threads,
                  "program": [{"repeat": k, "do": [
                      {"c_call": dur(call_s), "releases_gil": True},
                      {"cpu": dur(py_s)}]}]}])


# (5) A long C call that keeps the GIL, beside a ticking Python thread.
def starve(machine, tick_s, n_ticks, delay_s, call_s, interval_s):
    return base("reality: a long C call keeps the GIL",
                "A ticker runs short Python chunks; the sorter sleeps, then "
                "makes one C call of %s that keeps the GIL." % dur(call_s),
                machine, interval_s,
                [{"name": "ticker", "program": [{"repeat": n_ticks,
                                                  "do": [{"cpu": dur(tick_s)}]}]},
                 {"name": "sorter", "program": [{"sleep": dur(delay_s)},
                                                 {"c_call": dur(call_s),
                                                  "releases_gil": False}]}])


# (6) Overlapping sleeps.
def sleepers(machine, n_threads, sleep_s, py_s, interval_s=0.005):
    return base("reality: %d overlapping sleeps" % n_threads,
                "Each thread sleeps %s, then runs a little Python." % dur(sleep_s),
                machine, interval_s,
                [{"name": "sleeper", "count": n_threads,
                  "program": [{"sleep": dur(sleep_s)}, {"cpu": dur(py_s)}]}])


# (7) Lock ping-pong: two locks held by a set-up thread, then passed back and
# forth (a Python Lock may be released by any thread).  py_s is one syscall;
# each thread's Python per turn (a contended acquire and release) is 2 py_s.
# It runs before the release that wakes the partner. A recording of the real
# pair (handoff_split.py, 2026-12-07 19:41, loaded; alone and beside a
# spinner at 1 ms) puts it after: 0.07-0.11 us from the GIL's take to the
# wake (the sem_post) and 0.62-0.84 us from there to the drop, medians.
# python_after=True places it so; on the quiet 17:43 record it takes the
# model's 1 ms row beside the spinner from 1.33x to 19x the real rate, since
# the model's woken partner then hardly ever preempts its waker (2-4% of the
# drops find it waiting for the GIL, 51% with the Python before; real 14-30%
# loaded): docs/model.md, "The Lock ping-pong's window". With
# machine.switch_charged the share is back to 50%, but the row is then
# 1.41-1.50x (5 ms 1.21-1.25x): not the default.
def lock_pingpong(machine, n, py_s, setup_s, interval_s=0.005, python_after=False):
    py = {"cpu": dur(2 * py_s)}
    if python_after:
        ping_do = [{"acquire": "a"}, {"release": "b"}, py]
        pong_do = [{"release": "a"}, py, {"acquire": "b"}]
    else:
        ping_do = [{"acquire": "a"}, py, {"release": "b"}]
        pong_do = [py, {"release": "a"}, {"acquire": "b"}]
    return base("reality: lock ping-pong",
                "Two threads pass the turn through two Locks, %d rounds." % n,
                machine, interval_s,
                # The real threads wait at a gate the set-up opens once it
                # holds both locks; start_at alone could let ping take 'a'
                # first when the set-up thread is late (a deadlock of the
                # scenario, not of the model).
                [{"name": "setup", "program": [{"acquire": "a"}, {"acquire": "b"},
                                               {"set": "gate"}]},
                 {"name": "ping", "start_at": dur(setup_s),
                  "program": [{"wait": "gate"}, {"repeat": n, "do": ping_do}]},
                 {"name": "pong", "start_at": dur(setup_s),
                  "program": [{"wait": "gate"}, {"repeat": n, "do": pong_do}]}],
                locks=["a", "b"], events=["gate"])



# (8) Lock ping-pong beside a CPU-bound thread.
def lock_pingpong_cpu(machine, n, py_s, setup_s, interval_s, cpu_s, python_after=False):
    sc = lock_pingpong(machine, n, py_s, setup_s, interval_s, python_after)
    sc["name"] = "reality: lock ping-pong beside a CPU-bound thread"
    # the spinner starts with the ping-pong, after the set-up thread has both
    # locks (the real threads all start at the gate, after the locks are set)
    sc["threads"].append({"name": "spinner", "start_at": dur(setup_s),
                          "program": [{"cpu": dur(cpu_s)}]})
    return sc


# (8b) Event ping-pong, alone or beside a CPU-bound thread: ping waits for
# a, clears it and sets b; pong sets a, waits for b and clears it (no set-up
# thread: an Event starts clear). Each thread's Python per turn, measured in
# one thread (P.event_python_cost), sits where CPython runs it: before_s
# between being woken and the set's notify that wakes the other (the wait's
# return, the clear, the set's `with` and notify: the Event's methods on
# their fast path), after_s from there to the next wait's blocking acquire
# (the blocking wait's Condition path: its waiter lock allocated, acquired
# and queued, the Condition's lock released). A recording of the real pair
# (handoff_split.py, 2026-12-07 19:05) splits a hold 1.2 us before the wake
# and 1.3-1.6 us after it, the sem_post's system call and the drop
# included. What the kernel does in a waking set and a blocking wait is the
# machine's futex and wake-up, as for every hand-off.
def event_pingpong(machine, n, before_s, after_s, interval_s=0.005, cpu_s=None):
    b, a = {"cpu": dur(before_s)}, {"cpu": dur(after_s)}
    threads = [{"name": "ping", "program": [{"repeat": n, "do": [
                    {"wait": "a"}, b, {"clear": "a"}, {"set": "b"}, a]}]},
               {"name": "pong", "program": [{"repeat": n, "do": [
                    {"set": "a"}, a, {"wait": "b"}, b, {"clear": "b"}]}]}]
    if cpu_s is not None:
        threads.append({"name": "spinner", "program": [{"cpu": dur(cpu_s)}]})
    return base("reality: Event ping-pong%s" % (" beside a CPU-bound thread" if cpu_s else ""),
                "Two threads pass the turn through two Events, %d rounds." % n,
                machine, interval_s, threads, events=["a", "b"])


# (9) Several consumers on one queue.Queue.
def queue_consumers(machine, k, n_items, py_put_s, py_get_s, work_s, interval_s=0.005):
    return base("reality: %d consumers on one queue" % k,
                "A producer puts %d items; %d consumers get them and work %s on each."
                % (n_items, k, dur(work_s)),
                machine, interval_s,
                [{"name": "producer", "program": [{"repeat": n_items, "do": [
                    {"put": "q"}]}]},
                 {"name": "consumer", "count": k, "program": [{"repeat": n_items, "do": [
                     {"get": "q"}, {"cpu": dur(work_s)}]}]}],
                # the Python of put and get runs in the queue's op, holding
                # its mutex (docs/model.md, "queue.Queue")
                queues={"q": {"maxsize": 0, "put": dur(py_put_s), "get": dur(py_get_s)}})


# (10) time.sleep(0) in a loop, alone or beside a CPU-bound thread.
def sleep0(machine, n, py_s, with_cpu, cpu_s, interval_s=0.005):
    threads = [{"name": "sleeper", "program": [{"repeat": n, "do": [
        {"sleep": "0ns"}, {"cpu": dur(py_s)}]}]}]
    if with_cpu:
        threads.append({"name": "spinner", "program": [{"cpu": dur(cpu_s)}]})
    return base("reality: time.sleep(0)%s" % (" beside a CPU-bound thread" if with_cpu else ""),
                "A thread calls time.sleep(0) %d times." % n, machine, interval_s, threads)


# (11) C calls that release the GIL in more threads than cores, alone or
# beside threads spinning in Python (which hold the GIL between the calls).
def c_release_beside_cpu(machine, n_threads, k, call_s, py_s, n_cpu, cpu_s, interval_s):
    sc = c_release(machine, n_threads, k, call_s, py_s, interval_s)
    sc["name"] = "reality: %d GIL-releasing threads beside %d CPU-bound" % (n_threads, n_cpu)
    if n_cpu:
        sc["threads"].append({"name": "spinner", "count": n_cpu,
                              "program": [{"cpu": dur(cpu_s)}]})
    return sc


# (12) A lock held across forced switches: each thread takes one Lock, runs
# Python holding it, releases it, runs Python without it.
def locked_work(machine, n_threads, n, hold_s, free_s, interval_s):
    return base("reality: a lock held across forced switches",
                "%d threads each %d times: a Lock held for %s of Python, then %s "
                "without it." % (n_threads, n, dur(hold_s), dur(free_s)),
                machine, interval_s,
                [{"name": "worker", "count": n_threads, "program": [{"repeat": n, "do": [
                    {"acquire": "L"}, {"cpu": dur(hold_s)}, {"release": "L"},
                    {"cpu": dur(free_s)}]}]}],
                locks=["L"])
