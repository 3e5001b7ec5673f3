"""A stored step checked again, numerically: both sides evaluated in float64 at seeded points, derivatives
taken by central differences, never trusting how the step was checked when it was stored."""

from __future__ import annotations

import random

from sympy import (
    MatMul,
    MatrixBase,
    MatrixExpr,
    Mul,
    Sum,
    Symbol,
    UnevaluatedExpr,
    sympify,
)

from derive.engine.floats import TOLERANCE, Point, Unevaluable
from derive.engine.matrix import entries
from derive.notation.symbols import INDICES, n
from derive.writeup.steps import _entry_of_column
from derive.writeup.views import DOTS

SEEDS = (20261126, 14)
SIZE = 5  # n, for a step written for any n
BINDINGS = 3  # values of the free indices tried at each point (one of them all equal)
TRIES = 24  # draws to find them, when a condition (i ≠ j) rules some out


def all_hold(steps) -> bool:
    """Whether every step holds; steps checked with the same facts share their points' values."""
    points = {}
    return all(holds(step, points) for step in steps)


def holds(step, points: dict | None = None) -> bool:
    """Whether step's two sides agree at every seeded point and choice of its free indices that meets its
    condition (at least one); False when they differ, or cannot be evaluated. points: the seeded points
    of earlier steps, by their facts (the values of outputs and sums there are computed once)."""
    facts = step.facts
    if facts is None:
        return False
    try:
        return _holds(step, facts, {} if points is None else points)
    except (Unevaluable, ArithmeticError, TypeError, ValueError, AttributeError, KeyError, RecursionError):
        return False


def _holds(step, facts, points: dict) -> bool:
    left, right = cells(step.before, facts), cells(step.after, facts)
    if len(left) != len(right):
        return False
    pairs = []
    for a, b in zip(left, right, strict=True):
        if a in DOTS or b in DOTS:  # an elided entry is the same ⋯ on both sides, or the step is wrong
            if a != b:
                return False
            continue
        pairs.append((a, b))
    condition = step.condition
    shown = [*(e for pair in pairs for e in pair), *([condition] if condition is not None else [])]
    # atoms, not free_symbols: a derivative's free symbols leave out the j of its variable z_j
    symbols = set().union(*(sympify(e).atoms(Symbol) for e in shown)) if shown else set()
    free = sorted((s for s in symbols if s in INDICES), key=str)
    size = SIZE if n in symbols or _has_n(facts) else _largest_limit(shown, facts)
    checked = 0
    # At a given large n (64) every entry shown is evaluated with its sums written out: one point there.
    for seed in SEEDS if size <= SIZE else SEEDS[:1]:
        key = (id(facts), seed, size)
        if key not in points:
            points[key] = (
                facts,
                Point(facts.definitions, seed, size, DOTS),
            )  # the facts kept alive: their id stays theirs
        point = points[key][1]
        for bound in _bindings(free, condition, size, seed, point):
            for a, b in pairs:
                got, want = point.value(a, bound), point.value(b, bound)
                if abs(got - want) > TOLERANCE * max(1, abs(got), abs(want)):
                    return False
            checked += 1
    return checked > 0


def cells(expr, facts) -> list:
    """expr as the step's check reads it (steps.value), before any derivative is taken: names expanded,
    a matrix as its entries, a matrix expression as its (i, j) entry."""
    expr = sympify(expr)
    if expr in facts.named and not expr.is_Symbol:
        expr = facts.named[expr]
    if isinstance(expr, MatrixBase):
        return [c for e in expr for c in cells(e, facts)]
    if isinstance(expr, MatMul) and any(isinstance(a, MatrixBase) for a in expr.args):
        scale = Mul(*(a for a in expr.args if not isinstance(a, MatrixBase)))
        (written,) = (a for a in expr.args if isinstance(a, MatrixBase))
        return [e if e in DOTS else cells(scale * e, facts)[0] for e in written]
    if isinstance(expr, MatrixExpr):
        expr = entries(expr) if expr.shape[1] != 1 else _entry_of_column(expr)
    expr = expr.replace(lambda e: isinstance(e, UnevaluatedExpr), lambda e: e.args[0])
    return [expr.xreplace({name: body for name, body in facts.named.items() if name.is_Symbol})]


def _has_n(facts) -> bool:
    return any(body.has(n) for body in facts.definitions.values())


def _largest_limit(shown, facts) -> int:
    """The size a step at a given n is written for: the largest upper limit of its sums, else SIZE."""
    found = []
    for e in [*shown, *facts.definitions.values()]:
        for total in sympify(e).atoms(Sum):
            found += [int(limit[2]) for limit in total.limits if limit[2].is_Integer]
    return max(found, default=SIZE)


def _bindings(free, condition, size, seed, point):
    """Up to BINDINGS values of the free indices (the first all equal) under which condition holds."""
    if not free:
        if condition is None or point.truth(condition, {}):
            yield {}
        return
    draw = random.Random(f"{seed}:indices")
    found = 0
    for attempt in range(TRIES):
        values = [min(2, size)] * len(free) if attempt == 0 else [draw.randint(1, size) for _ in free]
        bound = dict(zip(free, values, strict=True))
        if condition is None or point.truth(condition, bound):
            yield bound
            found += 1
            if found == BINDINGS:
                return


__all__ = ["holds", "cells"]
