"""Recognise a derived expression as another registered function: the gradient of logsumexp is softmax."""

from __future__ import annotations

from derive.engine.definition import define
from derive.engine.prove import vanishes
from derive.engine.registry import functions
from derive.notation.symbols import i, vector

# (expr, spelled, the registry's names) → what recognized returned: a scalar's gradient is recognised
# once (the Hessian and the cache's re-check ask again), and again once a function is added.
_found = {}


def _key(expr, spelled):
    return expr, spelled, tuple(functions())


def recognized(expr, spelled):
    """(function, output, definition) of a registered vector function equal to expr, or None."""
    key = _key(expr, spelled)
    if key not in _found:
        _found[key] = _search(expr, spelled)
    return _found[key]


def remember(expr, spelled, known) -> None:
    """Take known as what recognized(expr, spelled) returns (a cache entry's, checked by its reader)."""
    _found[_key(expr, spelled)] = known


def forget(expr, spelled) -> None:
    """Recognise expr again when next asked."""
    _found.pop(_key(expr, spelled), None)


def as_registered(name: str, spelled):
    """(function, output, definition) of the registered function name, as recognized returns it, or None
    when there is no such vector function of spelled's input."""
    fn = functions().get(name)
    if fn is None or fn.name == spelled.function.name or fn.input != spelled.function.input:
        return None
    candidate = define(fn, {})
    return (fn, vector(fn.output), candidate.expanded) if candidate.kind == "vector" else None


def _search(expr, spelled):
    for fn in functions().values():
        if fn.name == spelled.function.name or fn.input != spelled.function.input:
            continue
        candidate = define(fn, {})
        if candidate.kind != "vector" or not _comparable(candidate.expanded, expr):
            continue
        if vanishes(candidate.expanded - expr):
            return fn, vector(fn.output), candidate.expanded
    return None


def _comparable(a, b) -> bool:
    """Cheap filter before a symbolic comparison: same free symbols, both indexed by i."""
    return a.has(i) and b.has(i) and a.free_symbols == b.free_symbols
