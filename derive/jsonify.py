"""A derivation as one JSON object, every formula in SymPy syntax."""

from __future__ import annotations

import json

from derive.printing import text


def to_json(d) -> str:
    """The derivation as JSON: the forms, the explicit Jacobian (or gradient and Hessian), the proofs."""
    record = {
        "function": d.function.name,
        "description": d.function.description,
        "kind": d.kind,
        "n": d.n,
        "output": d.function.output,
        "input": d.function.input,
        "definition": text(d.definition),
        "raw": text(d.raw),
        **_forms(d),
        "proofs": _proofs(d),
        "proven": d.proven,
    }
    if d.kind == "scalar":
        # The Hessian is the Jacobian of the gradient, entry i of which it names (g, or softmax's s).
        record["assumed"] = [f"{text(lhs)} == {text(rhs)}" for lhs, rhs in d.assumed]
        hessian = d.hessian
        record["hessian"] = {"gradient": hessian.output.name, **_forms(hessian), "proofs": _proofs(hessian)}
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def _forms(d) -> dict:
    """The general form, its cases, the matrix form and the explicit entries of a vector or scalar d."""
    if d.kind == "scalar":
        return {
            "general": text(d.general),
            "matrix_form": None if d.matrix_form is None else text(d.matrix_form),
            "gradient": None if d.table is None else [text(d.table.entry(a)) for a in range(1, d.n + 1)],
        }
    (_, same), (_, other) = d.cases
    return {
        "general": text(d.general),
        "cases": {"i == j": text(same), "i != j": text(other)},
        "matrix_form": None if d.matrix_form is None else text(d.matrix_form),
        "jacobian": None if d.table is None else _rows(d.table),
    }


def _proofs(d) -> list[dict]:
    return [
        {"claim": p.claim, "holds": p.holds, "method": p.method, "cases": p.cases, "detail": p.detail}
        for p in d.proofs
    ]


def _rows(table) -> list[list[str]]:
    size = table.size
    return [[text(table.entry(a, b)) for b in range(1, size + 1)] for a in range(1, size + 1)]
