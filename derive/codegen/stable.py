"""Numerical stability derived from the definition: the max shift where it is exact, log-sum-exp where not."""

from __future__ import annotations

from sympy import Abs, Add, Indexed, Max, Mul, Pow, S, Symbol, exp, expand, log
from sympy.codegen.cfunctions import log1p
from sympy.codegen.rewriting import expm1_opt, log1p_opt, optimize

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
    grows = any(e.has(z) for e in definition.atoms(exp))
    return grows and shift_invariant(definition, z)


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


def overflow_free(expr):
    """Where the max shift does not apply: log-sum-exp, and every quotient by a sum of exponentials scaled.

    1/(1 + exp(−z)) overflows in exp for z ≪ 0 although its value, 0, is representable; written as
    exp(−m) / (exp(−m) + exp(−z − m)) with m = max(0, −z), no exponent in it is positive.
    """
    return reciprocals(logsumexp(expr))


def reciprocals(expr):
    """Every (Σ_j exp(a_j))^(−p), entry by entry, as exp(−p m) (Σ_j exp(a_j − m))^(−p), m = max_j a_j.

    The exponential factors of the product it stands in are then merged into one, exp(u − p m), so that a
    numerator exp(u) never overflows on its own where the quotient is finite.
    """
    return expr.replace(lambda e: isinstance(e, (Mul, Pow)) and _scalable(e), _scaled)


def _reciprocal(term) -> bool:
    """Whether term is a sum of exponentials (and positive numbers) to a negative power."""
    if not (isinstance(term, Pow) and term.exp.is_negative and isinstance(term.base, Add)):
        return False
    exponents = [_exponent(t) for t in term.base.args]
    return None not in exponents and any(u.free_symbols for u in exponents)


def _scalable(e) -> bool:
    return any(_reciprocal(f) for f in Mul.make_args(e))


def _scaled(product):
    factors, exponent = [], S.Zero
    for factor_ in Mul.make_args(product):
        if _reciprocal(factor_):
            exponents = [_exponent(t) for t in factor_.base.args]
            peak = Max(*exponents)
            if len(exponents) == 2:  # the closed form, as in _stable_log: 1 + exp(−|a − b|)
                a, b = exponents
                base = 1 + exp(-Abs(a - b))
            else:
                base = Add(*(exp(u - peak) for u in exponents))
            exponent += factor_.exp * peak
            factors.append(Pow(base, factor_.exp))
        elif isinstance(factor_, exp) and not factor_.has(Total):
            exponent += factor_.args[0]
        else:
            factors.append(factor_)
    return Mul(exp(exponent), *factors)


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
    value = optimize(value, [expm1_opt, log1p_opt])
    if not shift:
        value = overflow_free(value)
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
