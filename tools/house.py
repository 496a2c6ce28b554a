#!/usr/bin/env python3
"""Draw "the house" of a Rust crate from its own imports, with numbers.

Terms (all read from the source text; nothing is compiled):

room        One .rs file, named by its path under src/ without ".rs": domain/submit.rs is
            `domain/submit`, store/mod.rs is `store/mod`, lib.rs is `lib`. store/dynamodb.rs
            is `store/dynamodb` and store/dynamodb/audit.rs is a separate room
            `store/dynamodb/audit`. Inline modules (`mod keys { .. }`) belong to their file's room.
arrow       A distinct room -> room edge (no self edges), from a path that names the crate's own
            code: `use crate::..` and `pub use` (grouped and multi-line forms expanded),
            `super::` / `self::` paths and 2018 "uniform" `use child::..` paths, and fully
            qualified `crate::x::y` paths in code. A path goes to the room of its longest prefix
            that is a module. `mod x;` declarations are not arrows. By default an item under
            `#[cfg(test)]` (test module, function or use) is skipped: the crate's own imports,
            not its tests'; --tests counts them too, --no-reexports leaves `pub use` out.
circle      A strongly connected component of more than one room (rooms that reach each other).
floor       Longest-path layering of the graph with each circle condensed to one node: a room
            that imports nothing is on floor 1; otherwise 1 + the highest floor it imports.
            A circle's rooms share one floor.
back arrow  An arrow that does not run down: in a house every arrow runs to a lower floor, so
            the arrows that run back up are exactly those inside a circle (between two rooms of
            the same circle); break any one of them and the circle's rooms stack up.

Usage: tools/house.py [SRC] [--tests] [--no-reexports] [--json] [--largest N] [--root DIR]
"""
import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST_ITEM = re.compile(r'#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*[^{;]*[{;]')
INLINE_MOD = re.compile(r'(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*\{')
USE = re.compile(r'\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);')
CODE_PATH = re.compile(r'(?<![\w:])((?:crate|self|super)(?:\s*::\s*\w+)+)')
NOISE = re.compile(r"""//[^\n]*|/\*.*?\*/|\bb?r(#*)".*?"\1|b?"(?:\\.|[^"\\])*"|'(?:\\.[^']{0,9}|[^\\'\n])'""", re.S)


def strip(text):
    """Blank comments, strings and char literals (not lifetimes), keeping every offset."""
    return NOISE.sub(lambda m: re.sub(r'[^\n]', ' ', m.group()), text)


def block_end(text, j):
    """Offset just past the brace that closes the block opened before j."""
    depth = 1
    while j < len(text) and depth:
        depth += {'{': 1, '}': -1}.get(text[j], 0)
        j += 1
    return j


def expand(body):
    """`crate::{a::b, c::{self, d as e}}` -> crate/a/b, crate/c, crate/c/d (as lists of segments)."""
    toks, pos = re.findall(r'\w+|[{},*]', body), 0
    def group(prefix):                                          # items up to the closing brace
        nonlocal pos
        out = []
        while pos < len(toks):
            out += item(prefix)
            pos += 1
            if pos > len(toks) or toks[pos - 1] == '}':
                break
        return out
    def item(prefix):                                           # one path, or a nested group
        nonlocal pos
        path, named = list(prefix), False
        while pos < len(toks) and toks[pos] not in (',', '}'):
            t, named = toks[pos], True
            pos += 1
            if t == '{':
                return group(path)
            if t == 'as':
                pos += 1
            elif t != '*' and not (t == 'self' and path):      # `a::{self}` and `a::*` name `a`
                path.append(t)
        return [path] if named else []
    return group([])


