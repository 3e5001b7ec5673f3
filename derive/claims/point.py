"""A concrete counterexample to a claim: a small n, small-integer inputs, the two values side by side."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Indexed, Integer, Rational, Symbol, cancel, count_ops, factor, nan, sympify

from derive.engine.definition import _inline, _solved
from derive.notation.symbols import i, j, n, parameters_in

# Small-integer inputs, not all equal (layer norm divides by their spread), tried in this order.
POINTS = {2: ((1, 0), (2, -1), (0, 1)), 3: ((1, 0, 2), (2, -1, 0)), 4: ((1, 0, 2, -1),)}
PARAMETER = Integer(2)  # a symbolic parameter (a temperature T) is set to 2: not 1, where many terms vanish
MAX_TIDY = 60  # operations in an exact value worth simplifying for display
PRECISION = 30  # digits of the comparison; the values are exact, the difference is judged at this precision


@dataclass(frozen=True)
class Example:
    """A concrete point where the claim and the derivative differ (or agree), with both values."""

    size: int
    inputs: dict  # vector name -> tuple of exact values (z, and y when there is one)
    parameters: dict  # name -> exact value
    entry: tuple  # (i,) or (i, j), 1-based
    claimed: object  # exact value of the claim there
    derived: object  # exact value of the derivative there


def search(goal, claim, assumed: bool, derived=None, case: str = "", quick: bool = False):
    """The first point where claim and derivative differ; data vectors satisfy the assumptions if assumed.

    Without assumed, the data vectors are all ones, which breaks Σ_k y_k = 1: the point shows what the
    claim needs the assumption for. derived replaces the derivative (0 to find where claim is not zero);
    case keeps to the entries i = j ("same") or i ≠ j ("other"); quick tries one point of each size.
    """

    exprs = (_inline(claim, goal.rewrites), goal.raw if derived is None else sympify(derived))
    z = goal.spelled.input
    data = sorted({a.base for e in exprs for a in e.atoms(Indexed)} - {z}, key=str)
    if not assumed and not data:
        return None
    parameters = {Symbol(name, positive=True): PARAMETER for e in exprs for name in parameters_in(e)}
    for size, points in POINTS.items():
        entries = _entries(goal.what, size, case)
        values = {}
        for base in data:
            values.update(_data(goal.spelled, base, size, assumed))
        for point in points[:1] if quick else points:
            at = {z[a + 1]: Integer(v) for a, v in enumerate(point)} | values | parameters
            for entry in entries:
                claimed, truth = (_value(e, size, entry, at) for e in exprs)
                if _differ(claimed, truth):
                    inputs = {str(z.label): tuple(Integer(v) for v in point)}
                    for base in data:
                        inputs[str(base.label)] = tuple(values[base[a]] for a in range(1, size + 1))
                    named = {s.name: v for s, v in parameters.items()}
                    return Example(size, inputs, named, entry, _tidy(claimed), _tidy(truth))
    return None


def _differ(claimed, truth) -> bool:
    """Whether two exact values differ, judged at PRECISION digits; False where they cannot be compared."""
    try:
        return bool(abs((claimed - truth).evalf(PRECISION)) > 10 ** (5 - PRECISION))
    except (TypeError, ValueError, ArithmeticError):  # e.g. a max SymPy cannot order
        return False


def _entries(what: str, size: int, case: str = "") -> list:
    rows = range(1, size + 1)
    if what == "gradient":
        return [(a,) for a in rows]
    keep = {"same": lambda a, b: a == b, "other": lambda a, b: a != b}.get(case, lambda a, b: True)
    return [(a, b) for a in rows for b in rows if keep(a, b)]


def _data(spelled, base, size: int, assumed: bool) -> dict:
    """A data vector y: all ones, or, under the assumptions, y_1 = 1, the rest 0, the last one solved."""
    values = {base[a]: Integer(1 if a == 1 or not assumed else 0) for a in range(1, size + 1)}
    if assumed:
        for lhs, rhs in spelled.assumptions:
            if lhs.has(base):
                (last, solution), *_ = _solved(lhs, rhs, size).items()
                values[last] = Rational(solution.xreplace(values))
    return values


def _value(expr, size: int, entry: tuple, at: dict):
    """expr at n = size and the entry (i[, j]), every sum written out, the point substituted, exact."""
    indices = dict(zip((i, j), entry, strict=False))
    try:
        return expr.xreplace({n: size, **indices}).doit().xreplace(at)
    except (TypeError, ValueError, ArithmeticError):  # a max SymPy cannot order: not comparable here
        return nan


def _tidy(value):
    """An exact value in its shortest form, e²/(1 + e)² for e(1 − 1/(1 + e))/(1 + e); a large one as is."""
    if count_ops(value) > MAX_TIDY:
        return value
    return factor(cancel(value))
