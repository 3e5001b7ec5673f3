"""The numeric checks of a scalar L(z)'s module: the gradient against L, the Hessian against the gradient."""

from __future__ import annotations

import numpy as np

from derive.checking.checks import Kind, _complex_step, _differences, _error, _invariant
from derive.checking.invariants import MEANING
from derive.checking.points import TOLERANCE


def _draw(rng, z, data):
    """Each data vector a random probability vector, Σ_k y_k = 1, as a loss's target assumes; then v."""
    ys = [rng.dirichlet(np.ones(z.shape[-1]), z.shape[:-1]) for _ in data]
    v = rng.standard_normal(z.shape)
    return ys, v


def _rows(holomorphic, facts):
    rows = [
        ("shape", "shapes (...), (..., n) and (..., n, n)", 0),
        ("finite64", "finite everywhere, float64", 0),
        ("finite32", "finite everywhere, float32", 0),
        ("dtype", "float32 in, float32 out", 0),
        ("gradient", "gradient = central differences of L", TOLERANCE["differences"]),
    ]
    if holomorphic:
        rows.append(("complex", "gradient = complex step of L", TOLERANCE["complex step"]))
    rows += [
        ("differences", "H = central differences of the gradient", TOLERANCE["differences"]),
        ("hvp", "hvp(z, v) = H v", TOLERANCE["products"]),
        ("float32", "float32 = float64 (L, gradient, H; error / max(1, |z|))", TOLERANCE["float32"]),
    ]
    return rows + [(fact, MEANING[fact].replace("J", "H"), TOLERANCE["invariant"]) for fact in facts]


def _at_point(worst, functions, z, ys, v, rng, holomorphic, facts):
    L, grad, hessian, hvp = (_given(f, ys) for f in functions)
    values = {}

    def compute_all():
        values.update(L=L(z), g=grad(z), H=hessian(z), Hv=hvp(z, v))
        shapes = [values["L"].shape, values["g"].shape, values["H"].shape, values["Hv"].shape]
        return sum(
            a != b
            for a, b in zip(shapes, [z.shape[:-1], z.shape, z.shape + z.shape[-1:], z.shape], strict=True)
        )

    worst.attempt("shape", compute_all)
    if len(values) < 4:
        for key in ("finite64", "gradient", "complex", "differences", "hvp", *facts):
            worst.add(key, np.nan, "the functions raised")
        return
    H = values["H"]
    worst.add("finite64", sum(np.mean(~np.isfinite(a)) for a in values.values()))
    # L as a vector of one entry, so that its gradient is a 1×n Jacobian.
    column = lambda x: L(x)[..., None]  # noqa: E731
    row = values["g"][..., None, :]
    worst.attempt("gradient", lambda: _differences(column, z, row, values["L"][..., None], rng))
    floor = np.maximum(1.0, np.max(np.abs(z), axis=-1))
    if holomorphic:
        worst.attempt("complex", lambda: _complex_step(worst, column, z, row, rng, floor))
    worst.attempt("differences", lambda: _differences(grad, z, H, values["g"], rng))
    worst.add("hvp", _error(values["Hv"], np.einsum("...ij,...j->...i", H, v)))
    if worst.low:  # float32 can hold the function here
        worst.attempt("finite32", lambda: _float32(worst, (L, grad, hessian, hvp), z, v))
    for fact in facts:
        worst.add(fact, _invariant(fact, H, floor))


def _given(function, ys):
    """function with the data vectors (y) passed after z, in z's dtype."""
    return lambda x, *rest: function(x, *(y.astype(x.dtype) for y in ys), *rest)


def _float32(worst, functions, z, v):
    """Finite results in float32; float32 kept; L, gradient and H as in float64 at the same rounded z."""
    L, grad, hessian, hvp = functions
    z32, v32 = z.astype(np.float32), v.astype(np.float32)
    low = {"L": L(z32), "g": grad(z32), "H": hessian(z32), "Hv": hvp(z32, v32)}
    worst.add("dtype", sum(a.dtype != np.float32 for a in low.values()))
    z64 = z32.astype(np.float64)
    reference = {"L": L(z64), "g": grad(z64), "H": hessian(z64)}
    floor = np.maximum(1.0, np.max(np.abs(z64), axis=-1))
    errors = [_error(low[k].astype(np.float64), reference[k], floor) for k in ("g", "H")]
    # L has no axis per vector: compare entry by entry.
    scale = np.maximum(floor, np.abs(reference["L"]))
    errors.append(float(np.max(np.abs(low["L"] - reference["L"]) / scale, initial=0.0)))
    worst.add("float32", max(errors))
    return sum(np.mean(~np.isfinite(a)) for a in low.values())


# A Hessian is symmetric, whatever else the derivation implies.
SCALAR = Kind(
    suffixes=("", "_grad", "_hessian", "_hvp"),
    draw=_draw,
    at_point=_at_point,
    rows=_rows,
    always=("symmetric",),
)
