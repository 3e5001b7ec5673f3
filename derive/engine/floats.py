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

_VALUELESS = frozenset((*INDICES, n))  # a hashed lookup: SymPy's == is slow, and this is hot

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
        self.feeds = None  # a defined name → the names its definition reads (built when first needed)
        self.reached = {}  # names → every name they read, through definitions
        self.apart = {}  # (names, perturbation) → whether nothing it moves is read

    def value(self, expr, bound: dict):
        env = {**self.sizes, **bound}
        return self._eval(expr, env, ())

    def derivative(self, expr, variable, bound: dict):
        """d expr / d variable (an input entry or scalar) as a fourth-order central difference."""
        return self._derivative(expr, [variable], {**self.sizes, **bound}, ())

    def untouched(self, names: frozenset, moved) -> bool:
        """Whether nothing moved is read by what reads these names (through definitions too): what such an
        expression gives is then its value where nothing moved, the same float."""
        key = (names, moved)
        known = self.apart.get(key)
        if known is None:
            reached = self._reach(names)
            known = self.apart[key] = not any(_name(where) in reached for _, where, _ in moved)
        return known

    def _reach(self, names: frozenset) -> frozenset:
        if names not in self.reached:
            if self.feeds is None:  # a vector and a scalar of one name (o_i, o) read what both read
                self.feeds = {}
                for k, body in self.definitions.items():
                    self.feeds[k.name] = self.feeds.get(k.name, frozenset()) | _names(body)
            seen, todo = set(), list(names)
            while todo:
                x = todo.pop()
                if x not in seen:
                    seen.add(x)
                    todo.extend(self.feeds.get(x, ()))
            self.reached[names] = frozenset(seen)
        return self.reached[names]

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
        run = _COMPILED.get(e)
        if run is None:
            run = _compile(e)
        return run(self, env, moved)

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
        if s in _VALUELESS or s in self.opaque:
            raise Unevaluable(f"no value for {s}")
        return self._symbol(s) + _moved(moved, "input", s.name)

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


_BY_TYPE = {}  # a class of node with no closure of its own → how Point evaluates it


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
        (tuple(_FUNCTIONS), _function),
        ((Max, Min), Point._extreme),
        (Heaviside, Point._step),
        (KroneckerDelta, Point._delta),
        (Piecewise, Point._piecewise),
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


def _function(point, e, env, moved):
    return _FUNCTIONS[e.func](point._eval(e.args[0], env, moved))


# Each expression is turned once into a closure over its children's closures (built from the tree's node
# types, no text evaluated): a point then evaluates it without looking at SymPy nodes again. The closures
# do what the tree walk did, in the same order, so every value is the same float.
_COMPILED = {}  # an expression → its closure (point, env, moved) → float
_MOST = 100_000  # closures kept before the table starts again


def _compile(e):
    if len(_COMPILED) >= _MOST:
        _COMPILED.clear()
    run = _COMPILED[e] = _build(e)
    return run


def _closure(e):
    run = _COMPILED.get(e)
    return run if run is not None else _compile(e)


def _build(e):
    cls = type(e)
    if cls.is_Integer or cls.is_Rational or issubclass(cls, Float) or cls.is_NumberSymbol:
        constant = _evaluator(cls)(None, e, None, None)
        return lambda point, env, moved: constant
    if issubclass(cls, Symbol):
        return _symbol(e)
    if issubclass(cls, Indexed):
        return _indexed(e)
    if issubclass(cls, Add):
        parts = tuple(_closure(a) for a in e.args)
        return lambda point, env, moved: sum([part(point, env, moved) for part in parts])
    if issubclass(cls, Mul):
        return _product(tuple(_closure(a) for a in e.args))
    if issubclass(cls, Pow):
        return _power(*e.args)
    if issubclass(cls, UnevaluatedExpr):
        return _closure(e.args[0])
    if issubclass(cls, (Sum, Product)):
        return _sum(e)
    if e.func in _FUNCTIONS:
        apply, argument = _FUNCTIONS[e.func], _closure(e.args[0])
        return lambda point, env, moved: apply(argument(point, env, moved))
    evaluate = _BY_TYPE.get(cls)
    if evaluate is None:  # each class of node is looked at once
        evaluate = _BY_TYPE[cls] = _evaluator(cls)
    return lambda point, env, moved: evaluate(point, e, env, moved)


