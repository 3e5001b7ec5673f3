"""A derivation as one JSON object, every formula in SymPy syntax."""

from __future__ import annotations

import json

from derive.printing import text, texts


def to_json(d) -> str:
    """The derivation as JSON: the forms, the whole explicit Jacobian, and the proofs."""
    (_, same), (_, other) = d.cases
    record = {
        "function": d.function.name,
        "description": d.function.description,
        "n": d.n,
        "output": d.function.output,
        "input": d.function.input,
        "definition": text(d.definition),
        "raw": text(d.raw),
        "general": text(d.general),
        "cases": {"i == j": text(same), "i != j": text(other)},
        "matrix_form": None if d.matrix_form is None else text(d.matrix_form),
        "jacobian": None if d.jacobian is None else _rows(d.jacobian),
        "proofs": [
            {"claim": p.claim, "holds": p.holds, "method": p.method, "cases": p.cases, "detail": p.detail}
            for p in d.proofs
        ],
        "proven": d.proven,
    }
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def _rows(jacobian) -> list[list[str]]:
    # Equal entries print alike: print each distinct entry once (half of them for a symmetric matrix).
    distinct = list(dict.fromkeys(jacobian))
    printed = dict(zip(distinct, texts(distinct), strict=True))
    return [[printed[e] for e in row] for row in jacobian.tolist()]
