#!/usr/bin/env python3
"""Model against model on one calibration: rerun reality.py's model side with
other gilsim settings, binaries or seeds while the real side stays what one
run measured.

A model change is judged by how it moves the key figures, and on a shared,
noisy machine two runs of reality.py calibrate differently: the real side
then moves as much as the model. This tool runs reality.py once with every
real measurement (the functions of programs.py and noise.py, and each
experiment's noise meter) saved in a cache, then reruns it as often as
wanted with the cache answering in place of the real programs, so only the
model side is run again (seconds, not minutes).

  model_variants.py record CACHE -- [reality.py args]
  model_variants.py replay CACHE [--machine RUN.json] [--bin GILSIM]
                    [--seed N] [--set KEY=VALUE ...] -- [reality.py args]
  model_variants.py compare [--against RUN.json] A.json B.json ...

record and replay take reality.py's own arguments after "--" (--full,
--gilsim, --json OUT, --only, --keep); give both the same experiments: a
replay whose --full, --only or --py-constants differ from its record's is
refused, since the cache answers each name's calls in order.
--machine takes the machine calibration (wake-ups, costs, requester_first)
from another run's --json file, e.g. the quiet run of the page, instead of
this run's; each experiment's own costs (a loop turn, a hash call) stay this
run's. Without --machine the calibration is this run's, and requester_first,
which reality.py fits with the model itself, is fitted again by the variant's
model. --bin and --set go to every `gilsim run` of the model side; --seed
is reality.py's (every scenario's seed, from which the rows that take the
median of several seeds count).
Other processes' share of the machine and the load average are replayed
too, so a replay retries exactly the experiments the record retried. compare prints each key figure's predicted value per
file (the median of files given as DIR/*.json) against the measured one of
--against (default: the first file's).
"""
import functools
import glob
import json
import os
import pickle
import shlex
import statistics
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True


def split_args(argv):
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def cached(mode, store):
    """Wraps programs.py's and noise.py's functions: each outermost call is
    the n-th call of its name, answered from the store on replay."""
    import noise
    import programs as P
    calls, depth = {}, [0]

    def wrap(name, fn):
        @functools.wraps(fn)
        def w(*a, **k):
            if depth[0]:
                return fn(*a, **k)  # called by another measured function
            if name == "loadavg":
                # read as often as reality.py asks whether the machine was
                # busy, which a variant's model can change (a direction the
                # model misses is judged against the load): counted from the
                # last meter, and past the recorded ones, the last of them
                at = calls.get("Meter", 0)
                n = calls.get(("loadavg", at), 0)
                calls[("loadavg", at)] = n + 1
                key = ("loadavg", at, n)
                if mode == "replay" and key not in store:
                    # the latest reading recorded at or before this point
                    old = [x for x in store if x[0] == "loadavg" and len(x) == 3
                           and (x[1], x[2]) <= (at, n)]
                    if old:
                        key = max(old)
            else:
                key = (name, calls.get(name, 0))
                calls[name] = key[1] + 1
            if mode == "replay":
                if key not in store and not any(isinstance(x, tuple) and x[0] == name
                                                for x in store):
                    # a measurement added after the record was made (race_drops):
                    # answered as on a machine where it cannot run
                    return None
                if key not in store:
                    raise SystemExit("model_variants: %s call %s is not in the cache: "
                                     "record and replay the same experiments"
                                     % (name, ", ".join(map(str, key[1:]))))
                return store[key]
            depth[0] += 1
            try:
                r = fn(*a, **k)
            finally:
                depth[0] -= 1
            try:
                pickle.dumps(r)
                store[key] = r
            except Exception:
                pass
            return r
        return w

    # pure functions that reality.py also applies to the model's output
    # (reality.Tape.PURE): cached, the variant's requester_first fit would
    # read the recorded model's answers instead of its own
    pure = ("ncpu", "back_to_second_last")
    for mod in (P, noise):
        for name, fn in list(vars(mod).items()):
            if isinstance(fn, types.FunctionType) and fn.__module__ == mod.__name__ \
                    and name not in pure:
                setattr(mod, name, wrap(name, fn))
    base = noise.Meter

    class Meter(base):
        def __exit__(self, *exc):
            r = base.__exit__(self, *exc)
            key = ("Meter", calls.get("Meter", 0))
            calls["Meter"] = key[1] + 1
            if mode == "replay":
                self.others = store[key]
            else:
                store[key] = self.others
            return r
    noise.Meter = Meter


def machine_from(reality, path):
    with open(path) as f:
        saved = json.load(f)["machine"]
    m = reality.Machine.default()
    for k, v in saved.items():
        if k in ("wake_curve", "timer_curve"):
            v = [tuple(p) for p in v]
        setattr(m, k, v)
    return m


def wrapper(binary, extra):
    """A gilsim that appends extra to every `run` (reality.py calls it)."""
    fd, path = tempfile.mkstemp(prefix="gilsim-variant-", suffix=".sh")
    with os.fdopen(fd, "w") as f:
        f.write('#!/bin/sh\nif [ "$1" = run ]; then exec %s "$@" %s; fi\nexec %s "$@"\n'
                % (shlex.quote(binary), " ".join(shlex.quote(x) for x in extra),
                   shlex.quote(binary)))
    os.chmod(path, 0o755)
    return path


SELECTION = ("--full", "--only", "--py-constants")  # what decides reality.py's calls


