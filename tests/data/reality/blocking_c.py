"""The program of tests/data/reality/blocking_c_1spinner.rec.json: experiment
(11) of tests/reality (programs.c_calls_beside_cpu) as a script of its own, to
record with gilsim record: 3 threads each hash 1 MiB with hashlib.sha256 k
times beside N_CPU threads spinning in pure Python.

    gilsim record -o rec.json -- python3 blocking_c.py [N_CPU [K [INTERVAL_S]]]

Recorded 2026-12-07 03:06 UTC, N_CPU 1, on the 2-vCPU VM while other
engineers' work came and went: the quietest of six runs (the machine 62%
busy, about what the program itself uses), 10.2x."""
import hashlib, random, sys, threading, time
n_cpu = int(sys.argv[1]) if len(sys.argv) > 1 else 1
k = int(sys.argv[2]) if len(sys.argv) > 2 else 193
iv = float(sys.argv[3]) if len(sys.argv) > 3 else 0.005
buf = random.Random(2).randbytes(1 << 20)
sys.setswitchinterval(iv)
stop = False
def work():
    for _ in range(k):
        hashlib.sha256(buf).digest()
def spinner():
    while not stop:
        pass
t = time.perf_counter()
one = min((lambda t0: (hashlib.sha256(buf).digest(), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5))
sp = [threading.Thread(target=spinner, name="spinner%d" % i) for i in range(n_cpu)]
for s in sp: s.start()
hs = [threading.Thread(target=work, name="hasher%d" % i) for i in range(3)]
t0 = time.perf_counter()
for h in hs: h.start()
for h in hs: h.join()
el = time.perf_counter() - t0
stop = True
for s in sp: s.join()
print("call %.1f us elapsed %.3f s ratio %.2f" % (one * 1e6, el, el / (k * one)))
