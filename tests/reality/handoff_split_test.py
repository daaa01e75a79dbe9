#!/usr/bin/env python3
"""handoff_split.py's self-test (`handoff_split.py --self-test` runs it): a
ping-pong recording made by hand (fixture.py); a pair thread's holds split
at the lock_post that wakes its partner, forced drops and holds with two
wake-ups or none left out, the medians; bad files refused in one line."""
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import Recording, exit_status, refused, same, workdir  # noqa: E402
import handoff_split as hs  # noqa: E402


def recording():
    rec = Recording(format=None)
    rec.thread("ping").hold(0).lock_post(800, 7).release(1500, "call") \
        .hold(5000).lock_post(5600, 7).release(6000, "call") \
        .hold(9000).release(9100, "forced") \
        .hold(9500).lock_post(9900, 7).release(9950, "forced") \
        .hold(12000).lock_post(12100, 7).lock_post(12200, 8).release(12900, "call") \
        .hold(20000).release(21000, "call")
    # 0.8/0.7 us, 0.6/0.4 us; forced: out; forced: out; two posts: out; no post: out
    rec.thread("pong").hold(2000).lock_post(2300, 9).release(4000, "call")
    rec.thread("spin").hold(0).lock_post(100, 1).raw(200, "release")  # not of the pair
    return rec.dict()


def main():
    rec = recording()
    got = hs.splits(rec)
    same("only the pair's threads are read", sorted(got), ["ping", "pong"])
    same("ping: the holds with one wake-up and a voluntary drop, split at the wake-up",
         got["ping"], [(800, 700), (600, 400)])
    same("pong", got["pong"], [(300, 1700)])
    same("the medians", hs.report(rec, io.StringIO())["ping"], (700, 550, 2))
    # bad input: a clear one-line error, not a traceback
    with workdir() as d:
        for text, want in (("{", "Expecting"), ("[]", "not a gilsim recording"),
                           ('{"threads": [{"name": "x", "events": []}]}', "no thread named")):
            p = d.put("r.json", text)
            refused("%r is refused" % text, lambda: hs.load(p), want, SystemExit)
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
