#!/usr/bin/env python3
"""Python 2.7's GIL battle UNPINNED, traced by the kernel (issue 16): where
does the kernel run the waiter that the holder's tick release wakes, while
the holder keeps running?

Runs PAIRS pairs (one thread doing both halves, then two CPU-bound threads,
as vprobe.py's battle) under the real 2.7 with a tracefs instance of its own
recording sched_waking / sched_wakeup / sched_wakeup_new / sched_migrate_task /
sched_switch,
and prints per pair, for the two worker threads:
  - the wall ratio (two threads / serial);
  - the wake-ups of one worker by the other: those that found it already on
    the waker's CPU, and those that found it on the other one, of which how
    many the kernel aimed at the waker's CPU (pulled: the Lock hand-offs'
    `wake_affine` measures the same choice) and how many found its own CPU
    idle;
  - whether the two were on one CPU once the gate had woken both, the share
    of the threaded run they spent on one CPU (each thread's CPU being the
    one it runs, waits or last slept on), the number of such episodes and
    their median length, what began them (the workers' start, a wake-up
    bringing one to the other's CPU, or a balance) and what ended them (a
    wake-up sending one away, or a balance: a sched_migrate_task that is not
    part of a wake-up);
  - where each worker was created (sched_wakeup_new), by which CPU, and what
    the other CPUs ran then;
  - voluntary switches (switched out sleeping) per thread, and preemptions;
  - the other processes' share of the two CPUs during the threaded run;
and a summary over the pairs: the pulled share, and the ratio of the pairs
that spent most of the run on one CPU against those on two.
Needs root (tracefs) and the pyenv 2.7.18 (or --python). The machine's
other load decides where the threads go: --boost runs 2.7 in an autogroup of
its own at nice -20 (keep such runs short on a shared machine).

    python3 tests/reality/battle27_trace.py --pairs 5 [--keep PREFIX]
    python3 tests/reality/battle27_trace.py --analyse PREFIX

Its summary also names the balance that moved a worker (balance_kind: the
stopper's active balance, newidle, an idle or a busy CPU's periodic balance,
nohz on another's behalf) and, for each stretch a wake-up began, whether it
was pulled onto the waker's CPU and what its own previous CPU ran then.
"""
import argparse
import json
import os
import statistics as st
import subprocess
import sys
import tempfile

from tracefs import TRACEFS, sched_events, sched_trace

# Runs under Python 2.7: no f-strings. Each worker prints its kernel tid.
PROGRAM = r'''
import ctypes, json, sys, threading, time
libc = ctypes.CDLL(None)
def tid():
    return libc.syscall(186)  # gettid, x86_64
def spin(n):
    while n:
        n -= 1
n, pairs = int(sys.argv[1]), int(sys.argv[2])
out = []
for _ in range(pairs):
    t = time.time(); spin(n); spin(n); s = time.time() - t
    gate = threading.Event(); tids = [0, 0]
    def body(k):
        tids[k] = tid()
        gate.wait()
        spin(n)
    ts = [threading.Thread(target=body, args=(k,)) for k in (0, 1)]
    for x in ts: x.start()
    time.sleep(0.005)
    t = time.time(); gate.set()
    for x in ts: x.join()
    p = time.time() - t
    out.append({"serial_s": s, "two_s": p, "ratio": p / s, "tids": tids})
print(json.dumps(out))
'''

EVENTS = ("sched_switch", "sched_waking", "sched_wakeup", "sched_migrate_task",
          "sched_wakeup_new")


def record(args, prefix):
    with sched_trace("gilsim-battle27", EVENTS, 40000, PROGRAM, prefix) as (put, prog):
        put("tracing_on", "1")
        cmd = [args.python, prog, str(args.turns), str(args.pairs)]
        if args.boost:
            # its own autogroup at nice -20, so that the other sessions' load
            # (each session is an autogroup of equal weight) takes less
            cmd = ["setsid", "sh", "-c", 'echo -20 > /proc/self/autogroup && exec "$@"',
                   "sh", "nice", "-n", "-20"] + cmd
        p = subprocess.run(cmd,
                           capture_output=True, text=True, check=True)
        put("tracing_on", "0")
        with open(prefix + ".pairs.json", "w") as f:
            f.write(p.stdout)


