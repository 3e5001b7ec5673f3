"""Stable lowering: rewrite rules, each a proven identity, applied to any expression before it is printed.

Each rule is stated once as an identity between two SymPy expressions in generic real symbols, and
checked equal by SymPy when this module is imported (a rule that does not hold is never applied):

- quotients of exponentials: Σ_t c_t e^{u_t} = e^M Σ_t c_t e^{u_t − M} for any M; with M the largest
  exponent every e^{u_t − M} ≤ 1 and one of them is 1, so 1/Σ neither overflows nor is 0/0, and an
  e^v beside it becomes e^{v − M} (sigmoid, x·sigmoid(x), tanh′, a softmax of −z²); a reciprocal of a sum
  so shifted lies between fixed bounds, so it may stand in c, and a sum of e^u·(such a reciprocal) is
  shifted by its own largest u in turn (σ(z_i)/Σ_k σ(z_k) = e^{a_i − A} r_i/Σ_k e^{a_k − A} r_k with
  a = min(0, z), A = max_k a_k, r in [1/2, 1]: finite where every σ(z_k) underflows);
- steps: H(u)·v = v, H(0)·v or 0 by the sign of u, computed as a choice (0·inf would be NaN);
- exp minus one: c·e^u − c = c·expm1(u), pairing only such terms (SymPy's expm1_opt factors sums of
  exponentials, which costs accuracy once they are shifted);
- one minus tanh squared: c − c·tanh²u = 4c/(e^u + e^{−u})², which the shift above keeps finite, where
  1 − tanh²u is 0 once tanh u rounds to ±1 (tanh′(20) = 1.7·10⁻¹⁷ is a float like any other);
- logs of products: log(c·x) = log c + log x for positive c and any x, log(1/x) = −log x, log e^u = u, so
  that log-sum-exp (stable.logsumexp) meets the sum itself (log cosh, log sigmoid, log(1 + Σ e^z)).

Kinks follow a stated convention, the one PyTorch's autograd follows for torch.maximum/minimum and
torch.sign: at a tie of max or min each argument gets half (H(0) = 1/2), |x|′ = sign x is 0 at 0, and
a step's own derivative δ(u) is 0 (autograd's derivative of sign and of a comparison). (F.hardtanh,
F.relu and torch.clamp pick one side instead: 0, 0 and 1 at their boundaries.)
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import (
    Add,
    DiracDelta,
    Dummy,
    Eq,
    Function,
    Heaviside,
    Max,
    Mul,
    Piecewise,
    Pow,
    S,
    Sum,
    Symbol,
    cancel,
    exp,
    expand,
    log,
    piecewise_fold,
    simplify,
    tanh,
)
from sympy.codegen.cfunctions import expm1
from sympy.codegen.rewriting import expm1_opt, log1p_opt, optimize

from derive.codegen.arrays import Col, Largest, Row, Total


@dataclass(frozen=True)
class Identity:
    """A rewrite's justification: lhs = rhs for every value of its real symbols."""

    name: str
    lhs: object
    rhs: object


def proven(name: str, lhs, rhs) -> Identity:
    """The identity, after SymPy has checked its two sides equal; an error if they are not."""
    difference = lhs - rhs
    if cancel(expand(difference.rewrite(exp))) == 0:  # most rules: at once, where simplify takes seconds
        return Identity(name, lhs, rhs)
    forms = (difference, difference.rewrite(exp), piecewise_fold(difference.rewrite(Piecewise)))
    if all(simplify(form) != 0 for form in forms):
        raise AssertionError(f"rule '{name}' is not an identity: {lhs} ≠ {rhs}")
    return Identity(name, lhs, rhs)


