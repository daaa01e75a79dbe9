"""ctest seed_modes_model: seed_modes.py tells a round robin of forced GIL
switches from a convoy of voluntary hand-offs, and computes its figure as
the run's summary gives it. Two CPU-bound threads at a 1 ms interval switch
only when forced (every seed "forced"); two threads passing the turn
through two Locks switch only by blocking (every seed "hand-off"), and the
tool's rate for seed 2 is the one computed here from that seed's own
summary. Bad arguments get a usage error (exit 2) naming what was wrong."""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "seed_modes.py")
MACHINE = {"cores": 2, "policy": "eevdf", "tick": "4ms", "run_queues": "per_core",
           "context_switch": "800ns", "wakeup_latency": "25us", "futex": "350ns"}


def cpu_pair():
    return {"name": "two CPU-bound", "seed": 1, "machine": MACHINE,
            "python": {"gil": "cpython3", "switch_interval": "1ms"},
            "threads": [{"name": "cpu", "count": 2, "program": [{"cpu": "20ms"}]}]}


def pingpong(n):
    return {"name": "lock ping-pong", "seed": 1, "machine": MACHINE,
            "python": {"gil": "cpython3", "switch_interval": "5ms"},
            "threads": [
                {"name": "setup", "program": [{"acquire": "a"}, {"acquire": "b"},
                                              {"set": "gate"}]},
                {"name": "ping", "start_at": "100us", "program": [
                    {"wait": "gate"},
                    {"repeat": n, "do": [{"acquire": "a"}, {"cpu": "1us"}, {"release": "b"}]}]},
                {"name": "pong", "start_at": "100us", "program": [
                    {"wait": "gate"},
                    {"repeat": n, "do": [{"cpu": "1us"}, {"release": "a"}, {"acquire": "b"}]}]}],
            "locks": ["a", "b"], "events": ["gate"]}


def tool(*args):
    return subprocess.run([sys.executable, TOOL] + list(args), capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gilsim", required=True)
    gilsim = ap.parse_args().gilsim
    fails = []
    with tempfile.TemporaryDirectory(prefix="seed-modes-test-") as tmp:
        a, b = os.path.join(tmp, "cpu.json"), os.path.join(tmp, "pp.json")
        json.dump(cpu_pair(), open(a, "w"))
        json.dump(pingpong(200), open(b, "w"))
        r = tool(a, "--gilsim", gilsim, "--seeds", "1-3", "--thread", "cpu-1:1:0ns")
        if r.returncode or "forced   3 of 3 seeds" not in r.stdout:
            fails.append("CPU-bound pair not all 'forced':\n" + r.stdout + r.stderr)
        r = tool(b, "--gilsim", gilsim, "--seeds", "1-3", "--thread", "ping:400:100us")
        if r.returncode or "hand-off 3 of 3 seeds" not in r.stdout:
            fails.append("ping-pong not all 'hand-off':\n" + r.stdout + r.stderr)
        m = re.search(r"seed +2 +([0-9]+)/s", r.stdout)
        out = os.path.join(tmp, "s.json")
        subprocess.run([gilsim, "run", b, "--seed", "2", "--summary", out, "--quiet"],
                       check=True)
        ping = [t for t in json.load(open(out))["threads"] if t["name"] == "ping"][0]
        want = 400 / ((ping["finished_ns"] - 100000) / 1e9)
        if not m or abs(int(m.group(1)) - want) > 1:
            fails.append("seed 2's rate: tool %s, summary %.0f/s" % (m and m.group(1), want))
        for bad, says in ((["--thread", "ping:x:1us"], "NAME:N:START"),
                          (["--thread", "ping:4:1q"], "not a duration"),
                          (["--items", "4", "--seeds", "3-1"], "is empty"),
                          (["--items", "0"], "positive")):
            r = tool(b, "--gilsim", gilsim, *bad)
            if r.returncode != 2 or says not in r.stderr:
                fails.append("%s: exit %d, %r" % (bad, r.returncode, r.stderr.strip()))
    for f in fails:
        print("FAIL:", f)
    print("seed_modes_test: %s" % ("ok" if not fails else "%d failed" % len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
