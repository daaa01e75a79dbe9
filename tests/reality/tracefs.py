"""A tracefs instance of its own for the kernel's scheduler events, shared by
the tools that trace a real program beside its recording (pingpong_trace.py,
battle27_trace.py). Root only; the instance is removed on the way out."""
import contextlib
import os
import tempfile

TRACEFS = "/sys/kernel/tracing"


@contextlib.contextmanager
def sched_trace(name, events, buffer_kb, program, prefix):
    """Yields (put, prog): put(file, value) writes one of the instance's
    control files, prog is `program` written to a temporary .py file. The
    events are on and the buffer empty, not yet tracing: the caller turns
    tracing_on to 1 and back to 0 around its run; the trace is then kept as
    PREFIX.sched.txt."""
    inst = os.path.join(TRACEFS, "instances", name)
    os.makedirs(inst, exist_ok=True)
    prog = None
    try:
        def put(f, value):
            with open(os.path.join(inst, f), "w") as out:
                out.write(value)
        put("trace_clock", "mono")
        put("buffer_size_kb", str(buffer_kb))
        for ev in events:
            put("events/sched/%s/enable" % ev, "1")
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
