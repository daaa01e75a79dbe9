#!/usr/bin/env python3
"""check_layers.py - the layer rules of docs/internals.md, checked.

    check_layers.py --source DIR --graph LAYERS.txt [--objects LAYER=A.o:B.o]...
    check_layers.py --selftest --source DIR --graph LAYERS.txt [--objects ...]
    check_layers.py --fix-engine-includes --source DIR

Reads the table under "<!-- layers:" in docs/internals.md (layer, folder, CMake
target, public headers, may use) and checks, printing one line per breach:
  1. the table's "may use" graph has no cycle;
  2. each target's link libraries in LAYERS.txt (written by CMake, see
     tests/layers/CMakeLists.txt) are exactly the table's "may use" entries,
     so neither the build nor the page can gain an edge alone;
  3. every #include in a layer's folder names a header of its own layer, a
     public header of a layer it may reach, or an internal header of a layer
     it uses directly; <cjson/...> and <SDL...> only where the table allows;
  4. the objects given with --objects leave no cJSON_/SDL_/TTF_/IMG_/Fc
     symbol undefined unless the layer may use that library;
  5. inside the engine, each file (kernel.c, os.c, ...) calls functions of
     only the files the "<!-- engine-units:" table lets it call, and the one
     upcall, gs__go_on, only from the files marked "upcall";
  6. inside the engine, each .c includes its own header first (kernel.c:
     kernel.h, engine.c: engine_int.h, limits.c: limits_int.h), and each
     file (.c or .h) includes another's header exactly when it uses something that header
     declares (a function, an inline, a type, an enum value or a macro): no
     header it does not use (a member of a struct it defines counts as a
     use), none it uses only through another header.
--fix-engine-includes rewrites the engine files' includes as rule 6 wants
them (after a merge of code written against one engine_int.h); headers
needed only for a struct's members are the compiler's to name.
--selftest feeds the checks a forbidden edge, include, symbol and cycle and
fails unless each is caught, and cuts the engine files' includes back to
engine_int.h alone and fails unless the fixer restores them byte for byte.
Exit 0 when clean, 1 on a breach, 2 on bad usage.
"""
import argparse
import os
import re
import subprocess
import sys

# External libraries: the table's name -> CMake link items and symbol prefixes.
EXTERNAL = {
    "libm": (["m"], []),
    "pthreads": (["Threads::Threads"], []),
    "cJSON": (["PkgConfig::CJSON"], ["cJSON_"]),
    "SDL2": (["SDL2::SDL2"], ["SDL_"]),
    "SDL2_ttf": (["PkgConfig::SDL2_TTF"], ["TTF_"]),
    "SDL2_image": (["PkgConfig::SDL2_IMAGE"], ["IMG_"]),
    "fontconfig": (["PkgConfig::FONTCONFIG"], ["Fc"]),
}
SYSTEM_INCLUDE = {"cjson/": "cJSON", "SDL": "SDL2"}


class Layer:
    def __init__(self, name, folder, target, headers, uses, reserved):
        self.name, self.folder, self.target = name, folder, target
        self.headers, self.uses, self.reserved = headers, uses, reserved


def cell(s):
    return s.strip().strip("`").strip()


def read_table(path):
    """The layer table of docs/internals.md, in order."""
    lines = open(path, encoding="utf-8").read().splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith("<!-- layers:")), None)
    if start is None:
        sys.exit(f"{path}: no '<!-- layers:' table")
    layers = []
    for lineno, line in enumerate(lines[start + 1:], start + 2):
        if not line.startswith("|"):
            if layers:
                break
            continue
        cols = [c for c in line.strip().strip("|").split("|")]
        if len(cols) != 5:
            sys.exit(f"{path}:{lineno}: expected 5 columns, got {len(cols)}")
        name, folder, target, headers, uses = (cell(c) for c in cols)
        if name in ("layer",) or set(name) <= set("-: "):
            continue
        reserved = uses.startswith("(reserved")
        heads = [cell(h) for h in headers.split(",") if cell(h) not in ("", "-")]
        use = [] if reserved else [cell(u) for u in uses.split(",") if cell(u) not in ("", "-")]
        layers.append(Layer(name, folder.rstrip("/"), target, heads, use, reserved))
    return layers


