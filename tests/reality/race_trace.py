#!/usr/bin/env python3
"""The race between a drop request and the drop, read from the kernel's futex
calls of real CPython threads (issue 15; docs/model.md, "The race between a
drop request and the drop").

A waiter in take_gil whose timed wait on the GIL's condition variable ran out
(its futex returns -ETIMEDOUT) re-locks the GIL's mutex (glibc's
__pthread_mutex_cond_lock, which leaves the lock word at 2), sets the drop
request and goes back into pthread_cond_timedwait, whose unlock of that word
is therefore always a FUTEX_WAKE system call; then, unless a signal is
already there, it makes its timed FUTEX_WAIT. The holder sees the request at
its next eval-breaker check and drop_gil locks the same mutex (a default
mutex: no spinning), then signals the condition variable (a FUTEX_WAKE on its
group's word). So for each forced drop:

  requester first  the holder's drop_gil found the mutex taken: it made a
                   FUTEX_WAIT on the mutex word before its signal, woken by
                   a FUTEX_WAKE of the word from the requester's unlock
  holder first     no such wait, and at the signal the requester was still
                   on its way into its futex: its next timed wait was not
                   yet entered, or came back at once (-EAGAIN: the signal
                   changed the word before the kernel checked it)
  later            no such wait, and the requester was in its futex wait at
                   the signal (queued in the kernel, switched out or not:
                   the signal's futex wake goes to the longest-queued waiter)

The requester counts as asleep at the signal (the model's requester_first)
when it was in its futex wait then, whichever class.

The futex words are told apart by how the worker threads use them: the
condition variable's words (its two groups' __g_signals) are the ones waited
on with a timeout; the GIL's mutex is the word a thread wakes next after its
timed wait ran out (the lock word at 2, above); switch_cond's words are
waited on without a timeout right after a signal of the condition variable
(drop_gil's FORCE_SWITCHING wait). CPython's struct puts the mutex right
after the condition variable, so the mutex word is the lower __g_signals
word + 8: the report says whether the addresses agree.

Per run it prints the shares of the three classes, the share of drops the
requester took (the thread that next signals a drop, i.e. the next holder,
is one of the threads that set the request), the holder sequence's share of
switches back to the thread before the last (A B A, as reality.py's
calibration counts it, from the program's own log and from the futex
trace), and the path lengths in microseconds (median and quartiles):

  requester  its timeout's return to its mutex unlock's FUTEX_WAKE (the
             mutex held: re-lock, the checks, the drop request, the
             condition variable's entry); that wake's return to its next
             timed wait; that wait's entry to its switch-out
  holder     the requester's timeout return to the holder's first call of
             drop_gil (the mutex wait or the signal); the race margin: that
             call against the requester's unlock (negative: the holder came
             first to a held mutex)

Who took the GIL after each forced drop: the thread that wakes the dropper
waiting on switch_cond (drop_gil's FORCE_SWITCHING wait) after the drop's
signal, else the next signaller; it is the requester, another thread that
set the request, a waiter that did not (in its timed wait at the signal,
woken by it: its wait began before the requester's that ran out, or before
the requester's re-wait), a thread in no such wait (returning from a call
that released the GIL, e.g. I/O or C, it found the GIL free), or the holder.

Shares are given over all classified drops and over those whose holder ran
on another CPU than the requester ("apart": on one CPU the scheduler, not
the race, orders them; a loaded machine puts the threads on one CPU). Each
requester also carries how long its CPU had idled before the timer woke it
(the requester's path is slower after a deeper idle: docs/model.md, "The
race, traced"), and each run the A B A share of the same program run
untraced, which shows what the tracepoints' own cost does to the hand-offs.

    python3 tests/reality/race_trace.py                 (root: tracefs)
        [--threads 2 3 4] [--intervals 1 5] [--repeats 5] [--seconds 0.6]
        [--python PATH ...] [--keep DIR] [--json OUT]
    python3 tests/reality/race_trace.py [--repeats N] [--keep DIR] [--json OUT]
        --cmd -- python3 prog.py args     (root: any program, every thread of
                                           its process that calls futex a worker,
                                           named by its tid, with its on-CPU time)
    python3 tests/reality/race_trace.py --analyse PREFIX   (a kept run)
    python3 tests/reality/race_trace.py --self-test        (ctest)
"""
import argparse
import bisect
import collections
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))

ETIMEDOUT, EAGAIN = -110, -11
WAIT, WAKE, WAIT_BITSET = 0, 1, 9
OP_MASK = 128 | 256  # FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME

# "comm-tid [cpu] flags ts: event..." with ts in seconds (ns clocks) or in
# ticks (x86-tsc); the event's rest after ": ", "(" (a syscall's entry) or
# " -> " (its return)
LINE = re.compile(r"^\s*(.+?)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(\d+)\]\s+\S+\s+"
                  r"(\d+(?:\.\d+)?): (\w+)(: |\(| -> )(.*)$")
ARG = re.compile(r"(\w+): (\S+?)(?:,|\)|$)")
KV = re.compile(r"(\w+)=(\S+)")
MARK = re.compile(r"race_mono (\d+)")

# the real program: reality.py's calibration program (programs.holder_sequence),
# each thread's native id recorded as it starts; it waits for a line on stdin
# (the trace is on) before it starts its threads
CHILD = r'''
import json, sys, threading
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import programs as P
k, interval, seconds = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
per = P.cal_switch_counter_ns()
n = int(seconds / k / (per * 1e-9))
tids, gated = {}, P.gated
def wrapped(fns):
    def one(i, f):
        def run():
            tids[i + 1] = threading.get_native_id()
            return f()
        return run
    return gated([one(i, f) for i, f in enumerate(fns)])
P.gated = wrapped
sys.stdin.readline()
log = P.holder_sequence(k, interval, n)
print(json.dumps({"tids": tids, "log": log, "n": n, "python": sys.version.split()[0]}))
'''

EVENTS = ("syscalls/sys_enter_futex", "syscalls/sys_exit_futex", "sched_switch",
          "sched_waking")


# --- reading a trace --------------------------------------------------------

