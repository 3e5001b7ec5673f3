"""Run one corpus expression end to end: derive, prove, emit (any n, n = 4, numba), compare with torch, check.

The outcome is "pass", "refused: <derive's one line>" or "fails: <the first disagreement>", with the
seconds it took. Comparisons: max |A − B| / max(1, max |B|) over each array, the project's convention,
1e-10 in float64 and 1e-4 in float32 (float32 z, against the float64 oracle at that rounded z), only
where the oracle is finite (and within float32's range for float32).
"""

from __future__ import annotations

import json
import signal
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sympy import IndexedBase, Symbol, lambdify
from torch.func import hessian, jacrev

from derive import check, derive, emit, render
from derive.errors import DeriveError
from derive.userdefined import user_function

from .generated import load
from .names import undefined_in_module, undefined_names
from .numeric import named_values

SIZE = 4
SCALES = (1.0, 30.0, 1e3, 1e4)
# Away from every kink of the corpus (0, ±1, 6, ±3) at each scale; n = 6 for the any-n module too.
UNIT = {4: np.array([0.83, -0.47, 0.29, -1.13]), 6: np.array([0.83, -0.47, 0.29, -1.13, 0.61, -0.07])}
# The target y of an expression that has one (a probability vector, entries apart), at each size.
TARGET = {4: np.array([0.1, 0.2, 0.3, 0.4]), 6: np.array([0.05, 0.1, 0.15, 0.2, 0.22, 0.28])}
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-4}
BUDGET = 30.0  # CPU seconds for one expression: derive, two modules (three with numba), the check
INPUT = IndexedBase("z", real=True)
Y = IndexedBase("y", real=True)
F32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Outcome:
    """What happened to one expression, and how long it took."""

    status: str
    seconds: float  # wall clock
    cpu: float = 0.0  # this process's CPU seconds: what a quiet machine would take, near enough


class Disagreement(Exception):
    """The first place the emitted code and the oracle differ."""


def points(entry, size):
    """z at each scale: the fixed unit vector times the scale (its absolute value for positive domains)."""
    unit = np.abs(UNIT[size]) if entry.domain == "positive" else UNIT[size]
    return [(scale, unit * scale) for scale in SCALES]


def _targets(entry, size) -> tuple:
    """(y,) for an expression with a target, else ()."""
    return (TARGET[size],) if entry.target else ()


def oracle(entry, z, scalar):
    """The oracle's value and derivatives at z (float64): (F, J) or (L, gradient, Hessian)."""
    t = torch.tensor(z, dtype=torch.float64)
    data = [torch.tensor(y, dtype=torch.float64) for y in _targets(entry, len(z))]

    def at(u):
        return entry.oracle(u, *data)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = at(t).detach().numpy()
        first = jacrev(at)(t).detach().numpy()
        if not scalar:
            return value, first
        return value, first, hessian(at)(t).detach().numpy()


def compare(label, got, want, dtype):
    """Raise Disagreement where got differs from want (finite entries of want only)."""
    got, want = np.asarray(got), np.asarray(want, dtype=np.float64)
    usable = np.isfinite(want) & (np.abs(want) <= (F32_MAX if dtype == np.float32 else np.inf))
    if not usable.any():
        return
    if got.dtype != dtype:
        raise Disagreement(f"{label}: dtype {got.dtype}, expected {np.dtype(dtype)}")
    diff = np.abs(got.astype(np.float64) - want)[usable]
    scale = max(1.0, float(np.max(np.abs(want[usable]))))
    error = float(np.max(diff)) / scale if np.all(np.isfinite(diff)) else np.inf
    if not error <= TOLERANCE[dtype]:
        raise Disagreement(f"{label}: error {error:.1e} > {TOLERANCE[dtype]:.0e}")


def module_against_oracle(entry, module, name, scalar, size, what):
    """Every function of a module at every scale, in float64 and float32, against the oracle."""
    functions = (name, f"{name}_grad", f"{name}_hessian") if scalar else (name, f"{name}_jacobian")
    for scale, z64 in points(entry, size):
        for dtype in (np.float64, np.float32):
            z = z64.astype(dtype)
            wanted = oracle(entry, z.astype(np.float64), scalar)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # overflow warnings: the values decide
                data = [y.astype(dtype) for y in _targets(entry, size)]
                for fn, want in zip(functions, wanted, strict=True):
                    got = getattr(module, fn)(z, *data)
                    compare(f"{what} {fn} at |z|~{scale:g} {np.dtype(dtype)}", got, want, dtype)