def selection(rargs):
    """The reality.py arguments that decide which real measurements it makes,
    in order: a replay must give the same, or the cache answers each call with
    another call's recorded value (the n-th call of a name)."""
    out, i = [], 0
    while i < len(rargs):
        a = rargs[i]
        if a in ("--full", "--py-constants"):
            out.append(a)
        elif a == "--only" and i + 1 < len(rargs):
            out += [a, rargs[i + 1]]
            i += 1
        elif a.startswith("--only="):
            out += ["--only", a.split("=", 1)[1]]
        i += 1
    return out


def run(mode, own, rargs):
    cache = own[0]
    store = {}
    if mode == "replay":
        with open(cache, "rb") as f:
            store = pickle.load(f)
        rec = store.get(("__selection__",))
        if rec is not None and rec != selection(rargs):
            raise SystemExit(
                "model_variants: %s was recorded with reality.py %s, the replay asks for %s: "
                "the cache answers calls in order, so a replay must select the same experiments "
                "(give the record's %s)" % (cache, " ".join(rec) or "(no selection)",
                                           " ".join(selection(rargs)) or "(no selection)",
                                           "/".join(SELECTION)))
    else:
        store[("__selection__",)] = selection(rargs)
    cached(mode, store)
    import reality
    machine, binary, extra = None, None, []
    i = 1
    while i < len(own):
        if own[i] in ("--machine", "--bin", "--seed", "--set") and i + 1 < len(own):
            k, v = own[i], own[i + 1]
            if k == "--machine":
                machine = v
            elif k == "--bin":
                binary = v
            elif k == "--seed":
                # reality.py's own --seed: the seed of every scenario, from
                # which a row that takes the median of several seeds counts
                # on (appended to `gilsim run`, it would make them one seed)
                rargs = [a for j, a in enumerate(rargs)
                         if a != "--seed" and (j == 0 or rargs[j - 1] != "--seed")]
                rargs += ["--seed", v]
            else:
                extra += [k, v]
            i += 2
        else:
            raise SystemExit("model_variants: unknown argument %s" % own[i])
    # retries follow the recorded run by themselves: busy() reads the
    # replayed meters and load averages (forcing it False, a record that
    # retried a busy experiment was replayed with its first attempt, and the
    # later experiments with the retries' measurements)
    if machine:
        m = machine_from(reality, machine)
        own_calibration = reality.Machine.calibrate

        def calibrate(plan):
            # this run's calibration still runs (on replay, takes its
            # recorded answers): the experiments' own calls of the same
            # functions (a spin turn, a ping-pong, the CPU pair) follow it in
            # the cache, recorded with or without --machine alike; then its
            # result is replaced
            own_calibration(plan)
            return m
        reality.Machine.calibrate = staticmethod(calibrate)
        reality.Machine.fit_requester_first = lambda self, sim: None
    wrap_path = None
    if binary or extra:
        gs = rargs[rargs.index("--gilsim") + 1] if "--gilsim" in rargs else None
        binary = binary or gs
        if not binary:
            raise SystemExit("model_variants: --set needs --bin or reality's --gilsim")
        wrap_path = wrapper(os.path.abspath(binary), extra)
        rargs = [a for j, a in enumerate(rargs)
                 if a != "--gilsim" and (j == 0 or rargs[j - 1] != "--gilsim")]
        rargs += ["--gilsim", wrap_path]
    try:
        rc = reality.main(rargs)
    finally:
        if mode == "record":
            with open(cache, "wb") as f:
                pickle.dump(store, f)
        if wrap_path:
            os.unlink(wrap_path)
    return rc


def key_rows(path):
    with open(path) as f:
        d = json.load(f)
    return {(e["id"], r["label"]): r for e in d["experiments"] for r in e["rows"]
            if r.get("key")}


def compare(own):
    against = None
    if own and own[0] == "--against":
        against, own = own[1], own[2:]
    groups = []
    for p in own:
        files = sorted(glob.glob(os.path.join(p, "*.json"))) if os.path.isdir(p) else [p]
        groups.append((p, [key_rows(f) for f in files]))
    ref = key_rows(against) if against else groups[0][1][0]
    print("%-70s %10s  %s" % ("key figure", "measured",
                              "  ".join("%18s" % os.path.basename(p.rstrip("/"))
                                        for p, _ in groups)))
    within = [0] * len(groups)
    for k, r in ref.items():
        meas = r["measured"]
        cells = []
        for gi, (_, rows) in enumerate(groups):
            xs = [x[k]["predicted"] for x in rows if k in x and x[k]["predicted"] is not None]
            if not xs or not meas:
                cells.append("%18s" % "n/a")
                continue
            ratio = statistics.median(xs) / meas
            within[gi] += abs(ratio - 1) <= 0.25
            cells.append("%8.2f (%3.2f-%3.2f)" % (ratio, min(xs) / meas, max(xs) / meas))
        # a row the record did not measure (a measurement added since) is n/a
        print("%-70s %10s  %s" % (("%s: %s" % k)[:70], "n/a" if meas is None else
                                  "%.4g" % meas, "  ".join(cells)))
    print("within 25%%: %s of %d" % (", ".join(map(str, within)), len(ref)))
    return 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("record", "replay", "compare"):
        print(__doc__)
        return 2
    own, rargs = split_args(sys.argv[2:])
    if sys.argv[1] == "compare":
        return compare(own)
    if not own:
        raise SystemExit("model_variants: give the cache file")
    return run(sys.argv[1], own, rargs)


if __name__ == "__main__":
    sys.exit(main())
