"""Rewrite inside sums: Σ_l W_lj e^{z_l} / Σ_m e^{z_m} becomes Σ_l W_lj s_l, and like sums merge."""

from __future__ import annotations

from sympy import Add, Mul, Sum, expand, factor_terms

from derive.engine.rewrite import in_terms_of, tidy
from derive.engine.sums import _canonical_sum, normalize_sums
from derive.notation.symbols import INDICES


def in_terms_of_summed(expr, rewrites, inputs):
    """expr with each sum's summand, the factors outside it taken in, rewritten in the names with its
    index free; then the sums over the same range merged into one, their summand tidied."""
    merged = {}
    rest = []
    spread = expand(normalize_sums(expr), power_exp=False, power_base=False, log=False, multinomial=False)
    for term in Add.make_args(spread):
        sums = [f for f in Mul.make_args(term) if isinstance(f, Sum) and len(f.limits) == 1]
        if len(sums) != 1:
            rest.append(term)
            continue
        (total,) = sums
        outside = term / total
        bound, *limits = total.limits[0]
        if bound in outside.free_symbols:
            rest.append(term)
            continue
        # Renamed apart from every name the definitions sum over, so that s_l's body at the new index
        # captures nothing.
        fresh = _fresh(rewrites, term)
        body = in_terms_of(outside * total.function.xreplace({bound: fresh}), rewrites, inputs)
        canonical = _canonical_sum(body, fresh, *limits)
        merged.setdefault(canonical.limits[0], []).append(canonical.function)
    sums = [Sum(factor_terms(tidy(Add(*bodies))), limit) for limit, bodies in merged.items()]
    if not sums:
        return expr
    return Add(tidy(Add(*rest)), *sums)


def _fresh(rewrites, term):
    taken = set(term.free_symbols)
    for e in (term, *(body for _, body in rewrites)):
        taken |= {limit[0] for s in e.atoms(Sum) for limit in s.limits}
    return next(x for x in reversed(INDICES) if x not in taken)
