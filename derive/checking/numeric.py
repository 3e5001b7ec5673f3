"""Check generated code numerically: import it by path, run every check of its kind, report."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np

from derive.checking import exps
from derive.checking.checks import run, said
from derive.checking.invariants import implied
from derive.checking.loading import _load, defined
from derive.checking.points import SIZES
from derive.checking.report import Check, Report
from derive.checking.scalar import SCALAR
from derive.checking.vector import VECTOR
from derive.codegen.domain import restricted
from derive.codegen.module import command, data, gradient_view, parameters
from derive.codegen.numpy import holomorphic
from derive.codegen.targets import TARGETS, generate
from derive.errors import NotApplicable

KINDS = {"vector": VECTOR, "scalar": SCALAR}  # what the checks read of each kind of function


def verify(d, target: str = "numpy", module_path=None) -> Report:
    """Generate d's module (or take module_path), import it by path, and check it numerically."""
    if target not in TARGETS:
        raise NotApplicable(f"unknown target '{target}'; known: {', '.join(TARGETS)}")
    if target in ("torch", "jax"):  # their ecosystems' own checks, beside the NumPy module's
        from derive.checking.frameworks import verify_framework

        return verify_framework(d, target, module_path)
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
            # A scalar's Hessian is its gradient's Jacobian: what is derived of that Jacobian holds of it.
            scalar = d.kind == "scalar"
            facts = implied(gradient_view(d) if scalar else d)
            # A log or root of an input (log z_i) is real for z > 0 only: the points are drawn there.
            domain = restricted(d.definition) or ""
            data_ = data(d) if scalar else ()
            checks = run(module, d, KINDS[d.kind], sizes, analytic, facts, data_, bool(domain))
            if target == "numba":  # the kernels' own exp, over all it may be given, not only these points
                checks += exps.checks(module)
    return Report(d.function.name, shown, sizes, tuple(checks), tuple(parameters(d)), domain)
