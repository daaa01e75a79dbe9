"""Reading a `gilsim record` file for the analysis tools of tests/reality
(forced_drops, io_cycle, dropper_sched, request_core, dropper_order,
queue_handoff, lock_handoff).

load_recording(path) returns the recording's JSON object, or raises
ValueError naming the file and what is wrong: not JSON, or JSON that is not
a gilsim recording. Each tool catches ValueError and prints it.
pct(xs, q) is the q-quantile the tools print (nan without values)."""

import json


def load_recording(path):
    with open(path) as f:
        try:
            rec = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError("%s: not a gilsim recording (not JSON: %s)" % (path, e))
    if not isinstance(rec, dict) or rec.get("format") != "gilsim-recording":
        fmt = rec.get("format") if isinstance(rec, dict) else type(rec).__name__
        raise ValueError("%s: not a gilsim recording (format %r)" % (path, fmt))
    return rec


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")
