"""Which checked vectors the function can be computed at: its value and derivatives within float range.

exp(z)·sin(z) at z ≈ 1e4 is about e^{10000}: no float holds it, so no code can be finite there and no
check can demand it. Where the module's results are not finite, the definition and its derivatives are
evaluated by mpmath at 50 digits; a vector whose exact values exceed float64's range is not checked,
one that exceeds float32's only is checked in float64 alone. Anywhere else non-finite code still fails.
"""

from __future__ import annotations

import warnings

import numpy as np

from derive.codegen.probe import concrete_entries, exact_values
from derive.notation.symbols import i, j

F64_MAX, F32_MAX = float(np.finfo(np.float64).max), float(np.finfo(np.float32).max)
FULL, WIDE, OUTSIDE = 0, 1, 2  # within float32's range; float64's only; beyond float64's


def classes(d, functions, z) -> np.ndarray:
    """FULL, WIDE or OUTSIDE for each vector of z (shape z.shape[:-1]); FULL where the code is finite."""
    found = np.full(z.shape[:-1], FULL)
    try:
        lacking = ~(_finite(functions, z) & _finite(functions, z.astype(np.float32)))
    except Exception:  # noqa: BLE001 — the code under test may fail in any way: the checks report it
        return found
    if not lacking.any():
        return found
    size = z.shape[-1]
    parts = _derivatives(d, size)
    for row in zip(*np.nonzero(lacking), strict=True):
        # A value mpmath cannot compute counts as 0: the vector stays checked, never excused by a failure.
        largest = max(max(exact_values(entries, inputs, z[row], failed=0)) for entries, inputs in parts)
        found[row] = FULL if largest <= F32_MAX else WIDE if largest <= F64_MAX else OUTSIDE
    return found


def _finite(functions, z) -> np.ndarray:
    """Whether the module's first two functions (F and J, or L and its gradient) are finite per vector."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        value, first = (np.asarray(f(z), dtype=np.float64) for f in functions[:2])
    if value.ndim == z.ndim:  # a vector function: F has an axis per vector
        value = value[..., None]
    else:
        value = value[..., None, None]
    first = first if first.ndim == z.ndim + 1 else first[..., None]
    return np.all(np.isfinite(value), axis=(-2, -1)) & np.all(np.isfinite(first), axis=(-2, -1))


def _derivatives(d, size):
    """The definition and its derivatives at this n, entry by entry, for mpmath."""
    rows = [{i: a} for a in range(1, size + 1)]
    pairs = [{i: a, j: b} for a in range(1, size + 1) for b in range(1, size + 1)]
    if d.kind == "vector":
        wanted = [(d.definition, rows), (d.raw, pairs)]
    else:
        wanted = [(d.definition, [{}]), (d.raw, rows), (d.hessian.raw, pairs)]
    return [concrete_entries(expr, size, at) for expr, at in wanted]
