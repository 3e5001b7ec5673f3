"""Where every check looks, and how closely: seeded points of several scales, the sizes, the tolerances."""

from __future__ import annotations

import numpy as np

SEED = 20261121
PARAMETER = 1.5  # the value every symbolic parameter (a temperature T, …) takes in the check
SIZES = (1, 3, 8)  # n checked when the module is for any n
COLUMNS = 16  # columns of J compared with differences at most (chosen at random when n is larger)
# z = offset + scale·N(0, 1): ordinary, wide, and far from 0 both ways (where exp overflows unshifted).
POINTS = (
    ("N(0,1)", 0.0, 1.0),
    ("10·N(0,1)", 0.0, 10.0),
    ("1e4+N(0,1)", 1e4, 1.0),
    ("-1e4+N(0,1)", -1e4, 1.0),
    ("1e4·N(0,1)", 0.0, 1e4),
)


def drawn(offset, scale, shape, rng, positive: bool = False):
    """z = offset + scale·N(0, 1); for a positive domain its absolute value, at least scale/100 from 0."""
    z = offset + scale * rng.standard_normal(shape)
    return np.maximum(np.abs(z), scale / 100) if positive else z


def batch(size: int) -> tuple:
    """The leading axes of z at this n: two of them always; fewer vectors where J is large."""
    return (2, 3) if size <= 256 else (1, 2) if size <= 1024 else (1, 1)


# Errors are max |A − B| / max(1, max |B|) per matrix or vector of the batch: relative when B is large.
TOLERANCE = {
    # Central, steps h and 2h extrapolated, h = (ε·max(1, |z|))^⅓: errors near 1e-10 at |z| ≈ 1, 1e-8 at 1e4.
    "differences": 1e-6,
    "complex step": 1e-12,  # no subtraction at all: only rounding
    "products": 1e-12,  # gᵀJ and J v against g·J and J·v formed here
    "invariant": 1e-12,
    "float32": 1e-5,  # float32 against float64 at the same (float32) z
}
