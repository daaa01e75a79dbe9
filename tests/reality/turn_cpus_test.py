#!/usr/bin/env python3
"""turn_cpus.py's self-test (`turn_cpus.py --self-test` runs it): a
recording with CPUs and a model run with core lanes, made by hand
(fixture.py), and the turns after T's read by the CPU each next holder
ran on; a recording without CPUs refused."""
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import ModelRun, Recording, check, exit_status, refused, same, workdir  # noqa: E402
import turn_cpus as tc  # noqa: E402


def recording():
    """T holds on CPU 0; W then R take the GIL on CPU 1, twice; then R
    first, on CPU 0."""
    rec = Recording(version=1)
    t = rec.thread("T", cpu=0)
    for s in (0, 5000, 10000, 15000):
        t.hold(s).release(s + 1000, "call")
    w, r = rec.thread("W", cpu=1), rec.thread("R", cpu=1)
    for s in (1100, 6100):
        w.hold(s).release(s + 400, "call")
        r.hold(s + 500).release(s + 900, "call")
    w.hold(12000).release(12500, "call")
    r.hold(11100, cpu=0).release(11500, "call", cpu=0)
    return rec


def model_run():
    """R on T's core, W on the other (T's two holds at 5 and 6 us: one turn)."""
    run = ModelRun()
    for who, s, e in (("T", 0, 1000), ("R", 1100, 1500), ("W", 1600, 2000), ("T", 5000, 6000),
                      ("T", 6000, 6200), ("W", 6300, 6500), ("R", 6600, 7000),
                      ("T", 8000, 9000)):
        run.gil(who, s, e)
    for core, who, state, s, e in ((0, "T", "python", 0, 1000), (0, "R", "python", 1100, 1500),
                                   (1, "W", "python", 1600, 2000),
                                   (0, "T", "python", 5000, 6200),
                                   (1, "W", "switch", 6250, 6300),
                                   (1, "W", "python", 6300, 6500),
                                   (0, "R", "python", 6600, 7000),
                                   (0, "T", "python", 8000, 9000)):
        run.core(core, who, state, s, e, process="main")
    return run


def main():
    with workdir() as d:
        rp, cp = d.put("r.json", recording()), d.put("m.csv", model_run())
        rt = tc.rec_turns(tc.load_recording(rp))
        same("recording: the patterns after T", tc.patterns(rt, "T"),
             Counter({"w/ r/": 2, "r= w/": 1}))
        mt = tc.model_turns(cp)
        same("model: the turns, T's two holds merged", [w for _, _, w, _ in mt],
             ["T", "R", "W", "T", "W", "R", "T"])
        same("model: the patterns after T", tc.patterns(mt, "T"),
             Counter({"r= w/": 1, "w/ r=": 1}))
        txt = "\n".join(tc.analyse(rp, [cp]))
        for want in ("turns from T (3): w/ r/ 2 (67%), r= w/ 1 (33%)",
                     "R on T's CPU 1, on another 2", "W on T's CPU 0, on another 3",
                     "turns from T (2): r= w/ 1 (50%), w/ r= 1 (50%)",
                     "R on T's CPU 2, on another 0"):
            check(want in txt, "the report says %r" % want + ("" if want in txt else ":\n" + txt))
        nocpu = Recording(version=1)
        nocpu.thread("T").hold(0).release(10, "call")
        rp = d.put("r.json", nocpu)
        refused("a recording without CPUs is refused", lambda: tc.analyse(rp, []), "has no CPUs")
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
