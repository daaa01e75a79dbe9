"""A thread pool hashing with hashlib: the hashing runs without the GIL.

hashlib releases the GIL while it hashes more than 2 KiB, so WORKERS threads
hash in parallel on as many cores; only the Python around the calls needs
the GIL.

    python3 hash_pool.py [WORKERS] [BLOCKS] [BLOCK_KIB]"""
import hashlib
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def main(argv):
    workers = int(argv[0]) if argv else 4
    blocks = int(argv[1]) if len(argv) > 1 else 64
    kib = int(argv[2]) if len(argv) > 2 else 1024
    data = bytes(range(256)) * (kib * 4)
    per_call = []

    def work(i):
        t = time.perf_counter()
        h = hashlib.sha256(data).hexdigest()
        per_call.append(time.perf_counter() - t)
        return h

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hasher") as pool:
        list(pool.map(work, range(blocks)))
    per_call.sort()
    print("gilsim-self-check " + json.dumps({
        "c_call": "openssl_sha256", "c_calls": blocks,
        "c_call_median_ns": int(per_call[len(per_call) // 2] * 1e9)}))


if __name__ == "__main__":
    main(sys.argv[1:])
