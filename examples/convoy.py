"""Convoy: an I/O thread beside a CPU-bound thread.

The I/O thread does OPS short blocking calls (time.sleep of IO_MS, or a
socketpair echo with --socket). Each time its I/O ends it must get the GIL
back from the CPU thread, which only lets go when the I/O thread's timed
wait runs out (the switch interval, 5 ms by default) and it asks for a
drop. So each I/O call costs about IO_MS + one switch interval.

    python3 convoy.py [OPS] [IO_MS] [--cpu-threads N] [--socket]

The last line is what the program measured about itself (for gilsim's
accuracy check): the median time per I/O call with time.perf_counter."""
import json
import socket
import sys
import threading
import time


def main(argv):
    args = [a for i, a in enumerate(argv)
            if not a.startswith("--") and (i == 0 or argv[i - 1] != "--cpu-threads")]
    ops = int(args[0]) if args else 50
    io_ms = float(args[1]) if len(args) > 1 else 1.0
    n_cpu = int(argv[argv.index("--cpu-threads") + 1]) if "--cpu-threads" in argv else 1
    use_socket = "--socket" in argv
    stop = threading.Event()
    per_op = []

    def cpu():
        x = 0
        while not stop.is_set():
            for _ in range(1000):
                x += 1

    if use_socket:
        a, b = socket.socketpair()

        def echo():  # the peer answers after io_ms, without Python in between
            while True:
                data = b.recv(1)
                if not data:
                    return
                time.sleep(io_ms / 1000)
                b.sendall(data)

    def io():
        for _ in range(ops):
            t = time.perf_counter()
            if use_socket:
                a.sendall(b"x")
                a.recv(1)
            else:
                time.sleep(io_ms / 1000)
            per_op.append(time.perf_counter() - t)
        stop.set()

    threads = [threading.Thread(target=cpu, name="cpu%d" % i if n_cpu > 1 else "cpu")
               for i in range(n_cpu)]
    threads.append(threading.Thread(target=io, name="io"))
    if use_socket:
        threading.Thread(target=echo, name="echo", daemon=True).start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if use_socket:
        a.close()
    per_op.sort()
    print("gilsim-self-check " + json.dumps({
        "io_thread": "io", "io_ops": ops,
        "io_op_median_ns": int(per_op[len(per_op) // 2] * 1e9),
        "io_call_ms": io_ms}))


if __name__ == "__main__":
    main(sys.argv[1:])
