"""Roots of sums in proofs and in code: one quantity however spelled, and emitted as the definition has it."""

from sympy import Rational, sqrt, symbols

from derive.engine import prove

a, b, c = symbols("a b c", real=True)


def test_spellings_of_one_root_cancel():
    # √(ε + (a − b)²/4) and √(4 + 4·10⁵(a² − 2ab + b²))/(400√10): one root, expanded and scaled.
    first = 1 / sqrt(Rational(1, 100000) + (a - b) ** 2 / 4)
    second = 200 * sqrt(10) / sqrt(4 + 100000 * (a**2 - 2 * a * b + b**2))
    assert prove._roots_cancel(first - second) is True
    assert prove.vanishes(first - second)
    # cubes of it too: t^3 = t·P
    assert prove.vanishes(first**3 - second**3)


def test_different_roots_are_not_proven_equal():
    assert prove._roots_cancel(sqrt(a**2 + b**2) - sqrt(a**2 + 2 * b**2)) is False
    assert not prove.vanishes(sqrt(a**2 + b**2) - sqrt(a**2 + 2 * b**2))
    assert not prove.vanishes(sqrt(1 + a**2) - 2 * sqrt(4 + 4 * a**2))  # off by a factor of 4


def test_no_root_leaves_the_usual_route():
    assert prove._roots_cancel(a * b - b * a + c) is None
    assert prove.vanishes((a + b) ** 2 - a**2 - 2 * a * b - b**2)
