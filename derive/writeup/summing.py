"""Derivatives for checking steps: Σ_k (δ_kx a_k + b_k) summed to a_x + Σ_k b_k directly, not by Sum.doit."""

from __future__ import annotations

from functools import lru_cache

from sympy import Add, KroneckerDelta, Mul, Sum

from derive.engine.differentiate import collapse, in_range
from derive.notation.symbols import DIMENSIONS, INDICES

MAX_TERMS = 64  # a body that distributes into more terms than this is left to Sum.doit


@lru_cache(maxsize=4096)  # the write-up takes the same derivatives again in each section it checks
def derivative(expr, wrt):
    """∂expr/∂wrt with the sums over δ collapsed and 1 ≤ index ≤ n applied: the engine's partial, by a
    cheaper road to the same value."""
    return collapsed(expr.diff(wrt))


@lru_cache(maxsize=4096)
def collapsed(expr):
    """Every sum over δ collapsed to its surviving term, as the engine's collapse does; a sum whose
    δ terms are lone factors δ_kx, x an index its range holds, is summed here without Sum.doit (which
    solves δ's equation and looks for closed forms of the rest: most of a write-up's checking time)."""
    if not expr.has(KroneckerDelta):
        return in_range(expr)
    done = expr.replace(lambda e: isinstance(e, Sum) and e.has(KroneckerDelta), _summed)
    return in_range(done)


def _summed(s):
    direct = over_delta(s)
    return collapse(s) if direct is None else direct


def over_delta(s):
    """Σ_{k=1}^{N} (δ_kx a_k + b_k) = a_x + Σ_k b_k for x in 1..N; None unless every δ holding k is a lone
    factor δ_kx of a term (once the products holding one are distributed) with x free of k and known to
    lie in 1..N: a number there, or an index with N a dimension (the range every index has)."""
    if len(s.limits) != 1 or s.limits[0][1] != 1:
        return None
    k, _, top = s.limits[0]
    terms = _distributed(s.function, k)
    if terms is None:
        return None
    kept, found = [], []
    for term in terms:
        factors = Mul.make_args(term)
        deltas = [f for f in factors if isinstance(f, KroneckerDelta) and f.has(k)]
        rest = [f for f in factors if not (isinstance(f, KroneckerDelta) and f.has(k))]
        if any(_has_delta_in(f, k) for f in rest) or len(deltas) > 1:
            return None
        if not deltas:
            kept.append(term)
            continue
        at = _solved(deltas[0], k)
        inside = _inside(at, top)
        if inside is None:
            return None
        if inside:
            found.append(_at(Mul(*rest), k, at))
    summed = Add(*found)
    return summed + Sum(Add(*kept), (k, 1, top)) if kept else summed


def _distributed(expr, k):
    """expr's terms, with every product that holds an Add holding a δ in k multiplied out; None when
    that makes more than MAX_TERMS terms."""
    pending, done = list(Add.make_args(expr)), []
    while pending:
        term = pending.pop()
        factors = Mul.make_args(term)
        split = next((f for f in factors if f.is_Add and _has_delta_in(f, k)), None)
        if split is None:
            done.append(term)
        else:
            others = [f for f in factors if f is not split]
            pending += [Mul(t, *others) for t in split.args]
        if len(done) + len(pending) > MAX_TERMS:
            return None
    return done


def _has_delta_in(expr, k) -> bool:
    return any(d.has(k) for d in expr.atoms(KroneckerDelta))


def _solved(delta, k):
    """x from δ_kx (or δ_xk), None when δ does not read k = x for an x free of k."""
    a, b = delta.args
    if a == k and not b.has(k):
        return b
    if b == k and not a.has(k):
        return a
    return None


def _inside(x, top):
    """Whether 1 ≤ x ≤ top: True or False where known, None where not (x an unknown, or top a number
    with x an index)."""
    if x is None:
        return None
    if x.is_Integer and top.is_Integer:
        return 1 <= x <= top
    if x in INDICES and top in DIMENSIONS:
        return True  # every index ranges over 1..its dimension, as the engine's in_range takes it
    return None


def _at(expr, k, x):
    """expr with k set to x; a sum inside that binds k keeps its own k."""
    bound = {limit[0] for inner in expr.atoms(Sum) for limit in inner.limits}
    return expr.subs(k, x) if k in bound else expr.xreplace({k: x})
