"""fixture.py - hand-made inputs for the self-tests of tests/reality's tools.

A self-test feeds a tool a recording (docs/recording.md, "The file") and
often a model run's `gilsim run --csv` file or a kernel trace, all small enough to check by
hand. This module writes them, so that a test states the story (who held
the GIL when, which lock a post woke, on which CPU) and not the format.

    from fixture import Recording, ModelRun, KernelTrace, workdir, same, refused

    rec = Recording(duration_ns=100000)
    rec.thread("MainThread").hold(0).release(10000, "call")
    w = rec.thread("w", cpu=0)            # every event of w on CPU 0 ...
    w.ask(1000).hold(2000).lock_post(3000, 7, cpu=1)   # ... but this one
    run = ModelRun()
    run.gil("w", 2000, 3000)              # gil,GIL,main,w,gil_held,2000,3000,
    run.lane("w", "wait_gil", 1000, 2000, "w: program[0] cpu 1us")
    run.core(0, "w", "python", 2000, 3000)
    kt = KernelTrace()                    # a kernel trace of sched events
    kt.wake(900, 1, 11, 12, 0).switch(950, 0, 0, "R", 12, prev_comm="swapper/0")
    with workdir() as d:
        tool.read(d.put("r.rec.json", rec), d.put("m.csv", run))
    same("what the tool must say", got, want)
    refused("a file that is not a run", lambda: tool.read(path), "not a gilsim run")

Events are written in the order the test adds them, as given: a test that
puts a `call` span after the `hold` inside it (where the recorder writes
spans: at their end) says so by adding it there. A CPU is written only when
the event or its thread names one (recordings made before CPUs were
recorded have none). `same`, `refused` and `check` count through
tests/checks.py, so `exit_status()` there is each test's exit status.

Costs nothing worth counting: a fixture is tens of events."""
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # tests/checks.py
from checks import check, exit_status  # noqa: E402,F401  (re-exported for the tests)

CSV_HEADER = "lane_kind,lane,process,thread,state,start_ns,end_ns,op"


def same(what, got, want):
    """check() that got equals want; a failure shows both."""
    return check(got == want, what if got == want else "%s: got %r, want %r" % (what, got, want))


def refused(what, call, says, exc=ValueError):
    """check() that call() raises exc with says in its message (bad input
    gets a clear error, never a crash)."""
    try:
        call()
    except exc as e:
        return check(says in str(e), "%s (%s)" % (what, e))
    return check(False, what + ": accepted")


class Thread:
    """One recorded thread: its fields and its events, in the order added.
    Each event method returns the thread, so a thread reads as one line of
    calls; cpu (the event's, else the thread's default) is its last item."""

    def __init__(self, name, cpu=None, **fields):
        self.cpu = cpu  # the CPU of every event that names none; None: not written
        self.obj = dict(name=name, **fields) if name is not None else dict(fields)
        self.events = self.obj.setdefault("events", [])

    def _add(self, items, cpu):
        cpu = self.cpu if cpu is None else cpu
        self.events.append(list(items) + ([cpu] if cpu is not None else []))
        return self

    def raw(self, *items):
        """An event written exactly as given (a malformed one, a new kind)."""
        self.events.append(list(items))
        return self

    def start(self, t, cpu=None):
        return self._add([t, "start"], cpu)

    def end(self, t, cpu=None):
        return self._add([t, "end"], cpu)

    def ask(self, t, cpu=None):
        return self._add([t, "ask"], cpu)

    def hold(self, t, cpu=None):
        return self._add([t, "hold"], cpu)

    def release(self, t, why, cpu=None):
        """why: "forced", "call", "exit" or "unnamed"."""
        return self._add([t, "release", why], cpu)

    def turn(self, ask, hold, release, why, cpu=None):
        """ask, hold and release: one GIL turn."""
        return self.ask(ask, cpu).hold(hold, cpu).release(release, why, cpu)

    def drop_request(self, t, cpu=None):
        return self._add([t, "drop_request"], cpu)

    def timeout(self, t, cpu=None):
        return self._add([t, "timeout"], cpu)

    def woken(self, t, cpu=None):
        return self._add([t, "woken"], cpu)

    def signal(self, t, woke, cpu=None):
        """woke: the index of the thread the signal woke, -1 for none."""
        return self._add([t, "signal", woke], cpu)

    def lock_wait(self, t0, t1, obj, cpu=None):
        """Blocked on lock obj's semaphore from t0 to t1 (cpu: where it ran at t1)."""
        return self._add([t0, "lock_wait", t1, obj], cpu)

    def lock_post(self, t, obj, cpu=None):
        return self._add([t, "lock_post", obj], cpu)

    def wait(self, t0, t1, api, category, obj, cpu=None):
        """A Python-level blocking API (api "Queue.get", category "queue")."""
        return self._add([t0, "wait", t1, api, category, obj], cpu)

    def call(self, t0, t1, name, category, released=True, obj=0, polls=None):
        """A named C call; it has no CPU (the ask and hold after it say where)."""
        self.events.append([t0, "call", t1, name, category, released, obj]
                           + ([polls] if polls is not None else []))
        return self

    def py(self, t0, t1):
        self.events.append([t0, "py", t1])
        return self


