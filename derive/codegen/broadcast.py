"""The broadcasting route: the general form over arrays, J from outer products, gᵀJ and J v as sums."""

from __future__ import annotations

from sympy import Indexed, Sum, Symbol

from derive.codegen import products, stable
from derive.codegen.arrays import Col, Diagonal, Dropped, Outer, Row, Zeros, array, lower
from derive.codegen.statements import Statement
from derive.engine.rewrite import positive_signs
from derive.notation.symbols import i, j, vector


def computed(d, kind):
    """What the function returns, as an indexed formula: s_i, ∂s_i/∂z_j, (gᵀJ)_i or (J v)_i."""
    if kind in ("forward", "value"):
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
        return _intermediates([d.general], d.function) + _jacobian(
            *products.split(d.general), names, d.function
        )
    value = stable.opened_logs(computed(d, kind), d.spelled)
    return _intermediates([value], d.function) + [
        Statement(None, "return", lowered(value, {i: None}, d.function))
    ]


def value(d) -> list:
    """The statements of a scalar L(z): its sums over the last axis, the kept axis dropped at the end."""
    definition = stable.opened_logs(d.function.definition, d.spelled)
    # −Σ_k a_k as Σ_k (−a_k): one sum, no negated column to name.
    definition = definition.replace(
        lambda e: e.is_Mul and len(e.args) == 2 and e.args[0] == -1 and isinstance(e.args[1], Sum),
        lambda e: Sum(positive_signs(-e.args[1].function), *e.args[1].limits),
    )
    return _intermediates([definition], d.function) + [
        Statement(None, "return", Dropped(lowered(definition, {}, d.function)))
    ]


def _jacobian(diagonal, rest, names, fn):
    """J as outer products u vᵀ, then the δ_ij part added to its diagonal: no n×n identity is formed."""
    J = Symbol("J", real=True)
    terms = products.terms(rest)  # full outer products first
    statements = []
    if not terms or not terms[0].outer:
        # J needs its full shape (..., n, n) before a column, a row or a constant is added to it.
        statements.append(Statement(J, "=", Zeros(array(names["input"]), 1)))
    for term in terms:
        if term.outer:
            value = Outer(lowered(term.u, {i: None}, fn), lowered(term.v, {i: None}, fn))
        else:
            mixed = term.mixed if term.mixed is not None else term.u * term.v.xreplace({i: j})
            value = lowered(mixed, {i: Row, j: Col}, fn)
        statements.append(Statement(J, "+=" if statements else "=", value))
    if diagonal != 0:
        statements.append(Statement(Diagonal(J), "+=", lowered(diagonal, {i: None}, fn)))
    return statements + [Statement(None, "return", J)]


def _intermediates(exprs, fn) -> list:
    """Statements computing the named intermediates (fn.where) that exprs use, in definition order.

    A vector intermediate (s_i) becomes an array like z; a scalar one (the norm r) a column (..., 1)
    per row, so that it broadcasts against both.
    """
    wanted = set().union(*(_used(e) for e in exprs))
    steps = []
    for name, body in reversed(fn.where):
        if name in wanted:
            wanted |= _used(body)
            steps.insert(0, Statement(array(name), "=", lowered(body, {i: None}, fn)))
    return steps


def lowered(expr, axes, fn):
    """expr lowered to arrays, each scalar intermediate (r, mu) as its column, (..., 1, 1) in J."""
    names = {name for name, body in fn.where if not body.has(i)}
    wrap = Row if any(w is not None for w in axes.values()) else (lambda x: x)
    return lower(expr, axes).xreplace({s: wrap(array(s.name)) for s in expr.free_symbols if s.name in names})


def _used(expr) -> set:
    """The names of the vectors and symbols expr uses."""
    return {a.base.label.name for a in expr.atoms(Indexed)} | {s.name for s in expr.atoms(Symbol)}
