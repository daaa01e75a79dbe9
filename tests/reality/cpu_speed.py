#!/usr/bin/env python3
"""cpu_speed.py - the same Python work's length on each CPU of a recording
(replay point 44).

A fit writes each thread's Python as the recording timed it, wherever it
ran. If one CPU ran the program's Python slower than the other (the host
giving that vCPU less: another guest on its physical core), the fitted
ops carry the mean of both, and a prediction confined to the faster CPU
(replay.py's one-core setting is CPU 0) comes out long by that share.
mixed_pool shows it: each task is the same 15,000-turn loop holding the
GIL between two sha256 calls.

This reads every GIL hold a thread ended by its own release before a C
call (`release "call"`), that began and ended on one CPU and lasted at
least --min: the Python between two C calls, as a pool worker's task is.
Per CPU: how many, and their median length; the slowest CPU's median over
the fastest's; the kernel's CPU time of the program's threads (schedstat,
`os_cpu_ns`) beside the recording's length. The holds must be the same
work for the medians to compare (--threads picks the threads: a regular
expression their names match, e.g. worker for mixed_pool's pool).

    python3 tests/reality/cpu_speed.py [--threads RE] [--min MS] REC...
    python3 tests/reality/cpu_speed.py --self-test   (ctest)
Exit: 0 done, 1 self-test failed, 2 bad input.
"""
import argparse
import os
import re
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # tests/checks.py
sys.dont_write_bytecode = True
from recording import event_cpu, has_cpus, load_recording  # noqa: E402


def holds_by_cpu(rec, threads=".", min_ns=500000):
    """{cpu: [hold lengths in ns]} of the holds described above, for the
    threads whose names match the regular expression threads."""
    pat = re.compile(threads)
    out = {}
    for t in rec.get("threads", []):
        if not pat.search(str(t.get("name", ""))):
            continue
        hold = None
        for e in sorted(t.get("events", []), key=lambda e: e[0]):
            if e[1] == "hold":
                hold = e
            elif e[1] == "release" and hold is not None:
                c0, c1 = event_cpu(hold), event_cpu(e)
                if (e[2] == "call" and c0 is not None and c0 == c1
                        and e[0] - hold[0] >= min_ns):
                    out.setdefault(c0, []).append(e[0] - hold[0])
                hold = None
    return out


def report(path, rec, threads=".", min_ns=500000):
    """One line on the recording at path."""
    name = os.path.basename(path)
    if not has_cpus(rec):
        return "%s: no CPUs in this recording (made before gilsim record wrote them)" % name
    by = holds_by_cpu(rec, threads, min_ns)
    if not by:
        return "%s: no hold of %.2f ms or more ended before a C call on one CPU" % (
            name, min_ns / 1e6)
    med = {c: statistics.median(v) for c, v in by.items()}
    parts = ["CPU %d %d holds median %.3f ms" % (c, len(by[c]), med[c] / 1e6) for c in sorted(by)]
    line = "%s: %s" % (name, ", ".join(parts))
    if len(med) > 1:
        line += "; slowest/fastest %.2f" % (max(med.values()) / min(med.values()))
    cpu = sum(t.get("os_cpu_ns") or 0 for t in rec.get("threads", []))
    if cpu and rec.get("duration_ns"):
        line += "; kernel CPU %.1f ms in %.1f ms" % (cpu / 1e6, rec["duration_ns"] / 1e6)
    return line


def self_test():
    """cpu_speed_test.py, on recordings made by hand."""
    import cpu_speed_test
    return cpu_speed_test.main()


def main_run(paths, threads=".", min_ms=0.5):
    status = 0
    for p in paths:
        try:
            rec = load_recording(p)
        except (OSError, ValueError) as e:
            print("cpu_speed: %s" % e, file=sys.stderr)
            status = 2
            continue
        print(report(p, rec, threads, int(min_ms * 1e6)))
    return status


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("recordings", nargs="*", metavar="REC")
    ap.add_argument("--threads", default=".", metavar="RE",
                    help="the threads whose holds count (a regular expression; default all)")
    ap.add_argument("--min", type=float, default=0.5, metavar="MS",
                    help="the shortest hold that counts, in ms (default 0.5)")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.recordings:
        ap.error("give one or more recordings (or --self-test)")
    try:
        re.compile(a.threads)
    except re.error as e:
        ap.error("--threads %r: not a regular expression (%s)" % (a.threads, e))
    return main_run(a.recordings, a.threads, a.min)


if __name__ == "__main__":
    sys.exit(main())
