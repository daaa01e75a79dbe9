#!/usr/bin/env python3
"""bench_record.py - what `gilsim record` costs and how close it is.

    bench_record.py --gilsim G [--view V] --examples DIR [--python PY]
                    [--reps N] [--quick] [--write-docs SOURCE_DIR]

overhead   each program's own wall time (perf_counter inside the program,
           so interpreter start-up and the recorder's own work are not
           counted) unrecorded and recorded, interleaved pair by pair; the
           figure is the median of the per-pair ratios, with the range.
           Programs: two CPU-bound threads, the convoy (an I/O thread beside
           a CPU thread), and a call-heavy pair of threads (about a million
           small Python calls per second), at the default switch interval.
accuracy   each example recorded N times: the recording against what the
           program measured about itself (switches by the shared cell, time
           per I/O call and C call duration by perf_counter); the figure is
           the median relative difference, with the range.
big        a 10 s, 16-thread recording: its size, and the time to export it
           and to open it in the viewer (render one frame).
With --write-docs the tables replace the generated parts of
docs/performance.md ("Recording") and docs/validation.md ("Recordings")."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

CPU = r'''
import threading, time, sys
def work():
    x = 0
    for _ in range(N):
        x += 1
N = int(sys.argv[1]) if len(sys.argv) > 1 else 4000000
t = time.perf_counter()
ts = [threading.Thread(target=work) for _ in range(2)]
[x.start() for x in ts]; [x.join() for x in ts]
print("elapsed", time.perf_counter() - t)
'''

CALLS = r'''
import threading, time, sys
def f(x):
    return x + 1
def work():
    y = 0
    for i in range(N):
        y = f(y)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
t = time.perf_counter()
ts = [threading.Thread(target=work) for _ in range(2)]
[x.start() for x in ts]; [x.join() for x in ts]
e = time.perf_counter() - t
print("elapsed", e, "calls_per_s", 2 * N / e)
'''

CONVOY_TIMED = r'''
import os, sys, time
sys.argv = [sys.argv[0]] + sys.argv[1:]
sys.path.insert(0, EXAMPLES)
import convoy
t = time.perf_counter()
convoy.main(sys.argv[1:])
print("elapsed", time.perf_counter() - t)
'''

BIG = r'''
import hashlib, socket, threading, time, queue
stop = time.perf_counter() + 10
q = queue.Queue(maxsize=16)
def cpu():
    while time.perf_counter() < stop:
        sum(range(2000))
def io():
    while time.perf_counter() < stop:
        time.sleep(0.002)
def hasher():
    d = b"x" * 65536
    while time.perf_counter() < stop:
        hashlib.sha256(d).digest()
def prod():
    while time.perf_counter() < stop:
        q.put(1)
        time.sleep(0.001)
    q.put(None)
def cons():
    while q.get() is not None:
        sum(range(500))
kinds = [cpu] * 4 + [io] * 5 + [hasher] * 5 + [prod, cons]
ts = [threading.Thread(target=k, name="%s%d" % (k.__name__, i)) for i, k in enumerate(kinds)]
[t.start() for t in ts]; [t.join() for t in ts]
'''


def elapsed(out):
    for line in out.splitlines():
        if line.startswith("elapsed"):
            return float(line.split()[1])
    raise RuntimeError("no elapsed line in: " + out[-300:])


def spread(xs):
    return statistics.median(xs), min(xs), max(xs)


def run_plain(py, path, args):
    r = subprocess.run([py, path, *args], capture_output=True, text=True, timeout=600)
    return elapsed(r.stdout)


def run_rec(a, path, args, out):
    r = subprocess.run([a.gilsim, "record", "--quiet", "-o", out, "--python", a.python, path,
                        *args], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return elapsed(r.stdout), r.stdout


def overhead(a, tmp):
    progs = []
    for name, text, args in (("two CPU-bound threads", CPU, ["3000000"]),
                             ("convoy (I/O thread beside a CPU thread)",
                              CONVOY_TIMED.replace("EXAMPLES", repr(a.examples)), ["100", "1"]),
                             ("call-heavy (2 threads of small Python calls)", CALLS,
                              ["1000000"])):
        p = os.path.join(tmp, name.split()[0] + ".py")
        with open(p, "w") as f:
            f.write(text)
        progs.append((name, p, args))
    rows = []
    for name, p, args in progs:
        ratios, plain, rec = [], [], []
        for i in range(a.reps):
            # alternate the order, so drift in the machine's load hits both
            if i % 2 == 0:
                x = run_plain(a.python, p, args)
                y, out = run_rec(a, p, args, os.path.join(tmp, "o.rec.json"))
            else:
                y, out = run_rec(a, p, args, os.path.join(tmp, "o.rec.json"))
                x = run_plain(a.python, p, args)
            plain.append(x)
            rec.append(y)
            ratios.append(y / x)
        m, lo, hi = spread(ratios)
        rows.append((name, statistics.median(plain), statistics.median(rec), m, lo, hi))
        print(f"overhead {name}: {m:.3f} ({lo:.3f}..{hi:.3f})", flush=True)
    lines = ["| program | unrecorded (median) | recorded (median) | ratio, median of pairs (range) |",
             "|---|---|---|---|"]
    for name, x, y, m, lo, hi in rows:
        lines.append(f"| {name} | {x * 1e3:.0f} ms | {y * 1e3:.0f} ms | {m:.3f} "
                     f"({lo:.3f} to {hi:.3f}) |")
    return lines


def self_check(out):
    for line in out.splitlines():
        if line.startswith("gilsim-self-check "):
            return json.loads(line.split(" ", 1)[1])
    raise RuntimeError("no self-check line")


def accuracy(a, tmp):
    ex = lambda n: os.path.join(a.examples, n)  # noqa: E731
    res = {k: [] for k in ("switch", "io", "io2", "sha", "sort")}
    out = os.path.join(tmp, "a.rec.json")
    for _ in range(a.reps):
        r = subprocess.run([a.gilsim, "record", "-q", "-o", out, "--python", a.python,
                            ex("two_cpu.py"), "1"], capture_output=True, text=True)
        me, j = self_check(r.stdout), json.load(open(out))
        holds = []
        for t in j["threads"]:
            if t["name"] in ("cpu1", "cpu2"):
                holds += [(e[0], t["name"]) for e in t["events"] if e[1] == "hold"]
        seq = [n for _, n in sorted(holds)]
        sw = sum(1 for x, y in zip(seq, seq[1:]) if x != y)
        res["switch"].append(sw / me["cell_switches"] - 1)
        for key, script, args in (("io", "convoy.py", ["40", "1"]),
                                  ("io2", "convoy.py", ["40", "1", "--socket"])):
            r = subprocess.run([a.gilsim, "record", "-q", "-o", out, "--python", a.python,
                                ex(script), *args], capture_output=True, text=True)
            me, j = self_check(r.stdout), json.load(open(out))
            io = next(t for t in j["threads"] if t["name"] == "io")
            if key == "io":
                d = [e[2] - e[0] for e in io["events"] if e[1] == "call" and e[3] == "time.sleep"]
            else:  # the round trip: from the send's start to the recv's end
                ev = [e for e in io["events"] if e[1] == "call"]
                d = [r_[2] - s_[0] for s_, r_ in zip(ev, ev[1:])
                     if s_[3].endswith("sendall") and r_[3].endswith("recv")]
            res[key].append(statistics.median(d) / me["io_op_median_ns"] - 1)
        r = subprocess.run([a.gilsim, "record", "-q", "-o", out, "--python", a.python,
                            ex("hash_pool.py"), "4", "48", "1024"], capture_output=True, text=True)
        me, j = self_check(r.stdout), json.load(open(out))
        d = [e[2] - e[0] for t in j["threads"] if t["name"].startswith("hasher")
             for e in t["events"] if e[1] == "call" and e[3].endswith("sha256")]
        res["sha"].append(statistics.median(d) / me["c_call_median_ns"] - 1)
        r = subprocess.run([a.gilsim, "record", "-q", "-o", out, "--python", a.python,
                            "--calls", "all", ex("c_call_ticker.py"), "0.5"],
                           capture_output=True, text=True)
        me, j = self_check(r.stdout), json.load(open(out))
        d = [e[2] - e[0] for e in j["threads"][0]["events"]
             if e[1] == "call" and e[3] == "list.sort"]
        res["sort"].append(d[0] / me["c_call_median_ns"] - 1)
        print("accuracy rep done", flush=True)
    names = {"switch": ("two_cpu.py", "GIL switches between the two threads",
                        "switches counted by the shared cell"),
             "io": ("convoy.py 40 1", "time per time.sleep(1 ms) call, median",
                    "perf_counter around the call, median"),
             "io2": ("convoy.py 40 1 --socket", "socketpair round trip (sendall start to recv end), median",
                     "perf_counter around the round trip, median"),
             "sha": ("hash_pool.py 4 48 1024", "sha256 of 1 MiB, median call",
                     "perf_counter around the call, median"),
             "sort": ("c_call_ticker.py 0.5 (--calls all)", "list.sort of 0.5 M floats",
                      "perf_counter around it")}
    lines = ["| program | recorded | measured by the program | difference, median (range) |",
             "|---|---|---|---|"]
    for k, (prog, what, ref) in names.items():
        m, lo, hi = spread(res[k])
        lines.append(f"| `{prog}` | {what} | {ref} | {m * 100:+.1f}% ({lo * 100:+.1f}% to "
                     f"{hi * 100:+.1f}%) |")
        print(f"accuracy {k}: {m * 100:+.1f}% ({lo * 100:+.1f}..{hi * 100:+.1f})", flush=True)
    return lines


def big(a, tmp):
    p = os.path.join(tmp, "big.py")
    with open(p, "w") as f:
        f.write(BIG)
    out = os.path.join(tmp, "big.rec.json")
    r = subprocess.run([a.gilsim, "record", "-q", "-o", out, "--python", a.python, p],
                       capture_output=True, text=True, timeout=600)
    if r.returncode:
        raise RuntimeError(r.stderr)
    j = json.load(open(out))
    size = os.path.getsize(out)
    t = time.perf_counter()
    subprocess.run([a.gilsim, "run", out, "--quiet"], check=True)
    load = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run([a.gilsim, "run", out, "--summary", os.path.join(tmp, "s.json"), "--csv",
                    os.path.join(tmp, "c.csv"), "--svg", os.path.join(tmp, "v.svg"), "--trace",
                    os.path.join(tmp, "t.json"), "--quiet"], check=True)
    export = time.perf_counter() - t
    lines = [f"| 16 threads, 10 s: {len(j['threads'])} threads, {j['events_recorded']} events, "
             f"{size / 2**20:.1f} MiB | {load:.2f} s | {export:.2f} s |"]
    if a.view:
        env = dict(os.environ, SDL_VIDEODRIVER="dummy")
        png = os.path.join(tmp, "v.png")
        t = time.perf_counter()
        subprocess.run([a.view, "--render", png], check=True, env=env)
        base = time.perf_counter() - t
        t = time.perf_counter()
        subprocess.run([a.view, out, "--render", png], check=True, env=env)
        view = time.perf_counter() - t
        lines[0] += f" {view:.2f} s ({base:.2f} s for the built-in scenario) |"
    print("big:", lines[0], flush=True)
    return ["| recording | load and metrics (`gilsim run REC --quiet`) | all four exports | "
            "gilsim-view: start, load, render one frame to PNG |", "|---|---|---|---|"] + lines


def replace_section(path, marker, lines, head):
    text = open(path).read()
    begin, end = f"<!-- {marker}: begin -->", f"<!-- {marker}: end -->"
    block = begin + "\n" + head + "\n\n" + "\n".join(lines) + "\n" + end
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    open(path, "w").write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gilsim", required=True)
    ap.add_argument("--view")
    ap.add_argument("--examples", required=True)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--write-docs")
    ap.add_argument("--parts", default="overhead,accuracy,big")
    a = ap.parse_args()
    if not os.access(a.python, os.X_OK):
        print(f"{a.python} not found: skipped")
        return 77
    if a.quick:
        a.reps = 3
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="gilsim-bench-record-") as tmp:
        parts = a.parts.split(",")
        ov = overhead(a, tmp) if "overhead" in parts else []
        acc = accuracy(a, tmp) if "accuracy" in parts else []
        bg = big(a, tmp) if "big" in parts and not a.quick else []
    load = (load + os.getloadavg()[0]) / 2
    ver = subprocess.run([a.python, "-V"], capture_output=True, text=True).stdout.strip()
    note = (f"Measured by `bench/bench_record.py` with {ver} ({a.python}), {a.reps} runs each, "
            f"on the 2-vCPU project machine shared with other work (load average about "
            f"{load:.1f} while it ran).")
    print("\n".join(ov + [""] + acc + [""] + bg))
    if a.write_docs:
        replace_section(os.path.join(a.write_docs, "docs/performance.md"), "bench_record",
                        ov + [""] + bg, note)
        replace_section(os.path.join(a.write_docs, "docs/validation.md"), "recordings", acc, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
