# boot.py - started by `gilsim record` as the interpreter's main script:
#   python boot.py PROBE.so script|module TARGET [ARGS...]
# Loads the probe (which finds the GIL and registers it with the LD_PRELOADed
# shim), hooks every thread started through threading, then runs TARGET as
# __main__ exactly as `python TARGET ARGS` or `python -m TARGET ARGS` would.
import sys


def _gilsim_boot():
    import os
    import runpy
    import threading
    import queue
    from importlib.machinery import ExtensionFileLoader
    from importlib.util import module_from_spec, spec_from_loader

    probe_path, mode, target = sys.argv[1], sys.argv[2], sys.argv[3]
    loader = ExtensionFileLoader("_gilsim_probe", probe_path)
    probe = module_from_spec(spec_from_loader("_gilsim_probe", loader))
    loader.exec_module(probe)

    # Python-level blocking APIs, by code object: (code, name, category);
    # categories as in spool.h (4 event, 5 queue, 6 join, 3 lock).
    contexts = []
    for obj, name, cat in (
        (threading.Event.wait, "Event.wait", 4),
        (threading.Condition.wait, "Condition.wait", 4),
        (threading.Barrier.wait, "Barrier.wait", 4),
        (queue.Queue.get, "Queue.get", 5),
        (queue.Queue.put, "Queue.put", 5),
        (threading.Thread.join, "Thread.join", 6),
        (threading.Semaphore.acquire, "Semaphore.acquire", 3),
    ):
        code = getattr(obj, "__code__", None)
        if code is not None:
            contexts.append((code, name, cat))

    current = threading.current_thread
    start = probe.thread_start

    def first_event(frame, event, arg):
        start(current().name)

    threading.setprofile(first_event)
    probe.install(contexts, current().name)

    sys.argv = [target] + sys.argv[4:]
    if mode == "module":
        sys.path[0] = os.getcwd()
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        sys.path[0] = os.path.dirname(os.path.abspath(target))
        runpy.run_path(target, run_name="__main__")


_gilsim_boot()
