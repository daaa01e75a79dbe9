#!/usr/bin/env python3
"""transcripts.py - the ```console blocks of the docs are real transcripts.

    transcripts.py [--update] --source DIR [--path DIR]... FILE.md...

A ```console block holds commands, each on a line starting with "$ ", each
followed by its exact output (stdout and stderr). Every command runs, in a
fresh folder holding copies of scenarios/ and docs/ from --source, with the
--path folders first on PATH; its output must equal the block's. With
--update the blocks are rewritten with what the programs print now (then
review the diff: a transcript is documentation). Exit 0 when all agree."""
import os
import shutil
import subprocess
import sys
import tempfile


def blocks(lines):
    """(start, end) line indices of each ```console block's body."""
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```console":
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            yield i + 1, j
            i = j
        i += 1


def run(cmd, cwd, env):
    p = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    return p.stdout.decode("utf-8", "replace").splitlines()


def main(argv):
    update, src, paths, files = False, os.getcwd(), [], []
    it = iter(argv)
    for a in it:
        if a == "--update":
            update = True
        elif a == "--source":
            src = next(it)
        elif a == "--path":
            paths.append(next(it))
        else:
            files.append(a)
    paths = [os.path.abspath(p) for p in paths]
    env = dict(os.environ, PATH=os.pathsep.join(paths + [os.environ.get("PATH", "")]),
               NO_COLOR="1", COLUMNS="100")
    bad = 0
    for f in files:
        with open(f, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        out_lines, last = [], 0
        for a, b in blocks(lines):
            out_lines += lines[last:a]
            body = lines[a:b]
            new = []
            with tempfile.TemporaryDirectory(prefix="gilsim-transcript-") as tmp:
                for d in ("scenarios", "docs"):
                    shutil.copytree(os.path.join(src, d), os.path.join(tmp, d))
                k = 0
                while k < len(body):
                    if not body[k].startswith("$ "):
                        k += 1
                        continue
                    cmd = body[k][2:]
                    k += 1
                    want = []
                    while k < len(body) and not body[k].startswith("$ "):
                        want.append(body[k])
                        k += 1
                    got = run(cmd, tmp, env)
                    new.append("$ " + cmd)
                    new += got
                    if got != want and not update:
                        bad += 1
                        print(f"{f}:{a}: the transcript of '{cmd}' is stale:")
                        for x, y in zip(want + [""] * len(got), got + [""] * len(want)):
                            if x != y:
                                print(f"  docs: {x}\n  now:  {y}")
                                break
            out_lines += new
            last = b
        out_lines += lines[last:]
        if update and out_lines != lines:
            with open(f, "w", encoding="utf-8") as fh:
                fh.write("\n".join(out_lines))
            print(f"{f}: transcripts updated")
    if bad:
        print("regenerate with: tests/docs/transcripts.py --update --source . "
              "--path build/sim/cli --path build/ui docs/*.md README.md")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
