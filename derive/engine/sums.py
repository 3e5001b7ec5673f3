"""Sums written one way: split over their terms, constants pulled out, the index named k, then l, …"""

from __future__ import annotations

from sympy import Add, Dummy, Integer, Mul, Product, Sum, Symbol, expand, sympify

from derive.notation.symbols import INDICES

_BOUND = INDICES[2:]  # k, l, m, p, q


def normalize_sums(expr):
    """Split sums over their terms, pull out what does not depend on the summation index."""
    return expr.replace(lambda e: isinstance(e, Sum), _split_sum)


def _split_sum(s):
    if len(s.limits) != 1:
        return s
    index, lo, hi = s.limits[0]
    body = expand(s.function, power_exp=False, power_base=False, log=False)
    result = 0
    for term in Add.make_args(body):
        coeff, rest = term.as_independent(index, as_Add=False)
        if rest == 1:
            result += coeff * (hi - lo + 1)
        else:
            result += coeff * _canonical_sum(rest, index, lo, hi)
    return result


def _canonical_sum(body, index, lo, hi):
    # The same sum written over k or over l must compare equal, so each takes the first free name.
    taken = body.free_symbols - {index}
    taken |= {limit[0] for inner in body.atoms(Sum) for limit in inner.limits}
    name = next(b for b in _BOUND if b not in taken)
    return Sum(body.xreplace({index: name}), (name, lo, hi))


def free_indices(expr) -> set[Symbol]:
    """The index symbols that are free in expr."""
    return {s for s in expr.free_symbols if s in INDICES}


def renamed_apart(expr, taken=frozenset()):
    """expr with every summation index named from the outside in: the outermost sum takes the first
    name not in use, each inner sum the first name its enclosing sums leave, so that the same sums
    nested compare equal however they were named."""
    if not expr.args:
        return expr
    if isinstance(expr, Sum) and len(expr.limits) == 1:
        bound, low, high = expr.limits[0]
        avoid = set(expr.free_symbols) | set(taken)
        name = next(x for x in _BOUND if x not in avoid)
        placeholder = Dummy("bound", integer=True, positive=True)
        body = renamed_apart(expr.function.xreplace({bound: placeholder}), frozenset(avoid | {name}))
        return Sum(body.xreplace({placeholder: name}), (name, low, high))
    args = tuple(renamed_apart(a, taken) for a in expr.args)
    # Rebuilt only where a sum inside was renamed: building evaluates (flattens, sorts) again.
    return expr if all(a is b for a, b in zip(args, expr.args, strict=True)) else expr.func(*args)


def written_out(expr, written: dict | None = None):
    """expr with every sum and product over a concrete range written out term by term, inner ones first.

    written holds the sums already written (shared between the entries of one matrix: every s_a has the
    same Σ_k e^{z_k}). Each term is the body with the index replaced by its value, which is what
    Sum.doit computes for a range this short, without its search for a closed form (a tenth of the time).
    """
    expr = sympify(expr)  # a bare n with n = 3 substituted comes back from xreplace as the int 3
    if not expr.has(Sum, Product):
        return expr
    written = {} if written is None else written

    def write(e):
        if e not in written:
            written[e] = _terms(e)
        return written[e]

    # replace works from the leaves up: an inner sum is written out before the one around it.
    return expr.replace(lambda e: isinstance(e, (Sum, Product)), write)


def _terms(total):
    """One sum or product over concrete ranges, term by term (doit where a bound is not a number)."""
    (index, low, high), *outer = total.limits
    if not (low.is_Integer and high.is_Integer and high >= low - 1):
        return total.doit()
    combine = Add if isinstance(total, Sum) else Mul
    inner = combine(*(total.function.xreplace({index: Integer(v)}) for v in range(low, high + 1)))
    return _terms(total.func(inner, *outer)) if outer else inner
