"""Range facts a printer may use: which exponents SymPy proves ≤ 0, so that a one-sided exp serves them."""

from __future__ import annotations

from itertools import product

from sympy import Dummy, Indexed, Max, Symbol, expand

from derive.notation.symbols import i

# Each entrywise Max offers each of its arguments as a lower bound; beyond this many combinations the proof
# is not tried (and the two-sided exp is used, which is always right).
COMBINATIONS = 64


def nonpositive(u, peaks=None, known=None) -> bool:
    """Whether u ≤ 0 for every real input, proven by SymPy from the peaks u is shifted by.

    peaks maps a row's largest value M (a Symbol) to what it is the largest of, b(i): M = max_k b(k) ≥ b(i)
    for the entry i at hand, so M = b(i) + t for some t ≥ 0; an entrywise Max(a_1, …) ≥ a_j likewise.
    If u, with each peak so replaced, is ≤ 0 for every t ≥ 0 and every real value of the rest, then so
    is u itself. known maps names of row quantities (entries or scalars) to their definitions, which are
    read through; whatever else appears is a real number (the kernels are real-only).
    """
    peaks, known = peaks or {}, known or {}
    u = _inlined(u, known)
    if not u.free_symbols:
        return bool(u.is_nonpositive)
    for peak, body in peaks.items():
        if u.has(peak):
            u = u.xreplace({peak: _inlined(body, known) + Dummy("t", nonnegative=True)})
    maxima = sorted(u.atoms(Max), key=str)
    choices = [m.args for m in maxima]
    count = 1
    for c in choices:
        count *= len(c)
    if count > COMBINATIONS:
        return False
    for chosen in product(*choices):
        above = {m: a + Dummy("t", nonnegative=True) for m, a in zip(maxima, chosen, strict=True)}
        bounded = u.xreplace(above)
        if _real(expand(bounded)).is_nonpositive:
            return True
    return False


def _inlined(expr, known, depth=8):
    """expr with each row quantity named in known replaced by its definition, a few levels deep."""
    for _ in range(depth):
        mapping = {}
        for e in expr.atoms(Indexed, Symbol):
            name = e.base.label.name if isinstance(e, Indexed) else e.name
            if name in known:  # an entry x[j] is x's definition at j
                at = {i: e.indices[0]} if isinstance(e, Indexed) else {}
                mapping[e] = known[name].xreplace(at)
        if not mapping:
            return expr
        expr = expr.xreplace(mapping)
    return expr


def _real(expr):
    """expr with every entry and every symbol without assumptions a real Dummy."""
    atoms = [e for e in expr.atoms(Indexed)] + [s for s in expr.free_symbols if s.is_real is None]
    return expr.xreplace({a: Dummy(str(a), real=True) for a in atoms})
