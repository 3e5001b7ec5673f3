"""The numeric checks of a generated module, each run over seeded points of every size and scale."""

from __future__ import annotations

import numpy as np

from derive.invariants import MEANING
from derive.numeric import COLUMNS, PARAMETER, POINTS, SEED, TOLERANCE, Check, batch, drawn

EPS = np.finfo(np.float64).eps


class _Worst:
    """The largest error seen per check, NaN winning: a failure anywhere is a failure."""

    def __init__(self):
        self.errors, self.notes = {}, {}
        self.overflowed = self.stepped = 0  # vectors the complex step could not use, of all it tried

    def add(self, name, error, note=""):
        previous = self.errors.get(name, 0.0)
        self.errors[name] = np.nan if np.isnan(previous) or np.isnan(error) else max(previous, float(error))
        if note and name not in self.notes:
            self.notes[name] = note

    def attempt(self, name, compute):
        """Record compute()'s error, or NaN and the exception when the generated code raised."""
        try:
            self.add(name, compute())
        except Exception as error:  # the code under test may fail in any way; that is the finding
            self.add(name, np.nan, said(error))


def said(error: Exception) -> str:
    """An exception as one short line for the report."""
    return f"{type(error).__name__}: {' '.join(str(error).split())}"[:100]


def run(module, d, sizes, holomorphic: bool, facts, positive: bool = False) -> list[Check]:
    """Every check of module's four functions, at each n in sizes."""
    from derive.codegen import parameters

    name = d.function.name
    wanted = [name, f"{name}_jacobian", f"{name}_vjp", f"{name}_jvp"]
    missing = [w for w in wanted if not callable(getattr(module, w, None))]
    if missing:
        return [Check("functions present", np.nan, 0, f"missing: {', '.join(missing)}")]
    keywords = {p: PARAMETER for p in parameters(d)}
    F, jacobian, vjp, jvp = (_with(getattr(module, w), keywords) for w in wanted)
    worst = _Worst()
    for size in sizes:
        rng = np.random.default_rng([SEED, size])
        for _, offset, scale in POINTS:
            z = drawn(offset, scale, batch(size) + (size,), rng, positive)
            g, v = rng.standard_normal((2,) + z.shape)
            with np.errstate(all="ignore"):  # overflow to inf inside exp may be harmless; results decide
                _at_point(worst, (F, jacobian, vjp, jvp), z, g, v, rng, holomorphic, facts)
    if worst.overflowed:
        skipped = f"{worst.overflowed} of {worst.stepped}"
        note = f"complex arithmetic overflowed in {skipped} vectors: left to the differences"
        worst.notes.setdefault("complex", note)
    return [
        Check(label, worst.errors.get(key, np.nan), tolerance, worst.notes.get(key, _unrun(key, worst)))
        for key, label, tolerance in _rows(holomorphic, facts)
    ]


def _with(function, keywords):
    """function with the parameters filled in."""
    return lambda *args: function(*args, **keywords)


def _unrun(key, worst):
    return "" if key in worst.errors else "not run"


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


def _columns(size, rng):
    return np.arange(size) if size <= COLUMNS else np.sort(rng.choice(size, COLUMNS, replace=False))


def _differences(F, z, J, s, rng):
    """J's columns against (F(z + h e_j) − F(z − h e_j)) / 2h, the step scaled to z_j and F."""
    columns = _columns(z.shape[-1], rng)
    found = []
    size = np.maximum(1.0, np.max(np.abs(s), axis=-1))
    for col in columns:
        # Rounding in F(z ± h) is about ε·max(|z|, |F|), over h; truncation is about h²: balance them.
        h = np.cbrt(EPS * np.maximum(size, np.abs(z[..., col])))
        up, down = z.copy(), z.copy()
        up[..., col] += h
        down[..., col] -= h
        # Divide by the step actually taken: z_j + h rounds, and at |z| = 1e4 that matters.
        found.append((F(up) - F(down)) / (up[..., col] - down[..., col])[..., None])
    return _error(np.stack(found, axis=-1), J[..., columns])


def _complex_step(worst, F, z, J, rng, floor):
    """J's columns against Im F(z + i h e_j) / h: exact to rounding for an analytic F."""
    columns = _columns(z.shape[-1], rng)
    h = 1e-20
    found = []
    for col in columns:
        w = z.astype(np.complex128)
        w[..., col] += 1j * h
        found.append(F(w).imag / h)
    found = np.stack(found, axis=-1)
    # Where exp overflows, 1/(1 + inf) is 0 in real arithmetic but NaN in complex: those rows say
    # nothing about the code, and the differences cover them.
    usable = np.all(np.isfinite(found), axis=(-2, -1))
    worst.overflowed += int(np.sum(~usable))
    worst.stepped += usable.size
    if not usable.any():
        return 0.0
    return _error(found[usable][None], J[..., columns][usable][None], floor[usable][None])


def _invariant(fact, J, floor):
    scale = np.maximum(floor, np.max(np.abs(J), axis=(-2, -1)))
    if fact == "diagonal":
        off = J * (1 - np.eye(J.shape[-1]))
        return np.max(np.max(np.abs(off), axis=(-2, -1)) / scale)
    if fact == "symmetric":
        return _error(J, np.swapaxes(J, -1, -2), floor)
    axis = -1 if fact == "rows" else -2
    return np.max(np.max(np.abs(J.sum(axis=axis)), axis=-1) / scale)


def _error(found, reference, floor=1.0) -> float:
    """max |found − reference| / max(floor, max |reference|), per vector or matrix of the batch."""
    axes = tuple(range(2, reference.ndim))  # every z checked has two leading axes
    scale = np.maximum(floor, np.max(np.abs(reference), axis=axes))
    return float(np.max(np.max(np.abs(found - reference), axis=axes) / scale))
