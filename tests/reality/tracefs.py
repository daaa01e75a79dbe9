"""A tracefs instance of its own for the kernel's scheduler events, shared by
the tools that trace a real program beside its recording (pingpong_trace.py,
battle27_trace.py, mixed_trace.py, wake_trace.py), and the one reader of the
trace it keeps (also for io_cycle.py, dropper_sched.py and lockwait_trace.py). Root only; the instance is removed on the way out."""
import contextlib
import os
import re
import tempfile

TRACEFS = "/sys/kernel/tracing"
# one line of the trace: "comm-pid [cpu] flags ts: event: key=value ..."
LINE = re.compile(r"\[(\d+)\].*?\s(\d+\.\d+): (\w+): (.*)$")
COMM = re.compile(r"^\s*(.+?)-\d+\s+\[")
FIELD = re.compile(r"(\w+=\S+)")
# the line's flags ("d.s2.": irqs off, need-resched, hard/soft irq, depth ...)
FLAGS = re.compile(r"\[\d+\]\s+(\S{4,6})\s+\d+\.\d+: ")


def sched_events(prefix):
    """PREFIX.sched.txt as read_sched_events reads it."""
    return read_sched_events(prefix + ".sched.txt")


def read_sched_events(path):
    """A kept trace as (t_ns, cpu, kind, fields), in the file's order:
    t_ns on the trace clock (mono: the recorder's clock), kind the event's
    name (sched_switch ...), fields its key=value pairs as strings, and
    comm_ the name of the task the event is about (its comm= field, else
    the task that logged it), by_ the name of the task that logged it and
    flags_ the line's flags ("" when the trace has none)."""
    out = []
    for line in open(path):
        m = LINE.search(line)
        if not m:
            continue
        f = dict(kv.split("=", 1) for kv in FIELD.findall(m.group(4)))
        c = re.search(r"comm=(\S+)", m.group(4)) or COMM.match(line)
        f["comm_"] = c.group(1) if c else ""
        b, fl = COMM.match(line), FLAGS.search(line)
        f["by_"] = b.group(1) if b else ""
        f["flags_"] = fl.group(1) if fl else ""
        out.append((int(round(float(m.group(2)) * 1e9)), int(m.group(1)), m.group(3), f))
    return out


@contextlib.contextmanager
def sched_trace(name, events, buffer_kb, program, prefix, clock="mono"):
    """Yields (put, prog): put(file, value) writes one of the instance's
    control files, prog is `program` written to a temporary .py file. The
    events are on and the buffer empty, not yet tracing: the caller turns
    tracing_on to 1 and back to 0 around its run; the trace is then kept as
    PREFIX.sched.txt. An event is a sched event's name, or "group/event"
    (syscalls/sys_enter_futex); clock is the trace clock (race_trace.py
    takes x86-tsc: the text trace prints the ns clocks in microseconds)."""
    inst = os.path.join(TRACEFS, "instances", name)
    os.makedirs(inst, exist_ok=True)
    prog = None
    try:
        def put(f, value):
            with open(os.path.join(inst, f), "w") as out:
                out.write(value)
        put("trace_clock", clock)
        put("buffer_size_kb", str(buffer_kb))
        for ev in events:
            put("events/%s/enable" % (ev if "/" in ev else "sched/" + ev), "1")
        put("trace", "")
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(program)
            prog = f.name
        yield put, prog
        with open(os.path.join(inst, "trace")) as src, open(prefix + ".sched.txt", "w") as dst:
            dst.write(src.read())
    finally:
        if prog:
            os.unlink(prog)
        os.rmdir(inst)
