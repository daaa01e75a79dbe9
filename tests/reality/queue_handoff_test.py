#!/usr/bin/env python3
"""queue_handoff.py's self-test (`queue_handoff.py --self-test` runs it):
recordings and model runs of a producer and consumers, made by hand
(fixture.py), and the figures the tool's docstring promises: the queue
phase, the free GIL gaps, the waits; the vain re-checks and the releases
with a thread asking; where the woken consumers ran."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import ModelRun, Recording, exit_status, same, workdir  # noqa: E402
import queue_handoff as qh  # noqa: E402


def phase_recording():
    rec = Recording(duration_ns=100000)
    rec.thread("MainThread").hold(0).release(10000, "call").turn(95000, 95000, 100000, "exit")
    # producer: holds 10-20 us, blocks (lock_wait 20-50 us), asks 0.5 us
    # after its wait ends and holds 2 us later; a GIL wait not after a lock
    # wait (ask 70 us, hold 71 us) is not counted as one.
    rec.thread("producer").hold(10000).release(20000, "call").lock_wait(20100, 50000, 1) \
        .turn(50500, 52500, 60000, "call").turn(70000, 71000, 80000, "call")
    # consumer: its lock wait ends at 21 us, holds at 21.1 us (1 us gap
    # after the producer's release), runs to 52 us: the producer's hold at
    # 52.5 us leaves a 0.5 us gap; then 60 -> 71 is an 11 us gap.
    rec.thread("consumer").lock_wait(5000, 21000, 2).turn(21000, 21100, 52000, "call")
    return rec


def phase_run():
    run = ModelRun()
    for who, s, e in (("MainThread", 0, 10000), ("producer", 10000, 20000),
                      ("consumer", 42000, 60000), ("producer", 60000, 61000),
                      ("MainThread", 70000, 75000)):
        run.gil(who, s, e)
    return run.lane("consumer", "wait_queue", 5000, 20000).lane("consumer", "ready", 20000, 22000) \
        .lane("consumer", "wait_gil", 22000, 42000).lane("producer", "wait_gil", 55000, 60000) \
        .lane("other load", "c_nogil", 0, 90000, process="other load")


def turns_recording():
    """A get's span holds a vain re-check (hold 30-31 us, waits again, holds
    40 us) while the producer asks from 30.5 us."""
    rec = Recording(duration_ns=60000)
    rec.thread("MainThread").hold(0).release(1000, "call")
    rec.thread("consumer").turn(2000, 2000, 3000, "call").turn(30000, 30000, 31000, "call") \
        .ask(39000).hold(40000).raw(2500, "wait", 41000, "Queue.get").release(45000, "call")
    rec.thread("producer").turn(1000, 1000, 29000, "call").turn(30500, 31500, 38000, "call")
    return rec


def turns_run():
    get, put = "c: program[0] get q", "p: program[0] put q"
    return ModelRun().gil("consumer", 30000, 31000).gil("producer", 31500, 38000) \
        .lane("consumer", "wait_queue", 3000, 29000, get) \
        .lane("consumer", "wait_gil", 29000, 30000, get) \
        .lane("consumer", "python", 30000, 31000, get) \
        .lane("consumer", "c_nogil", 31000, 31500, get) \
        .lane("consumer", "wait_queue", 31500, 38000, get) \
        .lane("producer", "wait_gil", 30500, 31000, put) \
        .lane("producer", "switch", 31000, 31200, put) \
        .lane("producer", "wait_gil", 31200, 31500, put)


def woke_recording(cpus=False):
    """The producer posts consumer 1's lock at 10 us (it runs at 12 us,
    before the producer's release at 20 us) and consumer 2's at 15 us (it
    runs at 21 us, after it); a post nobody waited on is left out. cpus:
    the producer posts from CPU 0; c1 ran on CPU 1, c2 on CPU 0."""
    rec = Recording(duration_ns=30000)
    here, there = (0, 1) if cpus else (None, None)
    rec.thread("producer").hold(0).lock_post(10000, 7, here).lock_post(15000, 8, here) \
        .lock_post(16000, 9).release(20000, "call")
    rec.thread("c1").lock_wait(1000, 12000, 7, there)
    rec.thread("c2").lock_wait(1000, 21000, 8, here)
    return rec


def woke_run():
    return ModelRun().gil("producer", 0, 20000) \
        .lane("c1", "wait_queue", 1000, 10000, "c1: get q") \
        .lane("c1", "ready", 10000, 11000, "c1: get q") \
        .lane("c1", "wait_gil", 11000, 20000, "c1: get q") \
        .lane("c2", "wait_queue", 1000, 15000, "c2: get q") \
        .lane("c2", "ready", 15000, 20500, "c2: get q") \
        .lane("c2", "python", 20500, 22000, "c2: get q")


def main():
    with workdir() as d:
        r = qh.figures(*qh.recording(d.put("r.rec.json", phase_recording())))
        m = qh.figures(*qh.model(d.put("m.csv", phase_run())))
    same("real phase", (r["before"], r["phase"], r["after"]), (10000, 70000, 20000))
    same("real held", r["held"], 10000 + 30900 + 7500 + 9000)
    same("real free", r["free"], 1100 + 500 + 11000)
    same("real bins", r["bins"], [(2, 1600), (1, 11000), (0, 0), (0, 0)])
    same("real producer", r["threads"]["producer"], ([29900], [2000]))
    same("real consumer", r["threads"]["consumer"], ([16000], [100]))
    same("model phase", (m["before"], m["phase"], m["after"]), (10000, 51000, 14000))
    same("model held", m["held"], 10000 + 18000 + 1000)
    same("model free", m["free"], 22000)
    same("model bins", m["bins"], [(0, 0), (0, 0), (1, 22000), (0, 0)])
    same("model consumer", m["threads"]["consumer"], ([15000], [20000]))
    same("model producer", m["threads"]["producer"], ([], []))
    same("model threads", sorted(m["threads"]), ["consumer", "producer"])
    with workdir() as d:
        rt = qh.recording_turns(d.put("t.rec.json", turns_recording()))
        mt = qh.model_turns(d.put("t.csv", turns_run()))
    same("real vain", rt[0], {"MainThread": 0, "consumer": 1, "producer": 0})
    # releases: consumer 3 us (the producer holds), 31 us (the producer
    # asks), 45 us; producer 29 us (the consumer asked at 2 us but held
    # then: none) and 38 us (the consumer asks at 39 us: none)
    same("real asking", rt[1], {0: 4, 1: 1})
    same("model vain", mt[0], {"consumer": 1, "producer": 0})
    same("model asking", mt[1], {0: 1, 1: 1})
    with workdir() as d:
        rp, cp = d.put("w.rec.json", woke_recording()), d.put("w.csv", woke_run())
        same("real woken", qh.recording_woken(rp), [(10000, 12000, 20000), (15000, 21000, 20000)])
        same("real woken, no CPUs", qh.recording_woken_cpus(rp), None)
        # with CPUs: c1 ran at 12 us on CPU 1 (2 us after the post, before
        # the release: the idle CPU at a 2 us wake-up), c2 at 21 us on CPU 0
        # (after the release)
        rp = d.put("w.rec.json", woke_recording(cpus=True))
        same("real woken CPUs", qh.recording_woken_cpus(rp, wake_ns=2000),
             [("c1", False, "away"), ("c2", True, "beside")])
        same("real woken CPUs, ambiguous", qh.recording_woken_cpus(rp, wake_ns=20000),
             [("c1", False, None), ("c2", True, None)])
        same("model woken", sorted(qh.model_woken(cp)),
             [(10000, 11000, 20000), (15000, 20500, 20000)])
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
