"""The float32 reference: softmax's VJP with every entry's arithmetic in float32 (a float32 exp, 16 lanes
on AVX-512), against derive's Numba kernel and torch. python benchmarks/fused_float32.py

Written by hand, like `fused.py`: the measurement that led derive to compute float32 rows in float32
(BENCHMARKS.md, numbaexp; before, derive computed them in float64 inside), kept as its reference, not
derive's output. The sums still accumulate in float64; their results are rounded to float32 once per row.
The exp is the one-sided one of `derive/codegen/numba_exp.py` in float32: Taylor terms to degree 7
(below a quarter of float32's rounding unit on |r| ≤ ln(2)/2), 2^(k+24)·2^−24 so that a subnormal
result rounds once, a 32-bit integer conversion.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numba
import numba.extending
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import fused  # noqa: E402  (after the path above)
from timing import interleave  # noqa: E402

f32 = np.float32
_LN2 = math.log(2)
# ln 2's top 12 significant bits: k·hi is exact in float32 for every |k| ≤ 150.
_HI = float((np.array([_LN2], np.float32).view(np.uint32) & np.uint32(0xFFFFF000)).view(np.float32)[0])
HI, LO, LOG2E = f32(_HI), f32(_LN2 - _HI), f32(1 / _LN2)
C0, C1, C2, C3, C4, C5, C6, C7 = (f32(1 / math.factorial(d)) for d in range(7, -1, -1))
LOW, HALF, SCALE = f32(-104.0), f32(0.5), f32(2.0**-24)  # e^−104 < 2^−150: rounds to 0
_sum, _dot = fused._sum, fused._dot  # the float64 accumulators, shared with the float64 reference


@numba.extending.intrinsic
def _two_to(typingctx, k):
    """2^k in float32 from exponent bits, k an integer in float32's normal range."""

    def codegen(context, builder, signature, args):
        k32 = context.cast(builder, args[0], signature.args[0], numba.types.int32)
        biased = builder.add(k32, context.get_constant(numba.types.int32, 127))
        bits = builder.shl(biased, context.get_constant(numba.types.int32, 23))
        return builder.bitcast(bits, context.get_value_type(numba.types.float32))

    return numba.types.float32(k), codegen


@numba.njit(fastmath=False, cache=True)
def exp32(x):
    """exp(x) in float32 for x ≤ 0: within 1 ulp of the correctly rounded value."""
    x = LOW if x < LOW else x
    k = np.floor(x * LOG2E + HALF)
    r = x - k * HI
    r = r - k * LO
    p = C0
    p = p * r + C1
    p = p * r + C2
    p = p * r + C3
    p = p * r + C4
    p = p * r + C5
    p = p * r + C6
    p = p * r + C7
    m = np.int32(k if k == k else f32(0.0))
    y = p * _two_to(m + 24)
    return y * SCALE


@numba.njit(cache=True)
def _largest(x):
    m = x[0]  # in the row's dtype (−np.inf would make it float64)
    for i in range(len(x)):
        m = max(m, x[i])
    return m


@numba.njit(parallel=True, cache=True)
def vjp_rows(z_rows, g_rows, out_rows):
    """derive's softmax VJP row program, each row scalar rounded to float32 once."""
    rows, n = z_rows.shape
    chunks = min(rows, 64)
    for chunk in numba.prange(chunks):
        for row in range(chunk * rows // chunks, (chunk + 1) * rows // chunks):
            z, g, out = z_rows[row], g_rows[row], out_rows[row]
            peak = _largest(z)
            for i in range(n):
                out[i] = exp32(z[i] - peak)
            inv = f32(1.0 / _sum(out))
            dot = f32(_dot(out, g)) * inv
            for i in range(n):
                out[i] = inv * (g[i] - dot) * out[i]


def vjp(z, g):
    out = np.empty_like(z)
    vjp_rows(z, g, out)
    return out


def exp_error() -> float:
    """The largest error of exp32 in float32 ulps of the correctly rounded exp, over [−110, 0], −inf, NaN."""
    x = np.concatenate([np.linspace(-110, 0, 20001), [-np.inf, np.nan, 0.0, -1e-30]]).astype(np.float32)
    found = np.array([exp32(v) for v in x], dtype=np.float32)
    expected = np.exp(x.astype(np.float64)).astype(np.float32)
    with np.errstate(all="ignore"):
        same = (found == expected) | (np.isnan(found) & np.isnan(expected))
        error = np.where(same, 0.0, np.abs(found - expected) / np.spacing(np.abs(expected)))
    return float(np.max(error))


def main() -> None:
    import importlib.util
    import tempfile

    from derive import derive, emit

    path = Path(tempfile.mkdtemp(prefix="derive-f32-")) / "softmax_nb.py"
    path.write_text(emit(derive("softmax"), "numba"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("softmax_nb_f32", path)
    generated = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generated)
    torch_vjp = fused.torch_vjp()
    print(f"exp32: {exp_error():.1f} ulp at most")
    for n in (10, 100, 1000):
        rng = np.random.default_rng(20261121)
        z = rng.normal(scale=2.0, size=(4_096_000 // n, n)).astype(np.float32)
        g = rng.normal(size=z.shape).astype(np.float32)
        s = np.exp(z - z.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        assert np.allclose(vjp(z, g), s * (g - (g * s).sum(-1, keepdims=True)), rtol=1e-4, atol=1e-6)
        calls = {
            "derive numba": lambda z=z, g=g: generated.softmax_vjp(z, g),
            "float32 inside": lambda z=z, g=g: vjp(z, g),
            "torch": lambda z=z, g=g: torch_vjp(z, g),
        }
        for call in calls.values():
            call()
        found = interleave(calls, 21, target=0.02)
        times = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in found.items())
        ratios = ", ".join(f"{k} {found[k] / found['torch']:.2f}" for k in found if k != "torch")
        print(f"n = {n}: {times}; / torch: {ratios}")


if __name__ == "__main__":
    main()
