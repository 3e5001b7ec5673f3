"""Rules a person names when differentiating: sum, product, chain, exp, log, power, Σ collapsing through δ."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Add, Derivative, Dummy, Function, Indexed, Mul, Pow, S, Sum, count_ops, exp, log

from derive.differentiate import collapse
from derive.rewrite import in_terms_of
from derive.steps import Facts, chain

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


def depends(expr, base) -> bool:
    """Whether expr involves an entry of the vector base."""
    return any(a.base == base for a in expr.atoms(Indexed))


def rule_of(expr, base) -> str:
    """The name of the rule that differentiates expr at its top level."""
    if not depends(expr, base):
        return "constant"
    if isinstance(expr, Indexed):
        return "index"
    if isinstance(expr, Sum):
        return "sum_over_index"
    if isinstance(expr, Add):
        return "sum"
    if isinstance(expr, Mul):
        return "constant_factor" if len(_dependent(expr, base)) == 1 else "product"
    if isinstance(expr, Pow):
        return "power" if not depends(expr.exp, base) else "chain"
    if isinstance(expr, exp):
        return "exp"
    if isinstance(expr, log):
        return "log"
    return "chain"


def _dependent(expr, base) -> list:
    return [f for f in Mul.make_args(expr) if depends(f, base)]


def once(expr, wrt):
    """The top-level rule applied to ∂expr/∂wrt, the inner derivatives left standing."""
    base = wrt.base
    rule = rule_of(expr, base)
    if rule == "constant":
        return S.Zero
    if rule == "index":
        return expr.diff(wrt)
    if rule == "sum_over_index":
        return Sum(Derivative(expr.function, wrt), *expr.limits)
    if rule == "sum":
        return Add(*(_scaled_derivative(term, wrt) for term in Add.make_args(expr)))
    if rule == "constant_factor":
        return _scaled_derivative(expr, wrt)
    return _by_sympy(expr, wrt)


def _scaled_derivative(term, wrt):
    """c · ∂u/∂z_j for a term c·u, c the part that does not depend on z."""
    if not depends(term, wrt.base):
        return S.Zero
    scale, rest = term.as_independent(*[a for a in term.atoms(Indexed) if a.base == wrt.base], as_Add=False)
    return scale * Derivative(rest, wrt)


def _by_sympy(expr, wrt):
    """SymPy's own rule for expr's head: each argument that depends on z becomes u(x), then x → z_j."""
    x = Dummy("x")
    slots = {}
    args = []
    for arg in expr.args:
        if depends(arg, wrt.base):
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


def explain(facts: Facts, start, expr, wrt, outputs: bool = True, depth: int = 0) -> Explained:
    """start = ∂expr/∂wrt by the rule at the top, the inner derivatives, the sums over δ collapsed, and
    (with outputs) the result in the function's outputs when that removes every input."""
    base = wrt.base
    top = once(expr, wrt)
    lemmas, known = [], {}
    for inner in sorted(top.atoms(Derivative), key=str):
        if depth < LEMMA_DEPTH and not simple(inner.expr, base):
            sub = explain(facts, inner, inner.expr, wrt, outputs, depth + 1)
            lemmas += [*sub.lemmas, sub.steps]
            known[inner] = sub.result
        else:
            known[inner] = inner.expr.diff(wrt)
    evaluated = top.xreplace(known)
    links = [("definition", Derivative(expr, wrt)), (rule_of(expr, base), top)]
    if known:
        # ∂z_i/∂z_j = δ_ij alone is the inputs' independence; anything else, the inner derivatives
        bare = all(isinstance(inner.expr, Indexed) for inner in known)
        links.append(("index" if bare else "evaluate", evaluated))
    links.append(("collapse", collapse(evaluated)))
    rewritten = in_outputs(facts, links[-1][1], base) if outputs else None
    if rewritten is not None:
        links.append(("outputs", rewritten))
    return Explained(tuple(lemmas), chain(facts, start, *links))


def in_outputs(facts: Facts, expr, base):
    """expr written in the outputs, when that removes every input; else None."""
    rewritten = in_terms_of(expr, list(facts.definitions.items()), base)
    return None if depends(rewritten, base) else rewritten


__all__ = ["Explained", "depends", "explain", "in_outputs", "once", "rule_of", "simple"]