def check_table(layers, out):
    names = {l.name for l in layers}
    for l in layers:
        for u in l.uses:
            if u not in names and u not in EXTERNAL:
                out.append(f"table: {l.name} uses '{u}', neither a layer nor one of "
                           f"{', '.join(EXTERNAL)}")
    graph = {l.name: [u for u in l.uses if u in names] for l in layers}
    state = {}

    def visit(n, stack):
        state[n] = 1
        for m in graph[n]:
            if state.get(m) == 1:
                out.append("table: cycle " + " -> ".join(stack + [n, m]))
            elif m not in state:
                visit(m, stack + [n])
        state[n] = 2

    for n in graph:
        if n not in state:
            visit(n, [])


def reach(layers, name):
    """Layers reachable from name through 'may use' (name included)."""
    by = {l.name: l for l in layers}
    seen, todo = set(), [name]
    while todo:
        n = todo.pop()
        if n in seen or n not in by:
            continue
        seen.add(n)
        todo.extend(by[n].uses)
    return seen


def check_graph(layers, graph_lines, source, out):
    cmake = {}
    for line in graph_lines:
        if ":" in line:
            t, deps = line.split(":", 1)
            cmake[t.strip()] = deps.split()
    by_target = {l.target: l for l in layers}
    for l in layers:
        present = os.path.isdir(os.path.join(source, l.folder))
        if l.reserved:
            if l.target in cmake:
                out.append(f"graph: {l.target} exists but the table marks {l.name} reserved")
            continue
        if l.target not in cmake:
            if present:
                out.append(f"graph: {l.folder}/ exists but CMake has no target {l.target}")
            continue
        if cmake[l.target] == ["(not", "built)"]:
            continue  # an optional client left out of this build (GILSIM_WITH_UI=OFF)
        want = set()
        for u in l.uses:
            if u in EXTERNAL:
                want.update(EXTERNAL[u][0])
            else:
                want.update(x.target for x in layers if x.name == u)
        got = set(cmake[l.target])
        for d in sorted(got - want):
            what = by_target[d].name if d in by_target else d
            out.append(f"graph: {l.target} links {d}, but docs/internals.md does not let "
                       f"{l.name} use {what}")
        for d in sorted(want - got):
            out.append(f"graph: docs/internals.md lets {l.name} use {d}, but CMake does not "
                       f"link it to {l.target}; drop the edge from the table or add the link")
    for t in cmake:
        if t not in by_target:
            out.append(f"graph: CMake target {t} is not in the table of docs/internals.md")


INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def check_includes(layers, files, out):
    """files: {layer name: [(path, text)]}."""
    owner = {}  # header path relative to its include root -> layer
    for l in layers:
        for h in l.headers:
            owner["gilsim/" + h] = l.name
    local = {}
    for name, items in files.items():
        for path, _ in items:
            if path.endswith(".h") and "/include/" not in path:
                local[os.path.basename(path)] = name
    by = {l.name: l for l in layers}
    for name, items in files.items():
        reachable = reach(layers, name)
        direct = set(by[name].uses) | {name}
        for path, text in items:
            for lineno, line in enumerate(text.splitlines(), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, inc = m.groups()
                where = f"{path}:{lineno}"
                if kind == "<":
                    for prefix, lib in SYSTEM_INCLUDE.items():
                        if inc.startswith(prefix) and lib not in direct:
                            out.append(f"include: {where}: <{inc}> but {name} may not use {lib}")
                    continue
                if "/include/gilsim/" in path and "/" not in inc:
                    inc = "gilsim/" + inc
                if inc in owner:
                    if owner[inc] not in reachable:
                        out.append(f"include: {where}: \"{inc}\" belongs to {owner[inc]}, "
                                   f"which {name} may not use")
                elif inc.startswith("gilsim/"):
                    out.append(f"include: {where}: \"{inc}\" is in no layer's public headers")
                elif inc in local:
                    if local[inc] not in direct:
                        out.append(f"include: {where}: \"{inc}\" is internal to {local[inc]}, "
                                   f"which {name} does not use directly")
                elif not inc.endswith(".inc"):
                    out.append(f"include: {where}: \"{inc}\" is no header of any layer")


def strip_c(text):
    """C text without its comments and string/char literals."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r'"(\\.|[^"\\\n])*"|\'(\\.|[^\'\\\n])*\'', '""', text)


def header_names(text):
    """The names a header declares: functions, types, enum values, macros."""
    s = strip_c(text)
    names = set(re.findall(r"\b(gs__\w+)\s*\(", s))
    names |= set(re.findall(r"\}\s*(\w+)\s*;", s))  # typedef struct/enum {...} name;
    names |= set(re.findall(r"typedef\s+(?:struct|enum|union)\s+\w+\s+(\w+)\s*;", s))
    for body in re.findall(r"\benum\b[^{;]*\{([^}]*)\}", s):
        names |= set(re.findall(r"(?:^|,)\s*([A-Z_][A-Z0-9_]*)", body))
    names |= {m for m in re.findall(r"#\s*define\s+(\w+)", s) if not m.startswith("GILSIM_")}
    return names


def own_header(c, headers):
    base = c[:-2]
    for h in (base + ".h", base + "_int.h"):
        if h in headers:
            return h
    return None


def struct_fields(text):
    """The field names of the struct bodies in a header."""
    fields = set()
    for body in re.findall(r"\bstruct\s+\w+\s*\{(.*?)\}\s*\w*\s*;", strip_c(text), flags=re.S):
        fields |= set(re.findall(r"(\w+)\s*(?:\[[^]]*\])?\s*[;,]", body))
    return fields


def engine_include_plan(items):
    """For each engine file of items ([(path, text)]): (path, its own header
    (a header's is itself) or None, its engine includes in order, {header: a
    name only it declares that the file uses}, the headers it includes that
    it uses otherwise: a name engine_int.h also declares (a type named there
    and defined in the header), or a field of a struct the header defines,
    or a member of such a type elsewhere (e->locks[i].owner; a missing one
    is the compiler's to name: incomplete type)."""
    headers = {os.path.basename(p): t for p, t in items if p.endswith(".h")}
    declared = {h: header_names(t) for h, t in headers.items()}
    core = declared.get("engine_int.h", set())
    only = {h: names if h == "engine_int.h" else names - core for h, names in declared.items()}
    bodies = {h: set(re.findall(r"\}\s*(\w+)\s*;", strip_c(t))) for h, t in headers.items()}
    reach = {h: struct_fields(t) if h != "engine_int.h" else set() for h, t in headers.items()}
    for t in headers.values():
        for typ, name in re.findall(r"\b(\w+_t)\s*\*?\s*(\w+)\s*;", strip_c(t)):
            for h, types in bodies.items():
                if typ in types and h != "engine_int.h":
                    reach[h].add(name)
    plan = []
    for path, text in items:
        incs = [m.group(2) for m in map(INCLUDE.match, text.splitlines())
                if m and m.group(1) == '"' and m.group(2) in headers]
        own = (own_header(os.path.basename(path), headers) if path.endswith(".c")
               else os.path.basename(path))
        words = set(re.findall(r"\b\w+\b", strip_c(text)))
        fields = set(re.findall(r"(?:->|\.)\s*(\w+)", strip_c(text)))
        named = {h: sorted(words & only[h])[0] for h in headers
                 if h != own and words & only[h]}
        reached = {h for h in incs if h != own and (words & declared[h] or fields & reach[h])}
        plan.append((path, own, incs, named, reached))
    return plan


def check_engine_includes(items, out):
    """items: the engine folder's [(path, text)]."""
    for path, own, incs, named, reached in engine_include_plan(items):
        if path.endswith(".c") and own and (not incs or incs[0] != own):
            out.append(f"engine includes: {path}: its own header {own} must come first "
                       f"(it proves the header self-contained); first is "
                       f"{incs[0] if incs else 'none'}")
        for h in sorted(set(incs) | set(named)):
            if h == own:
                continue
            if h not in named and h not in reached:
                out.append(f"engine includes: {path}: includes {h} but uses nothing it declares")
            elif h in named and h not in incs:
                out.append(f"engine includes: {path}: uses {named[h]} of {h} without "
                           f"including it")


def fix_engine_includes(items):
    """items with each engine .c's engine includes rewritten as rule 6 wants
    them: its own header, engine_int.h, then the others sorted; a header
    kept only for its struct members stays, one used by name is added, one
    unused goes. Other includes are left where they are."""
    plan = {p: (own, set(named) | reached)
            for p, own, _, named, reached in engine_include_plan(items)}
    headers = {os.path.basename(p) for p, _ in items if p.endswith(".h")}
    fixed = []
    for path, text in items:
        if path not in plan:
            fixed.append((path, text))
            continue
        own, want = plan[path]
        block = sorted(want - {own}, key=lambda h: (h != "engine_int.h", h))
        if own and path.endswith(".c"):
            block = [own] + block
        lines = text.split("\n")
        keep, at, gap, prev = [], None, False, None
        for line in lines:
            m = INCLUDE.match(line)
            if m and m.group(1) == '"' and m.group(2) in headers:
                # an include moved out from between two blank lines leaves one
                gap = at is not None and prev == ""
                at = len(keep) if at is None else at
                prev = line
                continue
            prev = line
            if gap and line == "":
                gap = False
                continue
            gap = False
            keep.append(line)
        if at is not None:
            keep[at:at] = [f'#include "{h}"' for h in block]
        fixed.append((path, "\n".join(keep)))
    return fixed


def check_symbols(layers, name, undefined, out):
    allowed = set(next(l for l in layers if l.name == name).uses)
    for lib, (_, prefixes) in EXTERNAL.items():
        if lib in allowed:
            continue
        for sym in undefined:
            if any(sym.startswith(p) for p in prefixes):
                out.append(f"symbols: {name} objects call {sym} ({lib}), which {name} "
                           f"may not use")


def read_units(path):
    """The engine-units table: {file: set of files it may call (+ 'upcall')}."""
    lines = open(path, encoding="utf-8").read().splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith("<!-- engine-units:")), None)
    if start is None:
        sys.exit(f"{path}: no '<!-- engine-units:' table")
    units = {}
    for line in lines[start + 1:]:
        if not line.startswith("|"):
            if units:
                break
            continue
        cols = [cell(c) for c in line.strip().strip("|").split("|")]
        if len(cols) < 2 or cols[0] in ("file",) or set(cols[0]) <= set("-: "):
            continue
        units[cols[0]] = {cell(u) for u in cols[1].split(",") if cell(u) not in ("", "-")}
    return units


UPCALL = "gs__go_on"


def check_units(units, defined, undefined, out):
    """defined/undefined: {file: set of symbols} for the engine's objects."""
    owner = {sym: f for f, syms in defined.items() for sym in syms}
    for f, syms in sorted(undefined.items()):
        if f not in units:
            out.append(f"units: sim/engine/{f} is not in the engine-units table")
            continue
        for sym in sorted(syms):
            g = owner.get(sym)
            if g is None or g == f:
                continue
            if sym == UPCALL:
                if "upcall" not in units[f]:
                    out.append(f"units: {f} calls the upcall {UPCALL}, which the table "
                               f"allows only from the files marked upcall")
            elif g not in units[f]:
                out.append(f"units: {f} calls {sym} of {g}, which the table does not let "
                           f"{f} call")


def object_symbols(objects):
    """({file: defined}, {file: undefined}) per object, keyed by source name."""
    defined, undefined = {}, {}
    for o in objects:
        name = os.path.basename(o)
        name = name[:-2] if name.endswith(".o") else name
        r = subprocess.run(["nm", o], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"nm {o}: {r.stderr.strip()}")
        d, u = set(), set()
        for line in r.stdout.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDBR":
                d.add(p[2])
            elif len(p) == 2 and p[0] == "U":
                u.add(p[1])
        defined[name], undefined[name] = d, u
    return defined, undefined


def undefined_symbols(objects):
    syms = set()
    for o in objects:
        r = subprocess.run(["nm", "-u", o], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"nm {o}: {r.stderr.strip()}")
        syms.update(line.split()[-1] for line in r.stdout.splitlines() if line.strip())
    return syms


def source_files(layers, source):
    files = {}
    for l in layers:
        if l.reserved:
            continue
        d = os.path.join(source, l.folder)
        if not os.path.isdir(d):
            continue
        items = []
        for f in sorted(os.listdir(d)):
            if f.endswith((".c", ".h")):
                p = os.path.join(d, f)
                items.append((os.path.relpath(p, source), open(p, encoding="utf-8").read()))
        files[l.name] = items
    return files


def run(layers, graph_lines, source, files, symbols, units=None, unit_syms=None):
    out = []
    if units is not None and unit_syms:
        check_units(units, unit_syms[0], unit_syms[1], out)
    check_table(layers, out)
    check_graph(layers, graph_lines, source, out)
    check_includes(layers, files, out)
    check_engine_includes(files.get("engine", []), out)
    for name, syms in symbols.items():
        check_symbols(layers, name, syms, out)
    return out


def selftest(layers, graph_lines, source, files, symbols, units, unit_syms):
    """Every kind of breach must be caught; and the real tree must be clean."""
    import copy
    failures = []
    base = run(layers, graph_lines, source, files, symbols, units, unit_syms)
    if base:
        failures.append("the real tree is not clean:\n  " + "\n  ".join(base))
    engine = next(l for l in layers if l.name == "engine")
    cases = []
    # A forbidden link edge.
    g = [line + " PkgConfig::CJSON" if line.startswith(engine.target + ":") else line
         for line in graph_lines]
    cases.append(("link edge engine -> cJSON", layers, g, files, symbols))
    # An edge in the table that CMake lacks.
    t = copy.deepcopy(layers)
    next(l for l in t if l.name == "engine").uses.append("scenario")
    cases.append(("table edge engine -> scenario", t, graph_lines, files, symbols))
    # A cycle.
    t = copy.deepcopy(layers)
    next(l for l in t if l.name == "base").uses.append("engine")
    cases.append(("cycle base <-> engine", t, graph_lines, files, symbols))
    # Includes: another layer's internal header, a public header out of reach, cJSON.
    for inc in ('"scenario_int.h"', '"gilsim/scenario.h"', '<cjson/cJSON.h>'):
        f = dict(files)
        f["engine"] = files["engine"] + [("sim/engine/probe.c", f"#include {inc}\n")]
        cases.append((f"engine includes {inc}", layers, graph_lines, f, symbols))
    f = dict(files)
    f["viewer"] = files.get("viewer", []) + [("ui/probe.c", '#include "trace_int.h"\n')]
    cases.append(("viewer includes trace_int.h", layers, graph_lines, f, symbols))
    # Inside the engine: a header not used, a header used but not included,
    # the own header not first.
    eng = dict(files["engine"])
    for path, edit, what in (
            ("sim/engine/invariants.c", lambda t: t + '#include "balance.h"\n',
             "invariants.c includes balance.h unused"),
            ("sim/engine/gil.c", lambda t: t.replace('#include "kernel.h"\n', ""),
             "gil.c uses kernel.h without including it"),
            ("sim/engine/os.c", lambda t: t.replace('#include "os.h"\n', "", 1)
             + '#include "os.h"\n', "os.c includes os.h last")):
        if path not in eng:
            failures.append(f"selftest: no {path} to probe")
            continue
        f = dict(files)
        f["engine"] = [(p, edit(t) if p == path else t) for p, t in files["engine"]]
        cases.append((what, layers, graph_lines, f, symbols))
    # An undefined cJSON symbol in the engine's objects.
    s = dict(symbols)
    s["engine"] = set(symbols.get("engine", set())) | {"cJSON_Parse"}
    cases.append(("engine object calls cJSON_Parse", layers, graph_lines, files, s))
    # The fixer: every engine file whose includes are all needed by name,
    # its engine includes cut to engine_int.h alone (main before the split),
    # comes back exactly as it is; and a file it fixes passes rule 6.
    items = files["engine"]
    byname = {p for p, own, incs, named, _ in engine_include_plan(items)
              if p.endswith(".c") and set(incs) - {own} == set(named)}
    cut = []
    for path, text in items:
        if path in byname:
            lines, at, keep = text.split("\n"), None, []
            for line in lines:
                m = INCLUDE.match(line)
                if m and m.group(1) == '"' and os.path.exists(
                        os.path.join(source, "sim", "engine", m.group(2))):
                    at = len(keep) if at is None else at
                    continue
                keep.append(line)
            keep[at:at] = ['#include "engine_int.h"']
            text = "\n".join(keep)
        cut.append((path, text))
    back = fix_engine_includes(cut)
    wrong = [p for (p, t), (_, u) in zip(items, back) if t != u]
    n = len(byname)
    if wrong or n < 15:
        failures.append(f"fixer: {n} files cut, these did not come back: {wrong}")
    else:
        print(f"fixed: {n} engine files cut to engine_int.h come back byte for byte")
    for what, *args in cases:
        got = [x for x in run(args[0], args[1], source, args[2], args[3]) if x not in base]
        if not got:
            failures.append(f"not caught: {what}")
        else:
            print(f"caught: {what}: {got[0]}")
    # Inside the engine: the kernel calling a model, a model calling the loop.
    ucases = []
    if unit_syms:
        for f, sym, what in (("kernel.c", "gs__os_wake", "kernel.c calls os.c"),
                             ("os.c", "gs__gil_take", "os.c calls gil.c"),
                             ("sync.c", UPCALL, "sync.c calls the upcall"),
                             ("gil.c", "gs__submit", "gil.c calls the request interpreter")):
            und = {k: set(v) for k, v in unit_syms[1].items()}
            und.setdefault(f, set()).add(sym)
            ucases.append((what, (unit_syms[0], und)))
    else:
        failures.append("no engine objects given: the engine-units check was not exercised")
    for what, us in ucases:
        got = [x for x in run(layers, graph_lines, source, files, symbols, units, us)
               if x not in base]
        if not got:
            failures.append(f"not caught: {what}")
        else:
            print(f"caught: {what}: {got[0]}")
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--graph")
    ap.add_argument("--fix-engine-includes", action="store_true",
                    help="rewrite each sim/engine .c's engine includes as rule 6 wants "
                         "them (after a merge: the headers it uses by name added, unused "
                         "ones dropped, its own first), then exit")
    ap.add_argument("--objects", action="append", default=[], metavar="LAYER=A.o:B.o")
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args()
    layers = read_table(os.path.join(a.source, "docs", "internals.md"))
    files = source_files(layers, a.source)
    if a.fix_engine_includes:
        for (path, text), (_, new) in zip(files["engine"], fix_engine_includes(files["engine"])):
            if new != text:
                with open(os.path.join(a.source, path), "w", encoding="utf-8") as f:
                    f.write(new)
                print(f"rewrote the engine includes of {path}")
        return 0
    if not a.graph:
        ap.error("--graph LAYERS.txt is required")
    graph_lines = open(a.graph, encoding="utf-8").read().splitlines()
    units = read_units(os.path.join(a.source, "docs", "internals.md"))
    symbols, unit_syms = {}, None
    for spec in a.objects:
        name, _, objs = spec.partition("=")
        if name not in {l.name for l in layers} or not objs:
            ap.error(f"--objects {spec}: expected LAYER=A.o:B.o with a layer of the table")
        symbols[name] = undefined_symbols(objs.split(":"))
        if name == "engine":
            unit_syms = object_symbols(objs.split(":"))
    if a.selftest:
        return selftest(layers, graph_lines, a.source, files, symbols, units, unit_syms)
    out = run(layers, graph_lines, a.source, files, symbols, units, unit_syms)
    for line in out:
        print(line)
    n = sum(len(v) for v in files.values())
    if out:
        print(f"check_layers: {len(out)} breach(es) of the layer rules in docs/internals.md")
        return 1
    print(f"check_layers: {len(layers)} layers, {n} files, every edge allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
