"""Expressions evaluated in float64 at seeded points: outputs and intermediates from their definitions,
sums written out, derivatives as fourth-order central differences. What stored results are re-checked with."""

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
    IndexedBase,
    KroneckerDelta,
    LessThan,
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

from derive.notation.symbols import INDICES, i, n, y

# The central difference (fourth order) steps by H relative to the variable (at least H · SMALLEST):
# truncation ~H⁴ (1e-12), rounding ~ε/H (1e-13), a second derivative about 1e-10. A wrong step is off by
# far more than the tolerance.
H, SMALLEST = 1e-3, 0.05
TOLERANCE = 1e-6  # relative: |left − right| ≤ TOLERANCE · max(1, |left|, |right|)
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
    """Something the numeric check does not evaluate: what it was to check is not taken as checked."""


class Point:
    """Seeded values: inputs in [−1.5, 1.5], the target y a probability vector (Σ y = 1 holds), any other
    symbol in [0.5, 2]; outputs and intermediates from their definitions."""

    def __init__(self, definitions: dict, seed: int, size: int, opaque=frozenset(), dims=None):
        self.definitions = definitions  # output base or scalar name → its body (at index i) in the inputs
        # The outputs by their label: equal IndexedBases are often distinct objects, slow to compare.
        self.outputs = {k.label: body for k, body in definitions.items() if isinstance(k, IndexedBase)}
        self.opaque = opaque  # symbols that have no value (a written ⋯)
        self.seed, self.size = seed, size
        self.sizes = {**(dims or {}), n: size}  # every dimension's size (d, h: several inputs), n's too
        self.drawn = {}
        self.weights = {}  # a probability vector's draws, by seed and size
        self.memo = {}  # (what, perturbation) → value
        self.reads = {}  # a sum → the symbols whose values it depends on

    def value(self, expr, bound: dict):
        env = {**self.sizes, **bound}
        return self._eval(expr, env, ())

    def derivative(self, expr, variable, bound: dict):
        """d expr / d variable (an input entry or scalar) as a fourth-order central difference."""
        return self._derivative(expr, [variable], {**self.sizes, **bound}, ())

    def truth(self, condition, bound: dict) -> bool:
        return self._truth(condition, {**self.sizes, **bound}, ())

    # -- leaves
    def _entry(self, base, index: int):
        key = (base.name, index)
        if key not in self.drawn:
            draw = random.Random(f"{self.seed}:{base}:{index}")
            if base.label == y.label:  # a probability vector over 1..size
                if index > self.size:
                    raise Unevaluable("an index past the size")
                if base not in self.weights:
                    draws = [
                        random.Random(f"{self.seed}:{base}:{k}").randint(1, 100) for k in range(self.size)
                    ]
                    self.weights[base] = (draws, sum(draws))
                weights, total = self.weights[base]
                self.drawn[key] = weights[index - 1] / total
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
        evaluate = _BY_TYPE.get(type(e))
        if evaluate is None:  # each class of node is looked at once, then dispatched by its type
            evaluate = _BY_TYPE[type(e)] = _evaluator(type(e))
        return evaluate(self, e, env, moved)

    def _add(self, e, env, moved):
        return sum(self._eval(a, env, moved) for a in e.args)

    def _mul(self, e, env, moved):
        result = 1.0
        for a in e.args:
            result *= self._eval(a, env, moved)
        return result

    def _pow(self, e, env, moved):
        base, power = e.args
        if power.is_Integer:
            return self._eval(base, env, moved) ** int(power)
        return self._eval(base, env, moved) ** self._eval(power, env, moved)

    def _function(self, e, env, moved):
        return _FUNCTIONS[e.func](self._eval(e.args[0], env, moved))

    def _extreme(self, e, env, moved):
        values = [self._eval(a, env, moved) for a in e.args]
        return max(values) if isinstance(e, Max) else min(values)

    def _step(self, e, env, moved):
        x = self._eval(e.args[0], env, moved)
        at_zero = self._eval(e.args[1], env, moved) if len(e.args) > 1 else 0.5
        return 1.0 if x > 0 else 0.0 if x < 0 else at_zero

    def _delta(self, e, env, moved):
        a, b = (self._index(x, env) for x in e.args[:2])
        return 1.0 if a == b else 0.0

    def _piecewise(self, e, env, moved):
        for piece, condition in e.args:
            if self._truth(condition, env, moved):
                return self._eval(piece, env, moved)
        raise Unevaluable("no piece applies")

    def _differentiated(self, e, env, moved):
        variables = [v for v, count in e.variable_count for _ in range(int(count))]
        return self._derivative(e.expr, variables, env, moved)

    def _index(self, e, env) -> int:
        if e in env:
            return env[e]
        if e.is_Integer:  # an index already given (K[3, l] at a picked entry): nothing to put in
            return int(e)
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
                at = {**self.sizes, n: env.get(n, self.size)}
                self.memo[key] = self._eval(self.definitions[s], at, moved)
            return self.memo[key] + _moved(moved, "output", s.name)
        if s in INDICES or s == n or s in self.opaque:
            raise Unevaluable(f"no value for {s}")
        return self._symbol(s) + _moved(moved, "input", s.name)

    def _indexed(self, e, env, moved):
        base = e.base
        if len(e.indices) != 1:  # a matrix's entry X_{a,b}: an input, drawn like a vector's
            if base.label in self.outputs:
                raise Unevaluable("an output with several indices")
            where = tuple(self._index(x, env) for x in e.indices)
            if min(where) < 1:
                raise Unevaluable("an index below one")
            key = (base.name, where)
            if key not in self.drawn:
                self.drawn[key] = random.Random(f"{self.seed}:{base}:{where}").randint(-150, 150) / 100
            return self.drawn[key] + _moved(moved, "input", key)
        index = self._index(e.indices[0], env)
        if index < 1:
            raise Unevaluable("an index below one")
        if base.label in self.outputs:  # an output: its definition at that index
            key = (base.label, index, moved)
            if key not in self.memo:
                at = {**self.sizes, n: env.get(n, self.size), i: index}
                self.memo[key] = self._eval(self.outputs[base.label], at, moved)
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
            kind = "output" if last.base.label in self.outputs else "input"
            at = tuple(self._index(x, env) for x in last.indices)
            where = (last.base.name, at[0] if len(at) == 1 else at)
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


