"""The general form split for code: a diagonal part, outer products, and the sums gᵀJ and J v."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Add, KroneckerDelta, Mul, Pow, S, Sum, collect, count_ops, exp, expand, factor

from derive.engine.rewrite import Hidden, heavy_exponentials, positive_signs, tidy
from derive.engine.sums import normalize_sums
from derive.errors import NotApplicable
from derive.notation.symbols import INDICES, i, j, n

_PLAIN = dict(power_exp=False, power_base=False, log=False, multinomial=False)


@dataclass(frozen=True)
class Term:
    """One part of ∂s_i/∂z_j without δ: u_i v_j when it separates (mixed is None), else mixed(i, j)."""

    u: object = None  # in i, the scale included
    v: object = None  # in i: the column factor v_j, written at index i
    mixed: object = None

    @property
    def outer(self) -> bool:
        """Whether the term is a full outer product u vᵀ (both factors vary)."""
        return self.mixed is None and self.u.has(i) and self.v.has(i)


def split(general):
    """(d, rest) with ∂s_i/∂z_j = d_i δ_ij + rest(i, j), rest free of δ."""
    delta = KroneckerDelta(i, j)
    if not general.has(KroneckerDelta):
        return S.Zero, general
    parts = collect(expand(general, deep=False, **_PLAIN), [delta], evaluate=False)
    if set(parts) - {delta, S.One}:
        raise NotApplicable(f"the Jacobian uses δ in a way derive cannot lower: {general}")
    diagonal = simplest(parts.get(delta, S.Zero).xreplace({j: i}))
    return diagonal, simplest(parts.get(S.One, S.Zero))


def terms(rest) -> list[Term]:
    """rest as a sum of outer products u_i v_j, and mixed terms where i and j do not separate."""
    found = []
    for term in Add.make_args(rest):
        if term == 0:
            continue
        separated = _separate(term)
        if separated is not None:
            found.append(separated)
            continue
        # (a_i + b_j) c_j does not separate as written; its expanded terms may.
        for piece in Add.make_args(expand(term, **_PLAIN)):
            found.append(_separate(piece) or Term(mixed=piece))
    # Full outer products first: the first one creates J at its full shape.
    return sorted(found, key=lambda t: not t.outer)


def _separate(term):
    left, right, scale = [], [], []
    for factor_ in Mul.make_args(term):
        has = factor_.has(i), factor_.has(j)
        if all(has):
            return None
        (left if has[0] else right if has[1] else scale).append(factor_)
    _shared(scale, left, right)
    return Term(u=Mul(*scale, *left), v=Mul(*right).xreplace({j: i}))


def _shared(scale, left, right):
    """A denominator Σ^k split between u and v where both carry exponentials: e^{z_i} e^{z_j}/Σ² as
    (e^{z_i}/Σ)(e^{z_j}/Σ), so that each side is shifted by its own largest exponent, not u by 2M alone."""
    if not (Mul(*left).has(exp) and Mul(*right).has(exp)):
        return
    for f, factor_ in enumerate(scale):
        if factor_.is_Pow and factor_.exp.is_Integer and factor_.exp <= -2 and factor_.base.has(exp):
            half = factor_.exp // 2
            scale[f] = Pow(factor_.base, factor_.exp - half)
            right.append(Pow(factor_.base, half))
            return


def vjp(diagonal, rest, g):
    """(gᵀJ)_i = Σ_k g_k ∂s_k/∂z_i, with the sums pulled apart so that no n×n array is needed."""
    k = fresh(rest)
    return _contracted(diagonal * g[i] + Sum(g[k] * rest.xreplace({i: k, j: i}), (k, 1, n)), "gᵀJ")


def jvp(diagonal, rest, v):
    """(J v)_i = Σ_k ∂s_i/∂z_k v_k, likewise."""
    k = fresh(rest)
    return _contracted(diagonal * v[i] + Sum(rest.xreplace({j: k}) * v[k], (k, 1, n)), "J v")


def fresh(expr):
    """A summation index that expr does not use, free or bound."""
    used = expr.free_symbols | {lim[0] for s in expr.atoms(Sum) for lim in s.limits}
    return next(x for x in INDICES[2:] if x not in used)


def _contracted(expr, what):
    expr = normalize_sums(expr)
    for s in expr.atoms(Sum):
        if s.function.has(i):
            raise NotApplicable(
                f"{what} needs Σ over a term in which i and j do not separate; it would form the n×n Jacobian"
            )
    return simplest(expr)


def simplest(expr):
    """The form with the fewest operations, each sum counted as one quantity."""
    hidden = Hidden()
    work = hidden.hide(expr)
    # Ties go to the factored form: s(1 − s) loses less to rounding than s − s² where s is near 1.
    candidates = [tidy(work), work]
    if not heavy_exponentials(work):  # factor would take minutes: see heavy_exponentials
        candidates.insert(0, positive_signs(factor(work)))
    best = min(candidates, key=count_ops)
    return hidden.reveal(best)
