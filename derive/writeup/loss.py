"""The cross-entropy loss on a function whose outputs are probabilities, differentiated by the chain rule."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from sympy import (
    Derivative,
    Eq,
    MatrixSymbol,
    Mul,
    Sum,
    Symbol,
    UnevaluatedExpr,
    cancel,
    expand,
    fraction,
    log,
)

from derive.engine.differentiate import collapse
from derive.engine.matrix import as_vector
from derive.engine.prove import vanishes
from derive.engine.rewrite import Hidden, positive_signs
from derive.engine.sums import normalize_sums
from derive.notation.symbols import INDICES, i, j, n, y
from derive.writeup.rules import depends, rule_of
from derive.writeup.steps import Facts, chain, derivatives_of, renamed_apart, under

LOSS = Symbol("L")


@dataclass(frozen=True)
class CrossEntropy:
    """L = −Σ_k y_k log s_k and its gradient, every step checked, Σ_k y_k = 1 shown where it is used."""

    index: object  # k, the summation index of L and of the chain rule
    probability: tuple  # Σ_i s_i = 1
    definition: tuple  # L = −Σ_k y_k log s_k
    assumption: object  # Σ_k y_k = 1
    by_output: tuple  # ∂L/∂s_k = −y_k/s_k
    main: tuple  # ∂L/∂z_j = Σ_k ∂L/∂s_k ∂s_k/∂z_j = … = s_j − y_j
    vector: tuple  # ∂L/∂z = s − y

    @property
    def gradient(self):
        """∂L/∂z_j in the outputs and the target."""
        return self.main[-1].after


def is_probability(d) -> bool:
    """Whether the outputs are positive and sum to one, so that they read as a probability vector."""
    return bool(Hidden().hide(normalize_sums(d.definition)).is_positive) and vanishes(
        normalize_sums(Sum(d.definition, (i, 1, n))) - 1
    )


def cross_entropy(d) -> CrossEntropy | None:
    """The cross-entropy section for d, or None when d's outputs are not a probability vector."""
    return _cross_entropy(d.for_any_n)


@cache
def _cross_entropy(d) -> CrossEntropy | None:
    if not is_probability(d):
        return None
    s, z = d.output, d.input
    k = free_index(d.general)
    loss = -Sum(y[k] * log(s[k]), (k, 1, n))
    facts = Facts(dict(d.definitions), {LOSS: loss}, derivatives=derivatives_of(d))
    probability = chain(facts, Sum(s[i], (i, 1, n)), ("probability", 1))
    definition = chain(facts, LOSS, ("loss", loss))
    slope = by_output(facts, LOSS, loss, s, k)
    assumption = Eq(Sum(y[k], (k, 1, n)), 1)
    main = through(facts, LOSS, s, z, d.general, k, slope[-1].after, (assumption,))
    column = MatrixSymbol(z.name, n, 1)
    vector_facts = replace(facts, named={**facts.named, Derivative(LOSS, column): Derivative(LOSS, z[i])})
    shape = as_vector(main[-1].after, j)
    if shape is None:  # no vector form for this gradient (its sums did not collapse): no loss section
        return None
    vector = chain(vector_facts, Derivative(LOSS, column), ("vector", shape, assumption))
    return CrossEntropy(k, probability, definition, assumption, slope, main, vector)


def free_index(*exprs):
    """A summation index for the chain rule: k, unless the expressions already use k."""
    taken = set().union(*(e.free_symbols | {lim[0] for s in e.atoms(Sum) for lim in s.limits} for e in exprs))
    return next(index for index in INDICES[2:] if index not in taken)


def by_output(facts: Facts, L, loss, s, k) -> tuple:
    """∂L/∂s_k for L = loss written in the outputs s: its summation index renamed apart, then collapsed."""
    apart = renamed_apart(loss, s[k])
    raw = apart.diff(s[k])
    return chain(
        facts,
        Derivative(L, s[k]),
        ("definition", Derivative(apart, s[k])),
        (_innermost_rule(apart, s), raw),
        ("collapse", collapse(raw)),
    )


def _innermost_rule(expr, s) -> str:
    """The rule that differentiates expr by s_k once constant factors and sums are peeled off: log, power…"""
    while isinstance(expr, (Mul, Sum)):
        expr = expr.function if isinstance(expr, Sum) else Mul(*(f for f in expr.args if depends(f, s)))
    return rule_of(expr, s)


def through(facts: Facts, L, s, z, jacobian, k, slope, assumptions=()) -> tuple:
    """∂L/∂z_j = Σ_k ∂L/∂s_k ∂s_k/∂z_j by the chain rule, with ∂L/∂s_k = slope and ∂s_i/∂z_j = jacobian;
    then cancel, split the sum, collapse δ, and use each assumption on the step that needs it."""
    links = _links(L, s, z, jacobian.xreplace({i: k}), k, slope, assumptions)
    return chain(facts, Derivative(L, z[j]), *links)


def _links(L, s, z, jacobian, k, slope, assumptions):
    """The chain rule through s, then cancel, split the sum, collapse δ, and use Σ_k y_k = 1."""
    rule = Sum(Derivative(L, s[k]) * Derivative(s[k], z[j]), (k, 1, n))
    sign, magnitude = slope.as_coeff_Mul()
    substituted = sign * Sum(UnevaluatedExpr(magnitude) * UnevaluatedExpr(jacobian), (k, 1, n))
    cancelled = sign * Sum(magnitude * jacobian, (k, 1, n))  # SymPy cancels s_k as it multiplies
    split = normalize_sums(expand(cancelled))
    collapsed = collapse(split)
    links = [
        ("chain_rule", rule),
        ("substitute", substituted),
        ("cancel" if fraction(magnitude)[1] != 1 else "tidy", cancelled),
        ("split_sum", split),
        ("collapse", collapsed),
    ]
    used = collapsed
    for assumption in assumptions:
        before, used = used, under(assumption, used)
        if used != before:
            links.append(("assumption", used, assumption))
    links.append(("tidy", positive_signs(cancel(used))))
    return links
