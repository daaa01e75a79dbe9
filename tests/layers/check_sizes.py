#!/usr/bin/env python3
"""check_sizes.py - the size limits of STYLE.md and issue 12, checked.

    check_sizes.py --source DIR [--max-file 800] [--max-function 80]
    check_sizes.py --selftest

Every .c and .h file under sim/ and ui/ stays under --max-file lines, and
every function in it (a header's inline ones too) under --max-function lines
(from the line of its name to its closing brace; a function is a body opened
by "{" in column 0 and closed by "}" in column 0, the project's layout).
Prints one line per breach, naming the file, the line and the function, and
exits 1 if there is any; 0 when clean.
--selftest feeds the checker a file that breaks each limit and one that
keeps them, and fails unless exactly the breaches are found.
"""
import argparse
import os
import sys
import tempfile


def functions(lines):
    """(name line number, name, length) of each column-0 brace body."""
    i = 0
    while i < len(lines):
        if lines[i].startswith("{") and i > 0:
            # the signature: the lines just above, back to a blank line, a
            # closing brace, or the end of a statement or comment
            k = i - 1
            while k > 0:
                above = lines[k - 1].rstrip()
                if not above or above.startswith("}") or above.endswith((";", "*/")):
                    break
                k -= 1
            j = i + 1
            while j < len(lines) and not lines[j].startswith("}"):
                j += 1
            sig = " ".join(x.strip() for x in lines[k:i])
            yield k + 1, sig[:60], j - k + 1
            i = j
        i += 1


def check_file(path, rel, max_file, max_fn):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    bad = []
    n = len(lines) - (1 if lines and lines[-1] == "" else 0)
    if n > max_file:
        bad.append(f"{rel}: {n} lines (over {max_file}); split it by concept")
    for line, head, length in functions(lines):
        # a brace-initialised table at file scope is data, not a function
        if "(" not in head:
            continue
        if length > max_fn:
            bad.append(f"{rel}:{line}: {length} lines (over {max_fn}): {head}")
    return bad


def check_tree(src, max_file, max_fn):
    bad = []
    for top in ("sim", "ui"):
        for root, _, files in os.walk(os.path.join(src, top)):
            for name in sorted(files):
                if name.endswith((".c", ".h")):
                    p = os.path.join(root, name)
                    bad += check_file(p, os.path.relpath(p, src), max_file, max_fn)
    return bad


def selftest():
    long_fn = "static int f(void)\n{\n" + "    x++;\n" * 90 + "}\n"
    short_fn = "static int g(void)\n{\n    return 0;\n}\n"
    table = "static const int t[] =\n{\n" + "    1,\n" * 90 + "};\n"
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "sim"))
        with open(os.path.join(d, "sim", "big.c"), "w") as f:
            f.write(short_fn * 210)  # 840 lines, every function short
        with open(os.path.join(d, "sim", "long.c"), "w") as f:
            f.write(long_fn + short_fn + table)
        with open(os.path.join(d, "sim", "big_int.h"), "w") as f:
            f.write("int f%d(void);\n" * 801)  # a header is held to the same size
        with open(os.path.join(d, "sim", "ok.c"), "w") as f:
            f.write(short_fn * 3)
        with open(os.path.join(d, "sim", "ok.h"), "w") as f:
            f.write("int f(void);\n" * 800)
        bad = check_tree(d, 800, 80)
    want = ["sim/big.c: 840 lines", "sim/long.c:1: 93 lines", "sim/big_int.h: 801 lines"]
    ok = len(bad) == 3 and all(any(b.startswith(w) for b in bad) for w in want)
    print("\n".join(bad))
    print("selftest:", "ok" if ok else "FAILED: the checker missed or invented a breach")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source")
    ap.add_argument("--max-file", type=int, default=800)
    ap.add_argument("--max-function", type=int, default=80)
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args()
    if a.selftest:
        return selftest()
    if not a.source:
        ap.error("--source DIR is required")
    bad = check_tree(a.source, a.max_file, a.max_function)
    for b in bad:
        print(b)
    print(f"{len(bad)} breach(es)" if bad else "every file and function within the limits")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