def scan(src, tests=False, reexports=True):
    """Return {room: set of rooms it imports} for every .rs file under src."""
    files = {}
    for d, _, names in os.walk(src):
        for f in names:
            if f.endswith('.rs'):
                rel = os.path.relpath(os.path.join(d, f), src)[:-3].replace(os.sep, '/')
                mod = '' if rel in ('lib', 'main') else rel[:-4] if rel.endswith('/mod') else rel
                files[rel] = (mod, os.path.join(d, f))
    owner = {mod: room for room, (mod, _) in files.items()}     # module path -> room
    texts = {room: strip(open(p, encoding='utf-8').read()) for room, (_, p) in files.items()}
    inline, tested = {}, {}                                     # room -> [(start, end, name)]
    for room, text in texts.items():
        inline[room] = [(m.start(), block_end(text, m.end()), m.group(1)) for m in INLINE_MOD.finditer(text)]
        for _, _, name in inline[room]:
            owner[(files[room][0] + '/' + name).strip('/')] = room
        tested[room] = [(m.start(), m.end() if m.group().endswith(';') else block_end(text, m.end()))
                        for m in TEST_ITEM.finditer(text)]
    graph = {room: set() for room in files}
    for room, text in texts.items():
        def context(pos):
            if not tests and any(a <= pos < b for a, b in tested[room]):
                return None
            spans = [s for s in inline[room] if s[0] <= pos < s[1]]
            return [s for s in files[room][0].split('/') if s] + [s[2] for s in spans]
        found = []
        for m in USE.finditer(text):
            if reexports or not m.group(1):
                found += [(m.start(), p) for p in expand(m.group(2))]
        code = USE.sub(lambda m: ' ' * (m.end() - m.start()), text)
        found += [(m.start(), re.split(r'\s*::\s*', m.group(1))) for m in CODE_PATH.finditer(code)]
        for pos, path in found:
            here = context(pos)
            if here is None or not path:
                continue
            head = path[0]
            if head == 'crate':
                absolute = path[1:]
            elif head in ('self', 'super'):
                base = list(here)
                while path and path[0] in ('self', 'super'):
                    if path.pop(0) == 'super':
                        base = base[:-1]
                absolute = base + path
            elif '/'.join(here + [head]) in owner:                # uniform path to a child
                absolute = here + path
            else:
                continue                                          # another crate, or std
            for k in range(len(absolute), -1, -1):
                target = owner.get('/'.join(absolute[:k]))
                if target:
                    break
            if target and target != room:
                graph[room].add(target)
    return graph


def house(graph):
    index, low, stack, on, sccs = {}, {}, [], set(), []
    def visit(v):                                               # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v); on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            sccs.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    comp_of = {v: i for i, c in enumerate(sccs) for v in c}
    level = {}
    for i, comp in enumerate(sccs):                              # Tarjan emits sinks first
        below = [level[comp_of[w]] for v in comp for w in graph[v] if comp_of[w] != i]
        level[i] = 1 + max(below, default=0)
    floors = {}
    for v in graph:
        floors.setdefault(level[comp_of[v]], []).append(v)
    arrows = sorted((a, b) for a in graph for b in graph[a])
    back = [(a, b) for a, b in arrows if comp_of[a] == comp_of[b]]
    circles = [c for c in sccs if len(c) > 1]
    return {
        'rooms': len(graph), 'floors': len(floors), 'arrows': len(arrows),
        'back_arrows': len(back), 'circles': len(circles),
        'circle_list': circles, 'back_arrow_list': [list(e) for e in back],
        'floor_list': {f: sorted(floors[f]) for f in sorted(floors)},
        'arrow_list': [list(e) for e in arrows],
    }


def largest(root, n):
    sizes = []
    for top in ('crates', 'functions'):
        for d, dirs, names in os.walk(os.path.join(root, top)):
            dirs[:] = [x for x in dirs if x not in ('target', 'node_modules') and not x.startswith('.')]
            for f in names:
                if f.endswith('.rs'):
                    p = os.path.join(d, f)
                    with open(p, encoding='utf-8', errors='replace') as fh:
                        sizes.append((sum(1 for _ in fh), os.path.relpath(p, root)))
    return [{'lines': l, 'file': p} for l, p in sorted(sizes, key=lambda s: (-s[0], s[1]))[:n]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('src', nargs='?', default=os.path.join(ROOT, 'crates/steward-core/src'))
    ap.add_argument('--tests', action='store_true', help='also count #[cfg(test)] code')
    ap.add_argument('--no-reexports', action='store_true', help='do not count `pub use` as arrows')
    ap.add_argument('--json', action='store_true', help='machine output')
    ap.add_argument('--largest', type=int, metavar='N', help='list the N largest .rs files')
    ap.add_argument('--root', default=ROOT, help='workspace for --largest (default: this repo)')
    args = ap.parse_args()
    h = house(scan(args.src, args.tests, not args.no_reexports))
    if args.largest:
        h['largest'] = largest(args.root, args.largest)
    if args.json:
        print(json.dumps(h, indent=2))
        return
    print(f"{h['rooms']} rooms on {h['floors']} floors, {h['arrows']} arrows, "
          f"{h['back_arrows']} back arrows, {h['circles']} circle(s)")
    for c in h['circle_list']:
        print(f'circle of {len(c)}:', ' '.join(c))
    for a, b in h['back_arrow_list']:
        print(f'back arrow: {a} -> {b}')
    for f in reversed(list(h['floor_list'])):
        print(f'floor {f}:', ' '.join(h['floor_list'][f]))
    for row in h.get('largest', []):
        print(f"{row['lines']:6} {row['file']}")


if __name__ == '__main__':
    main()
