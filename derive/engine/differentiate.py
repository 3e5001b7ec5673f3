"""Differentiate an indexed definition with respect to z_j, for symbolic n."""

from __future__ import annotations

from functools import lru_cache

from sympy import Dummy, Indexed, KroneckerDelta, Piecewise, Sum

from derive.engine.sums import normalize_sums
from derive.notation.symbols import DIMENSIONS, INDICES, n


def expand_where(expr, where):
    """Replace each named intermediate v[m] by its definition at index m."""
    for base, body, index in reversed(where):
        expr = expr.replace(
            lambda e, base=base: isinstance(e, Indexed) and e.base == base,
            lambda e, body=body, index=index: body.xreplace({index: e.indices[0]}),
        )
    return expr


@lru_cache(maxsize=4096)  # the write-up takes the same derivatives again in each section it checks
def partial(expr, wrt):
    """∂expr/∂wrt with the sums over δ collapsed and 1 ≤ index ≤ n applied."""
    return collapse(expr.diff(wrt))


@lru_cache(maxsize=4096)
def collapse(expr):
    """Every sum over δ collapsed to its one surviving term, 1 ≤ index ≤ n applied."""
    # SymPy differentiates Σ_k f(z_k) into Σ_k δ_jk f'(z_k); doit collapses it to a Piecewise on j ≤ n.
    expr = expr.replace(lambda e: isinstance(e, Sum) and e.has(KroneckerDelta), _collapse_sum)
    return in_range(expr)


def _collapse_sum(s):
    """Σ_k (δ_jk a_k + b_k) → a_j + Σ_k b_k: only the δ terms are collapsed, the rest stays a sum
    (at a concrete n, doit on the whole sum would write b_1 + … + b_n out)."""
    if not all(limit[2].is_number for limit in s.limits):
        return s.doit()  # for symbolic n, doit keeps the other terms as sums anyway
    split = normalize_sums(s)
    return split.replace(lambda e: isinstance(e, Sum) and e.has(KroneckerDelta), lambda e: e.doit())


def in_range(expr):
    """Resolve every Piecewise whose conditions follow from 1 ≤ i, j, … ≤ n."""
    if not expr.has(Piecewise):
        return expr
    return expr.replace(lambda e: isinstance(e, Piecewise), _resolve_piecewise)


def _resolve_piecewise(pw):
    for value, condition in pw.args:
        if _holds(condition):
            return value
        if condition not in (False,) and not _fails(condition):
            return pw  # undecided: leave it for the proof to reject
    return pw


def _holds(condition) -> bool:
    return _decide(condition) is True


def _fails(condition) -> bool:
    return _decide(condition) is False


def _decide(condition):
    """True/False when the condition follows from the index ranges, else None."""
    if condition in (True, False):
        return bool(condition)
    indices = [s for s in condition.free_symbols if s in INDICES]
    sizes = condition.free_symbols - set(indices)
    # The one dimension the index ranges over: n, or d, h for a definition with several inputs (the sum
    # over k = 1..d that a δ_kj collapsed says that j ranges over d).
    if len(indices) != 1 or len(sizes) > 1 or not sizes <= set(DIMENSIONS):
        return None
    # With n = index + gap and gap ≥ 0, every consequence of 1 ≤ index ≤ n evaluates by itself.
    gap = Dummy("gap", integer=True, nonnegative=True)
    decided = condition.xreplace({next(iter(sizes), n): indices[0] + gap})
    return bool(decided) if decided in (True, False) else None