events = sched_events


def creation(ev, tids):
    """Where the kernel put each worker when it was created (sched_wakeup_new:
    its target CPU, the creator's CPU being the one that traced it), and what
    ran on the creator's and the target's CPU then (0: idle)."""
    cur, out = {}, []
    for t, cpu, kind, f in ev:
        if kind == "sched_switch":
            cur[cpu] = int(f["next_pid"])
        elif kind == "sched_wakeup_new" and int(f["pid"]) in tids:
            tgt = int(f["target_cpu"])
            out.append({"tid": int(f["pid"]), "creator_cpu": cpu, "cpu": tgt,
                        "others": dict((c, p) for c, p in cur.items() if c != cpu)})
            if len(out) == len(tids):
                break
    return out


def balance_kind(cpu, f, cur):
    """Which of Linux's balances logged this sched_migrate_task (one outside
    a wake-up), from the line's CPU, its flags and the task that logged it:
    "active" (the migration/N stopper pushing a running task: active
    balance), "newidle" (in process context on the destination, that is
    schedule() finding its CPU about to idle: sched_balance_newidle),
    "idle" (in the softirq on the destination while it idles: the periodic
    or nohz balance of an idle CPU), "busy" (in the softirq on a busy
    destination: the periodic balance), "nohz" (in the softirq on another CPU:
    a nohz idle balance done on an idle CPU's behalf), or "other"."""
    dest, fl = int(f["dest_cpu"]), f.get("flags_", "")
    if f.get("by_", "").startswith("migration/"):
        return "active"
    if len(fl) > 2 and fl[2] in "sS":
        if cpu != dest:
            return "nohz"
        return "idle" if cur.get(dest) == 0 else "busy"
    return "newidle" if cpu == dest else "other"


