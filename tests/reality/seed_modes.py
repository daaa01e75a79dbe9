#!/usr/bin/env python3
"""One scenario over many seeds: is the model's figure one value or does it
fall into modes, and which setting moves it from one mode to the other.

reality.py predicts each row from one model run, and the real side is the
median of a few runs. Where the model (or CPython) has two ways to run the
same program, a round robin of forced GIL switches or a convoy of voluntary
hand-offs, one seed lands in one of them and the row moves by 2x with it.
This tool runs a scenario (one that reality.py --keep wrote, say) for each
seed, with optional --set overrides, and prints per seed: the figure, the
GIL switches and the share of them that were forced; then, per mode (most
switches forced: "forced"; most voluntary: "hand-off"), how many seeds and
their median figure.

    seed_modes.py SC.json --items 20000 [--seeds 1-20] [--set K=V ...]
    seed_modes.py SC.json --thread ping:4000:100us   # 4000 ops of ping, after 100 us

--items N: N / the run's end (items per second: the queue rows).
--thread NAME:N:START: N / (NAME's finish - START) (the ping-pong rows:
ping's 2 x rounds hand-offs after the set-up time).
The figures issue 15's queue and ping-pong rows quote (docs/model.md,
"queue.Queue", and tests/reality/explain.py) came from this tool.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

UNITS = {"ns": 1, "us": 1000, "ms": 1000000, "s": 1000000000}


def dur_ns(text):
    for u in ("ns", "us", "ms", "s"):
        if text.endswith(u):
            try:
                return round(float(text[:-len(u)]) * UNITS[u])
            except ValueError:
                break
    raise ValueError("%r is not a duration (e.g. 100us, 2ms)" % text)


def seeds(text):
    """'5' -> [5]; '1-20' -> 1..20; '1,4,9' -> those."""
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        try:
            lo, hi = int(a), int(b or a)
        except ValueError:
            raise ValueError("--seeds %r: expected N, N-M or N,M,... (e.g. 1-20)" % text)
        if hi < lo:
            raise ValueError("--seeds %r: the range %s is empty" % (text, part))
        out.extend(range(lo, hi + 1))
    return out


def figure_of(summary, args):
    if args.items:
        return args.items / (summary["end_ns"] / 1e9)
    name, n, start = args.thread
    for t in summary["threads"]:
        if t["name"] == name:
            if t.get("finished_ns") is None:
                return None  # did not finish: no rate
            return n / ((t["finished_ns"] - start) / 1e9)
    raise SystemExit("seed_modes: no thread named %r in the run (threads: %s)"
                     % (name, ", ".join(t["name"] for t in summary["threads"])))


def one(args, seed, tmp):
    out = os.path.join(tmp, "s%d.json" % seed)
    cmd = [args.gilsim, "run", args.scenario, "--seed", str(seed), "--summary", out, "--quiet"]
    for kv in args.set:
        cmd += ["--set", kv]
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode not in (0, 2) or not os.path.exists(out):
        raise SystemExit("seed_modes: gilsim run failed (exit %d): %s"
                         % (r.returncode, r.stderr.strip()))
    s = json.load(open(out))
    forced = sum(t.get("forced_switches", 0) for t in s["threads"])
    vol = sum(t.get("voluntary_switches", 0) for t in s["threads"])
    return {"seed": seed, "figure": figure_of(s, args), "forced": forced, "voluntary": vol,
            "mode": "forced" if 2 * forced > forced + vol else "hand-off"}


def table(rows):
    lines = []
    for r in rows:
        f = "-" if r["figure"] is None else "%.0f/s" % r["figure"]
        lines.append("seed %4d  %12s  switches %6d (forced %d)  %s"
                     % (r["seed"], f, r["forced"] + r["voluntary"], r["forced"], r["mode"]))
    for mode in ("forced", "hand-off"):
        fs = [r["figure"] for r in rows if r["mode"] == mode and r["figure"] is not None]
        n = sum(r["mode"] == mode for r in rows)
        lines.append("%-8s %d of %d seeds%s" % (mode, n, len(rows), (", median %.0f/s" %
                     statistics.median(fs)) if fs else ""))
    fs = [r["figure"] for r in rows if r["figure"] is not None]
    if fs:
        lines.append("all      median %.0f/s, %.0f-%.0f/s" % (statistics.median(fs), min(fs),
                                                              max(fs)))
    return "\n".join(lines)


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--gilsim", default="build/sim/cli/gilsim")
    ap.add_argument("--seeds", default="1-10", help="N, N-M or N,M,... (default 1-10)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="passed to every gilsim run (repeatable)")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--items", type=int, help="the figure: N / the run's end")
    g.add_argument("--thread", metavar="NAME:N:START",
                   help="the figure: N / (NAME's finish - START)")
    args = ap.parse_args(argv)
    try:
        args.seed_list = seeds(args.seeds)
        if args.thread:
            parts = args.thread.split(":")
            if len(parts) != 3 or not parts[1].isdigit() or int(parts[1]) <= 0:
                raise ValueError("--thread %r: expected NAME:N:START with N a positive "
                                 "count (e.g. ping:4000:100us)" % args.thread)
            args.thread = (parts[0], int(parts[1]), dur_ns(parts[2]))
    except ValueError as e:
        ap.error(str(e))
    if args.items is not None and args.items <= 0:
        ap.error("--items %d: expected a positive count" % args.items)
    if not os.path.isfile(args.scenario):
        ap.error("%s: no such file" % args.scenario)
    return args


def main(argv):
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="seed-modes-") as tmp:
        rows = [one(args, s, tmp) for s in args.seed_list]
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
