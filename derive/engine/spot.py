"""A cheap numeric re-check: derived forms against the definition differentiated directly at n = 3."""

from __future__ import annotations

import random

from sympy import Indexed, Rational, Sum, diff

from derive.engine.matrix import entries
from derive.engine.prove import back_to_inputs
from derive.notation.symbols import i, j, n

SIZE = 3
SEEDS = (20261126, 14)
PAIRS = ((1, 1), (3, 3), (1, 2), (3, 1))  # (i, j): on the diagonal and off it
TOLERANCE = 1e-12  # relative, with values taken to 20 digits


def agrees(spelled, names, raw, general, cases, form) -> bool:
    """Whether raw, general (in names' outputs), each case and the matrix form's entries all equal the
    definition differentiated directly at n = 3, at two seeded points; any failure to evaluate is a no."""
    try:
        return all(_agrees_at(spelled, names, raw, general, cases, form, seed) for seed in SEEDS)
    except (TypeError, ValueError, ArithmeticError, AttributeError, IndexError, KeyError):
        return False


def _agrees_at(spelled, names, raw, general, cases, form, seed) -> bool:
    draw = random.Random(seed)
    point = _Point(spelled.input, draw)
    scalar = spelled.kind == "scalar"
    pairs = tuple((r, r) for r in range(1, SIZE + 1)) if scalar else PAIRS
    written, bodies = {}, {}  # sums written out, and the definition at each row, once per point

    def concrete(expr, at):
        expr = back_to_inputs(expr.xreplace(at), names.substitutions).xreplace(at)
        return expr.replace(lambda e: isinstance(e, Sum), lambda e: _written(e, written))

    forms = [raw, general, *(expr for _, expr in cases)]
    if form is not None and not scalar:
        forms.append(entries(form))
    for row, col in pairs:
        at = {i: row, j: col, n: SIZE}
        if row not in bodies:
            bodies[row] = concrete(spelled.expanded, at)
        direct = point.value(diff(bodies[row], spelled.input[row if scalar else col]))
        # A case is compared only where its condition (i = j or i ≠ j) holds.
        held = [True, True, *(bool(condition.xreplace(at)) for condition, _ in cases), True]
        for expr, holds in zip(forms, held, strict=False):
            if holds and not _close(point.value(concrete(expr, at)), direct):
                return False
    return True


def _written(total, written: dict):
    if total not in written:
        written[total] = total.doit()
    return written[total]


def _close(got: complex, want: complex) -> bool:
    return abs(got - want) <= TOLERANCE * max(1.0, abs(want))


class _Point:
    """Seeded values for the inputs (in [−1.5, 1.5]), data vectors (probability vectors, so that
    Σ_k y_k = 1 holds) and parameters (in [0.5, 2]), drawn as each is first met."""

    def __init__(self, z, draw: random.Random):
        self.z, self.draw, self.values = z, draw, {}

    def value(self, expr) -> complex:
        for a in sorted(expr.atoms(Indexed), key=str):
            self.values.setdefault(a.base, None)
        for base in [b for b, v in self.values.items() if v is None]:
            self.values[base] = self._vector(base)
        for s in sorted(expr.free_symbols, key=str):
            if (
                not isinstance(s, Indexed)
                and s not in self.values
                and not any(s == b.label for b in self.values)
            ):
                self.values[s] = Rational(self.draw.randint(50, 200), 100)
        subs = {}
        for key, v in self.values.items():
            if isinstance(v, tuple):
                subs.update({key[a + 1]: v[a] for a in range(SIZE)})
            else:
                subs[key] = v
        return complex(expr.xreplace(subs).evalf(20))

    def _vector(self, base) -> tuple:
        if base == self.z:
            return tuple(Rational(self.draw.randint(-150, 150), 100) for _ in range(SIZE))
        weights = [self.draw.randint(1, 100) for _ in range(SIZE)]
        return tuple(Rational(w, sum(weights)) for w in weights)
