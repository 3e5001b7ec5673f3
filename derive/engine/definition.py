"""A function's definition made ready for the engine: intermediates inlined, parameters set, facts at hand."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cache, lru_cache

from sympy import Indexed, IndexedBase, Rational, Sum, Symbol, expand, solve

from derive.engine.sums import normalize_sums
from derive.errors import InvalidInput
from derive.guard import text as safetext
from derive.notation.function import Function
from derive.notation.symbols import INDICES, i, n, vector

_BOUND = INDICES[2:]
GRADIENT = vector("g")  # the gradient's name when it is not a registered function


@dataclass(frozen=True)
class Definition:
    """What the engine differentiates: the expanded definition, and what it may rewrite results with."""

    function: Function
    kind: str  # "vector" (indexed by i) or "scalar"
    output: object  # IndexedBase s, or Symbol L
    input: IndexedBase
    expanded: object  # the definition in the inputs alone, parameters substituted
    intermediates: tuple  # (IndexedBase or Symbol, body in the inputs), in the order written
    assumptions: tuple  # (expression, value), sums normalised
    parameters: tuple  # (Symbol, value) substituted

    @property
    def rewrites(self) -> tuple:
        """The (name, body) pairs a result may be written back in: the output first, then intermediates."""
        own = ((self.output, self.expanded),) if self.kind == "vector" else ()
        return own + self.intermediates

    @property
    def substitutions(self) -> dict:
        """Each name a result may use, mapped to its body in the inputs."""
        return dict(self.rewrites)

    def function_where(self) -> tuple:
        """The intermediates as written in the function's file: (name, body)."""
        keys = dict(self.intermediates)
        named = {str(k.label) if hasattr(k, "label") else k.name: k for k in keys}
        return tuple((named[name], body) for name, body in self.function.where if name in named)

    def inline(self, expr):
        """expr with every intermediate replaced by its body in the inputs."""
        return _inline(expr, self.intermediates)

    def assume(self, expr):
        """expr with every assumption applied (Σ_k y_k → 1)."""
        if not self.assumptions:
            return expr
        return normalize_sums(expr).xreplace(dict(self.assumptions))

    def assumptions_used(self, expr) -> tuple:
        """The assumptions that change expr."""
        expr = normalize_sums(expr)
        return tuple((lhs, rhs) for lhs, rhs in self.assumptions if expr.has(lhs))

    def assume_at(self, expr, size: int):
        """expr at a concrete n with each assumption solved for its last variable (y_n = 1 − Σ_{k<n} y_k)."""
        for lhs, rhs in self.assumptions:
            # The sum itself where it is still written as one, else its last variable.
            expr = normalize_sums(expr).xreplace({lhs.xreplace({n: size}): rhs})
            expr = expr.xreplace(_solved(lhs, rhs, size))
        return expr

    def gradient_function(self, raw, known=None) -> Definition:
        """The gradient ∂L/∂z_i as a vector function; its Jacobian is the Hessian. known is the registered
        (function, output, definition) it was recognised as (engine/recognize.py), or None."""
        fn, output, body = known or (self.function, GRADIENT, raw)
        extra = tuple(r for r in self.intermediates if r[0] != output)
        return Definition(fn, "vector", output, self.input, body, extra, self.assumptions, self.parameters)

    @property
    def recognized(self) -> bool:
        """Whether this gradient is a registered function (then self.function is that function)."""
        return self.output != GRADIENT


@cache
def _solved(lhs, rhs, size: int) -> dict:
    concrete = lhs.xreplace({n: size}).doit()
    last = max(concrete.atoms(Indexed), key=lambda a: (str(a.base), a.indices))
    return {last: solved_for(concrete - rhs, last)}


def solved_for(equation, x):
    """The x where equation = 0 (the first solve finds)."""
    return solutions(equation, x)[0]


def solutions(equation, x) -> list:
    """Every x where equation = 0: directly where it is a·x + b with a free of x and nonzero (Σ_k y_k − 1
    for y_n, v − (x − μ)/σ for z_j), else by solve, which takes a tenth of a second for the linear case."""
    found = _solutions(equation, x)
    if isinstance(found, Exception):
        raise type(found)(*found.args)  # SymPy's giving up, remembered: it took as long every time
    return list(found)


@lru_cache(maxsize=256)  # the derivation and each step of its write-up rewrite one definition again
def _solutions(equation, x):
    slope = equation.diff(x)
    if not slope.has(x) and slope.is_zero is False:
        rest = expand(equation - slope * x)
        if not rest.has(x):
            return (expand(-rest / slope),)
    try:
        return tuple(solve(equation, x))
    except (NotImplementedError, ValueError, RecursionError) as error:  # the ways SymPy gives up
        return error


