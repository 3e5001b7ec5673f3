"""The explicit route: every entry of s, J, gᵀJ or J v written out for a given n, through SymPy's cse."""

from __future__ import annotations

import re

from sympy import Add, Indexed, Integer, Symbol

from derive.codegen.arrays import Empty, Entry, Take, Zeros, array
from derive.codegen.statements import Statement
from derive.notation.symbols import i, n

_NUMBERED = re.compile(r"([A-Za-z_]\w*?)(\d+)$")


def statements(d, kind, names) -> list:
    """The statements of one function for d.n, entry by entry."""
    size = d.n
    output = array(names["output"])
    if kind == "forward":
        at = [{i: Integer(a), n: Integer(size)} for a in range(1, size + 1)]  # Integers: a bare n stays SymPy
        found = [_scalar(d.definition.xreplace(values).doit()) for values in at]
        steps = [Statement(Take(output, a), "=", e) for a, e in enumerate(found)]
        result, shape = output, 0
    else:
        J = [[_scalar(d.table.entry(a, b).doit()) for b in range(1, size + 1)] for a in range(1, size + 1)]
        if kind == "jacobian":
            result, shape = Symbol("J", real=True), 1
            pairs = [(a, b) for a in range(size) for b in range(size) if J[a][b] != 0]
            steps = [Statement(Entry(result, a, b), "=", J[a][b]) for a, b in pairs]
        else:
            vec = "g" if kind == "vjp" else "v"
            x = [Symbol(f"{vec}{a}", real=True) for a in range(1, size + 1)]
            if kind == "vjp":
                found = [Add(*(x[a] * J[a][b] for a in range(size))) for b in range(size)]
            else:
                found = [Add(*(J[a][b] * x[b] for b in range(size))) for a in range(size)]
            result, shape = Symbol("gJ" if kind == "vjp" else "Jv", real=True), 0
            steps = [Statement(Take(result, a), "=", e) for a, e in enumerate(found) if e != 0]
    filled = len(steps) == size ** (shape + 1)
    create = Statement(result, "=", (Empty if filled else Zeros)(array(names["input"]), shape))
    unpack = _unpack([s.value for s in steps], {names["input"], names["output"], *names["data"], "g", "v"})
    return unpack + [create] + steps + [Statement(None, "return", result)]


def _scalar(expr):
    """expr with each numbered entry z[3] or symbol z3 as the symbol z3 (1-based, as the math writes it)."""
    return expr.replace(
        lambda e: isinstance(e, Indexed) and isinstance(e.indices[0], Integer),
        lambda e: Symbol(f"{e.base.label.name}{e.indices[0]}", real=True),
    )


def _unpack(values, bases) -> list:
    """x3 = x[..., 2] for every numbered entry of the given vectors the values use, in order."""
    used = set().union(*(v.free_symbols for v in values)) if values else set()
    found = []
    for symbol in used:
        match = _NUMBERED.match(symbol.name)
        if match and match[1] in bases:
            found.append((match[1], int(match[2]), symbol))
    return [Statement(s, "=", Take(array(base), a - 1)) for base, a, s in sorted(found, key=lambda t: t[:2])]