def read_trace(path):
    """The trace's events as (t_ns, cpu, tid, kind, fields) in time order:
    kind "enter" (fields uaddr, op, val, utime as ints), "exit" (ret, signed),
    "sched_switch" / "sched_waking" (key=value strings) or "mark". A trace on
    the x86-tsc clock is put on the monotonic clock by the two race_mono
    marks the tracer writes (ticks against their monotonic ns); one on a ns
    clock is read as it is. Raises ValueError on a trace that has neither."""
    raw = []
    for line in open(path):
        m = LINE.match(line)
        if not m:
            continue
        comm, tid, cpu, ts, ev, sep, rest = m.groups()
        if ev == "sys_futex" and sep == "(":
            a = {k: int(v, 0) for k, v in ARG.findall(rest)}
            if "uaddr" not in a or "op" not in a:
                raise ValueError("%s: a futex entry without uaddr/op: %s" % (path, line.strip()))
            raw.append((ts, int(cpu), int(tid), "enter", a))
        elif ev == "sys_futex" and sep == " -> ":
            r = int(rest.split()[0], 0)
            raw.append((ts, int(cpu), int(tid), "exit", {"ret": r - (1 << 64) if r >= 1 << 63
                                                          else r}))
        elif ev in ("sched_switch", "sched_waking"):
            raw.append((ts, int(cpu), int(tid), ev, dict(KV.findall(rest))))
        elif ev == "tracing_mark_write":
            mk = MARK.search(rest)
            if mk:
                raw.append((ts, int(cpu), int(tid), "mark", {"mono": int(mk.group(1))}))
    if not raw:
        raise ValueError("%s: no futex or sched events" % path)
    if "." in raw[0][0]:
        to_ns = lambda ts: int(round(float(ts) * 1e9))  # noqa: E731
    else:
        marks = [(int(e[0]), e[4]["mono"]) for e in raw if e[3] == "mark"]
        if len(marks) < 2 or marks[-1][0] == marks[0][0]:
            raise ValueError("%s: ticks without two race_mono marks to convert them" % path)
        (t0, m0), (t1, m1) = marks[0], marks[-1]
        rate = (m1 - m0) / (t1 - t0)
        to_ns = lambda ts: m0 + int(round((int(ts) - t0) * rate))  # noqa: E731
    out = [(to_ns(ts), cpu, tid, kind, f) for ts, cpu, tid, kind, f in raw]
    out.sort(key=lambda e: e[0])
    return out


def calls_of(events, tids):
    """Each worker's futex calls in order: dicts te (entry ns), tx (return ns
    or None), addr, cmd (op without the private / clock flags), val, timed,
    ret (None if the trace ended inside the call)."""
    calls, open_ = collections.defaultdict(list), {}
    for t, cpu, tid, kind, f in events:
        if tid not in tids:
            continue
        if kind == "enter":
            c = {"te": t, "tx": None, "addr": f["uaddr"], "cmd": f["op"] & ~OP_MASK,
                 "val": f.get("val", 0), "timed": f.get("utime", 0) != 0, "ret": None,
                 "cpu_x": None}
            calls[tid].append(c)
            open_[tid] = c
        elif kind == "exit" and tid in open_:
            open_[tid]["tx"], open_[tid]["ret"], open_[tid]["cpu_x"] = t, f["ret"], cpu
            del open_[tid]
    return calls


def roles(calls):
    """The futex words' roles from how the workers use them: (cond words,
    mutex word, switch_cond words, layout_ok)."""
    cond = {c["addr"] for cs in calls.values() for c in cs
            if c["cmd"] in (WAIT, WAIT_BITSET) and c["timed"]}
    after_timeout = collections.Counter()
    for cs in calls.values():
        for a, b in zip(cs, cs[1:]):
            if a["addr"] in cond and a["ret"] == ETIMEDOUT and b["cmd"] == WAKE:
                after_timeout[b["addr"]] += 1
    mutex = after_timeout.most_common(1)[0][0] if after_timeout else None
    switch = set()
    for cs in calls.values():
        for a, b in zip(cs, cs[1:]):
            if (b["cmd"] in (WAIT, WAIT_BITSET) and not b["timed"] and b["addr"] != mutex
                    and a["cmd"] == WAKE and a["addr"] in cond | {mutex}):
                switch.add(b["addr"])
    layout_ok = bool(cond) and mutex == min(cond) + 8
    return cond, mutex, switch, layout_ok


# --- the analysis -----------------------------------------------------------

def last_at(lst, t):
    """The index of the last (time, value) entry of time-sorted lst at or
    before t, -1 if none. By time alone: a value may be None (a thread
    switched out, an unknown idle depth), and bisecting with (t, inf)
    compared inf with None at an equal time (TypeError: a short reality
    check's calibration crashed on it, 2026-12-07)."""
    lo, hi = 0, len(lst)
    while lo < hi:
        mid = (lo + hi) // 2
        if lst[mid][0] <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


