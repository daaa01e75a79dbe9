"""checks.py - what the Python test scripts share: the pass/fail tally, and
the machine's interpreters.

    sys.path.insert(0, <the tests directory>)
    from checks import check, skip, exit_status, FAILS, SKIPS, executables

check(cond, what) prints "ok   WHAT" or "FAIL WHAT", notes a failure in
FAILS and returns cond, so a script can go on from a failed check or stop.
skip(what) prints "SKIP WHAT" for a check the machine's load left unjudged
and notes it in SKIPS: a skip is never a pass. exit_status() says how many
failed or went unjudged and returns the exit status ctest reads: 1 if any
check failed, else 77 (SKIP_RETURN_CODE) if any was skipped, else 0.
FAILS and SKIPS are lists that are only ever appended to, so a script that
imports them by name sees every entry.
executables(*patterns) lists Debian's /usr/bin/python3 and the pyenv
interpreters matching the patterns, each file once, for the scripts to ask
which they can use."""
import glob
import os

FAILS = []
SKIPS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)
    return cond


def skip(what):
    """A check the machine's load left unjudged: said, counted, never a pass."""
    print("SKIP " + what, flush=True)
    SKIPS.append(what)


def exit_status():
    if FAILS:
        print(f"{len(FAILS)} check(s) failed", flush=True)
        return 1
    if SKIPS:
        print(f"SKIP: {len(SKIPS)} check(s) not judged, the machine too loaded: {SKIPS}",
              flush=True)
        return 77
    return 0


def executables(*patterns):
    """/usr/bin/python3, then the files matching each glob pattern under
    pyenv's versions ($PYENV_ROOT, else ~/.pyenv: "3.*/bin/python3"), sorted;
    each real file once, and only those that can be run."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    cands = ["/usr/bin/python3"]
    for p in patterns:
        cands += sorted(glob.glob(os.path.join(root, "versions", p)))
    out, seen = [], set()
    for c in cands:
        real = os.path.realpath(c)
        if real not in seen and os.access(c, os.X_OK):
            seen.add(real)
            out.append(c)
    return out
