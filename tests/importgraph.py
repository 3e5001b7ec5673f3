"""The import graph of the derive package, read with ast: its cycles, its upward imports and its levels.

Run `python -m tests.importgraph` for the figures; tests/test_layers.py keeps them at zero.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "derive"
ROOT = "derive"

# The layers, top to bottom, as in pyproject.toml's import-linter contract (checked to agree by
# tests/test_layers.py): a module may import its own layer or any layer below, never one above.
# A subpackage is one layer; derive/__init__.py is the public face and sits on top.
LAYERS = (
    ("derive",),
    ("derive.__main__",),
    ("derive.cli",),
    ("derive.api",),
    ("derive.claims",),
    ("derive.userdefined",),
    ("derive.parse",),
    ("derive.checking",),
    ("derive.writeup", "derive.codegen"),
    ("derive.engine", "derive.show"),
    ("derive.functions",),
    ("derive.notation",),
    ("derive.guard",),
    ("derive.errors", "derive._version"),
)


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name; a package by the name of its __init__."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _resolve(name: str, known) -> str | None:
    """The longest known module that name is or is inside of (derive.engine.registry.Function: registry)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its text (lazy imports in functions too)."""
    known = modules(root)
    graph = {}
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        here = name if is_package else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(_resolve(a.name, known) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    # `from derive import api` names a module; `from derive.x import f` names something in x.
                    targets.add(_resolve(f"{base}.{alias.name}", known) or _resolve(base, known))
        targets.discard(None)
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def layer(module: str, layers=LAYERS) -> int | None:
    """The index of module's layer (0 is the top), or None if no layer holds it."""
    best = None
    for rank, members in enumerate(layers):
        for member in members:
            # The root holds every module: it counts as a layer for derive/__init__.py alone.
            if module == member or (module.startswith(member + ".") and member != ROOT):
                if best is None or len(member) > best[1]:
                    best = (rank, len(member))
    return None if best is None else best[0]


def upward(graph: dict[str, set[str]], layers=LAYERS) -> list[tuple[str, str]]:
    """Imports from a module to one in a higher layer, and modules no layer holds (as (module, None))."""
    found = []
    for source in sorted(graph):
        if layer(source, layers) is None:
            found.append((source, None))
            continue
        for target in sorted(graph[source]):
            if layer(target, layers) is not None and layer(target, layers) < layer(source, layers):
                found.append((source, target))
    return found


def levels(graph: dict[str, set[str]]) -> int:
    """The number of levels: the longest chain of imports between strongly connected components, plus one."""
    component = {}
    for members in cycles(graph):
        for m in members:
            component[m] = members[0]
    node = {m: component.get(m, m) for m in graph}
    edges = {}
    for source, targets in graph.items():
        for target in targets:
            if node[source] != node[target]:
                edges.setdefault(node[source], set()).add(node[target])
    depth = {}

    def height(v):
        if v not in depth:
            depth[v] = 1 + max((height(w) for w in edges.get(v, ())), default=0)
        return depth[v]

    return max(height(v) for v in set(node.values()))


def top_level(root: Path = PACKAGE) -> list[str]:
    """The modules at derive/'s top level, beside the subpackages (__init__ and __main__ included)."""
    return sorted(p.name for p in root.glob("*.py"))


def main() -> None:
    """Print the figures."""
    graph = imports()
    found = cycles(graph)
    up = upward(graph)
    print(f"modules: {len(graph)}  imports: {sum(map(len, graph.values()))}")
    print(f"cycles: {len(found)}")
    for c in found:
        print("   ", " <-> ".join(c))
    print(f"upward imports: {len(up)}")
    for source, target in up:
        print(f"    {source} -> {target or '(in no layer)'}")
    print(f"levels: {levels(graph)}")
    print(f"top-level modules: {len(top_level())}  ({', '.join(top_level())})")


if __name__ == "__main__":
    main()