def api_against_oracle(entry, d, scalar):
    """derive's explicit Jacobian (gradient for a scalar) at |z| ~ 1 against torch, in float64."""
    z = UNIT[SIZE] if entry.domain == "real" else np.abs(UNIT[SIZE])
    names = d.spelled if d.kind == "vector" else d.hessian.spelled
    values = named_values(names, z, SIZE, {Y: TARGET[SIZE]} if entry.target else None)
    values.update({INPUT[a + 1]: float(x) for a, x in enumerate(z)})
    # One lambdified matrix, not one evalf per entry: the numbers are the same, far faster.
    matrix = d.jacobian.doit()
    if entry.target:  # a sum of the target written out at n = 4 keeps its entries as y[1] … y[4]
        matrix = matrix.xreplace({Y[a]: Symbol(f"y{a}") for a in range(1, SIZE + 1)})
    keys = [k for k in values if matrix.has(k)]
    got = np.array(lambdify(keys, matrix, "numpy")(*(values[k] for k in keys)), dtype=np.float64)
    want = oracle(entry, z, scalar)[1]
    compare("derived Jacobian", got.reshape(want.shape), want, np.float64)


class OverBudget(Exception):
    """The expression took longer than the corpus allows one expression."""


def _alarm(signum, frame):
    raise OverBudget


def run(entry, folder: Path, numba: bool = False, budget: float = BUDGET) -> Outcome:
    """Derive, emit and check entry within budget seconds; the status says where it stopped."""
    start, cpu = time.perf_counter(), time.process_time()
    # CPU time, not wall time: on a loaded machine (8 jobs on 2 cores) the wall clock says little.
    previous = signal.signal(signal.SIGPROF, _alarm)
    signal.setitimer(signal.ITIMER_PROF, budget)
    try:
        status = _run(entry, folder, numba)
    except DeriveError as error:
        status = f"refused: {str(error).splitlines()[0]}"
    except Disagreement as error:
        status = f"fails: {error}"
    except OverBudget:
        status = f"fails: over {budget:g} CPU s"
    except Exception as error:  # noqa: BLE001 — any other exception is a finding about derive
        status = f"fails: internal error ({type(error).__name__}: {str(error)[:120]})"
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
    return Outcome(status, time.perf_counter() - start, time.process_time() - cpu)


def _run(entry, folder, numba):
    fn = user_function(entry.source, entry.name)
    scalar = fn.output == "L"
    general = derive(fn, params=entry.params)
    fixed = derive(fn, n=SIZE, params=entry.params)
    api_against_oracle(entry, fixed, scalar)
    for d, what in ((general, "any-n"), (fixed, "n=4")):
        names_defined(render(d, "json"), entry, f"{what} JSON")
    for d, size, what in ((general, 6, "any-n"), (fixed, SIZE, "n=4")):
        source = emit(d, "numpy")
        names_defined(source, entry, f"{what} module")
        module = load(source, folder, f"{entry.name}_{what.replace('-', '_').replace('=', '')}")
        module_against_oracle(entry, module, entry.name, scalar, size, what)
    fixed_path = Path(module.__file__)  # the n = 4 NumPy module just compared: --check takes it as it is
    if numba:
        source = emit(general, "numba")
        names_defined(source, entry, "numba module")
        kernels = load(source, folder, f"{entry.name}_numba")
        module_against_oracle(entry, kernels, entry.name, scalar, 6, "numba")
    report = check(fixed, module_path=fixed_path)
    failed = [c.name for c in report.checks if not c.passed]
    if failed:
        raise Disagreement(f"--check fails: {', '.join(failed)}")
    return "pass"


def names_defined(text: str, entry, what: str) -> None:
    """Raise Disagreement where a JSON document's formulas or a module's code use a name not defined there."""
    if what.endswith("JSON"):
        missing = sorted(undefined_names(json.loads(text), data=("y",) if entry.target else ()))
    else:
        missing = undefined_in_module(text)
    if missing:
        raise Disagreement(f"{what}: undefined names: {'; '.join(missing)[:200]}")


def table(entries, numba: bool = False):
    """(name, status, wall seconds, CPU seconds) for each entry, as each is done."""
    with tempfile.TemporaryDirectory(prefix="derive-corpus-") as folder:
        for entry in entries:
            outcome = run(entry, Path(folder), numba and entry.numba)
            yield entry.name, outcome.status, outcome.seconds, outcome.cpu