def analyse(events, tids):
    """tids: {thread id in the program's log: native tid}. Returns a dict:
    drops (a list of per-drop dicts), holders (the futex trace's holder
    sequence as log ids), roles and the counts that could not be read."""
    by_id = {v: k for k, v in tids.items()}
    calls = calls_of(events, set(by_id))
    if not calls:
        raise ValueError("no futex calls of the program's threads %s" % sorted(by_id))
    cond, mutex, switch, layout_ok = roles(calls)
    if not cond or mutex is None:
        raise ValueError("no timed wait on a condition variable that ran out: not a "
                         "forced-switch run")
    outs = collections.defaultdict(list)  # tid -> [t] switched out asleep
    ons = collections.defaultdict(list)  # tid -> [(t, cpu or None)] switched in / out
    idle_from = collections.defaultdict(list)  # cpu -> [t] it went idle
    ins = collections.defaultdict(list)  # tid -> [(t, idle depth of its cpu or None)]
    oncpu = collections.Counter()  # log id -> ns on a CPU in the trace
    for t, cpu, _, kind, f in events:
        if kind == "sched_switch":
            p, q = int(f.get("prev_pid", -1)), int(f.get("next_pid", -1))
            if q == 0:
                idle_from[cpu].append(t)
            if q in by_id:
                # how long its CPU had idled (0: it took over from a task)
                depth = 0
                if p == 0:
                    depth = t - idle_from[cpu][-1] if idle_from[cpu] else None
                ins[q].append((t, depth))
            if p in by_id:
                if ons[p] and ons[p][-1][1] is not None:
                    oncpu[by_id[p]] += t - ons[p][-1][0]
                ons[p].append((t, None))
                if f.get("prev_state", "R")[:1] in ("S", "D"):
                    outs[p].append(t)
            if q in by_id:
                ons[q].append((t, cpu))

    def cpu_at(tid, t):
        """The CPU tid runs on at t, None if it is not running, "?" if the
        trace has not shown it switched in or out before t."""
        lst = ons[tid]
        i = last_at(lst, t)
        return lst[i][1] if i >= 0 else "?"
    # every drop of the GIL by a holder with a waiter is a signal of the
    # condition variable: the holder sequence is the order of the signallers
    sigs = sorted((c["te"], tid, i) for tid, cs in calls.items()
                  for i, c in enumerate(cs) if c["cmd"] == WAKE and c["addr"] in cond)
    drops, holders = [], []
    prev_sig = None
    for t_sig, h, i in sigs:
        cs = calls[h]
        if not holders or holders[-1] != by_id[h]:
            holders.append(by_id[h])
        j = i - 1  # the holder's mutex wait in drop_gil, right before its signal
        mwait = cs[j] if (j >= 0 and cs[j]["addr"] == mutex and cs[j]["cmd"] in
                          (WAIT, WAIT_BITSET) and (prev_sig is None or cs[j]["te"] > prev_sig)) \
            else None
        first = mwait or cs[i]
        # its take_gil ended with the mutex unlock (a FUTEX_WAKE: the word at 2)
        k = i - 1 if mwait is None else i - 2
        while k >= 0 and not (cs[k]["addr"] == mutex and cs[k]["cmd"] == WAKE):
            k -= 1
        t_acq = cs[k]["te"] if k >= 0 else None
        if prev_sig is not None and (t_acq is None or t_acq < prev_sig):
            t_acq = prev_sig
        prev_sig = t_sig
        d = {"t": t_sig, "holder": by_id[h], "mutex_wait": mwait is not None,
             "setters": [], "class": None}
        drops.append(d)
        if t_acq is None:
            continue
        # the threads whose timed wait began after the holder took the GIL
        # (switch_number unchanged) and ran out before the signal: they set
        # the drop request
        for tid, ws in calls.items():
            if tid == h:
                continue
            for n, c in enumerate(ws):
                if (c["addr"] in cond and c["ret"] == ETIMEDOUT and c["te"] > t_acq
                        and c["tx"] is not None and c["tx"] < first["te"]):
                    st_ = setter(by_id[tid], ws, n, t_sig, mutex, cond, outs[tid], c["cpu_x"])
                    i = last_at(ins[tid], c["tx"])
                    # its CPU's idle depth as it was switched in for this return
                    st_["idle"] = ins[tid][i][1] if i >= 0 and ins[tid][i][0] > c["te"] else None
                    d["setters"].append(st_)
        if not d["setters"]:
            continue
        d["setters"].sort(key=lambda s: s["timeout"])
        s0 = d["setters"][0]
        # the race is one of two CPUs only when the holder was running on
        # another CPU as the requester's timed wait returned (on one CPU the
        # scheduler decides who runs first)
        hc = cpu_at(h, s0["timeout"])
        d["apart"] = hc not in (None, "?") and hc != s0["cpu"]
        d["holder_dist"] = first["te"] - s0["timeout"]
        unl = [s["unlock"] for s in d["setters"] if s["unlock"] is not None]
        if unl:
            # the last unlock before the holder's first call, else the first one
            u = max((x for x in unl if x <= first["te"]), default=min(unl))
            d["margin"] = first["te"] - u
        if mwait is not None:
            d["class"] = "requester first"
            d["holder_wait"] = (mwait["tx"] - mwait["te"]) if mwait["tx"] else None
        elif any(not s["asleep"] for s in d["setters"]):
            d["class"] = "holder first"
        else:
            d["class"] = "later"
    # the thread that took the GIL wakes the forced dropper waiting on
    # switch_cond (drop_gil's FORCE_SWITCHING wait): the first such wake
    # after a drop's signal and before the next one names the taker even
    # where the next holder's own drop made no futex call (no waiter asleep)
    sw_wakes = sorted((c["te"], by_id[tid]) for tid, cs in calls.items() for c in cs
                      if c["cmd"] == WAKE and c["addr"] in switch)
    for n, d in enumerate(drops):
        t_next = drops[n + 1]["t"] if n + 1 < len(drops) else float("inf")
        i = bisect.bisect_right(sw_wakes, (d["t"], float("inf")))
        while i < len(sw_wakes) and sw_wakes[i][0] < t_next and sw_wakes[i][1] == d["holder"]:
            i += 1
        d["switch_taker"] = (sw_wakes[i][1] if i < len(sw_wakes) and sw_wakes[i][0] < t_next
                             else None)
    for n, d in enumerate(drops):
        nxt = drops[n + 1]["holder"] if n + 1 < len(drops) else None
        d["next"] = nxt
        # the holder before this one (A of A B A): is it the requester?
        d["requester_was_last"] = (None if n == 0 or not d["setters"] else
                                   d["setters"][0]["id"] == drops[n - 1]["holder"])
        # the requester: the first thread that set the request (the others
        # only set it again)
        d["requester_took"] = (None if nxt is None or not d["setters"] else
                               nxt == d["setters"][0]["id"])
        who = d["switch_taker"] if d["switch_taker"] is not None else nxt
        d["taker"] = (None if who is None or not d["setters"] else
                      taker_of(d, who, calls.get(tids.get(who)), cond))
        d["taker_id"] = who
    return {"drops": drops, "holders": holders, "cond": sorted(cond), "mutex": mutex,
            "switch_cond": sorted(switch), "layout_ok": layout_ok, "oncpu": dict(oncpu)}


TAKERS = ("requester", "other requester", "waiter", "returning", "holder")


def taker_of(d, nxt, ws, cond):
    """Who took the GIL after the forced drop d (nxt: the next holder's log
    id, ws: its futex calls): the requester (the first thread that set the
    request); another thread that set it too; a waiter that did not (in its
    timed wait on the condition variable at the signal, e.g. one older than
    the requester, woken by it); a thread that was in no such wait
    (returning from a call that released the GIL, e.g. I/O or C, it found
    the GIL free); or the holder itself."""
    ids = [s["id"] for s in d["setters"]]
    if nxt == ids[0]:
        return "requester"
    if nxt == d["holder"]:
        return "holder"
    if nxt in ids:
        return "other requester"
    for c in ws or ():
        if c["te"] >= d["t"]:
            break
        if (c["addr"] in cond and c["cmd"] in (WAIT, WAIT_BITSET) and c["ret"] != EAGAIN
                and (c["tx"] is None or c["tx"] > d["t"])):
            s0 = d["setters"][0]
            # its wait against the requester's: began before the wait that
            # ran out, before its re-wait (after the request), or after that
            d["waiter_age"] = ("before the requester's" if c["te"] < s0["wait_from"] else
                               "before its re-wait" if s0["rewait"] is None or
                               c["te"] < s0["rewait"] else "after its re-wait")
            return "waiter"
    return "returning"


