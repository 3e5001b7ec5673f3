"""A stored step checked again, numerically: both sides evaluated in float64 at seeded points, derivatives
taken by central differences, never trusting how the step was checked when it was stored."""

from __future__ import annotations

import math
import random

from sympy import (
    Abs,
    Add,
    And,
    Derivative,
    Eq,
    Float,
    GreaterThan,
    Heaviside,
    Indexed,
    KroneckerDelta,
    LessThan,
    MatMul,
    MatrixBase,
    MatrixExpr,
    Max,
    Min,
    Mul,
    Ne,
    Not,
    Or,
    Piecewise,
    Pow,
    Product,
    StrictGreaterThan,
    StrictLessThan,
    Sum,
    Symbol,
    UnevaluatedExpr,
    cos,
    cosh,
    erf,
    erfc,
    exp,
    log,
    sign,
    sin,
    sinh,
    sympify,
    tan,
    tanh,
)
from sympy.logic.boolalg import BooleanFalse, BooleanTrue

from derive.engine.matrix import entries
from derive.notation.symbols import INDICES, i, n, y
from derive.writeup.steps import _entry_of_column
from derive.writeup.views import DOTS

# The central difference (fourth order) steps by H relative to the variable (at least H · SMALLEST):
# truncation ~H⁴ (1e-12), rounding ~ε/H (1e-13), a second derivative about 1e-10. A wrong step is off by
# far more than the tolerance.
H, SMALLEST = 1e-3, 0.05
TOLERANCE = 1e-6  # relative: |left − right| ≤ TOLERANCE · max(1, |left|, |right|)
SEEDS = (20261126, 14)
SIZE = 5  # n, for a step written for any n
BINDINGS = 3  # values of the free indices tried at each point (one of them all equal)
TRIES = 24  # draws to find them, when a condition (i ≠ j) rules some out
_FUNCTIONS = {
    exp: math.exp,
    log: math.log,
    sin: math.sin,
    cos: math.cos,
    tan: math.tan,
    sinh: math.sinh,
    cosh: math.cosh,
    tanh: math.tanh,
    erf: math.erf,
    erfc: math.erfc,
    Abs: abs,
    sign: lambda x: float((x > 0) - (x < 0)),
}


class Unevaluable(ValueError):
    """Something in a step the numeric check does not evaluate: the step is not taken as checked."""


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
            points[key] = (facts, _Point(facts, seed, size))  # the facts kept alive: their id stays theirs
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


