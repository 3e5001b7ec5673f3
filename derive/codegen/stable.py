"""Numerical stability derived from the definition: the max shift where it is exact, log-sum-exp where not."""

from __future__ import annotations

from sympy import Abs, Add, Indexed, Max, Mul, S, Symbol, exp, expand, log
from sympy.codegen.cfunctions import log1p

from derive.codegen import lowering
from derive.codegen.arrays import Empty, Largest, Total, Zeros
from derive.codegen.statements import Statement
from derive.engine.prove import vanishes
from derive.engine.rewrite import Hidden
from derive.engine.sums import normalize_sums
from derive.notation.symbols import n


def shift_invariant(definition, z) -> bool:
    """Whether the definition is unchanged by z → z − m for every real m (checked symbolically)."""
    m = Symbol("m", real=True)
    shifted = definition.replace(lambda e: isinstance(e, Indexed) and e.base == z, lambda e: e - m)
    # exp(z_k − m) = exp(z_k) exp(−m): opened, the sums give up their common factor and cancel.
    opened = expand(shifted, power_exp=True, multinomial=False, log=False, power_base=False)
    return vanishes(normalize_sums(opened) - normalize_sums(definition))


def needs_shift(definition, z) -> bool:
    """Whether to subtract max(z) first: only an exp can overflow, and only an exact shift is allowed."""
    exponents = [e.args[0] for e in definition.atoms(exp) if e.has(z)]
    # z − max z bounds exp(u) only where u grows with z (exp(z/T), not exp(−z) or exp(−z²)): others are
    # shifted by their own largest exponent (lowering.quotients).
    return bool(exponents) and all(_increasing(u, z) for u in exponents) and shift_invariant(definition, z)


def _increasing(u, z) -> bool:
    """Whether u depends on the entries of z through a positive multiple of each (a z_k/T, not −z_k, z_k²)."""
    x = Symbol("x", real=True)
    entries = {e for e in u.atoms(Indexed) if e.base == z}
    return all((u.xreplace({e: x}).diff(x)).is_positive for e in entries)


def opened_logs(expr, spelled):
    """Each log of an intermediate opened where that is exact: log s_i = z_i − log Σ_k exp(z_k) for softmax.

    The log of a quotient that underflowed to 0 is −inf; the difference of logs stays finite, and its
    log Σ exp is then taken stably (the max shift, or logsumexp below).
    """

    def opened(term):
        inner = spelled.inline(term.args[0])
        if inner == term.args[0]:
            return term
        parts = []
        for factor_ in Mul.make_args(inner):
            if isinstance(factor_, exp) and factor_.args[0].is_real:
                parts.append(factor_.args[0])
                continue
            base, power = factor_.as_base_exp()
            if not Hidden().hide(base).is_positive:
                return term  # log(ab) = log a + log b only for positive a and b
            parts.append(power * log(base))
        return Add(*parts)

    return expr.replace(lambda e: isinstance(e, log), opened)


def logsumexp(expr):
    """Every log of a sum of exponentials, in a lowered expression, as max + log Σ exp(· − max)."""
    return expr.replace(lambda e: isinstance(e, (log, log1p)), _stable_log)


def _stable_log(term):
    (inner,) = term.args
    if isinstance(term, log) and isinstance(inner, Total) and isinstance(inner.args[0], exp):
        # log Σ_k exp(u_k) = m + log Σ_k exp(u_k − m), m = max_k u_k: every exponent ≤ 0, the sum ≥ 1.
        u = inner.args[0].args[0]
        peak = Largest(u)
        return peak + log(Total(exp(u - peak)))
    terms = Add.make_args(inner) if isinstance(term, log) else (S.One, *Add.make_args(inner))
    if any(isinstance(t, Total) and isinstance(t.args[0], exp) for t in terms):
        return _stable_rows(term, terms)
    exponents = [_exponent(t) for t in terms]
    if len(terms) < 2 or None in exponents or not any(u.free_symbols for u in exponents):
        return term
    # The same entry by entry. Two terms, as in softplus log(1 + exp(z)), have the closed form
    # log(e^a + e^b) = max(a, b) + log1p(exp(−|a − b|)); more take m = max and the sum shifted by it.
    if len(exponents) == 2:
        a, b = exponents
        return Max(a, b) + log1p(exp(-Abs(a - b)))
    peak = Max(*exponents)
    return peak + log(Add(*(exp(u - peak) for u in exponents)))


def _stable_rows(term, terms):
    """log(c + Σ_k e^{u_k}) as m + log(c e^{−m} + Σ_k e^{u_k − m}), m the largest exponent of all."""
    peaks, shifted = [], []
    for t in terms:
        if isinstance(t, Total) and isinstance(t.args[0], exp):
            u = t.args[0].args[0]
            peaks.append(Largest(u))
            shifted.append(lambda m, u=u: Total(exp(u - m)))
            continue
        u = _exponent(t)
        if u is None:
            return term
        peaks.append(u)
        shifted.append(lambda m, u=u: exp(u - m))
    peak = Max(*peaks)
    return peak + log(Add(*(f(peak) for f in shifted)))


def _exponent(term):
    """u with term = exp(u), for an elementwise exponential or a positive number; else None."""
    if isinstance(term, exp) and not term.has(Total):
        return term.args[0]
    if term.is_Number and term.is_positive:
        return log(term)
    return None


def final(statement, size, shift, z=None):
    """The value with n fixed, expm1 and log1p, then z − max(z) for z (when z is given), or log-sum-exp."""
    value = statement.value if size is None else statement.value.xreplace({n: size})
    # First, and only once: these rewrites factor inside exp and would split exp(z − m) again.
    # The proven rules: quotients of exponentials shifted, logs opened, steps chosen, expm1 and log1p.
    value = lowering.lower(value, shifted=shift)
    if not shift:
        value = logsumexp(value)
    elif z is not None:  # after the shift every exponent is ≤ 0 already
        value = shifted(value, z)
    return Statement(statement.target, statement.op, value)


def shifted(expr, z):
    """expr with z − max(z) for z, except where z only lends its shape (Zeros, Empty)."""
    if expr == z:
        return z - Largest(z)
    if not expr.args or isinstance(expr, (Zeros, Empty)):
        return expr
    return expr.func(*(shifted(a, z) for a in expr.args))
