"""A derivation as one JSON object, every formula in SymPy syntax."""

from __future__ import annotations

import json

from derive.show.printing import text, texts


def to_json(d, notation=None) -> str:
    """The derivation as JSON: the forms, the whole explicit result, and the proofs; keys stay
    canonical, formulas are printed in the notation (given, also printed, as "notation")."""
    record = {
        "function": d.function.name,
        "description": d.function.description,
        "kind": d.kind,
        "n": d.n,
        "output": d.function.output,
        "input": d.function.input,
        "definition": text(d.definition),
        "where": {str(name): text(body) for name, body in d.spelled.function_where()},
        "parameters": {str(name): text(value) for name, value in d.spelled.parameters},
        "assumed": [f"{text(lhs)} = {text(rhs)}" for lhs, rhs in d.assumed],
    }
    if notation is not None:
        record["notation"] = {key: value.unicode for key, value in notation.asked}
    if d.kind == "scalar":
        record["gradient"] = {
            "raw": text(d.raw),
            "general": text(d.general),
            "vector": None if d.matrix_form is None else text(d.matrix_form),
            "explicit": None if d.table is None else [text(d.table.entry(a)) for a in range(1, d.n + 1)],
            "proofs": _proofs(d.proofs),
        }
        # The Hessian is written in the gradient's name (s where it is softmax, else g) and its
        # intermediates: say what each is, so every name its formulas print is defined here.
        names = {str(getattr(name, "label", name)): text(body) for name, body in d.hessian.spelled.rewrites}
        record["hessian"] = {"where": names, **_jacobian(d.hessian)}
    else:
        record.update(_jacobian(d))
    record["proven"] = d.proven
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def _jacobian(d) -> dict:
    """The δ form, the cases, the matrix form, the explicit matrix and the proofs of a vector derivation."""
    (_, same), (_, other) = d.cases
    return {
        "raw": text(d.raw),
        "general": text(d.general),
        "cases": {"i == j": text(same), "i != j": text(other)},
        "matrix_form": None if d.matrix_form is None else text(d.matrix_form),
        "jacobian": None if d.jacobian is None else _rows(d.jacobian),
        "proofs": _proofs(d.proofs),
    }


def _proofs(proofs) -> list[dict]:
    return [
        {"claim": p.claim, "holds": p.holds, "method": p.method, "cases": p.cases, "detail": p.detail}
        for p in proofs
    ]


def _rows(jacobian) -> list[list[str]]:
    # Equal entries print alike: print each distinct entry once (half of them for a symmetric matrix).
    distinct = list(dict.fromkeys(jacobian))
    printed = dict(zip(distinct, texts(distinct), strict=True))
    return [[printed[e] for e in row] for row in jacobian.tolist()]
