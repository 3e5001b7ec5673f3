"""The emitted code probed at large |z|: where it is not finite but the function is, emit refuses in one line.

The function's own value comes from its definition evaluated by mpmath at 50 digits; the refusal names
the innermost part of the definition that float arithmetic cannot hold there (exp(-z[1]) overflows).
"""

from __future__ import annotations

import importlib.util
import tempfile
import warnings
from pathlib import Path

import mpmath
import numpy as np
from sympy import Indexed, Symbol, lambdify

from derive.errors import NotApplicable
from derive.notation.symbols import i, j, n
from derive.show.printing import text

SCALES = (30.0, 1e3, 1e4)
UNIT = (0.83, -0.47, 0.29, -1.13, 0.61, -0.07, 0.37, -0.91)  # away from 0 and the usual kinks
WEIGHTS = (0.7, -0.4, 1.1, 0.2, -0.9, 0.5, -0.3, 0.8)  # the g (and v) of the products probed
LARGEST = 8  # n above which the probe is left to --check (mpmath of an 8-entry definition is quick)


class Overflow(NotApplicable):
    """The emitted code is not finite where the function is; found says where, in a clause."""

    def __init__(self, message: str, found: str):
        super().__init__(message)
        self.found = found


def probe(d, source: str) -> None:
    """Raise NotApplicable when the module in source overflows where d's function is finite."""
    from derive.codegen.domain import restricted
    from derive.codegen.module import data, parameters

    size = d.n or 3
    if size > LARGEST or parameters(d) or (d.kind == "scalar" and data(d)):
        return  # large n is left to --check; symbolic parameters and targets y have no values here

    unit = np.array(UNIT[:size])
    if restricted(d.definition):
        unit = np.abs(unit)
    module = load(source, d.function.name)
    name = d.function.name
    rows = [{i: a} for a in range(1, size + 1)]
    pairs = [{i: a, j: b} for a in range(1, size + 1) for b in range(1, size + 1)]
    if d.kind == "vector":
        targets = [(name, d.definition, rows, name), (f"{name}_jacobian", d.raw, pairs, f"∂{name}/∂z")]
        forms = (d.definition, d.general)
    else:
        h = d.hessian
        targets = [
            (name, d.definition, [{}], name),
            (f"{name}_grad", d.raw, rows, f"∇{name}"),
            (f"{name}_hessian", h.raw, pairs, f"∇²{name}"),
        ]
        forms = (d.definition, d.general, h.general)
    for (function, expr, at, said), form in zip(targets, forms, strict=True):
        _probed(
            getattr(module, function), lambda e=expr, a=at: concrete_entries(e, size, a), unit, said, form
        )
    if d.kind == "vector":  # the products too: gᵀJ and J v never form J, so they overflow on their own
        _products(module, d, size, unit, pairs)


def _products(module, d, size, unit, pairs):
    """The module's VJP and JVP probed with a fixed g (= v), against gᵀJ and J g from the derivative."""
    name, g = d.function.name, np.array(WEIGHTS[:size])

    def entries(transposed):
        (jacobian, inputs) = concrete_entries(d.raw, size, pairs)
        at = (lambda a, b: jacobian[b * size + a]) if transposed else (lambda a, b: jacobian[a * size + b])
        return [sum(float(g[b]) * at(a, b) for b in range(size)) for a in range(size)], inputs

    for suffix, transposed, said in (("vjp", True, f"gᵀ∂{name}/∂z"), ("jvp", False, f"∂{name}/∂z v")):
        function = getattr(module, f"{name}_{suffix}")
        _probed(
            lambda z, f=function: f(z, g.astype(z.dtype)),
            lambda t=transposed: entries(t),
            unit,
            said,
            d.general,
        )


def _probed(function, made, unit, said, form):
    """function probed at every scale and direction; made() gives the exact entries and their inputs."""
    cache = None
    # Mixed signs, and all of one sign: σ(z_i)/Σ_k σ(z_k) is 0/0 in floats only where every z_k ≪ 0.
    directions = list({tuple(d): d for d in (unit, -unit, np.abs(unit), -np.abs(unit))}.values())
    for scale in SCALES:
        for direction in directions:
            for dtype in (np.float64, np.float32):
                z = (scale * direction).astype(dtype)
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    got = np.ravel(np.asarray(function(z), dtype=np.float64))
                if np.all(np.isfinite(got)):
                    continue
                cache = cache or made()
                concrete, inputs = cache
                exact = exact_values(concrete, inputs, z.astype(np.float64))
                top = float(np.finfo(dtype).max)
                wrong = [a for a, v in enumerate(got) if not np.isfinite(v) and abs(exact[a]) < top]
                if wrong:
                    # The innermost part of the function that overflows, or else the form the code computes.
                    culprit = _culprit(concrete[wrong[0]], inputs, z, dtype)
                    part = culprit or f"its form {text(form)}"
                    at = f"z = {scale:g}·{_signs(direction)}"
                    raise Overflow(
                        f"cannot emit stable code: {said} is finite at {at}"
                        f" ({mpmath.nstr(exact[wrong[0]], 6)}), but {part} overflows {np.dtype(dtype)} there"
                        " and no rewrite rule removes it",
                        f"{culprit + ' ' if culprit else ''}overflows {np.dtype(dtype)} at {at}",
                    )


def concrete_entries(expr, size, at):
    """expr's entries at this n (for each index setting in at), in plain symbols x1…xn."""
    inputs = [Symbol(f"x{b}", real=True) for b in range(1, size + 1)]
    entries = []
    for indices in at:
        entry = expr.xreplace({**indices, n: size}).doit()
        entry = entry.replace(lambda e: isinstance(e, Indexed), lambda e: inputs[int(e.indices[0]) - 1])
        entries.append(entry)
    return entries, inputs


def exact_values(entries, inputs, z, failed=mpmath.inf):
    """Each entry's absolute value at z by mpmath at 50 digits (a complex or undefined value counts as
    not finite; one mpmath cannot evaluate is failed)."""
    values = []
    with mpmath.workdps(50):
        point = [mpmath.mpf(float(x)) for x in z]
        for entry in entries:
            try:
                value = lambdify(inputs, entry, "mpmath")(*point)
                values.append(abs(value) if mpmath.im(value) == 0 and mpmath.isfinite(value) else mpmath.inf)
            except ZeroDivisionError:
                values.append(mpmath.inf)
            except (ValueError, TypeError, OverflowError, NameError):
                values.append(failed)
    return values


def _culprit(entry, inputs, z, dtype):
    """The innermost part of entry not finite in dtype at z (None when every part is finite)."""
    found = None
    for part in _postorder(entry):
        if not part.free_symbols:
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                value = lambdify(inputs, part, "numpy")(*z.astype(dtype))
            except Exception:  # noqa: BLE001 — a part NumPy cannot evaluate is not the culprit we name
                continue
        if not np.all(np.isfinite(np.asarray(value, dtype=np.float64))):
            found = part
            break
    if found is None:
        return None
    return text(found.xreplace({x: Symbol(f"z[{b + 1}]") for b, x in enumerate(inputs)}))


def _postorder(expr):
    for arg in expr.args:
        yield from _postorder(arg)
    yield expr


def _signs(unit):
    return "(" + ", ".join(f"{x:g}" for x in unit) + ")"


def load(source, name):
    """The module in source, imported by path from a folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="derive-probe-") as folder:
        path = Path(folder) / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"_derive_probed_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module
