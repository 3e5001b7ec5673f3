"""The float64 evaluator the caches re-check with: values from the drawn entries, derivatives by central
differences, and what a difference does not move taken once at the unmoved point."""

import math

import pytest
from sympy import Sum, exp

from derive.engine.floats import Point, Unevaluable
from derive.notation.symbols import i, k, l, n, total, vector, y, z

s = vector("s")


def test_a_sum_is_its_entries_added():
    point = Point({}, 7, 3)
    got = point.value(total(z[k] ** 2 * y[k], k), {})
    want = sum(point._entry(z, v) ** 2 * point._entry(y, v) for v in (1, 2, 3))
    assert got == pytest.approx(want, rel=1e-15)
    assert sum(point._entry(y, v) for v in (1, 2, 3)) == pytest.approx(1.0)


def test_a_derivative_leaves_what_it_does_not_move_at_the_unmoved_point():
    point = Point({}, 7, 3)
    weights = total(y[k] ** 2, k)
    got = point.derivative(total(z[k], k) * weights, z[2], {})
    assert got == pytest.approx(sum(point._entry(y, v) ** 2 for v in (1, 2, 3)), rel=1e-9)
    # Σ y_k² reads no z: evaluated once, unmoved, not once per step of the difference.
    assert [key[2] for key in point.memo if key[0] == weights] == [()]
    assert len([key for key in point.memo if key[0] == total(z[k], k)]) == 4


def test_an_output_moves_with_what_its_definition_reads():
    softmax = exp(z[i]) / total(exp(z[l]), l)
    point = Point({s: softmax}, 7, 3)
    # ∂s_1/∂z_2 = −s_1 s_2 (s read through its definition, which reads z).
    s1, s2 = (point.value(s[v], {}) for v in (1, 2))
    assert point.derivative(s[1], z[2], {}) == pytest.approx(-s1 * s2, rel=1e-8)
    # Moved by y, s (whose definition reads z only) is taken at the unmoved point.
    fresh = Point({s: softmax}, 7, 3)
    assert fresh.derivative(total(s[k] * y[k], k), y[1], {}) == pytest.approx(s1, rel=1e-8)
    assert {key[2] for key in fresh.memo if key[0] == s.label} == {()}


def test_what_it_cannot_evaluate_is_refused():
    with pytest.raises(Unevaluable):
        Point({}, 7, 3).value(Sum(z[k], (k, 1, n)) * l, {})
    assert math.isfinite(Point({}, 7, 3).value(total(z[k], k), {}))