def analyse_pair(ev, tids):
    """The figures of one threaded run, from the kernel's events of its two
    workers (tids) between the first one's start and the last one's exit.
    A worker's CPU is the one it runs or is queued on, or slept on last
    (the kernel's task_cpu): the two "share a CPU" while those are equal."""
    w = set(tids)
    mine = [e for e in ev if (e[2] == "sched_switch" and
                              (int(e[3]["prev_pid"]) in w or int(e[3]["next_pid"]) in w))
            or (e[2] != "sched_switch" and int(e[3]["pid"]) in w)]
    if not mine:
        return None
    t0 = min(e[0] for e in mine if e[2] == "sched_switch")
    t1 = max(e[0] for e in mine)
    cur = {}           # cpu -> pid running there (from sched_switch)
    home = {}          # worker -> its CPU (task_cpu)
    running = set()    # workers on a CPU now
    vol = dict.fromkeys(w, 0)
    pre = dict.fromkeys(w, 0)
    # wakes of one worker by the other: same (the woken one's CPU is the
    # waker's already), cross (it is the other CPU): pulled onto the waker's
    # CPU, or left on its own
    wakes = {"total": 0, "by_worker": 0, "same": 0, "cross": 0, "pulled": 0, "prev_idle": 0}
    start_same = None  # both on one CPU once each had been woken (the gate)
    woken = set()
    balance_moves = 0
    shared_ns, episodes, ep_start, ends = 0, [], None, {"wakeup": 0, "balance": 0}
    # what began each stretch on one CPU: a wake-up (one worker woken onto the
    # other's CPU), a balance (a migration outside a wake-up), or the start
    # (the workers' first runs, where they were created)
    starts = {"wakeup": 0, "balance": 0, "start": 0}
    # which balance moved a worker (balance_kind), over all such moves and
    # over those that began a stretch; and, for the wake-ups that began one,
    # what the woken worker's previous CPU ran at that moment
    bal_kinds, join_balance = {}, {}
    join_wake = {"pulled": 0, "prev_idle": 0, "prev_worker": 0, "prev_other": 0}
    join_wake_others = {}
    curcomm = {}       # cpu -> comm running there
    last = None        # what the event at hand did, for a stretch it begins
    busy_for = {"pulled": [], "stayed": []}
    both_run_ns, both_since = 0, None
    busy_other = {}
    last_t = {}
    waking = {}        # pid -> waker cpu, between sched_waking and sched_wakeup
    pending_mig = {}

    def both_on_one():
        return len(home) == 2 and len(set(home.values())) == 1

    for t, cpu, kind, f in ev:
        if t > t1:
            break
        if t < t0:
            if kind == "sched_switch":
                cur[cpu] = int(f["next_pid"])
                curcomm[cpu] = f.get("next_comm", "")
                last_t[cpu] = t
            continue
        was = both_on_one()
        if kind == "sched_switch":
            p, n = int(f["prev_pid"]), int(f["next_pid"])
            if cpu in last_t and cur.get(cpu, 0) not in w and cur.get(cpu, 0) != 0:
                busy_other[cpu] = busy_other.get(cpu, 0) + t - max(last_t[cpu], t0)
            cur[cpu], last_t[cpu] = n, t
            curcomm[cpu] = f.get("next_comm", "")
            if p in w:
                running.discard(p)
                if f["prev_state"].startswith(("S", "D")):
                    vol[p] += 1
                elif f["prev_state"].startswith("R"):
                    pre[p] += 1
                else:
                    home.pop(p, None)
            if n in w:
                home[n] = cpu
                running.add(n)
        elif int(f.get("pid", -1)) not in w:
            continue
        elif kind == "sched_waking":
            waking[int(f["pid"])] = cpu
        elif kind == "sched_migrate_task":
            p = int(f["pid"])
            if p in waking:
                pending_mig[p] = int(f["orig_cpu"])
            elif p in home:
                home[p] = int(f["dest_cpu"])
                balance_moves += 1
                last = balance_kind(cpu, f, cur)
                bal_kinds[last] = bal_kinds.get(last, 0) + 1
                if was and not both_on_one():
                    ends["balance"] += 1
        elif kind == "sched_wakeup":
            p = int(f["pid"])
            tgt = int(f["target_cpu"])
            wcpu = waking.pop(p, None)
            prev = pending_mig.pop(p, home.get(p))
            occ = cur.get(prev)
            last = ("pulled" if tgt == wcpu and prev != wcpu else None,
                    "prev_idle" if occ == 0 else "prev_worker" if occ in w else
                    "prev_other" if occ is not None else None,
                    curcomm.get(prev, ""))
            wakes["total"] += 1
            waker = cur.get(wcpu) if wcpu is not None else None
            if waker in w and waker != p:
                wakes["by_worker"] += 1
                if prev == wcpu:
                    wakes["same"] += 1
                else:
                    wakes["cross"] += 1
                    if tgt == wcpu:
                        wakes["pulled"] += 1
                    if cur.get(prev) == 0:
                        wakes["prev_idle"] += 1
                    elif cur.get(prev) is not None and cur[prev] not in w and prev in last_t:
                        # another task on the previous CPU: how long it had
                        # run there, for the pulled wake-ups and the others
                        busy_for["pulled" if tgt == wcpu else "stayed"].append(
                            (t - last_t[prev]) / 1e6)
            home[p] = tgt
            woken.add(p)
            if start_same is None and len(woken) == 2:
                start_same = both_on_one()
            if was and not both_on_one():
                ends["wakeup"] += 1
        now = both_on_one()
        if now and not was:
            ep_start = t
            how = ("wakeup" if kind == "sched_wakeup" else
                   "balance" if kind == "sched_migrate_task" else "start")
            starts[how] += 1
            if how == "balance":
                join_balance[last] = join_balance.get(last, 0) + 1
            elif how == "wakeup":
                for k in last[:2]:
                    if k:
                        join_wake[k] += 1
                if last[1] == "prev_other":
                    join_wake_others[last[2]] = join_wake_others.get(last[2], 0) + 1
        elif was and not now and ep_start is not None:
            episodes.append(t - ep_start)
            shared_ns += t - ep_start
            ep_start = None
        if len(running) == 2 and both_since is None:
            both_since = t
        elif len(running) < 2 and both_since is not None:
            both_run_ns += t - both_since
            both_since = None
    if ep_start is not None:
        episodes.append(t1 - ep_start)
        shared_ns += t1 - ep_start
    for cpu in cur:
        if cpu in last_t and cur[cpu] not in w and cur[cpu] != 0:
            busy_other[cpu] = busy_other.get(cpu, 0) + t1 - max(last_t[cpu], t0)
    span = t1 - t0
    return {"span_ms": span / 1e6, "shared_share": shared_ns / span if span else 0,
            "parallel_share": both_run_ns / span if span else 0,
            "episodes": len(episodes), "start_same": start_same,
            "episode_median_ms": st.median(episodes) / 1e6 if episodes else 0,
            "ends": ends, "starts": starts, "balance_moves": balance_moves, "wakes": wakes,
            "balance_kinds": bal_kinds, "join_balance": join_balance,
            "join_wake": join_wake, "join_wake_others": join_wake_others,
            "vol": sorted(vol.values()), "preempted": sorted(pre.values()),
            "busy_for_ms": busy_for,
            "others_share": sum(busy_other.values()) / (2 * span) if span else 0}


