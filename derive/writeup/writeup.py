"""Everything a write-up shows, as checked chains of steps: the route, the cases, the matrices, the loss."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from sympy import Derivative, Eq, KroneckerDelta, Ne, Piecewise

from derive.errors import NotApplicable
from derive.notation.symbols import i, j
from derive.writeup import views
from derive.writeup.gradient import Gradient, gradient
from derive.writeup.loss import CrossEntropy, cross_entropy
from derive.writeup.routes import Route, route, through
from derive.writeup.steps import Facts, chain
from derive.writeup.vanishing import Example, example


@dataclass(frozen=True)
class Writeup:
    """The derivation of one function by one route, laid out as the notes lay it out."""

    symbol: object  # J, or H for a Hessian
    route: Route
    kronecker: tuple  # δ_ij = 1 if i = j, 0 otherwise
    cases: tuple  # ∂s_i/∂z_j = {case i = j, case i ≠ j} = the general form
    matrix: tuple  # J = (∂s_a/∂z_b) = (entries), for any n
    matrix_form: tuple  # J = diag(s) − s sᵀ (empty when there is none)
    row: views.Row | None  # row r for the given n
    explicit: tuple  # J for the given n (empty without n)
    loss: CrossEntropy | None  # when the outputs are a probability vector
    example: Example | None  # J near a one-hot output, when it vanishes there

    @property
    def chains(self) -> tuple:
        """Every chain shown, in order."""
        r = self.route
        found = [*r.known, *r.parts, r.rule, *r.lemmas, r.main, r.same, r.other, self.kronecker, self.cases]
        found += [self.matrix, self.matrix_form, self.explicit]
        if self.row is not None:
            found += [*self.row.elements, self.row.whole]
        if self.loss is not None:
            found += [
                self.loss.probability,
                self.loss.definition,
                self.loss.by_output,
                self.loss.main,
                self.loss.vector,
            ]
        return tuple(c for c in found if c)


@dataclass(frozen=True)
class ScalarWriteup:
    """A scalar function written out: its gradient, then its Hessian as the Jacobian of the gradient."""

    kronecker: tuple  # δ_ij = 1 if i = j, 0 otherwise
    gradient: Gradient
    entry: tuple  # g_i = ∂L/∂z_i = the gradient's entry i, which the Hessian differentiates
    second: tuple  # ∂²L/∂z_j∂z_i = ∂g_i/∂z_j
    hessian: Writeup

    @property
    def chains(self) -> tuple:
        """Every chain shown, in order."""
        return (self.kronecker, *self.gradient.chains, self.entry, self.second, *self.hessian.chains)


def writeup(d, method: str = "quotient") -> Writeup | ScalarWriteup:
    """The write-up of d by method: every step computed from the definition and checked, or read from
    the disk cache and every step checked again numerically."""
    from derive.writeup import stored  # here: it imports the write-up's parts, which import this module

    key = (d, method)
    if key in _READ:
        return _READ[key]
    found = stored.load(d, method, (Writeup, ScalarWriteup))
    if isinstance(found, Writeup):
        # The example's numbers are results, not steps: computed again, never read (stored as None).
        found = replace(found, example=example(d, found.loss))
    if found is not None:
        _READ[key] = found
        return found
    written = _scalar(d, method) if d.kind == "scalar" else _writeup(d, method)
    stored.save(d, method, replace(written, example=None) if isinstance(written, Writeup) else written)
    return written


_READ = {}  # write-ups read from disk in this process: a document in two languages reads one once


@lru_cache(maxsize=32)  # a document in two languages and two formats shares one write-up
def _writeup(d, method: str, hessian: bool = False) -> Writeup:
    return _laid_out(d, route(d, method), hessian)


def _laid_out(d, taken: Route, hessian: bool) -> Writeup:
    """The write-up around a route: the cases, the matrices, and for a function's own outputs the loss."""
    facts = taken.facts
    s, z = d.output, d.input
    (same_when, same), (other_when, other) = d.cases
    cases = chain(
        facts,
        Derivative(s[i], z[j]),
        ("cases", Piecewise((same, same_when), (other, other_when))),
        ("combine", d.general),
    )
    symbol = views.HESSIAN if hessian else views.JACOBIAN
    loss = None if hessian else cross_entropy(d)  # a Hessian is not a function's output: no loss on it
    return Writeup(
        symbol=symbol,
        route=taken,
        kronecker=() if hessian else _kronecker(facts),
        cases=cases,
        matrix=views.matrix(d, facts, symbol=symbol),
        matrix_form=views.matrix_form(d, facts, symbol=symbol),
        row=None if d.n is None else views.row(d, taken, d.n),
        explicit=() if d.n is None else views.matrix(d, facts, d.n, symbol=symbol),
        loss=loss,
        example=None if hessian else example(d, loss),
    )


def _kronecker(facts) -> tuple:
    return chain(facts, KroneckerDelta(i, j), ("kronecker", Piecewise((1, Eq(i, j)), (0, Ne(i, j)))))


@lru_cache(maxsize=16)
def _scalar(d, method: str) -> ScalarWriteup:
    grad = gradient(d)
    try:
        if grad.inner is None:
            hessian = _writeup(d.hessian, method, hessian=True)
        else:
            # The gradient is written with s, whose Jacobian the gradient's derivation found: through s.
            if method == "log":
                route(d.hessian, method)  # the log route still needs log g_i to exist
            taken = through(d.hessian, d.general, {grad.via: grad.inner.main[-1].after})
            hessian = _laid_out(d.hessian, taken, hessian=True)
    except NotApplicable:
        g = d.hessian.output.name
        raise NotApplicable(
            f"the log route differentiates log {g}_i for the Hessian, and the gradient of {d.function.name} "
            "can be zero or negative: use --method quotient"
        ) from None
    L, z, g = d.output, d.input, d.hessian.output
    facts = Facts(hessian.route.facts.definitions, grad.facts.named)
    condition = grad.assumptions[0] if grad.assumptions else None
    # g_i = ∂L/∂z_i = s_i − y_i; a gradient that is a function of its own (softmax) needs no new name.
    start = [g[i], ("gradient", Derivative(L, z[i]))]
    if d.hessian.spelled.recognized:
        start = [Derivative(L, z[i])]
    entry = chain(facts, *start, ("entry", d.general), condition=condition)
    second = chain(facts, Derivative(L, z[i], z[j]), ("hessian", Derivative(g[i], z[j])), condition=condition)
    return ScalarWriteup(_kronecker(grad.facts), grad, entry, second, hessian)
