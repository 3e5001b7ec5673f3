"""Check the code emitted for several inputs: each cotangent against central differences of F, seeded."""

from __future__ import annotations

import types
import warnings
from dataclasses import dataclass

import numpy as np

from derive.checking.points import PARAMETER, SEED, TOLERANCE
from derive.checking.report import Check
from derive.show.templating import render_template

# The sizes checked when none are given: two different sets, so that no dimension is mistaken for another.
ANY_SIZES = ({"n": 3, "d": 4, "h": 2}, {"n": 5, "d": 2, "h": 3})
SCALES = (1.0, 10.0)  # inputs drawn as scale·N(0, 1)
LARGE = 1e3  # the scale at which F and every cotangent must stay finite
BATCH = (2,)  # one leading batch axis on every input


@dataclass(frozen=True)
class Report:
    """Every check of one module for several inputs; str() is a table, passed says whether all held."""

    function: str
    sizes: tuple
    checks: tuple

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def __str__(self) -> str:
        shown = ["; ".join(f"{k} = {v}" for k, v in sorted(s.items())) for s in self.sizes]
        return render_template("several_report.txt.j2", report=self, sizes=shown, seed=SEED).rstrip("\n")


def verify(d, source: str, reference: str | None = None) -> Report:
    """Run source (the module just generated from d) and check every cotangent it returns; with reference
    (the NumPy module's source), its values and cotangents must also equal the reference's."""
    module = _loaded(d, source, "checked")
    agreed = None if reference is None else _loaded(d, reference, "reference")
    own = {dim for x in d.function.declared_inputs for dim in x.dims} | {d.function.dim}
    sizes = tuple(
        {k: v for k, v in size.items() if k in own}
        for size in ((_completed(d.sizes),) if d.sizes else ANY_SIZES)
    )
    checks = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for size in sizes:
            checks += _checks(module, d, size)
            if agreed is not None:
                checks.append(_agreement(module, agreed, d, size))
                checks.append(_single(module, agreed, d, size))
    return Report(d.function.name, sizes, tuple(checks))


def _loaded(d, source: str, role: str):
    module = types.ModuleType(f"_derive_{role}_{d.function.name}")
    exec(compile(source, f"<derive: {d.function.name}>", "exec"), module.__dict__)  # derive's own code
    return module


def _agreement(module, reference, d, sizes) -> Check:
    """F and every cotangent of module against the reference module's, relative, at seeded points."""
    fn = d.function
    backward = f"{fn.name}_grad" if d.kind == "scalar" else f"{fn.name}_vjp"
    names = [b.input.name for b in d.blocks]
    params = {p: PARAMETER for p in fn.parameter_names}
    label = ", ".join(f"{k} = {v}" for k, v in sorted(sizes.items()))
    rng = np.random.default_rng(SEED)
    worst = 0.0
    for scale in (*SCALES, LARGE):
        args, g = _point(fn, d.kind, sizes, scale, rng)
        found, expected = (
            [
                m.__dict__[fn.name](*args, **params),
                *_tuple(m.__dict__[backward](*args, *([g] if g is not None else []), **params), names),
            ]
            for m in (module, reference)
        )
        for a, b in zip(found, expected, strict=True):
            if np.shape(a) != np.shape(b):
                return Check(f"equal to the NumPy module, {label}", np.nan, TOLERANCE["products"])
            error = np.max(np.abs(np.asarray(a) - b), initial=0.0) / max(1.0, np.max(np.abs(b), initial=0.0))
            worst = max(worst, float(error))
    return Check(f"values and cotangents vs the NumPy module, {label}", worst, TOLERANCE["products"])


