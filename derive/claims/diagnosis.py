"""Which known mistake a wrong backward makes: its Jacobian, recovered row by row, against the usual ones."""

from __future__ import annotations

import numpy as np
from sympy import Add, Float, KroneckerDelta, expand

from derive.checking.points import PARAMETER, SEED
from derive.notation.symbols import i, j, vector

DIAGNOSIS_SIZE = 3  # n at which the user's Jacobian is recovered and compared with the known mistakes


def diagnose(d, reference, call):
    """The known mistake the user's Jacobian matches at n = 3: (pattern, term, kind, factor), or Nones."""
    from derive.show.docprint import formula

    size = d.n or DIAGNOSIS_SIZE
    rng = np.random.default_rng(SEED + 1)
    z = rng.standard_normal(size)
    data = [y[0] for y in reference.data(rng, (1, size))]
    scalar = d.kind == "scalar"
    # The user's Jacobian row by row: the backward at g = e_k is row k of the Jacobian it implements.
    if scalar:
        user = call(z, np.float64(1.0), *data)[None, :]
    else:
        user = np.array([call(z, np.eye(size)[k], *data) for k in range(size)])
    truth = np.atleast_2d(reference.jacobian(z[None, :], [y[None, :] for y in data])[0])

    def close(candidate) -> bool:
        return bool(np.max(np.abs(user - candidate)) <= 1e-6 * max(1.0, float(np.max(np.abs(candidate)))))

    if close(truth):
        return None, None, "", None
    for pattern, candidate in _whole(truth, scalar):
        if close(candidate):
            return pattern, None, "", None
    # A constant factor (2, 1/2, −1, a temperature): the best c in user ≈ c·truth, if it fits exactly.
    factor = float(np.sum(user * truth) / np.sum(truth * truth))
    if close(factor * truth):
        return "factor", None, "", factor
    part_at = _evaluator(d, reference, z, data, size)
    for part in _terms(d.general):
        value = part_at(part)
        for pattern, candidate in (
            ("missing", truth - value),
            ("negated", truth - 2 * value),
            ("doubled", truth + value),
        ):
            if close(candidate):
                return pattern, formula(part), _kind(part), None
    return None, None, "", None


def _whole(truth, scalar) -> list:
    """Mistakes in the whole Jacobian: (pattern, the Jacobian the backward would then implement)."""
    found = [] if scalar else [("diagonal", np.diag(np.diag(truth)))]
    if not scalar and not np.allclose(truth, truth.T):
        found.append(("transpose", truth.T))
    return found


def _evaluator(d, reference, z, data, size):
    """A function giving a part of the general form as a matrix (a row for a gradient) at this point."""
    from derive.claims.point import _value
    from derive.engine.definition import _inline

    spelled, scalar = d.spelled, d.kind == "scalar"
    rewrites = d.hessian.spelled.rewrites + spelled.intermediates if scalar else spelled.rewrites
    at = {spelled.input[a + 1]: Float(v, 17) for a, v in enumerate(z)}
    for name, values in zip(reference.names, data, strict=True):
        at.update({vector(name)[a + 1]: Float(v, 17) for a, v in enumerate(values)})
    at.update({s: Float(PARAMETER) for s in d.general.free_symbols if s.name in reference.kwargs})
    rows = range(1, size + 1)
    entries = [[(a,) for a in rows]] if scalar else [[(a, b) for b in rows] for a in rows]

    def matrix(part):
        body = _inline(part, rewrites)
        return np.array([[float(_value(body, size, entry, at).evalf()) for entry in row] for row in entries])

    return matrix


def _terms(general) -> list:
    """The general form's parts: the δ_ij part as one, then each other term of its expansion."""
    parts = Add.make_args(expand(general))
    diagonal = Add(*(p for p in parts if p.has(KroneckerDelta)))
    return ([diagonal] if diagonal != 0 else []) + [p for p in parts if not p.has(KroneckerDelta)]


def _kind(term) -> str:
    """diagonal (the δ_ij part), outer (u_i v_j), or "" (a term of one index, or none)."""
    if term.has(KroneckerDelta):
        return "diagonal"
    return "outer" if term.has(i) and term.has(j) else ""
