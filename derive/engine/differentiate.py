"""Differentiate an indexed definition with respect to z_j, for symbolic n."""

from __future__ import annotations

from functools import lru_cache

from sympy import Add, Dummy, Function, Indexed, KroneckerDelta, Mul, Piecewise, S, Sum, Symbol, exp, log

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


def direct(expr, wrt, memo: dict, collapsed: bool = True):
    """∂expr/∂wrt as partial gives it up to form: the chain rule applied node by node, each shared
    subexpression once (memo: its derivatives with respect to wrt, shared between the rows of a matrix).

    The proofs' independent side. SymPy's diff builds a Derivative at every node, asks whether it is
    zero and walks the whole result for Derivatives left in it: written out at n = 6, four to ten times
    the work. Sums, products over a range, and what no rule below covers go to SymPy's diff. collapsed
    False leaves the sums over δ as they are (for a value at a point, which sums them term by term).
    """
    derivative = _derivative(expr, wrt, memo)
    return collapse(derivative) if collapsed and derivative.has(Sum, Piecewise) else derivative


def _derivative(expr, wrt, memo):
    got = memo.get(expr)
    if got is None:
        got = memo[expr] = _rule(expr, wrt, memo)
    return got


def _rule(e, x, memo):
    if e == x:
        return S.One
    if e.is_Number or e.is_NumberSymbol or isinstance(e, Symbol):
        return S.Zero
    if e.is_Add:
        return Add(*(_derivative(a, x, memo) for a in e.args))
    if e.is_Mul:  # the product rule, a term for each factor that depends on x
        args = e.args
        terms = []
        for k, a in enumerate(args):
            da = _derivative(a, x, memo)
            if da is not S.Zero:
                terms.append(Mul(*args[:k], da, *args[k + 1 :]))
        return Add(*terms)
    if e.is_Pow:
        base, power = e.args
        db = _derivative(base, x, memo)
        if power.is_Number:
            return S.Zero if db is S.Zero else power * base ** (power - 1) * db
        return e * (_derivative(power, x, memo) * log(base) + power * db / base)
    if isinstance(e, exp):
        da = _derivative(e.args[0], x, memo)
        return S.Zero if da is S.Zero else e * da
    if isinstance(e, Function) and type(e)._eval_derivative is Function._eval_derivative:
        # the chain rule, with SymPy's f' (Abs, Piecewise, … differentiate in their own ways: below)
        terms = []
        for k, a in enumerate(e.args):
            da = _derivative(a, x, memo)
            if da is not S.Zero:
                terms.append(e.fdiff(k + 1) * da)
        return Add(*terms)
    if isinstance(e, Sum):  # as Sum._eval_derivative: under the last limit, unless x is in its bounds
        body, limits = e.function, list(e.limits)
        limit = limits.pop()
        if limits:
            body = Sum(body, *limits)
        if not (x in limit[1].free_symbols or x in limit[2].free_symbols):
            return Sum(_derivative(body, x, memo), limit)
    return e.diff(x)


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