def _single(module, reference, d, sizes) -> Check:
    """float32 in, float32 out: F and every cotangent of module at float32 inputs against the reference
    module's in float64 at the same (float32) points, relative to max(1, |reference|, |inputs|): float32
    rounds each product of inputs, so its error grows with them (as the one-input float32 check's)."""
    fn = d.function
    backward = f"{fn.name}_grad" if d.kind == "scalar" else f"{fn.name}_vjp"
    names = [b.input.name for b in d.blocks]
    params = {p: PARAMETER for p in fn.parameter_names}
    label = ", ".join(f"{k} = {v}" for k, v in sorted(sizes.items()))
    name = f"float32 in and out, vs the NumPy module in float64 (error / max(1, |x|)), {label}"
    rng = np.random.default_rng(SEED)
    worst = 0.0
    for scale in SCALES:
        args, g = _point(fn, d.kind, sizes, scale, rng)
        args = [np.asarray(x, dtype=np.float32) for x in args]
        g = None if g is None else np.asarray(g, dtype=np.float32)
        wide = [x.astype(np.float64) for x in args], None if g is None else g.astype(np.float64)
        found, expected = (
            [
                m.__dict__[fn.name](*xs, **params),
                *_tuple(m.__dict__[backward](*xs, *([h] if h is not None else []), **params), names),
            ]
            for m, (xs, h) in ((module, (args, g)), (reference, wide))
        )
        for a, b in zip(found, expected, strict=True):
            if np.shape(a) != np.shape(b) or np.asarray(a).dtype != np.float32:
                return Check(name, np.nan, TOLERANCE["float32"])
            scale = max(1.0, np.max(np.abs(b), initial=0.0), *(float(np.max(np.abs(x))) for x in args))
            error = np.max(np.abs(np.asarray(a) - b), initial=0.0) / scale
            worst = max(worst, float(error))
    return Check(name, worst, TOLERANCE["float32"])


def _completed(sizes) -> dict:
    return {**ANY_SIZES[0], **sizes}


def _checks(module, d, sizes) -> list:
    fn = d.function
    forward = getattr(module, fn.name)
    backward = getattr(module, f"{fn.name}_grad" if d.kind == "scalar" else f"{fn.name}_vjp")
    names = [b.input.name for b in d.blocks]
    params = {p: PARAMETER for p in fn.parameter_names}
    label = ", ".join(f"{k} = {v}" for k, v in sorted(sizes.items()))
    rng = np.random.default_rng(SEED)
    found = []
    for scale in SCALES:
        args, g = _point(fn, d.kind, sizes, scale, rng)
        cotangents = _tuple(backward(*args, *([g] if g is not None else []), **params), names)
        worst = 0.0
        for name, cotangent in zip(names, cotangents, strict=True):
            position = [x.name for x in fn.declared_inputs].index(name)
            if np.shape(cotangent) != np.shape(args[position]):
                worst = np.nan
                break
            estimate = _differences(forward, args, position, g, params)
            worst = max(
                worst, float(np.max(np.abs(cotangent - estimate)) / max(1.0, np.max(np.abs(estimate))))
            )
        found.append(
            Check(
                f"cotangents vs central differences, {label}, scale {scale:g}",
                worst,
                TOLERANCE["differences"],
            )
        )
    args, g = _point(fn, d.kind, sizes, LARGE, rng)
    values = [
        forward(*args, **params),
        *_tuple(backward(*args, *([g] if g is not None else []), **params), names),
    ]
    finite = all(np.all(np.isfinite(v)) for v in values)
    found.append(Check(f"finite at scale {LARGE:g}, {label}", 0.0 if finite else np.nan, 0.0))
    return found


def _tuple(result, names) -> tuple:
    return (result,) if len(names) == 1 and not isinstance(result, tuple) else tuple(result)


def _point(fn, kind, sizes, scale, rng):
    """Every input drawn as scale·N(0, 1) (a target as a probability vector), and g for a vector F."""
    args = []
    for x in fn.declared_inputs:
        shape = BATCH + tuple(sizes[dim] for dim in x.dims)
        if x.data:
            raw = np.exp(rng.standard_normal(shape))
            args.append(raw / raw.sum(axis=-1, keepdims=True))
        else:
            args.append(scale * rng.standard_normal(shape))
    g = rng.standard_normal(BATCH + (sizes[fn.dim],)) if kind == "vector" else None
    return args, g


def _differences(forward, args, position, g, params):
    """∂(Σ_batch g·F)/∂ input, entry by entry, by central differences extrapolated from steps h and 2h."""
    x = args[position]
    estimate = np.zeros_like(x)

    def total(value):
        shifted = list(args)
        shifted[position] = value
        out = forward(*shifted, **params)
        return float(np.sum(out * g) if g is not None else np.sum(out))

    for index in np.ndindex(x.shape):
        step = (np.finfo(float).eps * max(1.0, abs(x[index]))) ** (1 / 3)
        central = []
        for h in (step, 2 * step):
            up, down = x.copy(), x.copy()
            up[index] += h
            down[index] -= h
            central.append((total(up) - total(down)) / (2 * h))
        estimate[index] = (4 * central[0] - central[1]) / 3
    return estimate
