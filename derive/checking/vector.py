"""The checks of a vector function s(z)'s module: J against F, gᵀJ and J v against J, float32, invariants."""

from __future__ import annotations

import numpy as np

from derive.checking.checks import Kind, _complex_step, _differences, _error, _invariant
from derive.checking.invariants import MEANING
from derive.checking.points import TOLERANCE


def _draw(rng, z, data):
    """g and v, the vectors gᵀJ and J v are taken with."""
    g, v = rng.standard_normal((2,) + z.shape)
    return g, v


def _rows(holomorphic, facts):
    rows = [
        ("shape", "shapes (..., n) and (..., n, n)", 0),
        ("finite64", "finite everywhere, float64", 0),
        ("finite32", "finite everywhere, float32", 0),
        ("dtype", "float32 in, float32 out", 0),
        ("differences", "J = central differences of F", TOLERANCE["differences"]),
    ]
    if holomorphic:
        rows.append(("complex", "J = complex step of F", TOLERANCE["complex step"]))
    rows += [
        ("vjp", "vjp(z, g) = gᵀJ", TOLERANCE["products"]),
        ("jvp", "jvp(z, v) = J v", TOLERANCE["products"]),
        ("float32", "float32 = float64 (F and J, error / max(1, |z|))", TOLERANCE["float32"]),
    ]
    rows += [(fact, MEANING[fact], TOLERANCE["invariant"]) for fact in facts]
    return rows


def _at_point(worst, functions, z, g, v, rng, holomorphic, facts):
    F, jacobian, vjp, jvp = functions
    size = z.shape[-1]
    values = {}

    def compute_all():
        values.update(s=F(z), J=jacobian(z), gJ=vjp(z, g), Jv=jvp(z, v))
        wrong = [a.shape != z.shape for a in (values["s"], values["gJ"], values["Jv"])]
        return sum(wrong) + (values["J"].shape != z.shape + (size,))

    worst.attempt("shape", compute_all)
    if len(values) < 4:
        for key in ("finite64", "differences", "complex", "vjp", "jvp", *facts):
            worst.add(key, np.nan, "the functions raised")
        return
    J = values["J"]
    worst.add("finite64", sum(np.mean(~np.isfinite(a)) for a in values.values()))
    worst.attempt("differences", lambda: _differences(F, z, J, values["s"], rng))
    # z itself is rounded by ε·|z|: where |z| ≈ 1e4, z − mean(z) can do no better than 1e-12.
    floor = np.maximum(1.0, np.max(np.abs(z), axis=-1))
    if holomorphic:
        worst.attempt("complex", lambda: _complex_step(worst, F, z, J, rng, floor))
    worst.add("vjp", _error(values["gJ"], np.einsum("...i,...ij->...j", g, J)))
    worst.add("jvp", _error(values["Jv"], np.einsum("...ij,...j->...i", J, v)))
    if worst.low:  # float32 can hold the function here
        worst.attempt("finite32", lambda: _float32(worst, functions, z, g, v, values))
    for fact in facts:
        worst.add(fact, _invariant(fact, J, floor))


def _float32(worst, functions, z, g, v, values):
    """Finite results in float32; float32 kept; F and J as in float64 at the same rounded z."""
    F, jacobian, vjp, jvp = functions
    z32, g32, v32 = (a.astype(np.float32) for a in (z, g, v))
    low = {"s": F(z32), "J": jacobian(z32), "gJ": vjp(z32, g32), "Jv": jvp(z32, v32)}
    worst.add("dtype", sum(a.dtype != np.float32 for a in low.values()))
    z64 = z32.astype(np.float64)
    reference = {"s": F(z64), "J": jacobian(z64)}
    # float32 arithmetic on z rounds by about ε₃₂·|z|: z − mean(z) at z ≈ 1e4 cannot do better than 1e-3.
    floor = np.maximum(1.0, np.max(np.abs(z64), axis=-1))
    worst.add("float32", max(_error(low[k].astype(np.float64), reference[k], floor) for k in reference))
    return sum(np.mean(~np.isfinite(a)) for a in low.values())


VECTOR = Kind(suffixes=("", "_jacobian", "_vjp", "_jvp"), draw=_draw, at_point=_at_point, rows=_rows)
