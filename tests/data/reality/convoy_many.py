"""The convoy-many experiment's program on its own, for `gilsim record`:
an I/O thread does N_OPS 200 us sleeps while N_CPU threads spin in Python,
at the switch interval INTERVAL (seconds).

    gilsim record -o rec.json -- tests/data/reality/convoy_many.py 4 0.001 200
    python3 tests/data/reality/convoy_many.py 2 0.005 60 --lat

With --lat it prints, on its last line instead, a JSON object: every op's
time in switch intervals ("lat") and each thread's kernel id ("tids"), which
tests/reality/convoy_modes.py reads (the ids name the threads in a kernel
trace of the run).
    python3 tests/reality/forced_drops.py rec.json --who --io io

convoy_many_4cpu_1ms.rec.json was recorded so on 2026-12-07 (Python 3.11.7,
2 vCPUs, a loaded machine: other processes used about 1.9 CPUs)."""
import json
import sys
import threading
import time

n_cpu, interval, n_ops = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
sys.setswitchinterval(interval)
stop = False
lat = []
tids = {}


def io():
    global stop
    tids["io"] = threading.get_native_id()
    for _ in range(n_ops):
        t = time.perf_counter()
        time.sleep(200e-6)
        lat.append(time.perf_counter() - t)
    stop = True


def cpu():
    tids[threading.current_thread().name] = threading.get_native_id()
    while not stop:
        pass


threads = [threading.Thread(target=io, name="io")]
threads += [threading.Thread(target=cpu, name="cpu-%d" % i) for i in range(n_cpu)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if sys.argv[4:5] == ["--lat"]:
    print(json.dumps({"lat": [round(x / interval, 4) for x in lat], "tids": tids}))
    sys.exit(0)
lat.sort()
print("median time per I/O op: %.2f intervals" % (lat[len(lat) // 2] / interval))
