"""A user's backward f(z, g) checked numerically against the derived VJP; its error named where it can be."""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from derive.checking.loading import defined
from derive.checking.points import PARAMETER, POINTS, SEED
from derive.claims.diagnosis import diagnose
from derive.errors import InvalidInput

TOLERANCE = 1e-8  # max |user − derived| / max(1, max |derived|) per vector: float64 rounding, with room
SIZES = (3, 8)  # n checked when the function is for any n


@dataclass(frozen=True)
class Failure:
    """The first entry found wrong: where, and the two values."""

    point: str
    size: int
    vector: int  # which vector of the batch
    entry: int  # 1-based
    user: float
    derived: float


@dataclass(frozen=True)
class BackwardReport:
    """The check of one backward: the largest error at each point, the first failure, what the error is."""

    function: str
    path: str
    name: str
    errors: tuple  # (point label, n, largest error)
    failure: Failure | None = None
    # The known mistake the error matches: diagonal (only the diagonal), factor (a constant), transpose;
    # missing, negated or doubled (a term of the general form); None when it matches none.
    pattern: str | None = None
    term: str | None = None  # the term concerned, on one line
    factor: float | None = None  # the constant factor c, for the pattern factor: backward = c · VJP
    kind: str = ""  # what the term is: diagonal (the δ_ij part), outer (an outer product u_i v_j), or ""
    problem: str | None = None  # the backward raised, or returned the wrong shape
    parameters: tuple = field(default=())

    @property
    def largest(self) -> float:
        """The largest error over every point (NaN where the backward gave a non-finite value)."""
        values = [e for _, _, e in self.errors]
        return float("nan") if any(np.isnan(values)) else max(values, default=float("nan"))

    @property
    def passed(self) -> bool:
        """Whether the backward agrees with the derived VJP everywhere, within TOLERANCE."""
        return self.problem is None and bool(self.largest <= TOLERANCE)

    def render(self, fmt: str = "text") -> str:
        """The report as text or json."""
        if fmt == "json":
            record = {
                "function": self.function,
                "module": self.path,
                "backward": self.name,
                "passed": self.passed,
                "tolerance": TOLERANCE,
                "largest_error": None if np.isnan(self.largest) else self.largest,
                "errors": [
                    {"point": p, "n": size, "error": None if np.isnan(e) else e} for p, size, e in self.errors
                ],
                "first_failure": None if self.failure is None else vars(self.failure),
                "pattern": self.pattern,
                "term": self.term,
                "term_kind": self.kind or None,
                "factor": self.factor,
                "problem": self.problem,
            }
            return json.dumps(record, ensure_ascii=False, indent=2) + "\n"
        if fmt != "text":
            raise InvalidInput(f"--claim-module reports as text or json, not {fmt}")
        from derive.show.templating import render_template

        return render_template(
            "claimcheck.txt.j2", report=self, tolerance=TOLERANCE, seed=SEED, value=PARAMETER
        )


def load(path) -> object:
    """The user's module, imported (so run) under a private name; one line if it cannot be."""
    path = Path(path)
    name = f"_derive_claimed_{abs(hash(str(path.resolve())))}"
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError("not a Python file")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # SystemExit too: the file is the user's, any failure is a refusal
        message = " ".join(str(error).split())[:200]
        raise InvalidInput(f"cannot import {path}: {type(error).__name__}: {message}") from None
    finally:
        sys.modules.pop(name, None)
    return module


