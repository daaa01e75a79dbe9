"""Reading a `gilsim record` file for the analysis tools of tests/reality
(forced_drops, io_cycle, dropper_sched, request_core, dropper_order,
queue_handoff, lock_handoff).

load_recording(path) returns the recording's JSON object, or raises
ValueError naming the file and what is wrong: not JSON, or JSON that is not
a gilsim recording. Each tool catches ValueError and prints it.
pct(xs, q) is the q-quantile the tools print (nan without values).
model_lanes(path) reads the other side, a `gilsim run --csv` file of a
fitted scenario, into its GIL holds and each thread's lane.
event_cpu(e) is the CPU an event ran on (a span's: its end's), or None;
has_cpus(rec) says whether the recording has them at all (recordings made
before `gilsim record` wrote them have none: a tool says so, not guess)."""

import csv
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


# Where each kind writes the CPU it ran on (docs/recording.md): the last
# item, after the fields the kind always has; call, py and kinds this
# reader does not know have none.
CPU_ITEM = {"start": 2, "end": 2, "ask": 2, "hold": 2, "drop_request": 2, "timeout": 2,
            "woken": 2, "futile_wakeup": 2, "switch_wait": 2, "switch_done": 2,
            "release": 3, "signal": 3, "lock_post": 3, "lock_wait": 4, "wait": 6}


def event_cpu(e):
    """The CPU event e (a list from a thread's "events") ran on, or None:
    not written (an older recording, a kind without one, or not known)."""
    if not isinstance(e, list) or len(e) < 2:
        return None
    i = CPU_ITEM.get(e[1])
    if i is None or len(e) <= i:
        return None
    c = e[i]
    return c if isinstance(c, int) and not isinstance(c, bool) and c >= 0 else None


def has_cpus(rec):
    """True if some event of the recording says its CPU."""
    return any(event_cpu(e) is not None for t in rec.get("threads", [])
               for e in t.get("events", []))


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def model_rows(path):
    """The rows of a `gilsim run --csv` file (csv.DictReader's dicts), read
    as they are iterated. A file that is not such a CSV (no lane_kind
    column) raises ValueError naming it."""
    with open(path, newline="") as f:
        rows = csv.DictReader(f)
        if rows.fieldnames is None or "lane_kind" not in rows.fieldnames:
            raise ValueError("%s: not a gilsim run --csv file (no lane_kind column)" % path)
        yield from rows


def model_lanes(path, load=False):
    """A `gilsim run --csv` file as (holds, lanes): holds the GIL lane's
    `gil_held` intervals (start_ns, end_ns, thread), sorted; lanes each
    thread's own intervals (start_ns, end_ns, state, op), sorted by start.
    The fitted other load's threads ("other load ...") are left out of
    lanes unless load is true; their holds, if any, stay in holds. A file
    that is not such a CSV raises ValueError naming it."""
    holds, lanes = [], {}
    for r in model_rows(path):
        s, e = int(r["start_ns"]), int(r["end_ns"])
        if r["lane_kind"] == "gil" and r["state"] == "gil_held":
            holds.append((s, e, r["thread"]))
        elif r["lane_kind"] == "thread" and (load or not r["thread"].startswith("other load")):
            lanes.setdefault(r["thread"], []).append((s, e, r["state"], r["op"]))
    holds.sort()
    for iv in lanes.values():
        iv.sort()
    return holds, lanes
