"""After a forced GIL drop whose new holder hands the GIL on at once (an I/O
thread back for a moment before its next sleep), is the forced dropper back
in its wait before that next hand-off? Measured the same way on a recording
(gilsim record) and on a model run's trace (gilsim run --trace), so the two
can be compared like with like (tests/reality/replay_notes.md, point 16).

    python3 tests/reality/dropper_order.py REC.json [REC.json ...]
    gilsim run FIT.json --trace run.trace.json --quiet
    python3 tests/reality/dropper_order.py run.trace.json
    python3 tests/reality/dropper_order.py --self-test      (ctest)

Why it matters: CPython's take_gil saves switch_number as its timed wait
begins and asks for a drop only if the number has not moved when the wait
times out. A dropper that asks again before the next hand-off saved the
short holder's number, so its first timeout is futile (the GIL changed hands
since) and it waits a second interval, while a waiter that asked later (the
I/O thread, back from its sleep) times out first and asks; a dropper that
asks after the hand-off asks for the drop at its first timeout. The model's
trace draws the dropper's wait on switch_cond as 'waiting for the GIL', so
its ask cannot be read off the trace; the consequence can: how the
dropper's first timed wait after the drop ended, a drop request or a futile
timeout (or a signal before either). A recording also gives the ask itself
and its time after the drop.

Counted: forced drops whose next holder (not the dropper) held the GIL under
--short us and handed it on. Seen in the quiet io_two_cpu recordings: most
often the dropper itself takes it then (back in take_gil as the I/O thread
releases, it finds the GIL free), before the thread the I/O thread's signal
woke.
"""

import argparse
import sys

sys.dont_write_bytecode = True
import forced_drops as fd  # noqa: E402
from recording import pct  # noqa: E402


def analyse(events, is_recording, short_ns):
    """Counts over the forced drops described above."""
    ev = sorted(events, key=lambda x: (x[0], fd.ORDER[x[2]]))
    holds = []
    for t, w, k in ev:  # a holder's hold once (a trace may cut it in slices)
        if k == "hold" and (not holds or holds[-1][1] != w):
            holds.append((t, w))
    requests = {(t, w) for t, w, k in ev if k == "drop_request"}
    n = {"drops": 0, "asked_before": 0, "back": 0, "request": 0, "futile": 0, "signalled": 0,
         "ask_after_ns": []}
    hi = 0
    for i, (t0, d, k) in enumerate(ev):
        if k != "forced":
            continue
        while hi < len(holds) and holds[hi][0] < t0:
            hi += 1
        if hi + 1 >= len(holds):
            break
        (h_t, h_w), (t_t, t_w) = holds[hi], holds[hi + 1]
        if h_w == d or t_w == h_w or t_t - h_t >= short_ns:
            continue
        n["drops"] += 1
        ask = end = None
        for t, w, kk in ev[i + 1:]:
            if w != d:
                continue
            if kk == "ask" and ask is None and is_recording:
                ask = t
            if kk == "hold":
                end = "back" if t == t_t else "signalled"
                break
            if kk in ("timeout", "drop_request"):
                # the model writes a request's timeout too, at the same time
                end = "request" if (t, d) in requests else "futile"
                break
        if end:
            n[end] += 1
        if ask is not None:
            n["ask_after_ns"].append(ask - t0)
            n["asked_before"] += ask < t_t
    return n


def self_test():
    """Hand-made event lists, one per outcome: A is forced off at 0, the I/O
    thread holds at 10 us and hands on at 30 us."""
    us = 1000

    def drop(then, ask_at):
        ev = [(0, "B", "ask"), (0, "A", "forced"), (10 * us, "io", "hold"),
              (ask_at, "A", "ask")]
        return ev + then

    cases = [
        # A back in take_gil as the I/O thread lets go: it takes the GIL
        ("back", drop([(30 * us, "A", "hold")], 25 * us), True),
        # B takes it; A asked after: its first timeout asks for the drop
        ("request", drop([(30 * us, "B", "hold"), (5040 * us, "A", "timeout"),
                          (5040 * us, "A", "drop_request")], 35 * us), False),
        # B takes it; A asked before: its first timeout is futile
        ("futile", drop([(30 * us, "B", "hold"), (5025 * us, "A", "timeout")], 25 * us), True),
        # B takes it; A is signalled before any timeout
        ("signalled", drop([(30 * us, "B", "hold"), (2000 * us, "A", "hold")], 35 * us), False),
    ]
    ok = True
    for want, ev, before in cases:
        n = analyse(ev, True, 200 * us)
        got = [k for k in ("back", "request", "futile", "signalled") if n[k]]
        good = n["drops"] == 1 and got == [want] and n["asked_before"] == before
        print("%s %s: %s, asked before the hand-off %d" % ("ok  " if good else "FAIL", want, got,
                                                         n["asked_before"]))
        ok &= good
    # a hold longer than --short, or handed back to the dropper's own
    # holder, is not counted
    long_hold = [(0, "A", "forced"), (10 * us, "io", "hold"), (500 * us, "B", "hold")]
    n = analyse(long_hold, True, 200 * us)
    print("%s a 490 us hold is not counted: %d" % ("ok  " if n["drops"] == 0 else "FAIL", n["drops"]))
    ok &= n["drops"] == 0
    return 0 if ok else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", help="recordings (.rec.json) or model --trace JSON")
    ap.add_argument("--self-test", action="store_true", help="check the counting (ctest)")
    ap.add_argument("--short", type=float, default=200.0,
                    help="the new holder's hold under this many us counts (default 200)")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.files:
        ap.error("give a recording or a model run's --trace JSON (or --self-test)")
    for path in a.files:
        with open(path) as f:
            is_rec = '"gilsim-recording"' in f.read(4096)
        events = fd.gil_events_of_recording(path) if is_rec else fd.gil_events_of_trace(path)
        n = analyse(events, is_rec, int(a.short * 1000))
        d = max(1, n["drops"])
        line = ("%s: %d forced drops handed on within %.0f us; the dropper took the GIL "
                "back at that hand-off %.0f%%; else its first timed wait ended in a drop "
                "request %.0f%%, futile %.0f%%, or a signal first %.0f%%"
                % (path, n["drops"], a.short, 100 * n["back"] / d, 100 * n["request"] / d,
                   100 * n["futile"] / d, 100 * n["signalled"] / d))
        if is_rec and n["ask_after_ns"]:
            line += ("; it asked again before the next hand-off in %.0f%%, p50 %.0f us after "
                     "its drop" % (100 * n["asked_before"] / d, pct(n["ask_after_ns"], .5) / 1e3))
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
