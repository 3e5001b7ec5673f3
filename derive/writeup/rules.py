"""Rules a person names when differentiating: sum, product, chain, exp, log, power, Σ collapsing through δ."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import (
    Add,
    Derivative,
    Dummy,
    Function,
    Indexed,
    Mul,
    Pow,
    S,
    Sum,
    Symbol,
    count_ops,
    exp,
    log,
)

from derive.engine.differentiate import collapse
from derive.engine.rewrite import in_terms_of
from derive.engine.sums import normalize_sums
from derive.notation.symbols import i, j
from derive.writeup.steps import Facts, chain

LEMMA_DEPTH = (
    2  # a derivative inside a derivative gets its own derivation this many levels down; deeper, inline
)


@dataclass(frozen=True)
class Explained:
    """∂u/∂z_j derived: the derivations of the inner derivatives it needs first, then its own steps."""

    lemmas: tuple  # of chains, innermost first
    steps: tuple  # of Steps

    @property
    def result(self):
        return self.steps[-1].after if self.steps else None


def depends(expr, base, known=()) -> bool:
    """Whether expr involves an entry of the vector base, or an intermediate in known (depending on it)."""
    return any(a.base == base for a in expr.atoms(Indexed)) or any(expr.has(v) for v in known)


def is_known(expr, known) -> bool:
    """Whether expr is an intermediate whose derivative is known: μ, or an entry s_k of a vector s."""
    return expr in known or (isinstance(expr, Indexed) and expr.base in known)


def known_derivative(expr, wrt, known):
    """∂μ/∂z_j or ∂s_k/∂z_j from what was derived already (∂s_i/∂z_j, read at k and j)."""
    if expr in known:
        return known[expr].xreplace({j: wrt.indices[0]})
    return known[expr.base].xreplace({i: expr.indices[0], j: wrt.indices[0]})


def rule_of(expr, base, known=()) -> str:
    """The name of the rule that differentiates expr at its top level."""
    if not depends(expr, base, known):
        return "constant"
    if is_known(expr, known):
        return "known"
    if isinstance(expr, Indexed):
        return "index"
    if isinstance(expr, Sum):
        return "sum_over_index"
    if isinstance(expr, Add):
        return "sum"
    if isinstance(expr, Mul):
        return "constant_factor" if len(_dependent(expr, base, known)) == 1 else "product"
    if isinstance(expr, Pow):
        return "power" if not depends(expr.exp, base, known) else "chain"
    if isinstance(expr, exp):
        return "exp"
    if isinstance(expr, log):
        return "log"
    return "chain"


def _dependent(expr, base, known=()) -> list:
    return [f for f in Mul.make_args(expr) if depends(f, base, known)]


def once(expr, wrt, known=()):
    """The top-level rule applied to ∂expr/∂wrt, the inner derivatives left standing."""
    base = wrt.base
    rule = rule_of(expr, base, known)
    if rule == "constant":
        return S.Zero
    if rule == "known":
        return known_derivative(expr, wrt, known)
    if rule == "index":
        return expr.diff(wrt)
    if rule == "sum_over_index":
        return Sum(Derivative(expr.function, wrt), *expr.limits)
    if rule == "sum":
        return Add(*(_scaled_derivative(term, wrt, known) for term in Add.make_args(expr)))
    if rule == "constant_factor":
        return _scaled_derivative(expr, wrt, known)
    return _by_sympy(expr, wrt, known)


def _scaled_derivative(term, wrt, known=()):
    """c · ∂u/∂z_j for a term c·u, c the part that does not depend on z."""
    if not depends(term, wrt.base, known):
        return S.Zero
    varying = [a for a in term.atoms(Indexed) if a.base == wrt.base or a.base in known]
    scale, rest = term.as_independent(*varying, *(v for v in known if isinstance(v, Symbol)), as_Add=False)
    return scale * Derivative(rest, wrt)


def _by_sympy(expr, wrt, known=()):
    """SymPy's own rule for expr's head: each argument that depends on z becomes u(x), then x → z_j."""
    x = Dummy("x")
    slots = {}
    args = []
    for arg in expr.args:
        if depends(arg, wrt.base, known):
            slot = Function(f"u{len(slots)}")(x)
            slots[slot] = arg
            args.append(slot)
        else:
            args.append(arg)
    derivative = expr.func(*args).diff(x)
    derivative = derivative.xreplace({Derivative(u, x): Derivative(arg, wrt) for u, arg in slots.items()})
    return derivative.xreplace(slots)


def simple(expr, base) -> bool:
    """Whether ∂expr/∂z_j is read off at sight (z_k, e^{z_k}, z_k², …) rather than derived apart."""
    inputs = [a for a in expr.atoms(Indexed) if a.base == base]
    return len(inputs) <= 1 and not expr.has(Sum) and count_ops(expr) <= 3


def differentiate(expr, wrt, known=()):
    """∂expr/∂wrt at sight; through known intermediates, rule by rule: 2(z_k − μ)(δ_jk − 1/n)."""
    if not known:
        return collapse(expr.diff(wrt))
    top = once(expr, wrt, known)
    inner = {d: differentiate(d.expr, wrt, known) for d in top.atoms(Derivative)}
    return collapse(top.xreplace(inner))


def _entries(expr, base) -> set:
    return {a for a in expr.atoms(Indexed) if a.base == base}


def explain(facts: Facts, start, expr, wrt, outputs: bool = True, depth: int = 0) -> Explained:
    """start = ∂expr/∂wrt by the rule at the top, the inner derivatives, the sums over δ collapsed, and
    (with outputs) the result in the function's outputs when that removes every input."""
    base, derived = wrt.base, facts.known
    top = once(expr, wrt, derived)
    lemmas, known = [], {}
    for inner in sorted(top.atoms(Derivative), key=str):
        if is_known(inner.expr, derived):
            known[inner] = known_derivative(inner.expr, wrt, derived)
        elif depth < LEMMA_DEPTH and not simple(inner.expr, base):
            sub = explain(facts, inner, inner.expr, wrt, outputs, depth + 1)
            lemmas += [*sub.lemmas, sub.steps]
            known[inner] = sub.result
        else:
            known[inner] = differentiate(inner.expr, wrt, derived)
    evaluated = top.xreplace(known)
    links = [("definition", Derivative(expr, wrt)), (rule_of(expr, base, derived), top)]
    if known:
        # ∂z_i/∂z_j = δ_ij alone is the inputs' independence; ∂μ/∂z_j alone was derived above
        bare = all(isinstance(inner.expr, Indexed) and inner.expr.base == base for inner in known)
        above = all(is_known(inner.expr, derived) for inner in known)
        links.append(("index" if bare else "known" if above else "evaluate", evaluated))
    links.append(("collapse", collapse(evaluated)))
    if derived:
        split = normalize_sums(links[-1][1])  # Σ_k (z_k − μ)/n = Σ_k z_k/n − μ, where that is shorter
        if count_ops(split) < count_ops(links[-1][1]):
            links.append(("split_sum", split))
        links.append(("named", in_intermediates(facts, links[-1][1], base)))  # Σ_k z_k/n = μ
    rewritten = in_outputs(facts, links[-1][1], base) if outputs else None
    if rewritten is not None:
        links.append((_renaming(links[-1][1], rewritten), rewritten))
    return Explained(tuple(lemmas), chain(facts, start, *links))


