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
    # `gilsim record --switch-interval`: set before the probe reads the
    # GIL's interval (the recording's switch_interval_ns) and before the
    # program runs, as if the program had called it first thing.
    interval_ns = os.environ.get("GILSIM_REC_SWITCH_INTERVAL_NS")
    if interval_ns:
        sys.setswitchinterval(int(interval_ns) / 1e9)
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
    if not probe.profiling():
        _wrap_known(probe, threading, queue)

    sys.argv = [target] + sys.argv[4:]
    if mode == "module":
        sys.path[0] = os.getcwd()
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        sys.path[0] = os.path.dirname(os.path.abspath(target))
        runpy.run_path(target, run_name="__main__")


# Categories as in spool.h.
C, SLEEP, IO, LOCK, EVENT, QUEUE, JOIN, NOGIL = range(8)


def _wrap_known(probe, threading, queue):
    """Without a profile function (the default: it would slow every call),
    the calls worth naming are wrapped where they are looked up: module
    attributes and Python classes. C types cannot be patched; their blocking
    waits are still seen by the shim (lock waits) or named 'unnamed'."""
    import importlib

    def patch(owner, attr, name, cat, wait=False):
        fn = getattr(owner, attr, None)
        if fn is not None and callable(fn):
            try:
                # on a class, the first argument is the bound self: the
                # recording's `obj` of the call (which lock, event, socket)
                setattr(owner, attr, probe.wrap(fn, name, cat, wait, isinstance(owner, type)))
            except (AttributeError, TypeError):
                pass

    def module(name):
        try:
            return importlib.import_module(name)
        except ImportError:
            return None

    time_ = module("time")
    patch(time_, "sleep", "time.sleep", SLEEP)
    socket = module("socket")
    if socket is not None:
        for m in ("recv", "recv_into", "recvfrom", "recvfrom_into", "recvmsg", "send", "sendall",
                  "sendto", "sendmsg", "accept", "_accept", "connect", "connect_ex"):
            patch(socket.socket, m, "socket." + m, IO)
        for m in ("getaddrinfo", "gethostbyname", "gethostbyaddr", "create_connection"):
            patch(socket, m, "socket." + m, IO)
    select = module("select")
    if select is not None:
        patch(select, "select", "select.select", IO)
    selectors = module("selectors")
    if selectors is not None:
        for cls in ("SelectSelector", "PollSelector", "EpollSelector", "DefaultSelector"):
            patch(getattr(selectors, cls, None), "select", "selectors.select", IO)
    os_ = module("os")
    for m in ("read", "write", "readv", "writev", "pread", "pwrite", "waitpid", "wait", "system",
              "fsync", "sendfile"):
        patch(os_, m, "os." + m, IO)
    subprocess = module("subprocess")
    if subprocess is not None:
        patch(subprocess.Popen, "wait", "Popen.wait", IO)
        patch(subprocess.Popen, "communicate", "Popen.communicate", IO)
    hashlib = module("hashlib")
    if hashlib is not None:
        for m in ("new", "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_256",
                  "sha3_512", "blake2b", "blake2s", "pbkdf2_hmac", "scrypt", "file_digest"):
            patch(hashlib, m, "hashlib." + m, NOGIL)
    for mod, fns in (("zlib", ("compress", "decompress", "crc32", "adler32")),
                     ("bz2", ("compress", "decompress")), ("lzma", ("compress", "decompress"))):
        m = module(mod)
        for f in fns:
            patch(m, f, mod + "." + f, NOGIL)
    for cls, m, name, cat in ((threading.Event, "wait", "Event.wait", EVENT),
                              (threading.Condition, "wait", "Condition.wait", EVENT),
                              (threading.Barrier, "wait", "Barrier.wait", EVENT),
                              (threading.Semaphore, "acquire", "Semaphore.acquire", LOCK),
                              (queue.Queue, "get", "Queue.get", QUEUE),
                              (queue.Queue, "put", "Queue.put", QUEUE),
                              (threading.Thread, "join", "Thread.join", JOIN)):
        patch(cls, m, name, cat, True)
    # `while not stop.is_set(): ...` runs until another thread sets `stop`:
    # each Event.set with its event, and per thread the first Event.is_set
    # that returned True (wrap_poll: the polls that return False stay
    # unreported and cheap) let the fitter make it an until loop.
    patch(threading.Event, "set", "Event.set", EVENT)
    try:
        threading.Event.is_set = probe.wrap_poll(threading.Event.is_set, "Event.is_set", EVENT)
    except (AttributeError, TypeError):
        pass


_gilsim_boot()
