#!/usr/bin/env python3
"""switch_kinds.py's self-test (`switch_kinds.py --self-test` runs it): a
main thread and two workers, one recording and one model run made by hand
(fixture.py); each GIL hand-over counted by the kind of release before it
(C call, wait, unnamed, forced, exit) and by who took it, as the tool's
docstring says; the main thread's wake-ups to its next hold."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import ModelRun, Recording, exit_status, same, workdir  # noqa: E402
import switch_kinds as sk  # noqa: E402


def recording():
    """(recording, worker A's thread, to add events to)."""
    rec = Recording(duration_ns=100000)
    # main: holds, waits on lock 7 (A takes the GIL, it had asked at 5 us: a
    # waiter), holds again at 40 us after asking at 39 us
    rec.thread("MainThread").hold(0).release(10000, "call").lock_wait(10010, 38000, 7) \
        .turn(39000, 40000, 45000, "exit")
    # A: asked at 5 us; a hashlib call releases at 20 us (B, asking at 25 us,
    # after it, holds); A asks at 29 us and holds at 30 us after B's C call;
    # an unnamed release at 32 us and A holds again at 33 us (a re-take);
    # forced at 36 us (B asked at 35.5 us: a waiter)
    a = rec.thread("A").turn(5000, 10500, 20000, "call").turn(29000, 30000, 32000, "unnamed") \
        .turn(32500, 33000, 36000, "forced") \
        .call(19000, 29000, "hashlib.sha256", "c_nogil") \
        .turn(50000, 51000, 52000, "exit")
    rec.thread("B").turn(25000, 25000, 27000, "call") \
        .call(26500, 35000, "hashlib.sha256", "c_nogil") \
        .turn(35500, 36000, 37000, "call").wait(36500, 60000, "Queue.get", "queue", 1)
    return rec, a


def model_run():
    run = ModelRun()
    for who, s, e in (("MainThread", 0, 10000), ("A", 10000, 20000), ("A", 21000, 22000),
                      ("B", 30000, 31000), ("MainThread", 40000, 45000)):
        run.gil(who, s, e)
    run.gil("other load", 46000, 47000, process="other load")
    for who, state, s, e, op in (
            ("MainThread", "c_nogil", 10000, 11000, "m: program[1] get q"),
            ("MainThread", "wait_queue", 11000, 38000, "m: program[1] get q"),
            ("MainThread", "wait_gil", 38000, 40000, "m"),
            ("A", "wait_gil", 5000, 10000, "a"), ("A", "c_nogil", 20000, 20500, "a"),
            ("A", "wait_gil", 20500, 21000, "a"), ("A", "ready", 22000, 23000, "a"),
            ("A", "wait_event", 23000, 50000, "a"), ("B", "wait_gil", 28000, 29000, "b"),
            ("B", "ready", 29000, 29500, "b"), ("B", "wait_gil", 29500, 30000, "b"),
            ("B", "c_nogil", 31000, 33000, "b: program[0] c_call 2ms")):
        run.lane(who, state, s, e, op)
    return run.lane("other load", "c_nogil", 0, 90000, process="other load")


def main():
    rec, a = recording()
    with workdir() as d:
        rp, cp = d.put("r.rec.json", rec), d.put("m.csv", model_run())
        r, m = sk.tally(*sk.recording(rp)), sk.tally(*sk.model(cp))
        mh = sk.model(cp)[0]
    z = {"main": 0, "worker": 0, "waiting": 0, "retake": 0}
    # real: main (a lock wait) -> A (a waiter); A (C call) -> B (asked
    # after); B (C call) -> A (asked after); A (unnamed) -> A (a re-take);
    # A (forced) -> B (a waiter); B (Queue.get) -> main (asked after);
    # main (exit) -> A (asked after)
    same("real C call", r["C call"], dict(z, worker=2))
    same("real wait", r["wait"], dict(z, main=1, worker=1, waiting=1))
    same("real unnamed", r["unnamed"], dict(z, retake=1))
    same("real forced", r["forced"], dict(z, worker=1, waiting=1))
    same("real exit", r["exit"], dict(z, worker=1))
    # model: main (wait) -> A (asked at 5 us: a waiter); A (C call) -> A (a
    # re-take); A (a wait, after ready) -> B (asked at 28 us, after A's
    # release at 22 us); B (C call) -> main; main's last hold: no hand-over
    same("model wait", m["wait"], dict(z, worker=2, waiting=1))
    same("model C call", m["C call"], dict(z, main=1, retake=1))
    same("model exit", m["exit"], z)
    same("model holds", len(mh), 5)
    # main's lock wait 10.01-38 us has no lock_post: not counted; one with a
    # post at 37 us (by A) to main's hold at 40 us is 3 us
    same("real wakes none", sk.recording_wakes_of(rec.dict()), [])
    a.lock_post(37000, 7)
    same("real wakes", sk.recording_wakes_of(rec.dict()), [3000])
    with workdir() as d:
        same("model wakes", sk.model_wakes(d.put("m.csv", model_run())), [2000])
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
