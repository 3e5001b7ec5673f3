"""The Jacobian evaluated near a one-hot output: how small its entries get, computed, not claimed."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Float, ImmutableMatrix, Integer, Number, Tuple

from derive.symbols import i, j, n, y
from derive.views import entry

SIZE = 4  # the example's n when none is given, or when the given one is too large to print
PEAK = 10  # z = (PEAK, 0, …, 0): one input far above the others
DIGITS = 2  # significant digits shown


@dataclass(frozen=True)
class Example:
    """J at a near one-hot input, against J at the uniform input z = 0; with a loss, its gradient there."""

    size: int
    z: Tuple  # the input
    s: Tuple  # the outputs there
    jacobian: ImmutableMatrix
    largest: Float  # max |J_ab| there
    uniform: Float  # max |J_ab| at z = 0
    y: Tuple | None  # a one-hot target on another class
    gradient: Tuple | None  # ∂L/∂z there


def example(d, gradient=None) -> Example | None:
    """The example for d, or None when its entries are not numbers or do not shrink near one-hot."""
    size = d.n if d.n is not None and d.n <= 6 else SIZE
    if size < 2:
        return None
    peak = [Integer(PEAK)] + [Integer(0)] * (size - 1)
    s, J = _evaluate(d, size, peak)
    _, flat = _evaluate(d, size, [Integer(0)] * size)
    if J is None or flat is None or not s[0] > 0.99:
        return None
    largest, uniform = _largest(J), _largest(flat)
    if not largest < uniform / 100:
        return None  # the claim the example backs does not hold here: no example
    target, slope = None, None
    if gradient is not None:
        target = [Integer(1) if b == 1 else Integer(0) for b in range(size)]  # the second class is right
        at = {**{d.output[b + 1]: s[b] for b in range(size)}, **{y[b + 1]: target[b] for b in range(size)}}
        slope = Tuple(*(_rounded(gradient.xreplace({j: b}).xreplace(at)) for b in range(1, size + 1)))
        target = Tuple(*target)
    return Example(
        size,
        Tuple(*peak),
        Tuple(*(_rounded(v, near_one=True) for v in s)),
        J.applyfunc(_rounded),
        _rounded(largest),
        _rounded(uniform),
        target,
        slope,
    )


def _evaluate(d, size, z_values):
    """The outputs and the Jacobian at z, as floats; (None, None) if anything stays symbolic."""
    z = d.input
    inputs = {z[b + 1]: v for b, v in enumerate(z_values)}
    s = [d.definition.xreplace({i: a, n: size}).doit().xreplace(inputs).evalf() for a in range(1, size + 1)]
    if not all(_finite(v) for v in s):
        return None, None
    at = {**inputs, **{d.output[a + 1]: v for a, v in enumerate(s)}}
    cells = [
        [entry(d, a, b, size).xreplace(at).doit().evalf() for b in range(1, size + 1)]
        for a in range(1, size + 1)
    ]
    if not all(_finite(v) for row in cells for v in row):
        return None, None
    return s, ImmutableMatrix(cells)


def _finite(v) -> bool:
    return isinstance(v, Number) and bool(v.is_finite)


def _largest(J):
    return max(abs(v) for v in J)


def _rounded(v, near_one=False):
    """v to DIGITS significant digits; a value near one keeps enough to differ from one."""
    v = Float(v)
    if near_one and abs(1 - abs(v)) < 0.01:
        return Float(v, 5)
    return Float(v, DIGITS)
