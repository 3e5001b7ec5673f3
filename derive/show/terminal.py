"""The derivation for a terminal: Unicode math laid out by SymPy's pretty printer."""

from __future__ import annotations

import shutil
import sys

from sympy import Derivative, ImmutableMatrix, MatrixSymbol, Symbol

from derive.notation.symbols import i, j, n
from derive.show.printing import pretty_equation, renamed
from derive.show.templating import render_template

ELIDE_ABOVE = 6  # a larger matrix shows its first three rows and columns, ⋯ ⋮ ⋱, and the last
NOT_A_TERMINAL = 80  # columns, when the output is a file or a pipe


def width() -> int:
    """The terminal's width in columns, or 80 when standard output is not a terminal."""
    if sys.stdout is not None and sys.stdout.isatty():
        return max(20, shutil.get_terminal_size((NOT_A_TERMINAL, 24)).columns)
    return NOT_A_TERMINAL


def show(d, columns: int | None = None) -> str:
    """The derivation as terminal text, prose wrapped and matrices elided to fit columns (or width())."""
    columns = columns or width()
    spelled = d.spelled
    facts = {
        "name": d.function.heading,
        "description": _after_colon(d.function.description),
        "width": columns,
        "kind": d.kind,
        "n": d.n,
        "size": renamed("n"),  # the dimension's name: n, or the reader's (N, d)
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
            hessian=_jacobian_facts(d.hessian, Derivative(L, z[i], z[j]), "H", columns),
        )
    else:
        facts.update(
            definition=pretty_equation(d.output[i], d.function.definition),
            jacobian=_jacobian_facts(d, Derivative(d.output[i], d.input[j]), "J", columns),
        )
    return render_template("terminal.txt.j2", **facts)


def _jacobian_facts(d, derivative, name, columns) -> dict:
    """The δ form, both cases, the matrix form and the explicit matrix of a vector derivation."""
    (_, same), (_, other) = d.cases
    symbol = MatrixSymbol(name, n, n)
    explicit, limit = None, None
    if d.table is not None:
        explicit, limit = _fitting(symbol, d.table, columns)
    return {
        "general": pretty_equation(derivative, d.general),
        "same": pretty_equation(derivative.xreplace({j: i}), same),
        "other": pretty_equation(derivative, other),
        "matrix_form": _maybe(symbol, d.matrix_form),
        "explicit": explicit,
        "elided": limit is not None and d.table.size > limit,
    }


def _fitting(symbol, table, columns) -> tuple[str, int]:
    """The explicit matrix with as many rows and columns as fit in columns (at least the corners)."""
    for limit in range(ELIDE_ABOVE, 1, -2):
        art = pretty_equation(symbol, elided(table, limit))
        if max(map(len, art.splitlines())) <= columns:
            break
    return art, limit


def _after_colon(description: str) -> str:
    """The description as it reads after "Name: ", lower case unless its first word is an acronym (GELU)."""
    first = description.split(" ", 1)[0]
    if first[:1].isupper() and first[1:].islower():
        return first[0].lower() + description[1:]
    return description


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
