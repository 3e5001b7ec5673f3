"""A scalar's gradient, step by step: by the chain rule through its intermediate s, or by the rules."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from sympy import Derivative, Eq, IndexedBase, MatrixSymbol, sympify

from derive.notation.function import Function
from derive.notation.symbols import i, j, n
from derive.writeup import views
from derive.writeup.citing import remember_chain
from derive.writeup.loss import by_output, free_index, through
from derive.writeup.routes import Route, by_chain_rule
from derive.writeup.rules import explain
from derive.writeup.steps import Facts, chain, under


@dataclass(frozen=True)
class Gradient:
    """∂L/∂z_j derived, every step checked, each assumption shown on the step that uses it."""

    facts: Facts
    via: object  # s, the intermediate the chain rule goes through; None when L is differentiated directly
    inner: Route | None  # ∂s_i/∂z_j by the chain rule, when through s
    by_output: tuple  # ∂L/∂s_k, when through s
    lemmas: tuple  # the inner derivatives, when differentiated directly
    main: tuple  # ∂L/∂z_j = … = entry j of the gradient
    vector: tuple  # ∂L/∂z = s − y (empty when the gradient has no vector form)
    explicit: tuple  # ∂L/∂z for the given n (empty without n)
    assumptions: tuple  # Σ_k y_k = 1, …: the assumptions the gradient uses

    @property
    def chains(self) -> tuple:
        """Every chain shown, in order."""
        found = [*self.inner.lemmas, self.inner.main] if self.inner is not None else []
        found += [self.by_output, *self.lemmas, self.main, self.vector, self.explicit]
        return tuple(c for c in found if c)


def gradient(d) -> Gradient:
    """The gradient of the scalar d, derived for any n, and entry by entry for d's n."""
    general = _gradient(d.for_any_n)
    if d.n is None:
        return general
    return replace(general, explicit=column(d, general.facts, general.assumptions, d.n))


@cache
def _gradient(d) -> Gradient:
    L, z = d.output, d.input
    written = d.function.definition.xreplace(dict(d.spelled.parameters))
    assumptions = tuple(Eq(lhs, rhs) for lhs, rhs in d.assumed)
    # A gradient that is a registered function (softmax, for logsumexp) is written with its name.
    names = d.hessian.spelled.rewrites if d.hessian.spelled.recognized else d.spelled.intermediates
    facts = Facts(dict(names), {L: written})
    entry = d.general.xreplace({i: j})
    vectors = [key for key, _ in d.spelled.intermediates if isinstance(key, IndexedBase) and written.has(key)]
    if len(vectors) == 1:
        s = vectors[0]
        inner = _named(by_chain_rule(intermediate(d, s)))
        k = free_index(inner.main[-1].after)  # L's own summation index is renamed apart from it
        slope = by_output(facts, L, written, s, k)
        main = through(facts, L, s, z, inner.main[-1].after, k, slope[-1].after, assumptions)
        via, lemmas = s, ()
    else:
        direct = explain(facts, Derivative(L, z[j]), written, z[j])
        main = _renamed(direct.steps)  # e^{z_j}/Σ_k e^{z_k} = s_j, softmax
        main += chain(facts, main[-1].after, *_assuming(main[-1].after, assumptions))
        via, inner, slope, lemmas = None, None, (), direct.lemmas
    main += chain(facts, main[-1].after, ("tidy", entry), condition=assumptions[0] if assumptions else None)
    remember_chain(main)  # ∂L/∂z_j = … = the entry, which the gradient for a given n cites entry by entry
    return Gradient(facts, via, inner, slope, lemmas, main, vector(d, facts, assumptions), (), assumptions)


def _named(route: Route) -> Route:
    """s's own derivation, its last steps read as naming s (here an intermediate, not the outputs)."""
    return replace(route, lemmas=tuple(_renamed(c) for c in route.lemmas), main=_renamed(route.main))


def _renamed(steps) -> tuple:
    """The steps that rewrite in the outputs, read as naming what they reach: L has no outputs to write in."""
    names = {"outputs": "named", "outputs_factor": "named_factor"}
    return tuple(replace(step, rule=names.get(step.rule, step.rule)) for step in steps)


def _assuming(expr, assumptions) -> list:
    """A step for each assumption that changes expr, stating it."""
    links = []
    for assumption in assumptions:
        before, expr = expr, under(assumption, expr)
        if expr != before:
            links.append(("assumption", expr, assumption))
    return links


@cache
def intermediate(d, s):
    """The derivation of d's intermediate s as a vector function of its own: its Jacobian ∂s_i/∂z_j."""
    from derive.engine.derivation import derive

    fn = d.function
    body = Function(fn.name, fn.description, d.definitions[s], output=s.name, input=fn.input)
    return derive(body)


def vector(d, facts: Facts, assumptions) -> tuple:
    """∂L/∂z = s − y: every entry at once, checked entry by entry."""
    if d.matrix_form is None:
        return ()
    L, z = d.output, d.input
    label = Derivative(L, MatrixSymbol(z.name, n, 1))
    named = Facts(facts.definitions, {**facts.named, label: Derivative(L, z[i])})
    return chain(named, label, ("vector", d.matrix_form), condition=assumptions[0] if assumptions else None)


def column(d, facts: Facts, assumptions, size: int) -> tuple:
    """∂L/∂z for a given n, entry by entry from the general form, elided beyond views.ELIDE_ABOVE."""
    L, z = d.output, d.input
    rows = views.shown(size)
    label = Derivative(L, MatrixSymbol(z.name, size, 1))
    partials = views.grid(lambda a, _: Derivative(L, z[a]), rows, [1])
    values = views.grid(lambda a, _: d.general.xreplace({i: sympify(a), n: sympify(size)}), rows, [1])
    at = views.facts_at(facts, size)
    named = Facts(at.definitions, {**at.named, label: partials})
    condition = assumptions[0].xreplace({n: size}) if assumptions else None
    return chain(named, label, ("entries", values), condition=condition)
