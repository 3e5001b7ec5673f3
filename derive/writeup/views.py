"""The Jacobian laid out: as a matrix for any n, row by row for a given n, and entry by entry for that n."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sympy import Derivative, Gt, ImmutableMatrix, MatMul, MatrixSymbol, Symbol, fraction, sympify

from derive.notation.symbols import i, j, n
from derive.writeup.steps import Facts, chain

ELIDE_ABOVE = 6  # a larger matrix shows rows and columns 1, 2, 3, ⋯, n: five columns fit any page
ROW_COLUMNS = 4  # the row view derives every element up to this n, then 1, 2, 3, ⋮, n
CDOTS, VDOTS, DDOTS = Symbol(r"\cdots"), Symbol(r"\vdots"), Symbol(r"\ddots")
DOTS = {CDOTS, VDOTS, DDOTS}
JACOBIAN = MatrixSymbol("J", n, n)
HESSIAN = MatrixSymbol("H", n, n)


@dataclass(frozen=True)
class Row:
    """Row r of the Jacobian for a given n: each shown element derived, then the row whole."""

    r: int
    columns: tuple  # the shown columns, None where the row is elided
    elements: tuple  # one chain per shown column
    whole: tuple  # ∂s_r/∂z = (∂s_r/∂z_1, …) = (the entries)
    label: object  # ∂s_r/∂z


def shown(size, limit: int = ELIDE_ABOVE) -> list:
    """The indices a matrix of this size shows: all, or 1, 2, 3, None (elided), size."""
    if not isinstance(size, int):
        return [1, 2, None, size]  # any n, as the notes write it
    if size <= limit:
        return list(range(1, size + 1))
    return [1, 2, 3, None, size]


def grid(cell, rows, columns) -> ImmutableMatrix:
    """The matrix of cell(a, b) over the shown rows and columns, with ⋯, ⋮ and ⋱ where they are elided."""

    def at(a, b):
        if a is None:
            return DDOTS if b is None else VDOTS
        return CDOTS if b is None else cell(a, b)

    return ImmutableMatrix([[at(a, b) for b in columns] for a in rows])


def factored_out(values: ImmutableMatrix):
    """1/(4σ) · (the numerators) when every shown entry has that same denominator, else None."""
    cells = [fraction(e) for e in values if e not in DOTS]
    denominators = {den for _, den in cells}
    if len(denominators) != 1 or denominators == {1}:
        return None
    (denominator,) = denominators
    return MatMul(1 / denominator, values.applyfunc(lambda e: e if e in DOTS else fraction(e)[0]))


def _with_factored(links: list) -> list:
    """The links of a matrix chain, the entries shown with a denominator they all share pulled out."""
    rule, values = links[-1]
    factored = factored_out(values)
    return links if factored is None else [*links[:-1], (rule, factored)]


def entry(d, a, b, size=n):
    """J[a, b] in indexed form, s_{a}(1 − s_{a}), from the general form's cases."""
    (_, same), (_, other) = d.cases
    # Integers, not ints: xreplace does not sympify, and a bare n or i (n·z_i) would stay a Python int.
    a, b, size = sympify(a), sympify(b), sympify(size)
    return same.xreplace({i: a, n: size}) if a == b else other.xreplace({i: a, j: b, n: size})


def facts_at(facts: Facts, size) -> Facts:
    """The same facts for a concrete n."""
    at = {n: sympify(size)}
    return Facts(
        {base: body.xreplace(at) for base, body in facts.definitions.items()},
        {name: body.xreplace(at) for name, body in facts.named.items()},
        derivatives={key: body.xreplace(at) for key, body in facts.derivatives.items()},
    )


def matrix(d, facts: Facts, size=None, symbol=JACOBIAN) -> tuple:
    """J = (the entries), elided beyond ELIDE_ABOVE; for any n (size None) by way of (∂s_a/∂z_b)."""
    s, z = d.output, d.input
    indices = shown(n if size is None else size)
    partials = grid(lambda a, b: Derivative(s[a], z[b]), indices, indices)
    values = grid(lambda a, b: entry(d, a, b, n if size is None else size), indices, indices)
    at = facts_at(facts, size) if size is not None else facts
    named = replace(at, named={**at.named, symbol: partials})
    # For any n the matrix of ∂s_a/∂z_b is shown, as the notes do; for a given n only the entries.
    links = [("jacobian", partials)] if size is None else []
    # For any n the corners 1, 2 and n are distinct entries: checked for n > 2.
    return chain(named, symbol, *_with_factored([*links, ("entries", values)]), condition=_apart(size))


def _apart(size):
    return Gt(n, 2) if size is None else None


def matrix_form(d, facts: Facts, symbol=JACOBIAN) -> tuple:
    """J = diag(s) − s sᵀ, or whatever the engine found, checked entry by entry."""
    if d.matrix_form is None:
        return ()
    named = replace(facts, named={**facts.named, symbol: Derivative(d.output[i], d.input[j])})
    return chain(named, symbol, ("matrix", d.matrix_form))


def row(d, route, size: int) -> Row:
    """Row r of J at this n (r = 2, or 1 when n = 1), each element by the route's own steps."""
    s, z = d.output, d.input
    r = min(2, size)
    columns = shown(size, ROW_COLUMNS)
    facts = facts_at(route.facts, size)
    general = [route.main[0].before, *(step.after for step in route.main)]
    elements = []
    for c in (c for c in columns if c is not None):
        case = route.same if c == r else route.other
        at = {i: sympify(r), j: sympify(c), n: sympify(size)}
        exprs = [e.xreplace(at) for e in general + [step.after for step in case]]
        rules = ["", *(step.rule for step in route.main), *(step.rule for step in case)]
        elements.append(chain(facts, exprs[0], *zip(rules[1:], exprs[1:], strict=True)))
    label = Derivative(s[r], MatrixSymbol(z.name, size, 1))
    partials = grid(lambda a, b: Derivative(s[a], z[b]), [r], columns)
    values = grid(lambda a, b: entry(d, a, b, size), [r], columns)
    named = replace(facts, named={**facts.named, label: partials})
    whole = chain(named, label, *_with_factored([("row", partials), ("entries", values)]))
    return Row(r, tuple(columns), tuple(elements), whole, label)
