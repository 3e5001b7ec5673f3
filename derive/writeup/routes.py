"""Routes to ∂s_i/∂z_j as a person takes them: the quotient rule, the log-derivative, or the chain rule."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from sympy import (
    Derivative,
    Dummy,
    Eq,
    Function,
    KroneckerDelta,
    Mul,
    Sum,
    Symbol,
    UnevaluatedExpr,
    count_ops,
    expand,
    expand_log,
    factor,
    fraction,
    log,
    solve,
    together,
)

from derive.engine.prove import back_to_inputs
from derive.engine.rewrite import Hidden
from derive.engine.sums import normalize_sums
from derive.errors import InvalidInput, NotApplicable
from derive.notation.symbols import i, j
from derive.writeup.rules import depends, explain
from derive.writeup.steps import Facts, chain, derivatives_of

METHODS = ("quotient", "log")
NUMERATOR, DENOMINATOR = Symbol("f"), Symbol("g")


@dataclass(frozen=True)
class Route:
    """A derivation of ∂s_i/∂z_j by one method, every step checked, ready to be written out."""

    method: str  # the route taken: quotient, log or chain
    asked: str  # the route asked for; the quotient rule falls back to the chain rule without a quotient
    facts: Facts
    parts: tuple  # chains naming the pieces: f and g, or log s_i
    rule: tuple  # the rule the route rests on, stated in the pieces
    lemmas: tuple  # chains deriving what the main chain substitutes, innermost first
    main: tuple  # ∂s_i/∂z_j = …
    same: tuple  # the case i = j
    other: tuple  # the case i ≠ j
    known: tuple = ()  # chains deriving the intermediates the definition is written with (μ, σ), first


def route(d, method: str = "quotient") -> Route:
    """The steps of d's derivation by method (quotient or log), each checked."""
    if method not in METHODS:
        raise InvalidInput(f"unknown method '{method}'; known: {', '.join(METHODS)}")
    return _route(d.for_any_n, method)


def by_chain_rule(d) -> Route:
    """d's derivation by the chain rule alone: the short way, for a Jacobian another derivation uses."""
    return _route(d.for_any_n, "chain")


def through(d, written, known: dict) -> Route:
    """d's derivation by the chain rule from its definition written with intermediates whose derivatives
    are known already: s_i − y_i with ∂s_i/∂z_j from above."""
    return _chain(d, "chain", Facts(dict(d.definitions), {}, known), written)


@cache
def _route(d, method: str) -> Route:
    # A route does not depend on n: d is the engine's cached derivation for any n, parameters set.
    if method == "log":
        return _log(d)
    # Written with scalar intermediates (μ, σ), the definition is differentiated as written, through them.
    written, known, derived = _intermediates(d)
    facts = Facts(dict(d.definitions), {}, derived, derivatives_of(d))
    if method == "chain":
        taken = _chain(d, "chain", facts, written)
    else:
        numerator, denominator = fraction(written)
        if depends(denominator, d.input, derived):
            taken = _quotient(d, facts, written, numerator, denominator)
        else:
            taken = _chain(d, method, facts, written)
    return replace(taken, known=known)


def _intermediates(d):
    """(the definition as written, the chains deriving its scalar intermediates, what they found) when it
    is written with scalar intermediates alone; else (the definition in the inputs, (), {})."""
    parameters = dict(d.spelled.parameters)
    written = d.function.definition.xreplace(parameters)
    where = [(key, body.xreplace(parameters)) for key, body in d.spelled.function_where()]
    used = [key for key, _ in where if written.has(key)]
    if not used or not all(isinstance(key, Symbol) for key in used):
        return d.definition, (), {}
    z, chains, derived = d.input, [], {}
    for key, body in where:
        # Each from its body as written, through the ones before it: σ through μ.
        found = explain(Facts(dict(d.definitions), {}, dict(derived)), Derivative(key, z[j]), body, z[j])
        chains += [*found.lemmas, found.steps]
        derived[key] = found.result
    return written, tuple(chains), derived


def _quotient(d, facts, written, numerator, denominator) -> Route:
    s, z = d.output, d.input
    facts = replace(facts, named={NUMERATOR: numerator, DENOMINATOR: denominator})
    # f′ and g′ stay in the inputs, as the quotient rule takes them.
    f_prime = explain(facts, Derivative(NUMERATOR, z[j]), numerator, z[j], outputs=False)
    g_prime = explain(facts, Derivative(DENOMINATOR, z[j]), denominator, z[j], outputs=False)
    x = Dummy("x")
    u, v = Function("u")(x), Function("v")(x)
    # The rule is SymPy's derivative of u(x)/v(x), read once in f, g and once in what they are here.
    general = together((u / v).diff(x))
    stated = general.xreplace(
        {Derivative(u, x): Derivative(NUMERATOR, z[j]), Derivative(v, x): Derivative(DENOMINATOR, z[j])}
    )
    stated = stated.xreplace({u: NUMERATOR, v: DENOMINATOR})
    applied = general.xreplace({Derivative(u, x): f_prime.result, Derivative(v, x): g_prime.result})
    applied = applied.xreplace({u: numerator, v: denominator})
    rule = chain(facts, Derivative(NUMERATOR / DENOMINATOR, z[j]), ("quotient", stated))
    main = chain(
        facts, Derivative(s[i], z[j]), ("definition", Derivative(written, z[j])), ("quotient", applied)
    )
    parts = (
        chain(facts, NUMERATOR, ("numerator", numerator)),
        chain(facts, DENOMINATOR, ("denominator", denominator)),
    )
    lemmas = (*f_prime.lemmas, f_prime.steps, *g_prime.lemmas, g_prime.steps)
    # Split into fractions of the inputs only when the definition is in the inputs: not through μ and σ.
    same, other = _cases(d, facts, applied, worked=True, split=not facts.known)
    return Route("quotient", "quotient", facts, parts, rule, lemmas, main, same, other)