def check_backward(d, path, name: str) -> BackwardReport:
    """Call the backward name in the file at path on seeded points and compare with d's VJP."""
    module = load(path)
    backward = getattr(module, name, None)
    if not callable(backward):
        defined_there = sorted(k for k, v in vars(module).items() if callable(v) and not k.startswith("_"))
        known = ", ".join(defined_there) or "none"
        raise InvalidInput(f"{path} has no function '{name}'; it defines: {known}")
    reference = _Reference(d)
    # The backward is told every parameter: those left symbolic at the check's value, those set at theirs.
    given = {symbol.name: float(value) for symbol, value in d.spelled.parameters}
    call = _caller(backward, module, {**given, **reference.kwargs})
    sizes = (d.n,) if d.n else tuple(size for size in SIZES if defined(d, size))
    common = dict(function=d.function.name, path=str(path), name=name)
    rng = np.random.default_rng(SEED)
    errors, failure = [], None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the code under test may overflow; the values decide
        for size in sizes:
            for label, offset, scale in POINTS:
                z = offset + scale * rng.standard_normal((4, size))
                g = rng.standard_normal(4) if d.kind == "scalar" else rng.standard_normal((4, size))
                data = reference.data(rng, z.shape)
                try:
                    user = np.array([call(z[b], g[b], *(x[b] for x in data)) for b in range(len(z))])
                except Exception as error:  # the backward itself is under test
                    return BackwardReport(**common, errors=tuple(errors), problem=_said(error))
                truth = reference.vjp(z, g, data)
                if user.shape != truth.shape:
                    problem = f"the backward returned shape {user.shape[1:]}, expected {truth.shape[1:]}"
                    return BackwardReport(**common, errors=tuple(errors), problem=problem)
                error = _error(user, truth)
                errors.append((label, size, error))
                if failure is None and not error <= TOLERANCE:
                    failure = _first(label, size, user, truth)
    pattern, term, kind, factor = None, None, "", None
    if failure is not None:
        pattern, term, kind, factor = diagnose(d, reference, call)
    return BackwardReport(
        **common, errors=tuple(errors), failure=failure, pattern=pattern, term=term, kind=kind, factor=factor
    )


def _said(error) -> str:
    message = " ".join(str(error).split())[:200]
    return f"the backward raised {type(error).__name__}: {message}"


def _error(user, truth) -> float:
    scale = np.maximum(1.0, np.max(np.abs(truth), axis=-1))
    worst = np.max(np.abs(user - truth), axis=-1) / scale
    return float("nan") if not np.all(np.isfinite(user)) else float(np.max(worst))


def _first(label, size, user, truth) -> Failure:
    scale = np.maximum(1.0, np.max(np.abs(truth), axis=-1, keepdims=True))
    bad = ~(np.abs(user - truth) / scale <= TOLERANCE)
    b, k = (int(x) for x in np.argwhere(bad)[0])
    return Failure(label, size, b + 1, k + 1, float(user[b, k]), float(truth[b, k]))


class _Reference:
    """The derived VJP (or gradient times g), from derive's own generated NumPy module."""

    def __init__(self, d):
        from derive.checking.loading import _load
        from derive.codegen.module import data
        from derive.codegen.targets import generate

        self.d, self.names = d, data(d) if d.kind == "scalar" else []
        with tempfile.TemporaryDirectory(prefix="derive-claim-") as folder:
            path = Path(folder) / f"{d.function.name}.py"
            path.write_text(generate(d, "numpy"), encoding="utf-8")
            self.module = _load(path)
        # A parameter left symbolic (T) takes the check's value; one set with --param is in the code.
        self.kwargs = dict.fromkeys(d.function.parameter_names, PARAMETER)

    def data(self, rng, shape) -> list:
        # Each data vector a probability vector, as the check draws it, so Σ_k y_k = 1 holds.
        drawn = []
        for _ in self.names:
            y = rng.random(shape)
            drawn.append(y / y.sum(axis=-1, keepdims=True))
        return drawn

    def vjp(self, z, g, data):
        name = self.d.function.name
        if self.d.kind == "scalar":
            return g[:, None] * getattr(self.module, f"{name}_grad")(z, *data, **self.kwargs)
        return getattr(self.module, f"{name}_vjp")(z, g, **self.kwargs)

    def jacobian(self, z, data):
        name = self.d.function.name
        if self.d.kind == "scalar":
            return getattr(self.module, f"{name}_grad")(z, *data, **self.kwargs)
        return getattr(self.module, f"{name}_jacobian")(z, **self.kwargs)


def _caller(backward, module, kwargs: dict):
    """backward called on one vector: NumPy arrays, or float64 tensors for a module that imports torch."""
    torch = vars(module).get("torch")
    uses_torch = torch is not None and hasattr(torch, "as_tensor")

    def call(z, g, *data):
        args = (z, *data, g)
        if uses_torch:
            args = tuple(torch.as_tensor(a, dtype=torch.float64) for a in args)
        result = backward(*args, **kwargs)
        if hasattr(result, "detach"):
            result = result.detach().cpu().numpy()
        return np.asarray(result, dtype=np.float64)

    return call