_u, _w, _v, _m = (Dummy(name, real=True) for name in "uwvm")
_c, _d = Dummy("c", positive=True), Dummy("d", positive=True)
_x = Dummy("x")  # any number, complex even: log(x c) = log x + log c holds for every x once c > 0
RULES = (
    proven(
        "shift a sum of exponentials by M",
        exp(_v) / (_c * exp(_u) + _d * exp(_w) + _c),
        exp(_v - _m) / (_c * exp(_u - _m) + _d * exp(_w - _m) + _c * exp(-_m)),
    ),
    proven(
        "a step times a value is a choice",
        Heaviside(_u) * _v,
        Piecewise((0, _u < 0), (Heaviside(0) * _v, Eq(_u, 0)), (_v, True)),
    ),
    proven("exp minus one", exp(_u) - 1, expm1(_u)),
    proven("one minus tanh squared", 1 - tanh(_u) ** 2, 4 / (exp(_u) + exp(-_u)) ** 2),
    proven("log of a positive multiple", log(_x * _c), log(_x) + log(_c)),
    proven("log of a reciprocal", log(1 / _c), -log(_c)),
)


def lower(expr, shifted: bool = False):
    """expr with every rule applied; shifted: z is z − max z already, so quotients are left as they are."""
    expr = logs(complements(expr))
    if shifted:  # every exponent is ≤ 0 already: SymPy's expm1/log1p, as before these rules
        return optimize(_gated(expr), [expm1_opt, log1p_opt])
    expr = _gated(logs(_shifted_quotients(expr)))
    # SymPy's expm1_opt factors sums of exponentials it meets (1 + e^{−3z/2} into two factors), which
    # costs accuracy after the shift: the rule here only pairs c·e^u with −c.
    # SymPy's log1p_opt factors the sum it is given, log(1 + e^{−z}) → log((e^z + 1)·e^{−z}), and does not
    # always open the product again: the rules on logs do, so that log-sum-exp meets the sum.
    return logs(optimize(expr.replace(lambda e: isinstance(e, Add), _expm1), [log1p_opt]))


def _gated(expr):
    """Steps times values as choices; a step's derivative, δ(u), as 0 (PyTorch's convention, above)."""
    expr = expr.replace(lambda e: isinstance(e, DiracDelta), lambda e: S.Zero)
    return expr.replace(lambda e: isinstance(e, Mul) and e.has(Heaviside), _chosen)


def _expm1(total):
    """c·e^u − c as c·expm1(u), the rule "exp minus one", for each such pair in a sum."""
    terms = list(total.args)
    for t, term in enumerate(terms):
        c, powers = term.as_coeff_mul()
        if len(powers) != 1 or not isinstance(powers[0], exp) or -c not in terms:
            continue
        terms[t], terms[terms.index(-c)] = c * expm1(powers[0].args[0]), S.Zero
    return Add(*terms)


def complements(expr):
    """expr with the rule "one minus tanh squared" applied to every sum, before anything expands it."""
    return expr.replace(lambda e: isinstance(e, Add), _complements)


def _complements(total):
    """c − c·tanh²u as 4c/(e^u + e^{−u})², the rule "one minus tanh squared", for each such pair in a sum."""
    terms = list(total.args)
    for t, term in enumerate(terms):
        c, factors = term.as_coeff_mul()
        if len(factors) != 1 or not _tanh_squared(factors[0]) or -c not in terms:
            continue
        u = factors[0].base.args[0]
        terms[t], terms[terms.index(-c)] = -4 * c / (exp(u) + exp(-u)) ** 2, S.Zero
    return Add(*terms)


def _tanh_squared(factor) -> bool:
    return isinstance(factor, Pow) and factor.exp == 2 and isinstance(factor.base, tanh)


class Gate(Function):
    """Gate(u, v, h) = H(u)·v with H(0) = h, printed as a choice (np.where), never as a product."""

    nargs = 3

    def _eval_rewrite_as_Piecewise(self, u, v, h, **kwargs):
        return Piecewise((0, u < 0), (h * v, Eq(u, 0)), (v, True))


def _chosen(product):
    """H(u)·v as a choice of v, h·v or 0 by the sign of u: never 0·inf where v overflows and H(u) = 0."""
    steps = [f for f in product.args if isinstance(f, Heaviside)]
    if not steps:
        return product
    (u, half), rest = steps[0].args, product / steps[0]  # half: H(0), 1/2 unless said otherwise
    rest = _chosen(rest) if isinstance(rest, Mul) else rest
    return Gate(u, rest, half)