def define(fn: Function, params: dict) -> Definition:
    """The engine's view of fn, with the given parameter values (names to numbers) substituted."""
    values = _parameter_values(fn, params)
    if values:
        # Everything downstream (code, documents) reads the definition as written: give it the values.
        fn = replace(
            fn,
            definition=fn.definition.xreplace(values),
            where=tuple((name, body.xreplace(values)) for name, body in fn.where),
        )
    intermediates = []
    for name, body in fn.where:
        key = vector(name) if body.has(i) else Symbol(name, positive=True)
        intermediates.append((key, _inline(body, intermediates).xreplace(values)))
    expanded = _inline(fn.definition, intermediates).xreplace(values)
    kind = "vector" if expanded.has(i) else "scalar"
    output = vector(fn.output) if kind == "vector" else Symbol(fn.output)
    assumptions = tuple((normalize_sums(lhs), rhs) for lhs, rhs in fn.assumptions)
    return Definition(
        fn, kind, output, vector(fn.input), expanded, tuple(intermediates), assumptions, tuple(values.items())
    )


def _inline(expr, intermediates):
    """Replace each intermediate v[m] (or scalar v) by its body at index m."""
    for key, body in reversed(intermediates):
        if isinstance(key, Symbol):
            expr = expr.xreplace({key: body})
            continue
        expr = expr.replace(
            lambda e, key=key: isinstance(e, Indexed) and e.base == key,
            lambda e, body=body: _at_index(body, e.indices[0], e.free_symbols),
        )
    return expr


def _at_index(body, index, context):
    """body with i → index, its own summation indices renamed apart from those in use."""
    taken = set(context) | {index}
    # A fresh name must be new to the body's own sums too: Σ_l exp(Σ_k W_lk x_k) at k needs a third name.
    inner = {limit[0] for s in body.atoms(Sum) for limit in s.limits}
    fresh = iter(b for b in _BOUND if b not in taken | inner)
    renames = {}
    for s in body.atoms(Sum):
        for bound, *_ in s.limits:
            if bound in taken and bound not in renames:
                renames[bound] = next(fresh)
    if renames:
        body = body.replace(
            lambda e: isinstance(e, Sum),
            lambda e: Sum(e.function.xreplace(renames), *_renamed(e.limits, renames)),
        )
    return body.xreplace({i: index})


def _renamed(limits, renames):
    return [(renames.get(v, v), lo, hi) for v, lo, hi in limits]


def _parameter_values(fn: Function, params: dict) -> dict:
    """{Symbol: exact number} for the parameters given, refusing names the function does not have."""
    from derive.notation.symbols import parameter

    free = set(fn.parameter_names)
    values = {}
    for name, value in sorted(params.items()):
        if name not in free:
            known = ", ".join(sorted(free)) or "none"
            raise InvalidInput(f"'{fn.name}' has no parameter '{name}'; its parameters: {known}")
        values[parameter(name)] = _exact(name, value)
    return values


# A parameter's value as text: a decimal (0.5, 2e-3) or a ratio (1/2), its digits and power of ten bounded,
# checked before any conversion: Fraction("1e999999999") would build a number of a billion digits.
_NUMBER = re.compile(r"[+-]?(?:\d{1,30}(?:\.\d{0,30})?|\.\d{1,30})(?:[eE][+-]?\d{1,2})?")
_VALUE = re.compile(rf"{_NUMBER.pattern}(?:/{_NUMBER.pattern})?")


def _exact(name, value) -> Rational:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Fraction, Rational)):
        raise InvalidInput(f"parameter {name} must be a number, not {type(value).__name__}")
    text = str(value).strip(" ")  # spaces only: a line break or other control is refused below
    if len(text) > 100 or not _VALUE.fullmatch(text):
        shown = safetext.python_comment(text[:40]) + ("…" if len(text) > 40 else "")
        raise InvalidInput(
            f"parameter {name} must be a number such as 0.5, 2e-3 or 1/3 (at most 30 digits and "
            f"powers of ten up to 99), not '{shown}'"
        )
    try:
        top, _, bottom = text.partition("/")
        fraction = Fraction(top) / Fraction(bottom or "1")
    except (ValueError, ZeroDivisionError):
        raise InvalidInput(f"parameter {name} must be a number, not {value!r}") from None
    if abs(fraction.numerator) > 10**30 or fraction.denominator > 10**30:
        raise InvalidInput(f"parameter {name} is too large to be exact: {value!r}")
    if fraction <= 0:
        raise InvalidInput(f"parameter {name} must be positive, got {value}")
    return Rational(fraction.numerator, fraction.denominator)