def analyse(prefix):
    try:
        with open(prefix + ".pairs.json") as f:
            pairs = json.load(f)
        ev = events(prefix)
    except (OSError, ValueError) as e:
        sys.exit("battle27_trace.py: %s: cannot read this run (%s); --analyse wants the "
                 "PREFIX that --keep wrote PREFIX.pairs.json and PREFIX.sched.txt under"
                 % (prefix, e))
    if not isinstance(pairs, list) or not all(isinstance(p, dict) and "tids" in p
                                              and "ratio" in p for p in pairs):
        sys.exit("battle27_trace.py: %s.pairs.json: want a list of pairs, each with "
                 "\"tids\" and \"ratio\"" % prefix)
    res = []
    for p in pairs:
        a = analyse_pair(ev, p["tids"])
        if a:
            a["created"] = creation(ev, p["tids"])
            a["ratio"] = p["ratio"]
            res.append(a)
    return res


def show(res):
    for a in res:
        wk = a["wakes"]
        print("ratio %.2fx  others %3.0f%% of 2 CPUs  both running %3.0f%%  one CPU %3.0f%% of "
              "%.0f ms (%d episodes, median %.2f ms; begun by start %d, wake-up %d, balance %d; "
              "ended by wake-up %d, balance %d)  "
              "wakes by the other worker %d: already on its CPU %d, from the other CPU %d "
              "(pulled onto the waker's %d, its own CPU idle %d)  vol %s  preempted %s  "
              "one CPU after the gate: %s" % (
                  a["ratio"], 100 * a["others_share"], 100 * a["parallel_share"],
                  100 * a["shared_share"], a["span_ms"], a["episodes"],
                  a["episode_median_ms"], a["starts"]["start"], a["starts"]["wakeup"],
                  a["starts"]["balance"], a["ends"]["wakeup"], a["ends"]["balance"],
                  wk["by_worker"], wk["same"], wk["cross"], wk["pulled"], wk["prev_idle"],
                  a["vol"], a["preempted"], a["start_same"]))
        if a.get("created"):
            print("    created: " + "; ".join(
                "on CPU %d by CPU %d (other CPUs running %s)" % (c["cpu"], c["creator_cpu"],
                                                                 c["others"])
                for c in a["created"]))
    if len(res) > 1:
        cross = sum(a["wakes"]["cross"] for a in res)
        one = [a for a in res if a["shared_share"] >= 0.5]
        two = [a for a in res if a["shared_share"] < 0.5]
        med = lambda xs: st.median(xs) if xs else float("nan")
        print("%d pairs: wakes of a worker on the other CPU by the running holder %d, pulled "
              "onto the holder's CPU %d (%.3f), left on its own idle CPU %d; pairs mostly on "
              "one CPU %d (on one CPU from the gate %d), ratio %.2fx, others %.0f%%; on two "
              "CPUs %d, ratio %.2fx, others %.0f%%" % (
                  len(res), cross, sum(a["wakes"]["pulled"] for a in res),
                  sum(a["wakes"]["pulled"] for a in res) / max(1, cross),
                  sum(a["wakes"]["prev_idle"] for a in res), len(one),
                  sum(1 for a in one if a["start_same"]),
                  med([a["ratio"] for a in one]), 100 * med([a["others_share"] for a in one]),
                  len(two), med([a["ratio"] for a in two]),
                  100 * med([a["others_share"] for a in two])))
        print("stretches on one CPU begun by the workers' start %d, a wake-up %d, a balance "
              "%d; ended by a wake-up %d, a balance %d" % tuple(
                  sum(a[w][k] for a in res) for w, k in (("starts", "start"),
                                                         ("starts", "wakeup"),
                                                         ("starts", "balance"),
                                                         ("ends", "wakeup"),
                                                         ("ends", "balance"))))
        add = lambda key: dict((k, sum(a[key].get(k, 0) for a in res))
                               for k in sorted(set(k for a in res for k in a[key])))
        print("balances that moved a worker, by kind: %s; of them beginning a stretch: %s; "
              "wake-ups beginning a stretch: %s; the other task then on the woken "
              "one's previous CPU: %s" % (add("balance_kinds"), add("join_balance"),
                                          add("join_wake"), add("join_wake_others")))
        for k in ("pulled", "stayed"):
            xs = [x for a in res for x in a["busy_for_ms"][k]]
            print("wake-ups from the other CPU %s while another task ran on the woken one's "
                  "previous CPU: %d, that task on it for a median %.3f ms (quartiles %s)" % (
                      "pulled onto the waker's" if k == "pulled" else "left on its own",
                      len(xs), med(xs),
                      " to ".join("%.3f" % q for q in st.quantiles(xs, n=4)[::2])
                      if len(xs) > 1 else "-"))