def logs(expr):
    """Logs of products opened (before log-sum-exp), by the rules on logs."""
    return expr.replace(lambda e: isinstance(e, log), _opened_log)


def _opened_log(term):
    if not isinstance(term, log):  # log(1) = 0 and log(e^u) = u evaluate before they get here
        return term
    (inner,) = term.args
    if isinstance(inner, Mul):
        # log(c x) = log c + log x, the rule "log of a positive multiple", for c > 0 and any x: numbers,
        # e^u, Σ c e^u and its row sum Σ_k c e^{u_k}, 1/Σ c e^u (so y·log(y Σ_k e^{z_k}/e^{z_i}) opens).
        parts = [f for f in inner.args if _positive(f)]
        if parts and len(parts) < len(inner.args) or len(parts) > 1:
            rest = Mul(*(f for f in inner.args if f not in parts))
            return Add(*(_opened_log(log(f)) for f in parts)) + (log(rest) if rest != 1 else S.Zero)
    if isinstance(inner, exp) and inner.args[0].is_real:
        return inner.args[0]
    if isinstance(inner, Pow) and inner.exp.is_Integer and _positive(inner.base):
        return inner.exp * log(inner.base)  # "log of a reciprocal", and of any whole power
    return term


def _positive(factor):
    """Whether factor is certainly positive: a number > 0, e^u (u real), Σ c e^u with c > 0 (entrywise or
    a row sum), or a whole power of one of them."""
    if factor.is_Number:
        return factor.is_positive
    if isinstance(factor, (Row, Col)):
        return _positive(factor.args[0])
    if isinstance(factor, (Total, Sum)):
        return _positive(factor.args[0])
    if isinstance(factor, Mul):
        return all(_positive(f) for f in factor.args)
    if isinstance(factor, exp):
        return bool(factor.args[0].is_real)
    if isinstance(factor, Pow) and factor.exp.is_Integer:
        return _positive(factor.base)
    terms = _exponents(factor) if isinstance(factor, Add) else None
    return terms is not None and all(c.is_positive for c, _ in terms)


def _exponents(total):
    """[(c_t, u_t)] with total = Σ_t c_t e^{u_t} (a number is c·e^0), or None when it is not such a sum.

    c_t holds no exponential but in a bounded factor: a reciprocal of a sum already shifted by its largest
    exponent (σ(u) = e^{−M}/(e^{−M} + e^{−u−M}), M = max(0, −u), is e^{−M} times one in [1/2, 1]).
    """
    terms = []
    for term in Add.make_args(total):
        powers = [f for f in Mul.make_args(term) if isinstance(f, exp)]
        rest = Mul(*(f for f in Mul.make_args(term) if not isinstance(f, exp)))
        free = Mul(*(f for f in Mul.make_args(rest) if not _bounded(f)))
        if free.has(exp) or len(powers) > 1 or not (rest.is_Number or not rest.free_symbols or rest.is_real):
            return None
        terms.append((rest, powers[0].args[0] if powers else S.Zero))
    if not any(u.free_symbols for _, u in terms) or len(terms) < 2 and not terms[0][1].free_symbols:
        return None
    return terms


def _bounded(factor) -> bool:
    """Whether factor is 1/S^k with S = Σ_t c_t e^{v_t} shifted by its largest exponent (c_t > 0 numbers):
    one v_t is 0 and none is above, so min c ≤ S ≤ Σ c, and the factor neither overflows nor vanishes."""
    if not (isinstance(factor, Pow) and factor.exp.is_Integer and factor.exp.is_negative):
        return False
    base = factor.base
    if isinstance(base, (Row, Col)):
        base = base.args[0]
    if isinstance(base, Total):  # Σ_k c e^{u_k − L}, L = max_k u_k
        body = Mul.make_args(base.args[0])
        powers = [f for f in body if isinstance(f, exp)]
        c = Mul(*(f for f in body if not isinstance(f, exp)))
        if len(powers) != 1 or not (c.is_Number and c.is_positive):
            return False
        peaks = [e for e in powers[0].args[0].atoms(Largest)]
        return any(peak == Largest(powers[0].args[0] + peak) for peak in peaks)
    if not isinstance(base, Add):
        return False
    terms = []
    for term in base.args:
        c, factors = term.as_coeff_mul()
        if not c.is_positive or len(factors) != 1 or not isinstance(factors[0], exp):
            return False
        terms.append(factors[0].args[0])
    # The peak M the sum was shifted by: a Max in its exponents equal to the largest of v_t + M.
    return any(peak == Max(*(v + peak for v in terms)) for peak in terms[0].atoms(Max))


