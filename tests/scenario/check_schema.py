#!/usr/bin/python3
"""The schema (docs/scenario.schema.json) and the loader agree.

- the schema is a valid JSON Schema draft 2020-12;
- every scenarios/*.json and tests/scenario/good/*.json validates against it
  and loads with the loader;
- every example in the schema, wrapped into a whole scenario where it is only
  a part, validates against the schema and loads with the loader;
- syntactically valid bad files that the schema can judge (unknown keys, wrong
  types, bare numbers) are refused by both.
Run with Debian's /usr/bin/python3 (python3-jsonschema)."""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import jsonschema

CONTEXT = {
    "locks": ["db"], "rlocks": ["cache"], "events": ["ready"],
    "queues": {"jobs": {"maxsize": 4}},
    "threads": [
        {"name": "helper", "autostart": False, "program": [{"cpu": "1ms"}]},
        {"name": "starter", "program": [{"start": "helper"}]},
    ],
}


def scenario_with(key, value):
    doc = json.loads(json.dumps(CONTEXT))
    if key == "thread":
        doc["threads"].append(value)
    elif key == "program":
        doc["threads"].append({"name": "t", "program": value})
    elif key == "op":
        doc["threads"].append({"name": "t", "program": [value]})
    elif key in ("duration", "opDuration", "distribution"):
        doc["threads"].append({"name": "t", "program": [{"cpu": value}]})
    elif key == "name":
        doc["events"].append(value)
    elif key == "queue":
        doc["queues"]["q"] = value
    elif key in ("machine", "python", "cpus"):
        doc[key] = value
    elif key == "process":
        doc["processes"] = [value]
    elif key == "annotation":
        doc["annotations"] = [value]
    elif key in ("locks", "rlocks", "events"):
        doc[key] = [n for n in doc.get(key, []) if n not in value] + value
        if key != "events":  # one namespace for locks and rlocks
            other = "rlocks" if key == "locks" else "locks"
            doc[other] = [n for n in doc[other] if n not in value]
    elif key == "queues":
        doc["queues"].update(value)
    else:
        raise KeyError(key)
    return doc


def examples(node, where):
    """(definition or property name, example) for every examples list."""
    if isinstance(node, dict):
        for ex in node.get("examples", []):
            yield where, ex
        for k, v in node.items():
            if k == "$defs":
                for name, sub in v.items():
                    yield from examples(sub, name)
            elif k == "properties":
                for name, sub in v.items():
                    yield from examples(sub, name if where == "" else where)
            elif k != "examples":
                yield from examples(v, where)
    elif isinstance(node, list):
        for v in node:
            yield from examples(v, where)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--loader", required=True)
    a = ap.parse_args()
    schema = json.load(open(os.path.join(a.source, "docs/scenario.schema.json")))
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    failures = []
    docs = []  # (label, document, must_be_valid)

    files = sorted(glob.glob(os.path.join(a.source, "scenarios/*.json")) +
                   glob.glob(os.path.join(a.source, "tests/scenario/good/*.json")))
    for f in files:
        docs.append((os.path.relpath(f, a.source), json.load(open(f)), True))
    n_ex = 0
    for where, ex in examples(schema, ""):
        doc = ex if where == "" else scenario_with(where, ex)
        docs.append(("schema example (%s) %s" % (where or "top level", json.dumps(ex)), doc, True))
        n_ex += 1
    for f in sorted(glob.glob(os.path.join(a.source, "tests/scenario/bad/*.json"))):
        try:
            doc = json.load(open(f))
        except ValueError:
            continue
        if list(v.iter_errors(doc)):  # the schema refuses it: the loader must too
            docs.append((os.path.relpath(f, a.source), doc, False))

    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, doc, good) in enumerate(docs):
            errs = [e.message for e in v.iter_errors(doc)]
            if good and errs:
                failures.append("%s: schema refuses it: %s" % (label, errs[0]))
            path = os.path.join(tmp, "doc%d.json" % i)
            with open(path, "w") as fh:
                json.dump(doc, fh)
            r = subprocess.run([a.loader, path], capture_output=True, text=True)
            if good and r.returncode != 0:
                failures.append("%s: loader refuses it: %s" % (label, r.stdout.strip()))
            if not good and r.returncode == 0:
                failures.append("%s: schema refuses it but the loader loads it" % label)
    print("checked %d files, %d schema examples, %d documents in all" % (len(files), n_ex, len(docs)))
    for f in failures:
        print("FAIL", f)
    if len(files) == 0 or n_ex < 10:
        print("FAIL too few files or examples")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