def _log(d) -> Route:
    s, z = d.output, d.input
    if not Hidden().hide(normalize_sums(d.definition)).is_positive:
        raise NotApplicable(
            f"the log route needs positive outputs, so that log {s.name}_i exists; "
            f"{d.function.name} can give zero or negative ones: use --method quotient"
        )
    facts = Facts(dict(d.definitions), {}, derivatives=derivatives_of(d))
    x, slope = Dummy("x"), Dummy("slope")
    u = Function("u")(x)
    # d/dx log u = u'/u, solved for u' = u · d/dx log u: both read in s_i and z_j.
    by_log = log(u).diff(x)
    isolated = solve(Eq(slope, by_log), Derivative(u, x))[0].xreplace({slope: Derivative(log(u), x)})
    to_here = {Derivative(log(u), x): Derivative(log(s[i]), z[j]), Derivative(u, x): Derivative(s[i], z[j])}
    rule = chain(facts, Derivative(log(s[i]), z[j]), ("log", by_log.xreplace(to_here).xreplace({u: s[i]})))
    expanded = expand_log(log(d.definition), force=True)
    parts = (chain(facts, log(s[i]), ("definition", log(d.definition)), ("expand_log", expanded)),)
    slope_of_log = explain(facts, Derivative(log(s[i]), z[j]), expanded, z[j])
    main = chain(
        facts,
        Derivative(s[i], z[j]),
        ("log_derivative", isolated.xreplace(to_here).xreplace({u: s[i]})),
        # ∂ log s_i/∂z_j is derived just above, in the lemmas: taken from there, not derived again
        ("known", s[i] * slope_of_log.result),
        ("tidy", d.general),
    )
    lemmas = (*slope_of_log.lemmas, slope_of_log.steps)
    same, other = _cases(d, facts, d.general, worked=False)
    return Route("log", "log", facts, parts, rule, lemmas, main, same, other)


def _chain(d, asked, facts, written) -> Route:
    s, z = d.output, d.input
    direct = explain(facts, Derivative(s[i], z[j]), written, z[j])
    main = direct.steps + chain(facts, direct.result, ("tidy", d.general))
    same, other = _cases(d, facts, d.general, worked=False)
    return Route("chain", asked, facts, (), (), direct.lemmas, main, same, other)


def _cases(d, facts, start, worked: bool, split: bool = True):
    """The chains for i = j and i ≠ j from start; worked adds the factored (and split) forms on the way."""
    s, z = d.output, d.input
    (same_when, same), (other_when, other) = d.cases
    chains = []
    for when, result, set_delta, rule, lhs in (
        (same_when, same, start.xreplace({j: i}), "delta_one", Derivative(s[i], z[i])),
        (other_when, other, _without_delta(start), "delta_zero", Derivative(s[i], z[j])),
    ):
        links = [(rule, set_delta)]
        if worked:
            factored, apart = _factored(set_delta), _split(result, facts, z) if split else result
            if _pulls_out(factored):
                # "factor" only names a factoring: one that also rewrites the fraction is a simplification
                links.append(("factor" if is_factoring(set_delta, factored) else "tidy", factored))
            else:
                # a fraction within a fraction (σ(1 − 1/n) − …)/σ² first over one denominator, then renamed
                joined = _joined(set_delta)
                links += [("together", joined)] if count_ops(joined) < count_ops(set_delta) else []
            links += [("split", apart)] if apart != result else []
        links.append(("outputs", result))
        chains.append(chain(facts, lhs, *links, condition=when))
    return tuple(chains)


def _without_delta(expr):
    return expr.replace(lambda e: isinstance(e, KroneckerDelta), lambda e: 0)


def _factored(expr):
    """expr factored, each sum held as one quantity: e^{z_i}(Σ − e^{z_i})/Σ²."""
    hidden = Hidden()
    return hidden.reveal(factor(hidden.hide(normalize_sums(expr))))


def _joined(expr):
    """expr as one fraction, each sum held as one quantity: (σ²(n − 1) − (z_i − μ)²)/(nσ³)."""
    hidden = Hidden()
    return hidden.reveal(together(hidden.hide(normalize_sums(expr))))


def is_factoring(before, after) -> bool:
    """Whether after is before with common factors pulled out and nothing else: both expand alike."""
    hidden = Hidden()
    return expand(hidden.hide(normalize_sums(before))) == expand(hidden.hide(normalize_sums(after)))


def _pulls_out(factored) -> bool:
    """Whether factoring pulled a common factor out of a sum: e^{z_i}(Σ − e^{z_i}), not a mere rewrite."""
    top = fraction(factored)[0]
    return any(f.is_Add for f in Mul.make_args(top)) and len(Mul.make_args(top)) > 1


def _split(result, facts, z):
    """The result's factors each written back in the inputs and kept apart: (e^{z_i}/Σ)·((Σ − e^{z_i})/Σ)."""
    if depends(result, z) or result.has(Sum):
        return result  # only a result wholly in the outputs reads as a product of them
    coeff, factors = result.as_coeff_mul()
    kept = []
    for f in factors:
        back = together(back_to_inputs(f, facts.definitions))
        kept.append(UnevaluatedExpr(back) if fraction(back)[1] != 1 else back)
    if sum(isinstance(f, UnevaluatedExpr) for f in kept) < 2:
        return result  # nothing to split: the chain goes straight to the result
    return coeff * Mul(*kept, evaluate=False) if coeff != 1 else Mul(*kept, evaluate=False)


__all__ = ["METHODS", "Route", "by_chain_rule", "route", "through"]
