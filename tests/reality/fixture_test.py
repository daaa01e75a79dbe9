#!/usr/bin/env python3
"""fixture.py's own test: what it writes is what the readers of tests/reality
read (recording.py: the format, each kind's CPU where event_cpu looks for
it; model_lanes: the GIL lane and the thread lanes; tracefs.py: a kernel
trace's times, CPUs, events and fields), so the tools' self-tests built on
it test the tools, not the fixture."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import (KernelTrace, ModelRun, Recording, check,  # noqa: E402
                     exit_status, refused, same, workdir)
from recording import event_cpu, has_cpus, load_recording, model_lanes  # noqa: E402
from tracefs import read_sched_events  # noqa: E402


def main():
    rec = Recording(duration_ns=9000)
    t = rec.thread("t", cpu=1)
    t.start(0).ask(1).hold(2).signal(3, 0).release(4, "call").lock_wait(5, 6, 7) \
        .lock_post(7, 7).wait(8, 9, "Queue.get", "queue", 3).drop_request(10).timeout(11) \
        .woken(12).end(13)
    t.call(14, 15, "time.sleep", "sleep").py(16, 17).hold(18, cpu=0).raw(19, "new_kind", 5)
    rec.thread("old").hold(0).release(1, "exit")
    with workdir() as d:
        r = load_recording(d.put("r.rec.json", rec))
        same("the recording reads back as written", r, rec.dict())
        evs = r["threads"][0]["events"]
        same("each kind's CPU where event_cpu reads it (the thread's, one given, none)",
             [event_cpu(e) for e in evs], [1] * 12 + [None, None, 0, None])
        check(not has_cpus({"threads": [r["threads"][1]]}), "a thread without cpu has none")
        same("a call's items", evs[12], [14, "call", 15, "time.sleep", "sleep", True, 0])
        same("a format left out", Recording(format=None).dict(), {"threads": []})
        late = Recording()
        late.thread("x").hold(5).release(9, "call").call(1, 5, "f", "c").ask(5)
        same("by_time(): by time, ties in the order added",
             [e[:2] for e in late.by_time().dict()["threads"][0]["events"]],
             [[1, "call"], [5, "hold"], [5, "ask"], [9, "release"]])
        run = ModelRun().gil("a", 0, 10).lane("a", "wait_gil", 0, 5, "a: program[0] cpu 1us") \
            .core(1, "a", "python", 5, 10).lane("other load", "python", 0, 9, process="load")
        holds, lanes = model_lanes(d.put("m.csv", run))
        same("the model run's holds", holds, [(0, 10, "a")])
        same("its lanes (the other load left out)", lanes,
             {"a": [(0, 5, "wait_gil", "a: program[0] cpu 1us")]})
        same("its rows as csv.DictReader gives them", run.dicts()[2],
             {"lane_kind": "core", "lane": "core 1", "process": "", "thread": "a",
              "state": "python", "start_ns": "5", "end_ns": "10", "op": ""})
        with open(d.path("m.csv")) as f:
            same("the header", f.readline().strip(),
                 "lane_kind,lane,process,thread,state,start_ns,end_ns,op")
        kt = KernelTrace(t0_ns=1_000_000_000, header="# tracer: nop\n")
        kt.wake(101000, 0, 101, 102, 1).wake(101000, 0, 101, 102, 0, kind="sched_wakeup",
                                              flags="dN.3.")
        kt.switch(102500, 0, 101, "R", 102).switch(2_000_000_999, 1, 0, "S", 7,
                                                   prev_comm="swapper/1", next_comm="cc1")
        evs = read_sched_events(d.put("t.sched.txt", kt))
        same("the kernel trace's times (to the us), CPUs and kinds", [e[:3] for e in evs],
             [(1_000_101_000, 0, "sched_waking"), (1_000_101_000, 0, "sched_wakeup"),
              (1_000_102_000, 0, "sched_switch"), (3_000_000_000, 1, "sched_switch")])
        check(refused("refused() passes a call that raises with the words",
                      lambda: load_recording(d.put("x.json", "[]")), "not a gilsim recording"),
              "refused() says so")
        kt = KernelTrace(ns=True).switch(3_000_500, 1, 10, "S", 0)
        same("a trace to the ns", read_sched_events(d.put("n.sched.txt", kt))[0][0], 3_000_500)
        same("a wake's fields", {k: evs[1][3][k] for k in ("pid", "target_cpu", "comm_", "by_",
                                                            "flags_")},
             {"pid": "102", "target_cpu": "000", "comm_": "python3", "by_": "python3",
              "flags_": "dN.3."})
        same("a switch's fields", {k: evs[3][3][k] for k in ("prev_pid", "prev_state",
                                                              "next_pid", "next_comm", "by_")},
             {"prev_pid": "0", "prev_state": "S", "next_pid": "7", "next_comm": "cc1",
              "by_": "swapper/1"})
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