_BY_TYPE = {}  # a class of node → how Point evaluates it


def _evaluator(cls):
    """How Point evaluates a node of class cls (a function of the point, the node, env and moved)."""
    if cls.is_Integer:
        return lambda point, e, env, moved: float(int(e))
    if cls.is_Rational:
        return lambda point, e, env, moved: int(e.p) / int(e.q)
    if issubclass(cls, Float) or cls.is_NumberSymbol:
        return lambda point, e, env, moved: float(e)
    for kinds, method in (
        (Symbol, Point._scalar),
        (Indexed, Point._indexed),
        (Add, Point._add),
        (Mul, Point._mul),
        (Pow, Point._pow),
        (UnevaluatedExpr, lambda point, e, env, moved: point._eval(e.args[0], env, moved)),
        (tuple(_FUNCTIONS), Point._function),
        ((Max, Min), Point._extreme),
        (Heaviside, Point._step),
        (KroneckerDelta, Point._delta),
        (Piecewise, Point._piecewise),
        ((Sum, Product), Point._sum),
        (Derivative, Point._differentiated),
    ):
        if issubclass(cls, kinds):
            return method
    name = cls.__name__

    def unevaluable(point, e, env, moved):
        raise Unevaluable(f"not evaluated: {name}")

    return unevaluable


def _moved(moved, kind, where):
    """How far a derivative's central difference has moved this input or output (0 if not)."""
    if not moved:
        return 0.0
    return sum(delta for k, w, delta in moved if k == kind and w == where)
