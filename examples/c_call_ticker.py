"""A long C call that keeps the GIL, beside a ticker.

The main thread sorts a big list of floats: one C call (list.sort) that
holds the GIL all along, so no drop request can interrupt it. The ticker
wants to wake every millisecond and is stuck until the sort returns.

    python3 c_call_ticker.py [MILLION_ITEMS]"""
import json
import random
import sys
import threading
import time


def main(argv):
    n = int(float(argv[0]) * 1e6) if argv else 1_000_000
    rnd = random.Random(1)
    items = [rnd.random() for _ in range(n)]
    stop = threading.Event()
    late = []

    def ticker():
        while not stop.is_set():
            t = time.perf_counter()
            time.sleep(0.001)
            late.append(time.perf_counter() - t - 0.001)

    tk = threading.Thread(target=ticker, name="ticker")
    tk.start()
    time.sleep(0.02)
    t = time.perf_counter()
    items.sort()
    sort_ns = int((time.perf_counter() - t) * 1e9)
    time.sleep(0.02)
    stop.set()
    tk.join()
    print("gilsim-self-check " + json.dumps({
        "c_call": "list.sort", "c_calls": 1, "c_call_median_ns": sort_ns,
        "ticker_worst_late_ns": int(max(late) * 1e9)}))


if __name__ == "__main__":
    main(sys.argv[1:])