def _renaming(before, after) -> str:
    """ "outputs", or "outputs_factor" when writing a sum in the outputs also pulls out a common factor:
    δ_ij e^{z_i}/Σ − e^{z_i} e^{z_j}/Σ² = s_i (δ_ij − s_j)."""
    factors = Mul.make_args(after)
    pulled = isinstance(before, Add) and len(factors) > 1 and any(f.is_Add for f in factors)
    return "outputs_factor" if pulled else "outputs"


def in_outputs(facts: Facts, expr, base):
    """expr written in the outputs, when that removes every input and hides a sum, a quotient or a
    function of them (e^{z_j}/Σ_k e^{z_k} = s_j); else None."""
    inputs = [a for a in expr.atoms(Indexed) if a.base == base]
    if not expr.has(Sum) and expr.is_polynomial(*inputs):
        return None  # 2 z_j − 2 μ stays as it is, not 2 σ s_j
    rewritten = in_terms_of(expr, list(facts.definitions.items()), base)
    if depends(rewritten, base) or count_ops(rewritten) > count_ops(expr):
        return None
    return rewritten


def in_intermediates(facts: Facts, expr, base):
    """expr with each scalar intermediate written by its name (Σ_k z_k/n as μ) where that is shorter."""
    scalars = [(name, body) for name, body in facts.definitions.items() if isinstance(name, Symbol)]
    rewritten = in_terms_of(expr, scalars, base)
    return rewritten if count_ops(rewritten) < count_ops(expr) else expr


__all__ = [
    "Explained",
    "depends",
    "differentiate",
    "explain",
    "in_outputs",
    "is_known",
    "once",
    "rule_of",
    "simple",
]