def _symbol(s):
    def run(point, env, moved):
        if s in env:
            return float(env[s])
        return point._scalar(s, env, moved)

    return run


def _product(parts):
    def run(point, env, moved):
        result = 1.0
        for part in parts:
            result *= part(point, env, moved)
        return result

    return run


def _power(base, power):
    of = _closure(base)
    if power.is_Integer:
        exponent = int(power)
        return lambda point, env, moved: of(point, env, moved) ** exponent
    by = _closure(power)
    return lambda point, env, moved: of(point, env, moved) ** by(point, env, moved)


def _reader(x):
    """An index's value: bound in env, else an integer written in, else Point._index's substitution."""
    if x.is_Integer:
        written = int(x)
        return lambda point, env: env[x] if x in env else written
    return lambda point, env: env[x] if x in env else point._index(x, env)


def _indexed(e):
    base = e.base
    label, name = base.label, base.name
    readers = tuple(_reader(x) for x in e.indices)
    if len(readers) != 1:  # a matrix's entry X_{a,b}: an input, drawn like a vector's

        def entry(point, env, moved):
            if label in point.outputs:
                raise Unevaluable("an output with several indices")
            where = tuple([read(point, env) for read in readers])
            if min(where) < 1:
                raise Unevaluable("an index below one")
            key = (name, where)
            drawn = point.drawn
            if key not in drawn:
                drawn[key] = random.Random(f"{point.seed}:{base}:{where}").randint(-150, 150) / 100
            return drawn[key] + (_moved(moved, "input", key) if moved else 0.0)

        return entry
    (read,) = readers
    reads = frozenset((name,))  # an output's definition: what it reads is what its name feeds

    def run(point, env, moved):
        index = read(point, env)
        if index < 1:
            raise Unevaluable("an index below one")
        if label in point.outputs:  # an output: its definition at that index
            within = () if moved and point.untouched(reads, moved) else moved
            key = (label, index, within)
            memo = point.memo
            if key not in memo:
                at = {**point.sizes, n: env.get(n, point.size), i: index}
                memo[key] = point._eval(point.outputs[label], at, within)
            return memo[key] + (_moved(moved, "output", (name, index)) if moved else 0.0)
        return point._entry(base, index) + (_moved(moved, "input", (name, index)) if moved else 0.0)

    return run


def _sum(total):
    """A sum (or product) written out; the same sum under the same values of the indices it reads is
    taken once per point."""
    own = {limit[0] for limit in total.limits}
    reads = tuple(s for s in total.atoms(Symbol) if s not in own)
    names = _names(total)
    limits = tuple((k, _reader(low), _reader(high)) for k, low, high in total.limits)
    body, depth, product = _closure(total.function), len(limits), isinstance(total, Product)

    def over(point, env, moved, level):
        if level == depth:
            return body(point, env, moved)
        k, low, high = limits[level]
        start, stop = low(point, env), high(point, env)
        if stop - start > 10_000:
            raise Unevaluable("a sum too long")
        inner = dict(env)  # each level's own copy: what it binds never reaches the level above
        terms = []
        for v in range(start, stop + 1):
            inner[k] = v
            terms.append(over(point, inner, moved, level + 1))
        if product:
            result = 1.0
            for t in terms:
                result *= t
            return result
        return sum(terms)

    def run(point, env, moved):
        if moved and point.untouched(names, moved):
            moved = ()
        key = (total, tuple([env.get(s) for s in reads]), moved)
        memo = point.memo
        if key in memo:
            return memo[key]
        result = memo[key] = over(point, env, moved, 0)
        return result

    return run


def _names(e) -> frozenset:
    """The names e reads: its symbols', its inputs' and outputs' (an index's name too: more is safe)."""
    return frozenset(s.name for s in e.atoms(Symbol))


def _name(where) -> str:
    """The name of what a perturbation moves: a scalar's, or an entry's (name, index)."""
    return where if isinstance(where, str) else where[0]