def setter(ident, ws, n, t_sig, mutex, cond, outs, cpu):
    """One thread that set the drop request with its timeout ws[n]: its path
    (the mutex unlock's wake, its next timed wait) and whether it was asleep
    at the signal t_sig."""
    c = ws[n]
    s = {"id": ident, "timeout": c["tx"], "cpu": cpu, "unlock": None, "hold": None, "tail": None,
         "sleep": None, "asleep": False, "switched_out": False, "wait_from": c["te"],
         "rewait": None}
    nx = ws[n + 1] if n + 1 < len(ws) else None
    if nx is not None and nx["addr"] == mutex and nx["cmd"] == WAKE:
        s["unlock"], s["hold"] = nx["te"], nx["te"] - c["tx"]
        w = ws[n + 2] if n + 2 < len(ws) else None
        if nx["tx"] is not None and w is not None and w["addr"] in cond and w["timed"]:
            s["tail"] = w["te"] - nx["tx"]
            s["rewait"] = w["te"]
            i = bisect.bisect_right(outs, w["te"])
            out = outs[i] if i < len(outs) else None
            if out is not None and (w["tx"] is None or out <= w["tx"]):
                s["sleep"] = out - w["te"]
            # asleep at the signal, as glibc sees it: inside its futex wait
            # (the kernel checked the word before the signal changed it: the
            # wait did not come back at once with -EAGAIN), queued in the
            # kernel whether or not already switched out; the signal's futex
            # wake then goes to the longest-queued waiter, not to it
            s["asleep"] = w["te"] < t_sig and w["ret"] != EAGAIN
            s["switched_out"] = s["asleep"] and out is not None and out < t_sig
    return s


# --- the summary ----------------------------------------------------------

CLASSES = ("requester first", "holder first", "later")


def back_share(seq):
    """reality.py's A B A share (programs.back_to_second_last)."""
    if len(seq) < 3:
        return float("nan")
    return sum(1 for i in range(2, len(seq)) if seq[i] == seq[i - 2]) / (len(seq) - 2)


def shares(ds):
    """The class shares of drops ds and, per class, the share its requester
    took ((share, n))."""
    n = len(ds)
    sh = {c: (sum(d["class"] == c for d in ds) / n if n else float("nan")) for c in CLASSES}
    # the model's requester_first: the requester asleep when the holder
    # signals (whichever reached the mutex first)
    sh["asleep"] = sum(d["setters"][0]["asleep"] for d in ds) / n if n else float("nan")
    w = [d["requester_was_last"] for d in ds if d["requester_was_last"] is not None]
    sh["was_last"] = sum(w) / len(w) if w else float("nan")
    took = {}
    for c in CLASSES + (None,):
        t = [d["requester_took"] for d in ds if (c is None or d["class"] == c) and
             d["requester_took"] is not None]
        took[c or "all"] = (sum(t) / len(t), len(t)) if t else (float("nan"), 0)
    return sh, took


def summary(res, log=None):
    """One run's figures: the class shares over the classified drops and over
    those whose holder ran on another CPU than the requester (apart: the
    race of two CPUs), the share the requester took, A B A from the log and
    the trace, and the path lengths of the apart drops (lists, ns)."""
    ds = [d for d in res["drops"] if d["class"]]
    ap = [d for d in ds if d.get("apart")]
    out = {"drops": len(res["drops"]), "classified": len(ds), "apart": len(ap),
           "aba_trace": back_share(res["holders"]),
           "aba_log": back_share(log) if log else float("nan"),
           "setters_per_drop": statistics.mean(len(d["setters"]) for d in ds) if ds else 0.0,
           "layout_ok": res["layout_ok"]}
    out["share"], out["took"] = shares(ds)
    out["share_apart"], out["took_apart"] = shares(ap)
    for key, xs in (("takers", ds), ("takers_apart", ap)):
        t = [d["taker"] for d in xs if d.get("taker")]
        out[key] = {w: (sum(x == w for x in t) / len(t) if t else float("nan")) for w in TAKERS}
        out[key]["n"] = len(t)
        out[key]["waiter_age"] = dict(collections.Counter(
            d["waiter_age"] for d in xs if d.get("taker") == "waiter"))
        out[key]["seen"] = (sum(d["switch_taker"] is not None for d in xs if d.get("taker"))
                            / len(t) if t else float("nan"))
    # per thread (log id): the forced drops it took, by how, and its time
    # on a CPU (which tells an I/O thread from a spinner)
    th = collections.defaultdict(collections.Counter)
    for d in ds:
        if d.get("taker"):
            th[d["taker_id"]][d["taker"]] += 1
        if d["setters"]:
            th[d["setters"][0]["id"]]["requested"] += 1
        th[d["holder"]]["held"] += 1
    out["threads"] = {str(i): dict(th[i], oncpu_ms=res.get("oncpu", {}).get(i, 0) / 1e6)
                      for i in sorted(set(th) | set(res.get("oncpu", {})))}
    s0 = [(d, d["setters"][0]) for d in ap]
    out["paths"] = {
        "requester hold": [s["hold"] for _, s in s0 if s["hold"] is not None],
        "requester tail": [s["tail"] for _, s in s0 if s["tail"] is not None],
        "requester sleep": [s["sleep"] for _, s in s0 if s["sleep"] is not None],
        "holder dist": [d["holder_dist"] for d in ap],
        "holder dist (requester first)": [d["holder_dist"] for d in ap
                                          if d["class"] == "requester first"],
        "holder dist (the others)": [d["holder_dist"] for d in ap
                                     if d["class"] != "requester first"],
        "margin": [d["margin"] for d in ap if "margin" in d],
        "holder mutex wait": [d["holder_wait"] for d in ap if d.get("holder_wait")],
    }
    return out


