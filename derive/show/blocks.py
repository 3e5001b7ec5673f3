"""A derivation with several inputs for a terminal and as JSON: one block per input, keyed by its name."""

from __future__ import annotations

import json

from sympy import Derivative, MatrixSymbol

from derive.notation.symbols import i
from derive.show.printing import pretty_equation, text
from derive.show.templating import render_template


def show(d, columns: int) -> str:
    """The blocks as terminal text, prose wrapped to columns."""
    spelled = d.spelled
    output = spelled.output[i] if d.kind == "vector" else spelled.output
    facts = {
        "name": d.function.heading,
        "description": d.function.description[0].lower() + d.function.description[1:],
        "width": columns,
        "kind": d.kind,
        "inputs": [
            {"name": x.name, "shape": _shape(x.dims), "data": x.data} for x in d.function.declared_inputs
        ],
        "sizes": sorted(d.sizes.items()),
        "definition": pretty_equation(output, d.function.definition),
        "where": [pretty_equation(_named(key), body) for key, body in spelled.function_where()],
        "assumed": [pretty_equation(lhs, rhs) for lhs, rhs in d.assumed],
        "blocks": [_block(d, b, output) for b in d.blocks],
    }
    return render_template("blocks.txt.j2", **facts)


def _block(d, b, output) -> dict:
    name = b.input.name
    return {
        "name": name,
        "general": pretty_equation(Derivative(output, b.wrt), b.general),
        "matrix_form": None if b.matrix_form is None else pretty_equation(_lhs(d, b), b.matrix_form),
        "proofs": b.proofs,
    }


def _lhs(d, b):
    """∂L/∂W as a matrix symbol of W's shape (a scalar), or the Jacobian block J_W (a vector function)."""
    rows, cols = b.matrix_form.shape
    label = f"∂{d.function.output}/∂{b.input.name}" if d.kind == "scalar" else f"J_{b.input.name}"
    return MatrixSymbol(label, rows, cols)


def _named(key):
    return key[i] if hasattr(key, "label") else key


def to_json(d) -> str:
    """The blocks as JSON: one object per input, keyed by its name, formulas in SymPy syntax."""
    record = {
        "function": d.function.name,
        "description": d.function.description,
        "kind": d.kind,
        "output": d.function.output,
        "inputs": {
            x.name: {"dims": list(x.dims), "data": x.data, "sizes": [d.sizes.get(k) for k in x.dims]}
            for x in d.function.declared_inputs
        },
        "sizes": dict(sorted(d.sizes.items())),
        "definition": text(d.spelled.expanded),
        "where": {str(name): text(body) for name, body in d.spelled.function_where()},
        "parameters": {str(name): text(value) for name, value in d.spelled.parameters},
        "assumed": [f"{text(lhs)} = {text(rhs)}" for lhs, rhs in d.assumed],
        "blocks": {
            b.input.name: {
                "with_respect_to": text(b.wrt),
                "indices": [str(x) for x in b.index],
                "raw": text(b.raw),
                "general": text(b.general),
                "matrix": None if b.matrix_form is None else text(b.matrix_form),
                "proofs": [_proof(p) for p in b.proofs],
            }
            for b in d.blocks
        },
        "proven": d.proven,
    }
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def _shape(dims) -> str:
    return dims[0] if len(dims) == 1 else f"({'×'.join(dims)})"


def _proof(p) -> dict:
    return {"claim": p.claim, "holds": p.holds, "method": p.method, "cases": p.cases}
