"""A cheap numeric re-check of stored results: derived forms against the definition differentiated
numerically (float64, central differences: engine/floats.py) at seeded points."""

from __future__ import annotations

from sympy import Symbol

from derive.engine.floats import Point, Unevaluable
from derive.engine.matrix import entries
from derive.notation.symbols import i, j, n

SIZE = 3
SEEDS = (20261126, 14)
PAIRS = ((1, 1), (3, 3), (1, 2), (3, 1))  # (i, j): on the diagonal and off it
# A fourth-order central difference at these steps is off by less than 1e-11 here; a wrong form, even one
# off by 1e-3 of its value, is far outside.
ABSOLUTE, RELATIVE = 1e-9, 1e-7
_FAILURES = (
    Unevaluable,
    TypeError,
    ValueError,
    ArithmeticError,
    AttributeError,
    IndexError,
    KeyError,
    RecursionError,
)


def agrees(spelled, names, raw, general, cases, form) -> bool:
    """Whether raw, general (in names' outputs), each case and the matrix form's entries all equal the
    definition differentiated numerically at n = 3, at two seeded points; any failure to evaluate is a no."""
    scalar = spelled.kind == "scalar"
    pairs = tuple((r, r) for r in range(1, SIZE + 1)) if scalar else PAIRS
    forms = [raw, general, *(expr for _, expr in cases)]
    if form is not None and not scalar:
        forms.append(entries(form))
    try:
        for seed in SEEDS:
            point = Point(_definitions(spelled, names), seed, SIZE)
            for row, col in pairs:
                of = spelled.output if scalar else spelled.output[row]
                want = point.derivative(of, spelled.input[row if scalar else col], {})
                # A case is compared only where its condition (i = j or i ≠ j) holds.
                at = {i: row, j: col, n: SIZE}
                held = [True, True, *(bool(condition.xreplace(at)) for condition, _ in cases), True]
                for expr, holds in zip(forms, held, strict=False):
                    if holds and not _close(point.value(expr, {i: row, j: col}), want):
                        return False
    except _FAILURES:
        return False
    return True


def explicit_agrees(spelled, names, table, picks) -> bool:
    """Whether each picked entry of table (the explicit Jacobian, or a scalar's gradient, at table.size)
    equals the definition differentiated numerically at that size, at two seeded points; names is the
    Definition the entries are written in (spelled by default). Any failure to evaluate is a no."""
    size, z = table.size, spelled.input
    used = sorted({a for pick in picks for a in pick})
    plain = {Symbol(f"{b.name}{a}"): b[a] for b in table.bases for a in used}
    try:
        for seed in SEEDS:
            point = Point(_definitions(spelled, names), seed, size)
            for pick in picks:
                *row, b = pick
                got = point.value(table.entry(*pick).xreplace(plain), {})
                want = point.derivative(spelled.output[row[0]] if row else spelled.output, z[b], {})
                if not _close(got, want):
                    return False
    except _FAILURES:
        return False
    return True


def same(spelled, a, b) -> bool:
    """Whether a and b (vectors at index i, in spelled's inputs) are equal numerically at n = 3, i = 1..3,
    at two seeded points; any failure to evaluate is a no."""
    try:
        for seed in SEEDS:
            point = Point(dict(spelled.substitutions), seed, SIZE)
            for row in range(1, SIZE + 1):
                if not _close(point.value(a, {i: row}), point.value(b, {i: row})):
                    return False
    except _FAILURES:
        return False
    return True


def _definitions(spelled, names) -> dict:
    """Each output and intermediate the forms may be written in, and a scalar's own output, by its body."""
    definitions = dict((names or spelled).substitutions)
    if spelled.kind == "scalar":
        definitions[spelled.output] = spelled.expanded
    return definitions


def _close(got: float, want: float) -> bool:
    return abs(got - want) <= ABSOLUTE + RELATIVE * max(abs(got), abs(want))
