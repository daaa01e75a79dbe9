"""ctest io_cycle_model: io_cycle.py reads the I/O thread's cycle from a
model run's trace and from the kept real recording. On a model run of the
convoy-many scenario (2 cores, an I/O thread doing 200 us sleeps beside 4
CPU-bound threads at 1 ms), every cycle's steps add up to the op and its
sleep is at least the 200 us asked for; the same run with a process of
other load beside it (one daemon thread in C without a GIL, as a fit's
"other load") takes longer per op and waits longer for the GIL, the
direction tests/reality/io_cycle.py measured on the real machine under
load (docs/model.md, "Left out"). On tests/data/reality/
convoy_many_4cpu_1ms.rec.json it finds the recording's 200 I/O ops and the
~1 ms from the GIL's release to the next request that docs/model.md
quotes. A file that is neither is refused with a clear message."""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import io_cycle  # noqa: E402


def scenario(load):
    s = {"name": "io_cycle test", "seed": 2,
         # reality.py's machine for this row (the quiet calibration of
         # 2026-12-07): the default machine's wake-ups are not this VM's.
         "machine": {"cores": 2, "policy": "eevdf", "tick": "4ms", "timeslice": "4ms",
                     "context_switch": "855ns", "wakeup_latency": "25us",
                     "timer_slack": "50us", "timer_jitter": "12300ns", "futex": "374ns",
                     "requester_first": 0.64, "syscall": "120ns", "wake_ipi": "11300ns",
                     "wakeup_jitter": "11400ns"},
         "python": {"gil": "cpython3", "switch_interval": "1ms"},
         "threads": [
             {"name": "io", "program": [{"repeat": 120, "do": [
                 {"sleep": "200us"}, {"cpu": "2us"}]}]},
             {"name": "cpu", "count": 4, "program": [{"cpu": "2s"}]}]}
    if load:
        s["processes"] = [{"name": "other load", "python": {"gil": "none"},
                           "threads": [{"name": "hog", "daemon": True, "program": [
                               {"repeat": 100000, "do": [{"cpu": "10ms"}]}]}]}]
    return s


def model(gilsim, tmp, load):
    sc, tr = os.path.join(tmp, "s%d.json" % load), os.path.join(tmp, "t%d.json" % load)
    json.dump(scenario(load), open(sc, "w"))
    subprocess.run([gilsim, "run", sc, "--trace", tr, "--quiet"], check=True)
    return io_cycle.cycles_of_trace(tr, "io")


def med(xs):
    return io_cycle.pct(xs, .5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gilsim", required=True)
    a = ap.parse_args()
    fails = []

    def check(ok, what):
        print("%s %s" % ("ok  " if ok else "FAIL", what))
        if not ok:
            fails.append(what)

    with tempfile.TemporaryDirectory() as tmp:
        quiet, loaded = model(a.gilsim, tmp, 0), model(a.gilsim, tmp, 1)
        check(len(quiet) >= 100, "model: %d I/O cycles of 120 ops" % len(quiet))
        check(all(c["hold"] <= c["release"] <= c["waking"] <= c["oncore"] <= c["ask"]
                  <= c["taken"] for c in quiet + loaded), "model: steps in order")
        check(all(c["waking"] - c["release"] >= 200000 for c in quiet + loaded),
              "model: every sleep at least 200 us")
        op = lambda cs: med([c["taken"] - c["hold"] for c in cs])
        gil = lambda cs: med([c["taken"] - c["ask"] for c in cs])
        check(op(loaded) > 1.5 * op(quiet),
              "model: other load lengthens the op (%.2f -> %.2f ms)"
              % (op(quiet) / 1e6, op(loaded) / 1e6))
        check(gil(loaded) > gil(quiet), "model: and the GIL wait (%.2f -> %.2f ms)"
              % (gil(quiet) / 1e6, gil(loaded) / 1e6))
        rec = os.path.join(HERE, "..", "data", "reality", "convoy_many_4cpu_1ms.rec.json")
        real = io_cycle.cycles_of_recording(rec, "io")
        check(len(real) == 200, "recording: %d I/O cycles of 200 ops" % len(real))
        ra = med([c["ask"] - c["release"] for c in real])
        check(1.0e6 < ra < 1.1e6, "recording: release -> request median %.0f us" % (ra / 1e3))
        bad = os.path.join(tmp, "bad.json")
        json.dump({"format": "something else"}, open(bad, "w"))
        r = subprocess.run([sys.executable, os.path.join(HERE, "io_cycle.py"), bad],
                           capture_output=True, text=True)
        check(r.returncode == 2 and "not a gilsim recording" in r.stderr,
              "a file that is neither is refused: %s" % r.stderr.strip())
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