def _shifted_quotients(expr):
    if not expr.args:
        return expr
    args = [_shifted_quotients(a) for a in expr.args]
    if isinstance(expr, Pow) and expr.exp.is_negative and expr.exp.is_integer:
        base, power = args
        if isinstance(base, Mul):  # (a b)^-k = a^-k b^-k, each factor shifted by its own largest exponent
            return _combined(Mul(*(_shifted_quotients(Pow(f, power)) for f in base.args)))
        shifted = _shifted_sum(base)
        if shifted is not None:
            peak, rest = shifted
            return exp(power * peak) * Pow(rest, power)
        return Pow(base, power)
    value = expr.func(*args)
    return _combined(value) if isinstance(value, Mul) else value


def _shifted_sum(base):
    """(M, Σ c e^{u − M}) for a sum of exponentials Σ c e^u (elementwise, or a row sum), else None."""
    wrap = None
    if isinstance(base, (Row, Col)) and isinstance(base.args[0], Total):
        wrap, base = type(base), base.args[0]
    if isinstance(base, Total):
        terms = _exponents(base.args[0])
        if terms is None or len(terms) != 1 or terms[0][1].has(Largest):
            return None
        (c, u), peak = terms[0], Largest(terms[0][1])
        rest = Total(c * exp(u - peak))
        return (wrap(peak), wrap(rest)) if wrap else (peak, rest)
    base = _opened_expm1(base)
    if isinstance(base, Add) and base.has(Total):
        return _shifted_mixed(base)
    terms = _exponents(base) if isinstance(base, Add) else None
    if terms is None or len(terms) < 2:
        return None
    peak = Max(*(u for _, u in terms))
    return peak, Add(*(c * exp(u - peak) for c, u in terms))


def _shifted_mixed(base):
    """(M, shifted) for c + Σ_k e^{u_k} (+ entrywise c e^v): M the largest exponent of them all."""
    peaks, parts = [], []
    for term in base.args:
        if isinstance(term, Total):
            inner = _exponents(term.args[0])
            if inner is None or len(inner) != 1 or not inner[0][0].is_Number:
                return None
            ((c, u),) = inner
            peaks.append(Largest(u))
            parts.append(lambda m, c=c, u=u: Total(c * exp(u - m)))
            continue
        # An entrywise e^u, u a row sum or not (sigmoid(Σ_k z_k)); a Total of exponentials is not one.
        inner = _exponents(term) if term.has(exp) else ([(term, S.Zero)] if term.is_Number else None)
        if inner is None or len(inner) != 1:
            return None
        ((c, u),) = inner
        peaks.append(u)
        parts.append(lambda m, c=c, u=u: c * exp(u - m))
    peak = Max(*peaks)
    return peak, Add(*(f(peak) for f in parts))


def _combined(product):
    """A product with its exponentials made one, e^a e^b = e^{a+b}, spread over a sum beside it."""
    powers = [f for f in product.args if isinstance(f, exp)]
    beside = any(_has_exp_terms(f) or _shifted_total(f) is not None for f in product.args)
    if len(powers) < 2 and not (powers and beside):
        return product
    others = [_opened_expm1(f) for f in product.args if not isinstance(f, exp)]
    # Σ_k c e^{u_k} = e^L Σ_k c e^{u_k − L}, L = max_k u_k (the rule "shift a sum of exponentials by M"):
    # its e^L meets the other exponentials here, e^{z_i − 2M} Σ_k e^{z_k} as e^{z_i − M} Σ_k e^{z_k − M}.
    for f, factor_ in enumerate(others):
        shifted = _shifted_total(factor_)
        if shifted is not None:
            peak, others[f] = shifted
            powers.append(exp(peak))
    power = exp(Add(*(p.args[0] for p in powers)))
    sums = [f for f in others if _has_exp_terms(f)]
    if sums:  # (e^a + s) e^{−M} = e^{a − M} + s e^{−M}: the large e^a meets its −M
        first = sums[0]
        others.remove(first)
        spread = Add(
            *(
                _combined(Mul(power, t)) if isinstance(Mul(power, t), Mul) else Mul(power, t)
                for t in Add.make_args(first)
            )
        )
        return Mul(*others, spread)
    return Mul(*others, power)


