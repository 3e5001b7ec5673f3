"""Everything a write-up shows, as checked chains of steps: the route, the cases, the matrices, the loss."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sympy import Derivative, Eq, KroneckerDelta, Ne, Piecewise

from derive import views
from derive.errors import NotApplicable
from derive.loss import CrossEntropy, cross_entropy
from derive.routes import Route, route
from derive.steps import chain
from derive.symbols import i, j
from derive.vanishing import Example, example


@dataclass(frozen=True)
class Writeup:
    """The derivation of one function by one route, laid out as the notes lay it out."""

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
        found = [*r.parts, r.rule, *r.lemmas, r.main, r.same, r.other, self.kronecker, self.cases]
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


def writeup(d, method: str = "quotient") -> Writeup:
    """The write-up of d by method: every step computed from the definition and checked."""
    # A scalar function (a loss, logsumexp) has a gradient and a Hessian, not a Jacobian: its own layout.
    kind = getattr(d, "kind", "vector")
    if kind != "vector":
        raise NotApplicable(f"documents cover vector functions so far; {d.function.name} is {kind}-valued")
    return _writeup(d, method)


@lru_cache(maxsize=32)  # a document in two languages and two formats shares one write-up
def _writeup(d, method: str) -> Writeup:
    taken = route(d, method)
    facts = taken.facts
    s, z = d.output, d.input
    (same_when, same), (other_when, other) = d.cases
    kronecker = chain(facts, KroneckerDelta(i, j), ("kronecker", Piecewise((1, Eq(i, j)), (0, Ne(i, j)))))
    cases = chain(
        facts,
        Derivative(s[i], z[j]),
        ("cases", Piecewise((same, same_when), (other, other_when))),
        ("combine", d.general),
    )
    loss = cross_entropy(d)
    return Writeup(
        route=taken,
        kronecker=kronecker,
        cases=cases,
        matrix=views.matrix(d, facts),
        matrix_form=views.matrix_form(d, facts),
        row=None if d.n is None else views.row(d, taken, d.n),
        explicit=() if d.n is None else views.matrix(d, facts, d.n),
        loss=loss,
        example=example(d, loss),
    )
