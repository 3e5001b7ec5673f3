"""The derivation for a terminal: Unicode math laid out by SymPy's pretty printer."""

from __future__ import annotations

from sympy import Derivative, ImmutableMatrix, MatrixSymbol, Symbol

from derive.printing import pretty_equation
from derive.symbols import i, j, n
from derive.templating import render_template

ELIDE_ABOVE = 6  # a larger matrix shows its first three rows and columns, ⋯ ⋮ ⋱, and the last


def show(d) -> str:
    """The derivation as terminal text."""
    s, z = d.output, d.input
    (_, same), (_, other) = d.cases
    dsdz = Derivative(s[i], z[j])
    facts = dict(
        name=d.function.heading,
        description=d.function.description,
        n=d.n,
        definition=pretty_equation(s[i], d.definition),
        general=pretty_equation(dsdz, d.general),
        same=pretty_equation(dsdz.xreplace({j: i}), same),
        other=pretty_equation(dsdz, other),
        matrix_form=None if d.matrix_form is None else pretty_equation(_jacobian_symbol(), d.matrix_form),
        explicit=None
        if d.table is None
        else pretty_equation(_jacobian_symbol(), elided(d.table, ELIDE_ABOVE)),
        elided=d.n is not None and d.n > ELIDE_ABOVE,
        proofs=d.proofs,
    )
    return render_template("terminal.txt.j2", **facts)


def _jacobian_symbol():
    return MatrixSymbol("J", n, n)


def elided(table, limit: int) -> ImmutableMatrix:
    """The explicit matrix, or for size > limit its corners with ⋯, ⋮ and ⋱ in between."""
    size = table.size
    if size <= limit:
        return table.matrix()
    head = list(range(1, limit // 2 + 1))
    keep = head + [None, size]
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
