"""The derivation for a terminal: Unicode math laid out by SymPy's pretty printer."""

from __future__ import annotations

from sympy import Derivative, ImmutableMatrix, MatrixSymbol, Symbol

from derive.notation.symbols import i, j, n
from derive.show.printing import pretty_equation, renamed
from derive.show.templating import render_template

ELIDE_ABOVE = 6  # a larger matrix shows its first three rows and columns, ⋯ ⋮ ⋱, and the last


def show(d) -> str:
    """The derivation as terminal text."""
    spelled = d.spelled
    facts = {
        "name": d.function.heading,
        "description": d.function.description,
        "kind": d.kind,
        "n": d.n,
        "size": renamed("n"),  # the dimension's name: n, or the reader's (N, d)
        "elided": d.n is not None and d.n > ELIDE_ABOVE,
        "proofs": d.proofs,
        "hessian_proofs": d.hessian.proofs if d.hessian is not None else (),
        "where": [pretty_equation(_named(key), body) for key, body in spelled.function_where()],
        "assumed": [pretty_equation(lhs, rhs) for lhs, rhs in d.assumed],
    }
    if d.kind == "scalar":
        L, z = d.output, d.input
        facts.update(
            definition=pretty_equation(L, d.function.definition),
            gradient=pretty_equation(Derivative(L, z[i]), d.general),
            recognized=_recognized(d.hessian.spelled),
            gradient_form=_maybe(MatrixSymbol("∇L", n, 1), d.matrix_form),
            gradient_explicit=None if d.table is None else pretty_equation(Symbol("∇L"), _column(d.table)),
            hessian=_jacobian_facts(d.hessian, Derivative(L, z[i], z[j]), "H"),
        )
    else:
        facts.update(
            definition=pretty_equation(d.output[i], d.function.definition),
            jacobian=_jacobian_facts(d, Derivative(d.output[i], d.input[j]), "J"),
        )
    return render_template("terminal.txt.j2", **facts)


def _jacobian_facts(d, derivative, name) -> dict:
    """The δ form, both cases, the matrix form and the explicit matrix of a vector derivation."""
    (_, same), (_, other) = d.cases
    symbol = MatrixSymbol(name, n, n)
    return {
        "general": pretty_equation(derivative, d.general),
        "same": pretty_equation(derivative.xreplace({j: i}), same),
        "other": pretty_equation(derivative, other),
        "matrix_form": _maybe(symbol, d.matrix_form),
        "explicit": None if d.table is None else pretty_equation(symbol, elided(d.table, ELIDE_ABOVE)),
    }


def _recognized(spelled):
    """(name, its definition) when the gradient is a registered function, else None."""
    if not spelled.recognized:
        return None
    return spelled.function.name, pretty_equation(spelled.output[i], spelled.function.definition)


def _maybe(lhs, rhs):
    return None if rhs is None else pretty_equation(lhs, rhs)


def _named(key):
    return key[i] if hasattr(key, "label") else key


def _column(table) -> ImmutableMatrix:
    """The gradient, or for size > ELIDE_ABOVE its first entries, ⋮, and the last."""
    size = table.size
    if size <= ELIDE_ABOVE:
        return table.matrix()
    head = [[table.entry(a)] for a in range(1, ELIDE_ABOVE // 2 + 1)]
    return ImmutableMatrix([*head, [Symbol("⋮")], [table.entry(size)]])


def elided(table, limit: int) -> ImmutableMatrix:
    """The explicit matrix, or for size > limit its corners with ⋯, ⋮ and ⋱ in between."""
    size = table.size
    if size <= limit:
        return table.matrix()
    keep = [*range(1, limit // 2 + 1), None, size]
    cdots, vdots, ddots = Symbol("⋯"), Symbol("⋮"), Symbol("⋱")

    def cell(a, b):
        if a is None and b is None:
            return ddots
        if a is None:
            return vdots
        if b is None:
            return cdots
        return table.entry(a, b)

    return ImmutableMatrix([[cell(a, b) for b in keep] for a in keep])
