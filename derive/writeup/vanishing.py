"""The Jacobian evaluated near a one-hot output: how small its entries get, computed and checked."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sympy import Float, ImmutableMatrix, Integer, Number, Tuple

from derive.errors import ProofFailed
from derive.notation.symbols import i, j, n, y
from derive.writeup.views import entry

SIZE = 4  # the example's n when none is given, or when the given one is too large to print
PEAK = 10  # z = (PEAK, 0, …, 0): one input far above the others
DIGITS = 2  # significant digits shown
PRECISION = 30  # digits carried: central differences with STEP are then good to about 1e-20
STEP = Float("1e-10", PRECISION)


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


def example(d, loss=None) -> Example | None:
    """The example for d, or None when its entries are not numbers or do not shrink near one-hot."""
    size = d.n if d.n is not None and d.n <= 6 else SIZE
    outputs = [d.definition.xreplace({i: a, n: size}).doit() for a in range(1, size + 1)]
    peak = [Integer(PEAK)] + [Integer(0)] * (size - 1)
    try:
        s = _at(d, outputs, peak)
    except OverflowError:  # e^(e^(e^…)) beyond what mpmath can hold: no numbers to show
        return None
    if size < 2 or not all(isinstance(v, Number) and v.is_finite for v in s):
        return None  # a parameter without a value (a temperature T): no numbers to show
    J = _jacobian(d, outputs, peak)
    flat = _jacobian(d, outputs, [Integer(0)] * size)
    if J is None or flat is None or not s[0] > 0.99:
        return None
    largest, uniform = _largest(J), _largest(flat)
    if not largest < uniform / 100:
        return None  # the claim the example backs does not hold here: no example
    target, slope = None, None
    if loss is not None:
        target = [Integer(1) if b == 1 else Integer(0) for b in range(size)]  # the second class is right
        slope = _gradient(d, loss, outputs, peak, target)
        target, slope = Tuple(*target), Tuple(*(_rounded(v) for v in slope))
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


def _at(d, outputs, z_values):
    """The outputs at z, to PRECISION digits."""
    inputs = dict(zip(_entries(d.input, len(z_values)), z_values, strict=True))
    return [s.xreplace(inputs).evalf(PRECISION) for s in outputs]


@lru_cache(maxsize=64)
def _entries(base, size: int) -> tuple:
    """base_1 … base_size, built once: an indexed entry works out its assumptions each time it is built."""
    return tuple(base[b] for b in range(1, size + 1))


def _jacobian(d, outputs, z_values):
    """J at z from the derived general form, checked against central differences of the definition."""
    size = len(outputs)
    s = _at(d, outputs, z_values)
    if not all(isinstance(v, Number) and v.is_finite for v in s):
        return None  # 0/0 at z = 0, say
    at = {
        **dict(zip(_entries(d.input, size), z_values, strict=True)),
        **dict(zip(_entries(d.output, size), s, strict=True)),
    }
    rows = range(1, size + 1)
    J = ImmutableMatrix(
        [[entry(d, a, b, size).xreplace(at).doit().evalf(PRECISION) for b in rows] for a in rows]
    )
    if not all(isinstance(v, Number) and v.is_finite for v in J):
        return None
    for b in range(size):
        ahead, behind = (_at(d, outputs, _moved(z_values, b, sign * STEP)) for sign in (1, -1))
        for a in range(size):
            _agree(J[a, b], (ahead[a] - behind[a]) / (2 * STEP), f"J[{a + 1}, {b + 1}]")
    return J


def _gradient(d, loss, outputs, z_values, target):
    """∂L/∂z at z from the derived gradient, checked against central differences of L itself."""
    size = len(outputs)
    labels = dict(zip(_entries(y, size), target, strict=True))
    value = loss.definition[-1].after.xreplace({n: size}).doit().xreplace(labels)

    def L(point):
        return value.xreplace(dict(zip(_entries(d.output, size), _at(d, outputs, point), strict=True)))

    s = _at(d, outputs, z_values)
    at = {**labels, **dict(zip(_entries(d.output, size), s, strict=True))}
    slope = [loss.gradient.xreplace({j: b}).xreplace(at).evalf(PRECISION) for b in range(1, size + 1)]
    for b in range(size):
        ahead, behind = L(_moved(z_values, b, STEP)), L(_moved(z_values, b, -STEP))
        _agree(slope[b], (ahead - behind) / (2 * STEP), f"dL/dz[{b + 1}]")
    return slope


def _moved(point, b, step):
    return [v + step if c == b else v for c, v in enumerate(point)]


def _agree(derived, differenced, where):
    if abs(derived - differenced) > Float("1e-15") + Float("1e-8") * abs(derived):
        raise ProofFailed(f"the one-hot example disagrees with central differences at {where}")


def _largest(J):
    return max(abs(v) for v in J)


def _rounded(v, near_one=False):
    """v to DIGITS significant digits; a value near one keeps enough to differ from one."""
    v = Float(v)
    if near_one and abs(1 - abs(v)) < 0.01:
        return Float(v, 5)
    return Float(v, DIGITS)