class Recording:
    """A gilsim recording: top-level fields (format first, then the given
    ones: duration_ns, calibration, host, ...) and its threads in order.
    format=None leaves the format out (what some readers must refuse)."""

    def __init__(self, format="gilsim-recording", **fields):
        self.obj = {} if format is None else {"format": format}
        self.obj.update(fields)
        self.obj["threads"] = []

    def thread(self, name, cpu=None, **fields):
        """A new thread (fields such as index or os_cpu_ns written as given;
        name None: none written, as before the recorder wrote names)."""
        th = Thread(name, cpu, **fields)
        self.obj["threads"].append(th.obj)
        return th

    def by_time(self):
        """Each thread's events sorted by their time, ties kept in the order
        added (a test that writes a story thread by thread, as the recorder
        writes each thread's events: by time)."""
        for t in self.obj["threads"]:
            t["events"].sort(key=lambda e: e[0])
        return self

    def dict(self):
        """The recording as JSON's object (the live one: a test may alter it)."""
        return self.obj

    def text(self):
        return json.dumps(self.obj)


class ModelRun:
    """A `gilsim run --csv` file (sim/export: one row an interval): the GIL
    lane, each thread's lane and the core lanes, rows in the order added."""

    def __init__(self):
        self.rows = []  # [lane_kind, lane, process, thread, state, start, end, op]

    def gil(self, thread, start, end, process="main"):
        """thread held the GIL from start to end."""
        self.rows.append(["gil", "GIL", process, thread, "gil_held", start, end, ""])
        return self

    def lane(self, thread, state, start, end, op="", process="main"):
        """thread was in state (python, wait_gil, ready, switch, wait_queue,
        c_nogil, ...) from start to end, in op ("w: program[3] get q")."""
        self.rows.append(["thread", thread, process, thread, state, start, end, op])
        return self

    def core(self, core, thread, state, start, end, op="", process=""):
        """thread ran (state python, switch, c_nogil...) on core from start to end."""
        self.rows.append(["core", "core %d" % core, process, thread, state, start, end, op])
        return self

    def dicts(self):
        """The rows as csv.DictReader gives them (every value a string)."""
        keys = CSV_HEADER.split(",")
        return [dict(zip(keys, (str(v) for v in r))) for r in self.rows]

    def text(self):
        return "\n".join([CSV_HEADER] + [",".join(str(v) for v in r) for r in self.rows]) + "\n"


class KernelTrace:
    """A kernel trace as tracefs prints it (the `trace` file: one event a
    line, `COMM-PID [CPU] FLAGS SECONDS.MICROS: KIND: FIELDS`), the sched
    events the tools read, in the order added. Times in ns from t0_ns (the
    recording's t0_monotonic_ns where a tool matches the two clocks),
    printed to the microsecond as tracefs does (ns=True: to the ns, for
    a reader that must tell sub-microsecond events apart)."""

    def __init__(self, t0_ns=0, header="", ns=False):
        self.t0_ns = t0_ns
        self.ns = ns
        self.lines = [header] if header else []

    def event(self, t_ns, cpu, comm, pid, kind, fields, flags="d..2."):
        t = self.t0_ns + t_ns
        frac = "%09d" % (t % 1000000000) if self.ns else "%06d" % (t % 1000000000 // 1000)
        self.lines.append("%s-%d [%03d] %s %d.%s: %s: %s\n" % (
            comm, pid, cpu, flags, t // 1000000000, frac, kind, fields))
        return self

    def switch(self, t_ns, cpu, prev_pid, prev_state, next_pid, prev_comm="python3",
               next_comm="python3", flags="d..2.", by=None):
        """cpu went from prev_pid (left in prev_state: R preempted, S asleep)
        to next_pid; logged by prev_pid, or by by, a (comm, pid)."""
        by_comm, by_pid = by or (prev_comm, prev_pid)
        return self.event(t_ns, cpu, by_comm, by_pid, "sched_switch",
                          "prev_comm=%s prev_pid=%d prev_prio=120 prev_state=%s ==> "
                          "next_comm=%s next_pid=%d next_prio=120"
                          % (prev_comm, prev_pid, prev_state, next_comm, next_pid), flags)

    def wake(self, t_ns, cpu, by_pid, pid, target_cpu, kind="sched_waking", comm="python3",
             by_comm="python3", flags="d..2."):
        """by_pid, on cpu, wakes pid (kind sched_waking: target_cpu its
        previous CPU; sched_wakeup: where it is queued)."""
        return self.event(t_ns, cpu, by_comm, by_pid, kind,
                          "comm=%s pid=%d prio=120 target_cpu=%03d" % (comm, pid, target_cpu),
                          flags)

    def text(self):
        return "".join(self.lines)


class Workdir:
    """A temporary directory the fixtures are written into."""

    def __init__(self, path):
        self.dir = path

    def path(self, name):
        return os.path.join(self.dir, name)

    def put(self, name, what):
        """Write what (a Recording, a ModelRun, a KernelTrace, text, or
        anything json.dump takes) as file name; its path."""
        p = self.path(name)
        if isinstance(what, (Recording, ModelRun, KernelTrace)):
            what = what.text()
        with open(p, "w") as f:
            if isinstance(what, str):
                f.write(what)
            else:
                json.dump(what, f)
        return p


class workdir:
    """with workdir() as d: a Workdir, removed at the end."""

    def __enter__(self):
        self._td = tempfile.TemporaryDirectory(prefix="gilsim-fixture-")
        return Workdir(self._td.name)

    def __exit__(self, *exc):
        self._td.cleanup()
        return False