def self_test():
    """battle27_trace_test.py, on a kernel trace made by hand; exits 1 on a
    wrong figure."""
    import battle27_trace_test
    if battle27_trace_test.main():
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=os.path.expanduser("~/.pyenv/versions/2.7.18/bin/python2.7"))
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--turns", type=int, default=1000000)
    ap.add_argument("--boost", action="store_true",
                    help="run 2.7 in an autogroup of its own at nice -20 (less of the others' load)")
    ap.add_argument("--keep", help="file prefix to keep the run's files under")
    ap.add_argument("--analyse", help="analyse an earlier run's files (PREFIX)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--self-test", action="store_true",
                    help="check the analysis on a hand-written run (no root, no 2.7)")
    a = ap.parse_args()
    if a.self_test:
        self_test()
        return
    if a.analyse:
        res = analyse(a.analyse)
    else:
        if os.geteuid() != 0:
            sys.exit("battle27_trace.py: needs root for the tracefs instance (%s)" % TRACEFS)
        prefix = a.keep or tempfile.mkdtemp(prefix="battle27-") + "/run"
        record(a, prefix)
        res = analyse(prefix)
        print("files: %s.pairs.json %s.sched.txt" % (prefix, prefix), file=sys.stderr)
    if a.json:
        print(json.dumps(res))
    else:
        show(res)


if __name__ == "__main__":
    main()
