#!/usr/bin/env python3
"""turn_order.py's self-test (`turn_order.py --self-test` runs it): a
pipeline's writer W between a transformer T and a reader R, one recording
and one model run made by hand (fixture.py), and what the tool reads off
them: W's GIL waits by cause, who held the GIL meanwhile, the turn order."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import ModelRun, Recording, check, exit_status, refused, same, workdir  # noqa: E402
import turn_order as to  # noqa: E402

ms = 1000000


def recording():
    """T holds three times; W, woken by its queue (lock 7) at 1.001 ms, asks
    1 us later and holds, then asks inside a zlib.compress (a C call off the
    GIL) and waits 110 us while T and R hold; R holds twice."""
    rec = Recording(version=1)
    rec.thread("T").turn(0, 0, 1 * ms, "call").turn(1030000, 1030000, 2 * ms, "call") \
        .turn(2200000, 2200000, 2300000, "call")
    rec.thread("W").lock_wait(900000, 1001000, 7).turn(1002000, 1002000, 1010000, "call") \
        .call(1980000, 2400000, "zlib.compress", "c_nogil") \
        .turn(1990000, 2100000, 2110000, "call")
    rec.thread("R").turn(1011000, 1011000, 1020000, "call").turn(2 * ms, 2 * ms, 2050000, "call")
    return rec


def model_run():
    """W's get of queue-2: woken at 0.99 ms, asks at 1.001 ms and waits to
    1.6 ms (one wait of 599 us, over --long) while R and T hold."""
    run = ModelRun().gil("T", 0, 1 * ms).gil("R", 1 * ms, 1010000).gil("T", 1030000, 1600000) \
        .gil("W", 1600000, 1610000)
    get = "W: program[0] get queue-2"
    for state, s, e in (("wait_queue", 0, 990000), ("ready", 990000, 1001000),
                        ("wait_gil", 1001000, 1005000), ("ready", 1005000, 1006000),
                        ("switch", 1006000, 1007000), ("wait_gil", 1007000, 1600000)):
        run.lane("W", state, s, e, get)
    return run.lane("W", "python", 1600000, 1610000, "W: program[1] cpu 10us")


def main():
    with workdir() as d:
        rp, cp = d.put("r.json", recording()), d.put("m.csv", model_run())
        rec = to.load_recording(rp)
        same("recording: W's waits (ask, wait, cause)", to.rec_waits(rec, "W"),
             [(1002000, 0, "queue"), (1990000, 110000, "c_nogil:zlib.compress")])
        holds = to.rec_holds(rec)
        same("recording: the holders during the compress wait",
             to.holders_during(holds, "W", 1990000, 110000), ("T", "R"))
        same("recording: the turn order", "".join(to.initial(n) for n in to.turns(holds)),
             "TWRTRWT")
        _, lanes = to.model_lanes(cp)
        same("model: W's waits", to.model_waits(lanes, "W"), [(1001000, 599000, "queue")])
        txt = "\n".join(to.analyse("W", rp, [cp], long_ns=300000, first="T"))
        for want in ("W's GIL waits n=2, 0.11 ms in all, over 300 us: 0 (0.00 ms)",
                     "W's GIL waits n=1, 0.60 ms in all, over 300 us: 1 (0.60 ms)",
                     "turns from T (2): TWRT 1 (50%), TRWT 1 (50%)",
                     "turns from T (1): TRTW 1 (100%)"):
            check(want in txt, "the report says %r" % want + ("" if want in txt else ":\n" + txt))
        refused("an unknown thread is refused", lambda: to.rec_waits(rec, "nobody"),
                "no thread 'nobody'")
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
