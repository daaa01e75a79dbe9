"""A thread pool doing mixed work: hashlib (without the GIL) and pure Python.

TASKS tasks go to a ThreadPoolExecutor of WORKERS threads. Each task hashes
a block of BLOCK_KIB KiB with hashlib.sha256 (C code that releases the GIL,
so hashes run in parallel on as many cores) and then walks the digest and a
small record in pure Python for about as long (which needs the GIL, so the
workers take turns). The pool is neither CPU-bound nor free: how much the
threads help depends on the share of each kind of work.

    python3 mixed_pool.py [WORKERS] [TASKS] [BLOCK_KIB] [SPIN]

The last line is what the program measured about itself: the median time of
one sha256 call (time.perf_counter around it), and every call's, sorted."""
import hashlib
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def main(argv):
    workers = int(argv[0]) if argv else 4
    tasks = int(argv[1]) if len(argv) > 1 else 120
    kib = int(argv[2]) if len(argv) > 2 else 512
    spin = int(argv[3]) if len(argv) > 3 else 15000
    blocks = [bytes([i % 256]) * (kib * 1024) for i in range(4)]
    hash_times = []

    def task(i):
        t = time.perf_counter()
        digest = hashlib.sha256(blocks[i % 4]).digest()
        hash_times.append(time.perf_counter() - t)
        score = 0
        for k in range(spin):  # the Python half: holds the GIL
            score = (score * 33 + digest[k % 32] + i) & 0xFFFFFFFF
        return score

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="worker") as pool:
        done = list(pool.map(task, range(tasks)))
    hash_times.sort()
    print("gilsim-self-check " + json.dumps({
        "tasks": len(done), "c_call": "openssl_sha256", "c_calls": tasks,
        "c_call_median_ns": int(hash_times[len(hash_times) // 2] * 1e9),
        "c_call_ns": [int(t * 1e9) for t in hash_times]}))


if __name__ == "__main__":
    main(sys.argv[1:])
