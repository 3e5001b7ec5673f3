"""Check generated code numerically: differences, complex step, products, invariants, stability, dtypes."""

from __future__ import annotations

import importlib.util
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from derive.errors import NotApplicable
from derive.templating import render_template

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


def batch(size: int) -> tuple:
    """The leading axes of z at this n: two of them always; fewer vectors where J is large."""
    return (2, 3) if size <= 256 else (1, 2) if size <= 1024 else (1, 1)


# Errors are max |A − B| / max(1, max |B|) per matrix or vector of the batch: relative when B is large.
TOLERANCE = {
    "differences": 1e-6,  # central, step (ε·max(1, |z|))^⅓: errors near 1e-10 at |z| ≈ 1, 1e-8 at 1e4
    "complex step": 1e-12,  # no subtraction at all: only rounding
    "products": 1e-12,  # gᵀJ and J v against g·J and J·v formed here
    "invariant": 1e-12,
    "float32": 1e-5,  # float32 against float64 at the same (float32) z
}


@dataclass(frozen=True)
class Check:
    """One check: its largest error over every point, and the tolerance it must meet."""

    name: str
    error: float
    tolerance: float
    note: str = ""

    @property
    def passed(self) -> bool:
        """Whether the error is within tolerance (a NaN error never is)."""
        return bool(self.error <= self.tolerance)


@dataclass(frozen=True)
class Report:
    """Every check of one generated module; str() is a table, passed says whether all held."""

    function: str
    module: str
    sizes: tuple
    checks: tuple
    parameters: tuple = ()  # names, each set to PARAMETER
    domain: str = ""  # "" for every real z; else the part that needs z > 0, and z was drawn positive

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return all(c.passed for c in self.checks)

    def __str__(self) -> str:
        shapes = [f"{'×'.join(map(str, batch(size)))}×{size}" for size in self.sizes]
        text = render_template(
            "check_report.txt.j2", report=self, points=POINTS, seed=SEED, shapes=shapes, value=PARAMETER
        )
        return text.rstrip("\n")


def verify(d, target: str = "numpy", module_path=None) -> Report:
    """Generate d's module (or take module_path), import it by path, and check it numerically."""
    from derive.checks import run, said
    from derive.codegen import TARGETS, command, generate, holomorphic, parameters
    from derive.domain import restricted
    from derive.invariants import implied
    from derive.scalarchecks import run_scalar
    from derive.scalarcode import data, gradient_view

    if target not in TARGETS:
        raise NotApplicable(f"unknown target '{target}'; known: {', '.join(TARGETS)}")
    sizes = (d.n,) if d.n else tuple(size for size in SIZES if defined(d, size))
    with tempfile.TemporaryDirectory(prefix="derive-check-") as folder:
        path = Path(module_path) if module_path else Path(folder) / f"{d.function.name}.py"
        if module_path is None:
            path.write_text(generate(d, target), encoding="utf-8")
        emitted = command(d, target)
        shown = str(module_path) if module_path else f"the code of `{emitted}`"
        try:
            module = _load(path)
        except Exception as error:  # the module itself is under test: any failure is a finding
            failed = (Check("import", np.nan, 0, said(error)),)
            return Report(d.function.name, shown, sizes, failed, tuple(parameters(d)))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the code under test may warn (overflow, casts); results decide
            # The Numba kernels are real-only: the complex step is left to the NumPy target.
            analytic = target == "numpy" and holomorphic(d)
            # A log or root of an input (log z_i) is real for z > 0 only: the points are drawn there.
            domain = restricted(d.definition) or ""
            if d.kind == "scalar":
                view = gradient_view(d)
                checks = run_scalar(module, d, sizes, analytic, implied(view), data(d), bool(domain))
            else:
                checks = run(module, d, sizes, analytic, implied(d), bool(domain))
    return Report(d.function.name, shown, sizes, tuple(checks), tuple(parameters(d)), domain)


def drawn(offset, scale, shape, rng, positive: bool = False):
    """z = offset + scale·N(0, 1); for a positive domain its absolute value, at least scale/100 from 0."""
    z = offset + scale * rng.standard_normal(shape)
    return np.maximum(np.abs(z), scale / 100) if positive else z


def defined(d, size: int) -> bool:
    """Whether the definition means something at this n (layer norm at n = 1 is 0/0)."""
    from sympy import nan, zoo

    from derive.symbols import i, n

    value = d.definition.xreplace({i: 1, n: size}).doit()
    return not value.has(nan, zoo)


def _load(path: Path):
    """The module at path, imported under a private name so that nothing else sees it."""
    spec = importlib.util.spec_from_file_location(f"_derive_checked_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
