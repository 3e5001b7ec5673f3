"""The broadcasting route: the general form over arrays, J from outer products, gᵀJ and J v as sums."""

from __future__ import annotations

from sympy import Indexed, Symbol

from derive import products
from derive.arrays import Col, Diagonal, Outer, Row, Zeros, array, lower
from derive.statements import Statement
from derive.symbols import i, j, vector


def computed(d, kind):
    """What the function returns, as an indexed formula: s_i, ∂s_i/∂z_j, (gᵀJ)_i or (J v)_i."""
    if kind == "forward":
        return d.function.definition
    if kind == "jacobian":
        return d.general
    diagonal, rest = products.split(d.general)
    if kind == "vjp":
        return products.vjp(diagonal, rest, vector("g"))
    return products.jvp(diagonal, rest, vector("v"))


def statements(d, kind, names) -> list:
    """The statements of one function, broadcasting the general form over the batch and over i, j."""
    if kind == "jacobian":
        return _intermediates([d.general], d.function) + _jacobian(*products.split(d.general), names)
    value = computed(d, kind)
    return _intermediates([value], d.function) + [Statement(None, "return", lower(value, {i: None}))]


def _jacobian(diagonal, rest, names):
    """J as outer products u vᵀ, then the δ_ij part added to its diagonal: no n×n identity is formed."""
    J = Symbol("J", real=True)
    terms = products.terms(rest)  # full outer products first
    statements = []
    if not terms or not terms[0].outer:
        # J needs its full shape (..., n, n) before a column, a row or a constant is added to it.
        statements.append(Statement(J, "=", Zeros(array(names["input"]), 1)))
    for term in terms:
        if term.outer:
            value = Outer(lower(term.u, {i: None}), lower(term.v, {i: None}))
        else:
            mixed = term.mixed if term.mixed is not None else term.u * term.v.xreplace({i: j})
            value = lower(mixed, {i: Row, j: Col})
        statements.append(Statement(J, "+=" if statements else "=", value))
    if diagonal != 0:
        statements.append(Statement(Diagonal(J), "+=", lower(diagonal, {i: None})))
    return statements + [Statement(None, "return", J)]


def _intermediates(exprs, fn) -> list:
    """Statements computing the named intermediates (fn.where) that exprs use, in definition order."""
    wanted = {a.base.label.name for e in exprs for a in e.atoms(Indexed)}
    steps = []
    for name, body in reversed(fn.where):
        if name in wanted:
            wanted |= {a.base.label.name for a in body.atoms(Indexed)}
            steps.insert(0, Statement(array(name), "=", lower(body, {i: None})))
    return steps
