"""A pipeline of three threads over two queues: read, transform, write.

The reader "reads" ITEMS records (a READ_US microsecond time.sleep each, the
I/O of a real source) and puts each on a bounded queue; the transformer
parses and reworks each record in pure Python (it holds the GIL, the
pipeline's CPU-bound stage) and puts it on a second queue; the writer
compresses batches with zlib (C without the GIL) and writes them to
/dev/null with os.write. The stages wait on their queues when they are
ahead, and on the GIL when the transformer has it.

    python3 pipeline.py [ITEMS] [READ_US] [WORK] [MAXSIZE]

The last line is what the program measured about itself: the median time
from reading a record to writing it (time.perf_counter)."""
import json
import os
import queue
import sys
import threading
import time
import zlib


def main(argv):
    items = int(argv[0]) if argv else 200
    read_s = (float(argv[1]) if len(argv) > 1 else 300) / 1e6
    work = int(argv[2]) if len(argv) > 2 else 20000
    raw, cooked = queue.Queue(int(argv[3]) if len(argv) > 3 else 16), queue.Queue(16)
    latencies = []

    def reader():
        for i in range(items):
            time.sleep(read_s)
            line = "%d,sensor-%d,%d,%d,%d" % (i, i % 7, i * 3, i * 5 % 11, i * 13 % 101)
            raw.put((time.perf_counter(), line))
        raw.put(None)

    def transformer():
        while True:
            item = raw.get()
            if item is None:
                cooked.put(None)
                return
            t0, line = item
            fields = [int(x) if x.isdigit() else x for x in line.split(",")]
            acc = 0
            for k in range(work):  # the CPU-bound stage
                acc = (acc * 7 + k + fields[0]) % 65521
            cooked.put((t0, ("%s;%d\n" % (line, acc)).encode() * 40))

    def writer():
        out = os.open(os.devnull, os.O_WRONLY)
        batch, starts = [], []
        while True:
            item = cooked.get()
            if item is not None:
                starts.append(item[0])
                batch.append(item[1])
            if batch and (item is None or len(batch) == 8):
                os.write(out, zlib.compress(b"".join(batch), 6))
                now = time.perf_counter()
                latencies.extend(now - t for t in starts)
                batch, starts = [], []
            if item is None:
                break
        os.close(out)

    threads = [threading.Thread(target=f, name=f.__name__)
               for f in (reader, transformer, writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    print("gilsim-self-check " + json.dumps({
        "items": len(latencies),
        "item_latency_median_ns": int(latencies[len(latencies) // 2] * 1e9)}))


if __name__ == "__main__":
    main(sys.argv[1:])