class _Point:
    """Seeded values: inputs in [−1.5, 1.5], the target y a probability vector (Σ y = 1 holds), any other
    symbol in [0.5, 2]; outputs and intermediates from their definitions."""

    def __init__(self, facts, seed: int, size: int):
        self.definitions = facts.definitions
        self.seed, self.size = seed, size
        self.drawn = {}
        self.memo = {}  # (what, perturbation) → value
        self.reads = {}  # a sum → the symbols whose values it depends on

    def value(self, expr, bound: dict):
        env = {n: self.size, **bound}
        return self._eval(expr, env, ())

    def truth(self, condition, bound: dict) -> bool:
        return self._truth(condition, {n: self.size, **bound}, ())

    # -- leaves
    def _entry(self, base, index: int):
        key = (base.name, index)
        if key not in self.drawn:
            draw = random.Random(f"{self.seed}:{base}:{index}")
            if base == y:  # a probability vector over 1..size
                if index > self.size:
                    raise Unevaluable("an index past the size")
                weights = [random.Random(f"{self.seed}:{base}:{k}").randint(1, 100) for k in range(self.size)]
                self.drawn[key] = weights[index - 1] / sum(weights)
            else:
                self.drawn[key] = draw.randint(-150, 150) / 100
        return self.drawn[key]

    def _symbol(self, s):
        if s not in self.drawn:
            draw = random.Random(f"{self.seed}:{s.name}")
            self.drawn[s] = draw.randint(50, 200) / 100
        return self.drawn[s]

    # -- evaluation
    def _eval(self, e, env, moved):
        if e.is_Integer:
            return float(int(e))
        if e.is_Rational:
            return int(e.p) / int(e.q)
        if isinstance(e, Float) or e.is_NumberSymbol:
            return float(e)
        if isinstance(e, Symbol):
            return self._scalar(e, env, moved)
        if isinstance(e, Indexed):
            return self._indexed(e, env, moved)
        if isinstance(e, Add):
            return sum(self._eval(a, env, moved) for a in e.args)
        if isinstance(e, Mul):
            result = 1.0
            for a in e.args:
                result *= self._eval(a, env, moved)
            return result
        if isinstance(e, Pow):
            base, power = e.args
            if power.is_Integer:
                return self._eval(base, env, moved) ** int(power)
            return self._eval(base, env, moved) ** self._eval(power, env, moved)
        if isinstance(e, UnevaluatedExpr):
            return self._eval(e.args[0], env, moved)
        if e.func in _FUNCTIONS:
            return _FUNCTIONS[e.func](self._eval(e.args[0], env, moved))
        if isinstance(e, (Max, Min)):
            values = [self._eval(a, env, moved) for a in e.args]
            return max(values) if isinstance(e, Max) else min(values)
        if isinstance(e, Heaviside):
            x = self._eval(e.args[0], env, moved)
            at_zero = self._eval(e.args[1], env, moved) if len(e.args) > 1 else 0.5
            return 1.0 if x > 0 else 0.0 if x < 0 else at_zero
        if isinstance(e, KroneckerDelta):
            a, b = (self._index(x, env) for x in e.args[:2])
            return 1.0 if a == b else 0.0
        if isinstance(e, Piecewise):
            for piece, condition in e.args:
                if self._truth(condition, env, moved):
                    return self._eval(piece, env, moved)
            raise Unevaluable("no piece applies")
        if isinstance(e, (Sum, Product)):
            return self._sum(e, env, moved)
        if isinstance(e, Derivative):
            variables = [v for v, count in e.variable_count for _ in range(int(count))]
            return self._derivative(e.expr, variables, env, moved)
        raise Unevaluable(f"not evaluated: {type(e).__name__}")

    def _index(self, e, env) -> int:
        if e in env:
            return env[e]
        value = sympify(e.xreplace({s: v for s, v in env.items() if isinstance(v, int)}))
        if not value.is_Integer:
            raise Unevaluable("an index without a value")
        return int(value)

    def _scalar(self, s, env, moved):
        if s in env:
            return float(env[s])
        if s in self.definitions:  # an intermediate (μ, σ) or a scalar output (L)
            key = (s, moved)
            if key not in self.memo:
                self.memo[key] = self._eval(self.definitions[s], {n: env.get(n, self.size)}, moved)
            return self.memo[key] + _moved(moved, "output", s.name)
        if s in INDICES or s == n or s in DOTS:
            raise Unevaluable(f"no value for {s}")
        return self._symbol(s) + _moved(moved, "input", s.name)

    def _indexed(self, e, env, moved):
        if len(e.indices) != 1:
            raise Unevaluable("a matrix entry")
        base, index = e.base, self._index(e.indices[0], env)
        if index < 1:
            raise Unevaluable("an index below one")
        if base in self.definitions:  # an output: its definition at that index
            key = (base, index, moved)
            if key not in self.memo:
                at = {n: env.get(n, self.size), i: index}
                self.memo[key] = self._eval(self.definitions[base], at, moved)
            return self.memo[key] + _moved(moved, "output", (base.name, index))
        return self._entry(base, index) + _moved(moved, "input", (base.name, index))

    def _sum(self, total, env, moved):
        # The same sum under the same values of the indices it reads is taken once per point.
        if total not in self.reads:
            own = {limit[0] for limit in total.limits}
            self.reads[total] = tuple(s for s in total.atoms(Symbol) if s not in own)
        key = (total, tuple(env.get(s) for s in self.reads[total]), moved)
        if key in self.memo:
            return self.memo[key]
        product = isinstance(total, Product)
        result = self._over(total.function, list(total.limits), dict(env), moved, product)
        self.memo[key] = result
        return result

    def _over(self, body, limits, env, moved, product):
        if not limits:
            return self._eval(body, env, moved)
        (k, low, high), rest = limits[0], limits[1:]
        start, stop = self._index(low, env), self._index(high, env)
        if stop - start > 10_000:
            raise Unevaluable("a sum too long")
        terms = [self._over(body, rest, {**env, k: v}, moved, product) for v in range(start, stop + 1)]
        if product:
            result = 1.0
            for t in terms:
                result *= t
            return result
        return sum(terms)

    def _derivative(self, body, variables, env, moved):
        """The derivative by the last variable of the derivative by the others, each a central difference;
        by an output (s_k) the others are held (the body as written), by an input every output moves."""
        if not variables:
            return self._eval(body, env, moved)
        *inner, last = variables
        if isinstance(last, Indexed):
            kind = "output" if last.base in self.definitions else "input"
            where = (last.base.name, self._index(last.indices[0], env))
        elif isinstance(last, Symbol) and last not in env:
            kind, where = ("output" if last in self.definitions else "input"), last.name
        else:
            raise Unevaluable("a derivative by something else")
        h = H * max(abs(self._eval(last, env, moved)), SMALLEST)
        at = [self._derivative(body, inner, env, (*moved, (kind, where, t * h))) for t in (2, 1, -1, -2)]
        return (8 * (at[1] - at[2]) - (at[0] - at[3])) / (12 * h)

    def _truth(self, condition, env, moved) -> bool:
        if isinstance(condition, (BooleanTrue, bool)) and condition:
            return True
        if isinstance(condition, (BooleanFalse, bool)):
            return False
        if isinstance(condition, And):
            return all(self._truth(c, env, moved) for c in condition.args)
        if isinstance(condition, Or):
            return any(self._truth(c, env, moved) for c in condition.args)
        if isinstance(condition, Not):
            return not self._truth(condition.args[0], env, moved)
        a, b = (self._eval(sympify(side), env, moved) for side in condition.args)
        close = abs(a - b) <= TOLERANCE * max(1, abs(a), abs(b))
        if isinstance(condition, Eq):
            return close
        if isinstance(condition, Ne):
            return not close
        if isinstance(condition, (StrictGreaterThan, GreaterThan)):
            return a > b if isinstance(condition, StrictGreaterThan) else a >= b
        if isinstance(condition, (StrictLessThan, LessThan)):
            return a < b if isinstance(condition, StrictLessThan) else a <= b
        raise Unevaluable(f"not a condition: {type(condition).__name__}")


def _moved(moved, kind, where):
    """How far a derivative's central difference has moved this input or output (0 if not)."""
    if not moved:
        return 0.0
    return sum(delta for k, w, delta in moved if k == kind and w == where)


__all__ = ["holds", "cells"]