def quart(xs):
    """'median (q1-q3)' in microseconds."""
    if not xs:
        return "-"
    xs = sorted(xs)
    return "%.2f (%.2f-%.2f)" % (statistics.median(xs) / 1e3, xs[len(xs) // 4] / 1e3,
                                 xs[(3 * len(xs)) // 4] / 1e3)


def med_spread(xs):
    """'median [min-max]' of the runs' values."""
    xs = [x for x in xs if x == x]
    if not xs:
        return "-"
    return "%.2f [%.2f-%.2f]" % (statistics.median(xs), min(xs), max(xs))


# --- running the real program under the trace --------------------------------

def can_trace():
    """Root, tracefs and its x86-tsc clock: what trace_run needs."""
    from tracefs import TRACEFS
    try:
        with open(os.path.join(TRACEFS, "trace_clock")) as f:
            clocks = f.read()
    except OSError:
        return False
    return os.geteuid() == 0 and "x86-tsc" in clocks and \
        os.path.isdir(os.path.join(TRACEFS, "events/syscalls/sys_enter_futex"))


class Others:
    """noise.Meter's measure (other processes' share of the machine) without
    its class, which model_variants.py counts: a run inside
    programs.race_drops is one cached call."""

    def __enter__(self):
        import noise
        self.n, self.t0 = noise, time.perf_counter()
        self.busy0, self.own0 = noise._busy_s(), noise._own_s()
        return self

    def __exit__(self, *exc):
        n, wall = self.n, time.perf_counter() - self.t0
        busy1, self.others = n._busy_s(), None
        if self.busy0 is not None and busy1 is not None and wall > 0.05:
            other = (busy1 - self.busy0) - (n._own_s() - self.own0)
            self.others = max(0.0, min(1.0, other / (wall * n.ncpu())))
        return False


def trace_run(python, k, interval_s, seconds, prefix, nice=0):
    """One run of the calibration's program (k threads, interval_s) on
    `python` under a futex + sched trace filtered to its process; keeps
    PREFIX.sched.txt (the trace) and PREFIX.json (the program's log and its
    threads' ids). Root only. nice: the program's nice value (a negative
    one keeps other programs' load, at nice 0 or above, off its CPUs). The
    program's info gets other processes' share of the machine meanwhile."""
    from tracefs import sched_trace
    name = "gilsim-race-%d" % os.getpid()
    with sched_trace(name, EVENTS, 16384, CHILD, prefix, clock="x86-tsc") as (put, prog), \
            Others() as mt:
        put("options/event-fork", "1")
        p = subprocess.Popen([python, prog, HERE, str(k), repr(interval_s), repr(seconds)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             preexec_fn=(lambda: os.nice(nice)) if nice else None)
        try:
            put("set_event_pid", str(p.pid))
            put("tracing_on", "1")
            put("trace_marker", "race_mono %d" % time.monotonic_ns())
            out, _ = p.communicate("go\n", timeout=120 + 20 * seconds)
        finally:
            put("trace_marker", "race_mono %d" % time.monotonic_ns())
            put("tracing_on", "0")
            if p.poll() is None:
                p.kill()
    if p.returncode != 0:
        raise RuntimeError("%s exited %d" % (python, p.returncode))
    info = json.loads(out.strip().splitlines()[-1])
    info["tids"] = {int(a): b for a, b in info["tids"].items()}
    info.update(k=k, interval_s=interval_s, seconds=seconds, python_path=python, nice=nice,
                others=mt.others, load=load_now())
    with open(prefix + ".json", "w") as f:
        json.dump(info, f)
    return info


# --cmd: any program; the wrapper waits for the trace to be on, then execs the
# command in the same process (the traced pid)
EXEC = "import os, sys\nsys.stdin.readline()\nos.execvp(sys.argv[1], sys.argv[1:])\n"


def trace_cmd(cmd, prefix, timeout=600):
    """One run of an arbitrary command under the same trace as trace_run;
    every thread of its process that made a futex call is a worker (its log
    id is its native tid). Keeps PREFIX.sched.txt and PREFIX.json (cmd,
    tids, other processes' share of the machine)."""
    from tracefs import sched_trace
    name = "gilsim-race-%d" % os.getpid()
    with sched_trace(name, EVENTS, 65536, EXEC, prefix, clock="x86-tsc") as (put, prog), \
            Others() as mt:
        put("options/event-fork", "1")
        p = subprocess.Popen([sys.executable, prog] + cmd, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            put("set_event_pid", str(p.pid))
            put("tracing_on", "1")
            put("trace_marker", "race_mono %d" % time.monotonic_ns())
            out, err = p.communicate("go\n", timeout=timeout)
        finally:
            put("trace_marker", "race_mono %d" % time.monotonic_ns())
            put("tracing_on", "0")
            if p.poll() is None:
                p.kill()
    if p.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(cmd), p.returncode, err[-500:]))
    tids = sorted({e[2] for e in read_trace(prefix + ".sched.txt") if e[3] == "enter"})
    info = {"cmd": cmd, "tids": {str(t): t for t in tids}, "main": p.pid, "k": "cmd",
            "interval_s": 0, "others": mt.others, "load": load_now(), "stdout": out[-2000:]}
    with open(prefix + ".json", "w") as f:
        json.dump(info, f)
    return info


def plain_run(python, k, interval_s, seconds):
    """The same program untraced: (its log's A B A share, other processes'
    share of the machine meanwhile); what the trace's own cost does to the
    hand-offs shows in the difference, when both runs were quiet."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(CHILD)
    try:
        with Others() as mt:
            out = subprocess.run([python, f.name, HERE, str(k), repr(interval_s), repr(seconds)],
                                 input="go\n", capture_output=True, text=True, check=True,
                                 timeout=120 + 20 * seconds).stdout
    finally:
        os.unlink(f.name)
    return back_share(json.loads(out.strip().splitlines()[-1])["log"]), mt.others


def analyse_prefix(prefix):
    with open(prefix + ".json") as f:
        try:
            info = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError("%s.json: not the program's JSON (%s)" % (prefix, err))
    if not isinstance(info.get("tids"), dict) or not {"k", "interval_s"} <= set(info):
        raise ValueError("%s.json: wants tids (a {log id: native tid} object), k and "
                         "interval_s, as race_trace.py writes" % prefix)
    tids = {int(a): b for a, b in info["tids"].items()}
    res = analyse(read_trace(prefix + ".sched.txt"), tids)
    s = summary(res, info.get("log"))
    s["others"], s["main"] = info.get("others"), info.get("main")
    return info, res, s


def pythons_default():
    out = []
    for p in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.11*/bin/python3.11"))):
        out.append(p)
    if os.path.exists("/usr/bin/python3.11"):
        out.append("/usr/bin/python3.11")
    return out


def load_now():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def report(rows):
    """Prints the table of a set of runs: rows of ((python, k, interval),
    [run summaries])."""
    print("shares per run: median [min-max] over the runs; paths: median (quartiles) in us "
          "over the runs' drops whose holder ran on another CPU (apart)")
    for (py, k, iv), runs in rows:
        print("\n%s: %d runs, forced drops classified %s (of %s), "
              "apart %s; %.1f setters per drop" % (
                  py if k == "cmd" else "%s, %d CPU threads at %g ms" % (py, k, iv * 1e3),
                  len(runs), "/".join(str(r["classified"]) for r in runs),
                  "/".join(str(r["drops"]) for r in runs),
                  "/".join(str(r["apart"]) for r in runs),
                  statistics.mean(r["setters_per_drop"] for r in runs)))
        for key, tk, what in (("share", "took", "all"), ("share_apart", "took_apart", "apart")):
            for c in CLASSES:
                took = [r[tk][c][0] for r in runs if r[tk][c][1]]
                print("  %-5s %-16s %-20s the requester took %s" % (
                    what, c, med_spread([r[key][c] for r in runs]), med_spread(took)))
            print("  %-5s %-16s %-20s" % (what, "requester took",
                                          med_spread([r[tk]["all"][0] for r in runs])))
            print("  %-5s %-16s %-20s (the model's requester_first)" % (
                what, "requester asleep", med_spread([r[key]["asleep"] for r in runs])))
            print("  %-5s %-16s %-20s (the holder before the last: A of A B A)" % (
                what, "requester was A", med_spread([r[key]["was_last"] for r in runs])))
        for key, what in (("takers", "all"), ("takers_apart", "apart")):
            print("  %-5s who took the GIL (of %s drops): %s" % (
                what, "/".join(str(r[key]["n"]) for r in runs), ", ".join(
                    "%s %s" % (w, med_spread([r[key][w] for r in runs])) for w in TAKERS)))
            print("  %-5s   named by its switch_cond wake (else the next signaller): %s" % (
                what, med_spread([r[key]["seen"] for r in runs])))
            print("  %-5s   the waiters' waits began: %s" % (what, "; ".join(
                "run %d %s" % (n + 1, r[key]["waiter_age"]) for n, r in enumerate(runs))))
        if k == "cmd":
            for n, r in enumerate(runs):
                print("  run %d, per thread (tid: on-CPU ms, forced drops held / requested, "
                      "taken as requester / other requester / waiter / returning / holder):"
                      % (n + 1))
                for i, c in r["threads"].items():
                    print("    %s%s: %.0f ms, %d / %d, %s" % (
                        i, " (main)" if str(r.get("main")) == i else "", c["oncpu_ms"],
                        c.get("held", 0), c.get("requested", 0),
                        " / ".join(str(c.get(w, 0)) for w in TAKERS)))
        print("  A B A: log %s, trace %s, the same program untraced %s" % (
            med_spread([r["aba_log"] for r in runs]), med_spread([r["aba_trace"] for r in runs]),
            med_spread([r.get("aba_untraced", float("nan")) for r in runs])))
        ou = [r["others_untraced"] for r in runs if r.get("others_untraced") is not None]
        if ou:
            print("  other processes' share during the untraced runs: %s" % med_spread(ou))
        for p in runs[0]["paths"]:
            print("  %-30s %s" % (p, quart([x for r in runs for x in r["paths"][p]])))
        oth = [r["others"] for r in runs if r.get("others") is not None]
        if oth:
            print("  other processes' share of the machine during the runs: %s" % med_spread(oth))
        if not all(r["layout_ok"] for r in runs):
            print("  (the mutex word is not the condition variable's + 8 in some runs)")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--analyse", metavar="PREFIX", help="read a kept run (PREFIX.json, "
                    "PREFIX.sched.txt) instead of running")
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--intervals", type=float, nargs="+", default=[1, 5], help="ms")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=0.6,
                    help="the program's loop time over its threads at 1 ms (5x at 5 ms)")
    ap.add_argument("--python", nargs="+", help="interpreters (default: pyenv 3.11 and "
                    "/usr/bin/python3.11)")
    ap.add_argument("--keep", help="keep the traces in this directory")
    ap.add_argument("--nice", type=int, default=0, help="run the program at this nice value "
                    "(negative: the machine's other load, at nice >= 0, mostly off its CPUs)")
    ap.add_argument("--json", help="write the runs' summaries here")
    cmd = None
    if "--cmd" in argv:
        i = argv.index("--cmd")
        cmd, argv = argv[i + 1:], argv[:i]
        if cmd[:1] == ["--"]:
            cmd = cmd[1:]
        if not cmd:
            print("race_trace: --cmd wants a command after it (--cmd -- python3 prog.py ...)",
                  file=sys.stderr)
            return 2
    a = ap.parse_args(argv)
    if a.analyse:
        try:
            info, res, s = analyse_prefix(a.analyse)
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as err:
            print("race_trace: %s" % err, file=sys.stderr)
            return 2
        report([((" ".join(info["cmd"]) if "cmd" in info else info.get("python", "?"),
                  info["k"], info["interval_s"]), [s])])
        return 0
    if not can_trace():
        print("race_trace: tracing needs root, tracefs with the syscall events and its "
              "x86-tsc clock", file=sys.stderr)
        return 2
    if cmd:
        keep = a.keep or tempfile.mkdtemp(prefix="race_trace.")
        os.makedirs(keep, exist_ok=True)
        runs, loads = [], []
        for rep in range(a.repeats):
            prefix = os.path.join(keep, "cmd-%d" % rep)
            loads.append(load_now())
            try:
                info = trace_cmd(cmd, prefix)
                _, res, s = analyse_prefix(prefix)
            except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as err:
                print("race_trace: %s (trace kept in %s.sched.txt)" % (err, prefix),
                      file=sys.stderr)
                return 2
            s["main"] = info["main"]
            runs.append(s)
        print("machine: load average %s over the runs (1 min, at each start); traces in %s"
              % (med_spread(loads), keep))
        report([(((" ".join(cmd)), "cmd", 0), runs)])
        if a.json:
            with open(a.json, "w") as f:
                json.dump([{"cmd": cmd, "runs": runs}], f)
        return 0
    pys = a.python or pythons_default()
    if not pys:
        print("race_trace: no python3.11 found (give --python)", file=sys.stderr)
        return 2
    bad = [k for k in a.threads if k < 2] + [x for x in a.intervals if x <= 0]
    if bad or a.repeats < 1 or a.seconds <= 0:
        print("race_trace: --threads must be >= 2, --intervals > 0, --repeats >= 1, "
              "--seconds > 0", file=sys.stderr)
        return 2
    keep = a.keep or tempfile.mkdtemp(prefix="race_trace.")
    os.makedirs(keep, exist_ok=True)
    rows, loads = collections.OrderedDict(), []
    # the runs interleaved (each repeat goes over every configuration), so a
    # burst of other load spreads over them rather than landing on one
    for rep in range(a.repeats):
        for py in pys:
            for k in a.threads:
                for iv in a.intervals:
                    prefix = os.path.join(keep, "%s-k%d-%gms-%d" % (
                        os.path.basename(os.path.dirname(os.path.dirname(py))) or "py",
                        k, iv, rep))
                    loads.append(load_now())
                    secs = a.seconds * (5 if iv >= 5 else 1)
                    info = trace_run(py, k, iv / 1e3, secs, prefix, a.nice)
                    _, res, s = analyse_prefix(prefix)
                    s["aba_untraced"], s["others_untraced"] = plain_run(py, k, iv / 1e3, secs)
                    rows.setdefault((info["python"] + " " + py, k, iv / 1e3), []).append(s)
    print("machine: load average %s over the runs (1 min, at each start); the program at "
          "nice %d; traces in %s" % (med_spread(loads), a.nice, keep))
    report(list(rows.items()))
    if a.json:
        with open(a.json, "w") as f:
            json.dump([{"python": py, "k": k, "interval_s": iv, "runs": runs}
                       for (py, k, iv), runs in rows.items()], f)
    return 0


# --- the self-test ----------------------------------------------------------

class TestTrace:
    """A hand-made kernel trace for the self-tests (this one's and
    race_many.py's), in ftrace's text on the x86-tsc clock at 2 ticks per
    ns: a futex call's entry (ent; timed: with a timeout) and return (ext),
    a thread switched in or out (sw), the clock's mark (mark); cpu maps a
    tid to its CPU; lines as write_test_trace takes them."""

    def __init__(self, cpu):
        self.cpu, self.lines = cpu, []

    @staticmethod
    def tick(us):
        return int(round(us * 2000))

    def ent(self, us, tid, addr, op, val=0, timed=False):
        self.lines.append("  python3-%d [%03d] ..... %d: sys_futex(uaddr: %#x, op: %#x, val: %s, "
                          "utime: %s, uaddr2: 0, val3: 0)\n" % (
                              tid, self.cpu[tid], self.tick(us), addr, op, val,
                              "0x7f00" if timed else 0))

    def ext(self, us, tid, ret):
        self.lines.append("  python3-%d [%03d] ..... %d: sys_futex -> %#x\n" % (
            tid, self.cpu[tid], self.tick(us), ret & (2 ** 64 - 1)))

    def sw(self, us, tid, into):
        prev, nxt, state = (0, tid, "R") if into else (tid, 0, "S")
        self.lines.append("  python3-%d [%03d] d..2. %d: sched_switch: prev_comm=python3 "
                          "prev_pid=%d prev_prio=120 prev_state=%s ==> next_comm=python3 "
                          "next_pid=%d next_prio=120\n" % (tid, self.cpu[tid], self.tick(us),
                                                           prev, state, nxt))

    def mark(self, us):
        self.lines.append("  <...>-1 [000] ..... %d: tracing_mark_write: race_mono %d\n"
                          % (self.tick(us), 10**9 + int(us * 1000)))


def write_test_trace(path, lines):
    """Writes a hand-made trace as the kernel would: each CPU's events in
    order, the file grouping them by CPU between the first and last marks
    (sorted in place, so the caller's list matches the file)."""
    lines[1:-1] = sorted(lines[1:-1], key=lambda x: int(x.split(":")[0].split()[-1]))
    with open(path, "w") as f:
        f.writelines(lines)


def self_test():
    """A hand-made trace of three threads (log ids 1-3, tids 11-13, 11 on CPU
    1, the others on CPU 0) on the x86-tsc clock at 2 ticks per ns, the futex
    words laid out as CPython's struct has them: one forced drop of each
    class, a timeout that sets no request (its wait began before the holder
    took the GIL), and the last drop with no request. Then the errors on a
    trace without marks and on one without a timed wait."""
    fails = []
    # switched in and out at one instant: a None beside a CPU at equal times
    seq = [(1, None), (2, 0), (2, None), (5, 1)]
    if [last_at(seq, t) for t in (0, 2, 4, 5)] != [-1, 2, 2, 3]:
        fails.append("last_at %r" % [last_at(seq, t) for t in (0, 2, 4, 5)])
    C0, M, SC = 0x1000, 0x1008, 0x1050  # cond __g_signals[0], mutex, switch_cond
    CPU = {11: 1, 12: 0, 13: 0}
    tt = TestTrace(CPU)
    lines, ent, ext, sw, mark = tt.lines, tt.ent, tt.ext, tt.sw, tt.mark
    mark(0)
    sw(0, 11, True)                                  # 11 holds the GIL from 0
    ent(0.5, 12, C0, 0x89, timed=True); sw(0.8, 12, False)
    ent(1, 11, M, 0x81, 1); ext(1.2, 11, 0)          # its take_gil's unlock: acquired
    # 12's wait began before 11 took the GIL: its timeout sets no request;
    # it waits again, asleep to the end
    sw(399.9, 12, True); ext(400, 12, ETIMEDOUT)
    ent(401, 12, M, 0x81, 1); ext(401.3, 12, 0)
    ent(401.5, 12, C0, 0x89, timed=True); sw(402, 12, False)
    # drop 1, requester first: 13 times out at 1001, holds the mutex 1 us;
    # 11 found it taken at 1001.5, is woken by 13's unlock, signals at 1007
    ent(1.5, 13, C0, 0x89, timed=True); sw(2, 13, False)
    sw(1000.9, 13, True); ext(1001, 13, ETIMEDOUT)
    ent(1001.5, 11, M, 0x80, 2)
    ent(1002, 13, M, 0x81, 1); ext(1002.4, 13, 1)
    ent(1002.6, 13, C0, 0x89, timed=True); sw(1003, 13, False)
    ext(1006, 11, 0)
    ent(1007, 11, C0, 0x81, 1); ext(1008, 11, 1)
    ent(1008.5, 11, M, 0x81, 1); ext(1008.8, 11, 0)
    ent(1009, 11, SC, 0x80, 0); sw(1009.5, 11, False)
    # 13 takes the GIL: wakes the dropper on switch_cond, unlocks
    sw(1010.5, 13, True); ext(1011, 13, 0)
    ent(1012, 13, SC, 0x81, 1); sw(1012.4, 11, True); ext(1012.5, 11, 0); ext(1012.6, 13, 1)
    ent(1013, 13, M, 0x81, 1); ext(1013.2, 13, 0)
    # drop 2, holder first: 11 (waiting from 1014) times out at 2014, unlocks
    # at 2015; 13 signals at 2016 while 11 is in its futex call, not asleep:
    # the call comes back at once (-EAGAIN)
    ent(1014, 11, C0, 0x89, timed=True); sw(1015, 11, False)
    sw(2013.9, 11, True); ext(2014, 11, ETIMEDOUT)
    ent(2015, 11, M, 0x81, 1); ext(2015.3, 11, 0)
    ent(2015.8, 11, C0, 0x89, timed=True)
    ent(2016, 13, C0, 0x81, 1); ext(2016.5, 13, 0)
    ext(2016.6, 11, EAGAIN)
    ent(2017.5, 13, SC, 0x80, 0); sw(2017.6, 13, False)
    ent(2018, 11, SC, 0x81, 1); sw(2018.2, 13, True); ext(2018.3, 13, 0); ext(2018.4, 11, 1)
    ent(2019, 11, M, 0x81, 1); ext(2019.2, 11, 0)
    # drop 3, later: 13 times out at 3020, asleep again from 3022; 11
    # signals at 3050
    ent(2020, 13, C0, 0x89, timed=True); sw(2021, 13, False)
    sw(3019.9, 13, True); ext(3020, 13, ETIMEDOUT)
    ent(3021, 13, M, 0x81, 1); ext(3021.2, 13, 0)
    ent(3021.5, 13, C0, 0x89, timed=True); sw(3022, 13, False)
    ent(3050, 11, C0, 0x81, 1); ext(3050.5, 11, 1)
    ent(3050.8, 11, SC, 0x80, 0); sw(3050.9, 11, False)
    sw(3050.95, 13, True); ext(3051, 13, 0)
    ent(3052, 13, SC, 0x81, 1); ext(3052.2, 13, 1)
    ent(3052.5, 13, M, 0x81, 1); ext(3052.7, 13, 0)
    # drop 4: 13 ends (nobody asked)
    ent(4000, 13, C0, 0x81, 1); ext(4000.5, 13, 0)
    mark(5000)
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "t.txt")
        write_test_trace(p, lines)
        ev = read_trace(p)
        if ev[0][0] != 10**9 or abs(ev[-1][0] - (10**9 + 5000000)) > 1:
            fails.append("tick conversion: %r .. %r" % (ev[0][0], ev[-1][0]))
        res = analyse(ev, {1: 11, 2: 12, 3: 13})
        if res["cond"] != [C0] or res["mutex"] != M or res["switch_cond"] != [SC] \
                or not res["layout_ok"]:
            fails.append("roles %r %r %r %r" % (res["cond"], res["mutex"], res["switch_cond"],
                                                res["layout_ok"]))
        got = [(d["holder"], d["class"], [s["id"] for s in d["setters"]], d["requester_took"],
                d.get("apart")) for d in res["drops"]]
        want = [(1, "requester first", [3], True, True), (3, "holder first", [1], True, True),
                (1, "later", [3], True, True), (3, None, [], None, None)]
        if got != want:
            fails.append("drops %r, want %r" % (got, want))
        d1 = res["drops"][0]
        s1 = d1["setters"][0]
        if (s1["hold"], s1["tail"], s1["sleep"], d1.get("holder_dist"), d1.get("margin"),
                d1.get("holder_wait")) != (1000, 200, 400, 500, -500, 4500):
            fails.append("paths of drop 1: %r %r" % ({k: d1.get(k) for k in (
                "holder_dist", "margin", "holder_wait")}, s1))
        d2 = res["drops"][1]
        if (d2["holder_dist"], d2["margin"]) != (2000, 1000):
            fails.append("paths of drop 2: %r %r" % (d2["holder_dist"], d2["margin"]))
        s = summary(res, [1, 3, 1, 3])
        if s["share"] != dict({c: 1 / 3 for c in CLASSES}, asleep=2 / 3, was_last=1.0) \
                or s["share_apart"] != s["share"] \
                or s["aba_log"] != 1.0 or s["aba_trace"] != 1.0 or s["took"]["all"] != (1.0, 3):
            fails.append("summary %r" % {k: s[k] for k in ("share", "share_apart", "aba_log",
                                                            "aba_trace", "took")})
        q = os.path.join(d, "q.txt")
        with open(q, "w") as f:
            f.writelines(x for x in lines if "tracing_mark" not in x)
        try:
            read_trace(q)
            fails.append("a tick trace without marks was read")
        except ValueError as err:
            if "race_mono" not in str(err):
                fails.append("error %r" % err)
        with open(q, "w") as f:
            f.writelines(x for x in lines if "0x89" not in x)
        try:
            analyse(read_trace(q), {1: 11, 2: 12, 3: 13})
            fails.append("a trace without timed waits was analysed")
        except ValueError as err:
            if "timed wait" not in str(err):
                fails.append("error %r" % err)
    fails += self_test_takers(ent, ext, sw, mark, lines, CPU, C0, M, SC)
    for f in fails:
        print("FAIL: " + f)
    print("race_trace self-test: %s" % ("FAIL" if fails else "ok"))
    return 1 if fails else 0


def self_test_takers(ent, ext, sw, mark, lines, CPU, C0, M, SC):
    """Who took the GIL: 11 holds; 12 has waited since before 11 took it;
    13 times out and asks (drop A), the signal wakes 12, which takes the
    GIL and wakes the dropper on switch_cond (a waiter took it, its wait
    older than the requester's); 13 asks again (drop B) and 14, in no wait
    (back from a call that released the GIL), takes it: only its own next
    signal names it (returning)."""
    fails = []
    del lines[:]
    CPU[14] = 1
    mark(0)
    sw(0, 11, True)
    ent(0.5, 12, C0, 0x89, timed=True); sw(0.8, 12, False)
    ent(1, 11, M, 0x81, 1); ext(1.2, 11, 0)
    ent(1.5, 13, C0, 0x89, timed=True); sw(2, 13, False)
    sw(1000.9, 13, True); ext(1001, 13, ETIMEDOUT)
    ent(1001.5, 13, M, 0x81, 1); ext(1001.8, 13, 0)
    ent(1002, 13, C0, 0x89, timed=True); sw(1002.5, 13, False)
    ent(1010, 11, C0, 0x81, 1); ext(1010.5, 11, 1)
    ent(1010.8, 11, SC, 0x80, 0); sw(1010.9, 11, False)
    sw(1011, 12, True); ext(1011.2, 12, 0)
    ent(1011.5, 12, SC, 0x81, 1); ext(1011.7, 12, 1)
    ent(1012, 12, M, 0x81, 1); ext(1012.2, 12, 0)
    # 13's wait from 1002 began before 12 took the GIL: no request; it
    # waits again and asks at 2002 (drop B)
    sw(1501.9, 13, True); ext(1502, 13, ETIMEDOUT)
    ent(1502.5, 13, M, 0x81, 1); ext(1502.8, 13, 0)
    ent(1503, 13, C0, 0x89, timed=True); sw(1503.5, 13, False)
    sw(2001.9, 13, True); ext(2002, 13, ETIMEDOUT)
    ent(2002.5, 13, M, 0x81, 1); ext(2002.8, 13, 0)
    ent(2003, 13, C0, 0x89, timed=True); sw(2003.5, 13, False)
    ent(2010, 12, C0, 0x81, 1); ext(2010.5, 12, 1)
    ent(3000, 14, C0, 0x81, 1); ext(3000.5, 14, 0)
    mark(5000)
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "t2.txt")
        write_test_trace(p, lines)
        res = analyse(read_trace(p), {1: 11, 2: 12, 3: 13, 4: 14})
    got = [(d["holder"], [s["id"] for s in d["setters"]], d.get("taker"), d.get("taker_id"),
            d.get("switch_taker"), d.get("waiter_age")) for d in res["drops"]]
    want = [(1, [3], "waiter", 2, 2, "before the requester's"),
            (2, [3], "returning", 4, None, None), (4, [], None, None, None, None)]
    if got != want:
        fails.append("takers %r, want %r" % (got, want))
    s = summary(res)
    if (s["takers"]["waiter"], s["takers"]["returning"], s["takers"]["seen"]) != (0.5, 0.5, 0.5):
        fails.append("taker shares %r" % s["takers"])
    return fails


if __name__ == "__main__":
    sys.exit(main())
