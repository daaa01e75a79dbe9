"""ctest forced_drops_model: forced_drops.py reads a model run's CSV the way
the summary counts it. Three GIL-releasing hashers beside one spinner (the
"Blocking C calls" experiment, small): the forced drops it finds on the GIL
lane are the spinner's forced switches in the summary, and the spinner's
time without a core is the summary's core_wait_ns less what it waited before
the hashers' span began (the start-up, under 2 ms; after the span the
spinner is alone). A holder name that no
thread has is refused with the names that would do. On the real recording
kept in tests/data/reality (blocking_c.py, one spinner), the forced drops it
finds are the spinner's releases the recording marks forced, and it reports
the spinner's kernel run delay from the file."""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def scenario():
    return {
        "name": "forced_drops test", "seed": 3,
        "machine": {"cores": 2, "policy": "eevdf", "tick": "4ms"},
        "python": {"gil": "cpython3", "switch_interval": "5ms"},
        "threads": [
            {"name": "hasher", "count": 3, "program": [{"repeat": 40, "do": [
                {"c_call": "620us", "releases_gil": True}, {"cpu": "2us"}]}]},
            {"name": "spinner", "program": [{"cpu": "2s"}]}]}


def tool(*args):
    return subprocess.run([sys.executable, os.path.join(HERE, "forced_drops.py")] + list(args),
                          capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gilsim", required=True)
    a = ap.parse_args()
    fails = []
    with tempfile.TemporaryDirectory() as d:
        sc, csv, summ = (os.path.join(d, n) for n in ("sc.json", "run.csv", "sum.json"))
        with open(sc, "w") as f:
            json.dump(scenario(), f)
        subprocess.run([a.gilsim, "run", sc, "--csv", csv, "--summary", summ, "--quiet"],
                       check=True)
        with open(summ) as f:
            spinner = [t for t in json.load(f)["threads"] if t["name"].startswith("spinner")][0]
        r = tool(csv, "--holder", "spinner")
        if r.returncode != 0:
            fails.append("exit %d: %s" % (r.returncode, r.stderr))
        else:
            m = re.search(r"forced drops followed by another thread's hold: (\d+)", r.stdout)
            if not m or int(m.group(1)) != spinner["forced_switches"]:
                fails.append("forced drops %s, the summary's forced_switches %d"
                             % (m and m.group(1), spinner["forced_switches"]))
            m = re.search(r"spinner\S*\s+([\d.]+) ms", r.stdout)
            want = spinner["core_wait_ns"] / 1e6
            if not m or not (want - 2.0 <= float(m.group(1)) <= want + 0.05):
                fails.append("spinner without a core %s ms, the summary's core_wait_ns %.1f ms"
                             % (m and m.group(1), want))
            if "holds in between" not in r.stdout:
                fails.append("no line for the holds between the drops:\n" + r.stdout)
        r = tool(csv, "--holder", "nobody")
        if r.returncode != 2 or "hasher-1" not in r.stderr:
            fails.append("an unknown holder: exit %d, %r" % (r.returncode, r.stderr))
        r = tool(sc, "--holder", "spinner")
        if r.returncode != 2 or "not a gilsim recording" not in r.stderr:
            fails.append("a scenario given as a recording: exit %d, %r" % (r.returncode, r.stderr))
    rec = os.path.join(HERE, "..", "data", "reality", "blocking_c_1spinner.rec.json")
    with open(rec) as f:
        spin = [t for t in json.load(f)["threads"] if t["name"] == "spinner0"][0]
    forced = sum(1 for e in spin["events"] if e[1] == "release" and e[2] == "forced")
    r = tool(rec, "--holder", "spinner")
    m = re.search(r"forced drops followed by another thread's hold: (\d+)", r.stdout)
    if r.returncode != 0 or not m or int(m.group(1)) != forced:
        fails.append("the recording: exit %d, forced drops %s, its forced releases %d"
                     % (r.returncode, m and m.group(1), forced))
    m = re.search(r"spinner0\s+([\d.]+) ms", r.stdout)
    if not m or abs(float(m.group(1)) - spin["os_run_delay_ns"] / 1e6) > 0.05:
        fails.append("the recording's spinner run delay %s, the file's %d ns"
                     % (m and m.group(1), spin["os_run_delay_ns"]))
    for f in fails:
        print("FAIL:", f)
    print("forced_drops_test: %s" % ("FAIL" if fails else "ok"))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
