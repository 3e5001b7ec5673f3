"""What every numeric check is made of: the worst error kept, differences, the complex step, invariants."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from derive.checking.points import COLUMNS, PARAMETER, POINTS, SEED, batch, drawn
from derive.checking.report import Check
from derive.checking.representable import FULL, OUTSIDE, WIDE, classes
from derive.codegen.module import parameters

EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class Kind:
    """What the checks of one kind of function (vector, scalar) read: where a check differs, it is data."""

    suffixes: tuple  # the module's functions: the name plus each suffix
    draw: object  # (rng, z, data) -> the two arrays a point needs besides z: (g, v), or (ys, v)
    at_point: object  # (worst, functions, z, a, b, rng, holomorphic, facts): every check at one point
    rows: object  # (holomorphic, facts) -> the report's rows: (key, label, tolerance)
    always: tuple = ()  # facts that hold whatever was derived (a Hessian is symmetric)


def run(
    module, d, kind: Kind, sizes, holomorphic: bool, facts, data=(), positive: bool = False
) -> list[Check]:
    """Every check of module's four functions, at each n in sizes, at seeded points of every scale (z > 0
    where the function is real only there)."""
    wanted = [d.function.name + suffix for suffix in kind.suffixes]
    missing = [w for w in wanted if not callable(getattr(module, w, None))]
    if missing:
        return [Check("functions present", np.nan, 0, f"missing: {', '.join(missing)}")]
    keywords = {p: PARAMETER for p in parameters(d)}
    functions = tuple(_with(getattr(module, w), keywords) for w in wanted)
    facts = tuple(dict.fromkeys((*kind.always, *facts)))
    worst = _Worst()
    for size in sizes:
        rng = np.random.default_rng([SEED, size])
        for _, offset, scale in POINTS:
            z = drawn(offset, scale, batch(size) + (size,), rng, positive)
            a, b = kind.draw(rng, z, data)
            # Where the function itself exceeds float range (e^z·sin z at 1e4), no code can be finite.
            found = np.full(z.shape[:-1], FULL) if data or keywords else classes(d, functions, z)
            for group in (FULL, WIDE):
                keep = found == group
                if not keep.any():
                    continue
                part = (z, a, b) if keep.all() else tuple(_rows_of(x, keep) for x in (z, a, b))
                worst.low = group == FULL  # float32 checks only where float32 can hold the function
                with np.errstate(all="ignore"):  # overflow to inf inside exp may be harmless; results decide
                    kind.at_point(worst, functions, *part, rng, holomorphic, facts)
            worst.outside += int(np.sum(found == OUTSIDE))
            worst.wide += int(np.sum(found == WIDE))
            worst.vectors += z[..., 0].size
    if worst.outside or worst.wide:
        note = f"{worst.outside} of {worst.vectors} vectors skipped, where the function exceeds float64"
        worst.notes.setdefault("finite64", note)
        note = f"{worst.outside + worst.wide} of {worst.vectors} vectors skipped (beyond float32's range)"
        worst.notes.setdefault("finite32", note)
    if worst.overflowed:
        skipped = f"{worst.overflowed} of {worst.stepped}"
        note = f"complex arithmetic overflowed in {skipped} vectors: left to the differences"
        worst.notes.setdefault("complex", note)
    return [
        Check(label, worst.errors.get(key, np.nan), tolerance, worst.notes.get(key, _unrun(key, worst)))
        for key, label, tolerance in kind.rows(holomorphic, facts)
    ]


class _Worst:
    """The largest error seen per check, NaN winning: a failure anywhere is a failure."""

    def __init__(self):
        self.errors, self.notes = {}, {}
        self.overflowed = self.stepped = 0  # vectors the complex step could not use, of all it tried
        self.outside = self.wide = self.vectors = 0  # vectors beyond float64's range, float32's, all
        self.low = True  # whether the float32 checks run at the current vectors

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


def _rows_of(x, keep):
    """The vectors of x (or of each array in a list) where keep holds, as one batch of shape (1, m, n)."""
    if isinstance(x, list):
        return [_rows_of(y, keep) for y in x]
    return x[keep][None]


def _with(function, keywords):
    """function with the parameters filled in."""
    return lambda *args: function(*args, **keywords)


def _unrun(key, worst):
    return "" if key in worst.errors else "not run"


def _columns(size, rng):
    return np.arange(size) if size <= COLUMNS else np.sort(rng.choice(size, COLUMNS, replace=False))


def _differences(F, z, J, s, rng):
    """J's columns against central differences with steps h and 2h, extrapolated: (4 D(h) − D(2h)) / 3.

    D(h) = (F(z + h e_j) − F(z − h e_j)) / 2h is off by h²F‴/6, which near a singularity (1/z at small z)
    outgrows any fixed tolerance though the code is right; D(2h) is off by four times that, so the
    extrapolation cancels it and leaves O(h⁴), for 1.5 times the rounding of D(h).
    """
    columns = _columns(z.shape[-1], rng)
    found = []
    # Errors are relative to max(1, |J|): rounding in F(z ± h) is about ε·|F|/h of that, rounding of z
    # itself ε·|z|/h, truncation h² (F‴ the size of J): balance them. e^z·sin z at z = 500 has |F| ≈ |J|
    # ≈ 1e217, and h from |F| alone would be 1e67.
    size = np.max(np.abs(s), axis=-1) / np.maximum(1.0, np.max(np.abs(J), axis=(-2, -1)))
    size = np.maximum(1.0, size)
    for col in columns:
        h = np.cbrt(EPS * np.maximum(size, np.abs(z[..., col])))
        near, far = _central(F, z, col, h), _central(F, z, col, 2 * h)
        found.append((4 * near - far) / 3)
    return _error(np.stack(found, axis=-1), J[..., columns])


def _central(F, z, col, h):
    """(F(z + h e_col) − F(z − h e_col)) / 2h, divided by the step actually taken."""
    up, down = z.copy(), z.copy()
    up[..., col] += h
    down[..., col] -= h
    # Divide by the step actually taken: z_j + h rounds, and at |z| = 1e4 that matters.
    return (F(up) - F(down)) / (up[..., col] - down[..., col])[..., None]


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
