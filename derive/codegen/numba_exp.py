"""The Numba kernels' exp, as statements SymPy works out: two-sided, and one-sided for exponents proven ≤ 0.

exp(x) = 2^k exp(r), k = round(x / ln 2), |r| ≤ ln(2)/2: ln 2 split so that k·ln2_hi is exact, exp(r) by its
Taylor polynomial up to the first degree whose next term is below a quarter of float64's rounding unit,
and 2^k put together from exponent bits. No call to libm, so that the loops using it vectorise. k is
converted to an integer in 64 bits, a NaN as 0 at the conversion itself (r carries the NaN on): measured
faster here (AVX-512) than a 32-bit conversion or a NaN test of its own line (BENCHMARKS.md, numbaexp).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from sympy import Float, Function, Piecewise, Rational, Symbol, ceiling, factorial, floor, log

from derive.codegen.ranges import nonpositive


@dataclass(frozen=True)
class Format:
    """A float format: significand bits, exponents of the smallest normal and subnormal, the first 2^k
    that overflows, the bits of its integer pattern, and how many of them ln2_hi keeps."""

    bits: int
    normal: int
    subnormal: int
    overflow: int
    width: int
    kept: int  # k·ln2_hi exact: kept + bits of the largest |k| ≤ bits


FORMATS = {
    "float64": Format(53, -1022, -1074, 1024, 64, 21),
    "float32": Format(24, -126, -149, 128, 32, 12),
}


class Whole(Function):
    """A whole-valued float k as an integer of the format's width."""

    nargs = 1


class TwoTo(Function):
    """2^m for an integer m in float64's normal range, built from its exponent bits."""

    nargs = 1


class Halved(Function):
    """⌊m/2⌋ of an integer m: an arithmetic shift."""

    nargs = 1


class Defined(Function):
    """k where k is a number, else 0: converting NaN to an integer is undefined."""

    nargs = 1


@dataclass(frozen=True)
class ExpFunction:
    """One exp of the module: its name, whether it is one-sided, its format, its statements (target,
    value), the last one's target "return", and the largest argument it is exact for (inf where it clamps)."""

    name: str
    one_sided: bool
    precision: str  # float64 or float32: the argument's type, the arithmetic's and the result's
    statements: tuple
    highest: float
    lowest: float  # every x ≤ lowest gives 0


# What the kernels call; each name dispatches on its argument's type to the function of that format.
NAMES = {False: "_exp", True: "_exp_nonpositive"}
SUFFIX = {"float64": "64", "float32": "32"}


def name(argument, peaks=None, known=None) -> str:
    """The exp a kernel calls for argument: the one-sided one where SymPy proves the argument ≤ 0."""
    return NAMES[nonpositive(argument, peaks, known)]


def function(one_sided: bool, precision: str = "float64") -> ExpFunction:
    """The statements of exp (one_sided: for x ≤ 0, with no clamp above and one power of two, not two)."""
    fmt = FORMATS[precision]
    NORMAL, SUBNORMAL, OVERFLOW = fmt.normal, fmt.subnormal, fmt.overflow  # noqa: N806 (as named above)
    ln2 = log(2).evalf(50)
    code, integer = ("<d", "<Q") if fmt.width == 64 else ("<f", "<I")
    (bits,) = struct.unpack(integer, struct.pack(code, float(ln2)))
    # ln2_hi keeps the top `kept` significant bits of ln 2, so k·ln2_hi is exact for every k this range needs.
    dropped = fmt.bits - fmt.kept
    (hi,) = struct.unpack(code, struct.pack(integer, bits & ~(2**dropped - 1)))
    lo = ln2 - Rational(hi)
    half = ln2 / 2
    unit = Rational(1, 4) * 2**-fmt.bits
    degree = next(d for d in range(1, 40) if half ** (d + 1) / factorial(d + 1) < unit)
    taylor = [Rational(1, factorial(d)) for d in range(degree, -1, -1)]  # highest first, for Horner
    # At or below `low` exp(x) is below half the smallest subnormal: it rounds to 0. At `high` it overflows.
    low = floor((SUBNORMAL - 1) * ln2)
    high = ceiling(OVERFLOW * ln2)
    x, k, r, p, y, h = (Symbol(s, real=True) for s in "xkrpyh")
    m = Symbol("m", integer=True)
    clamp = [(Float(low), x < Float(low))] + ([] if one_sided else [(Float(high), x > Float(high))])
    statements = [
        ("x", Piecewise(*clamp, (x, True))),
        ("k", floor(x * Float(repr(float(1 / ln2))) + Float(0.5))),
        ("r", x - k * Float(repr(hi))),
        ("r", r - k * Float(repr(float(lo)))),
        ("p", Float(repr(float(taylor[0])))),
    ]
    statements += [("p", p * r + Float(repr(float(c)))) for c in taylor[1:]]
    statements += [("m", Whole(Defined(k)))]
    if one_sided:
        # k ≥ k(low); 2^{k + shift} is normal for every such k, and one product by 2^{−shift} rounds a
        # subnormal result once. Exact while k + shift stays a normal exponent, x up to `highest`.
        least = floor(low / ln2 + Rational(1, 2))
        shift = NORMAL - least
        statements += [("y", p * TwoTo(m + shift)), ("return", y * Float(2.0**-shift))]
        highest = float(floor((-NORMAL - shift) * ln2))
    else:
        # 2^k as two factors, each normal for every k in the clamped range: one rounding where it is
        # subnormal, inf past the overflow bound.
        statements += [("h", Halved(m)), ("y", p * TwoTo(h)), ("return", y * TwoTo(m - h))]
        highest = float("inf")
    name = NAMES[one_sided] + SUFFIX[precision]
    return ExpFunction(name, one_sided, precision, tuple(statements), highest, float(low))