def _opened_expm1(factor):
    """expm1(u) as e^u − 1, so that a shift e^{−M} can meet its e^u (expm1 overflows where e^u does)."""
    if not factor.has(expm1):
        return factor
    return expand(factor.replace(lambda e: isinstance(e, expm1), lambda e: exp(e.args[0]) - 1), deep=False)


def _has_exp_terms(factor):
    return isinstance(factor, Add) and any(
        isinstance(f, exp) or _shifted_total(f) is not None for t in factor.args for f in Mul.make_args(t)
    )


def _shifted_total(factor):
    """(L, Σ_k c e^{u_k − L}) for a row sum Σ_k c e^{u_k} not shifted yet, L = max_k u_k; else None."""
    if not isinstance(factor, Total):
        return None
    terms = _exponents(factor.args[0])
    if terms is None or len(terms) != 1 or factor.has(Largest):
        return None
    ((c, u),) = terms
    peak = Largest(u)
    return peak, Total(c * exp(u - peak))


class Peak(Function):
    """Peak(u, l) = max over the index l of u_l: the M of the rule "shift a sum of exponentials by M" where a
    sum is written with its index (several inputs' forms), as Largest is for a row of arrays."""

    nargs = 2


# The bound every Peak is written with, so that max_l z_l and max_k z_k are one quantity, computed once.
BOUND = Symbol("_l", integer=True)


def shifted_sums(expr):
    """expr in indexed form with logs opened (by the rules on logs) and each Σ_l c e^{u_l} (c > 0 a number)
    under a log or a negative whole power shifted by M = max_l u_l, the rule "shift a sum of exponentials by
    M": e^{u_i}/Σ_l e^{u_l} = e^{u_i − M}/Σ_l e^{u_l − M}, log Σ_l e^{u_l} = M + log Σ_l e^{u_l − M}."""
    return _indexed(logs(expr))


def _indexed(expr):
    if not expr.args or isinstance(expr, Peak):
        return expr
    if isinstance(expr, log):
        found = _row(expr.args[0])
        if found is not None:
            peak, rest = found
            return peak + log(rest)
    args = [_indexed(a) for a in expr.args]
    if isinstance(expr, Pow) and expr.exp.is_Integer and expr.exp.is_negative:
        found = _row(args[0])
        if found is not None:
            peak, rest = found
            return exp(expr.exp * peak) * Pow(rest, expr.exp)
    value = expr.func(*args)
    powers = [f for f in Mul.make_args(value) if isinstance(f, exp)]
    if isinstance(value, Mul) and len(powers) > 1:  # e^a e^b = e^{a+b}: the e^{−M} meets the numerator's e^u
        rest = [f for f in value.args if not isinstance(f, exp)]
        return Mul(*rest, exp(Add(*(p.args[0] for p in powers))))
    return value


def _row(total):
    """(M, Σ_l c e^{u_l − M}) for total = Σ_l c e^{u_l} over one index, c a positive number; else None."""
    if not isinstance(total, Sum) or len(total.limits) != 1:
        return None
    bound = total.limits[0][0]
    c, factors = total.function.as_coeff_mul()
    if not c.is_positive or len(factors) != 1 or not isinstance(factors[0], exp):
        return None
    u = factors[0].args[0]
    if not u.has(bound) or u.has(Peak):
        return None
    peak = Peak(u.xreplace({bound: BOUND}), BOUND)
    return peak, Sum(c * exp(u - peak), *total.limits)
