"""Roots written as the definition writes them: √(Σ_l (z_l − μ)²/n + ε), not its radicand expanded."""

from __future__ import annotations

from sympy import Indexed, Pow, Sum, cancel

from derive.engine.rewrite import Hidden
from derive.engine.sums import normalize_sums


def as_defined(expr, definition, z):
    """expr with each root whose radicand is a positive multiple, free of z, of a root's in definition
    written as that one (times the multiple's power); None where there is none.

    Rewriting expands a radicand: √(n Σ z² − (Σ z)² + …) for the definition's √(Σ (z − μ)²/n + ε), a
    difference of nearly equal sums where the entries are near one another, and longer to read.
    (cP)^q = c^q P^q holds for c > 0, so the result equals expr; proofs check it as any form.
    """
    defined = _roots(definition)
    if not defined:
        return None
    hidden = Hidden()
    replaced = {}
    for power in _roots(expr):
        for root in defined:
            if root.exp.q != power.exp.q or root.base == power.base:
                continue
            ratio = cancel(hidden.hide(normalize_sums(power.base)) / hidden.hide(normalize_sums(root.base)))
            sums = hidden.by_sum.values()
            if ratio.has(*sums) or ratio.has(Indexed) or ratio.has(z) or not ratio.is_positive:
                continue
            replaced[power] = ratio**power.exp * root.base**power.exp
            break
    return expr.xreplace(replaced) if replaced else None


def _roots(expr) -> list:
    return [p for p in expr.atoms(Pow) if p.exp.is_Rational and not p.exp.is_Integer and p.base.has(Sum)]
