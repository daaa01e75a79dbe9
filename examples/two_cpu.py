"""Two CPU-bound threads take turns with the GIL, one switch interval each.

Each thread runs a loop that writes its own id into a shared cell and
counts how often it finds the other's id there: every such change is a GIL
hand-over during which the other thread ran Python. The sum is an
independent count of GIL switches to compare a recording with.

    python3 two_cpu.py [SECONDS]"""
import json
import sys
import threading
import time


def main(argv):
    seconds = float(argv[0]) if argv else 1.0
    cell = [0]
    seen = {}
    deadline = time.perf_counter() + seconds

    def worker(me):
        n = 0
        while True:
            for _ in range(200):
                if cell[0] != me:
                    cell[0] = me
                    n += 1
            if time.perf_counter() > deadline:
                break
        seen[me] = n

    threads = [threading.Thread(target=worker, args=(i,), name="cpu%d" % i) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("gilsim-self-check " + json.dumps({
        "switch_threads": ["cpu1", "cpu2"],
        "cell_switches": seen[1] + seen[2]}))


if __name__ == "__main__":
    main(sys.argv[1:])
