"""Rewrite a derivative in the function's own outputs: substitute the definition back, then tidy."""

from __future__ import annotations

from functools import lru_cache

from sympy import (
    Add,
    Dummy,
    Function,
    Indexed,
    KroneckerDelta,
    Mul,
    Pow,
    Rational,
    Sum,
    Symbol,
    cancel,
    collect,
    cos,
    cosh,
    count_ops,
    exp,
    expand,
    expand_log,
    factor,
    fraction,
    simplify,
    sin,
    sinh,
    tan,
    tanh,
)

from derive.engine.definition import solutions
from derive.engine.sums import free_indices, normalize_sums, renamed_apart
from derive.notation.symbols import i

MAX_SOLVE_DEGREE = 4  # solve only where the roots have closed forms: powers of degree at most 4
MAX_SOLVE_HEIGHT = 64  # and e^{(p/q)·x} only with |p|, q at most this: solve's polynomials have degree p
EXPONENTIAL = (exp, sin, cos, tan, sinh, cosh, tanh)


class Hidden:
    """Sums replaced by opaque symbols, so that algebra treats Σ_k e^{z_k} as one quantity."""

    def __init__(self):
        self.by_sum: dict = {}

    def hide(self, expr):
        """expr with every outermost Sum replaced by its symbol."""
        if isinstance(expr, Sum):
            if expr not in self.by_sum:
                self.by_sum[expr] = _symbol_for(expr, len(self.by_sum))
            return self.by_sum[expr]
        if not expr.args or not expr.has(Sum):
            return expr
        return expr.func(*(self.hide(a) for a in expr.args))

    def reveal(self, expr):
        """expr with the sums put back."""
        return expr.xreplace({d: s for s, d in self.by_sum.items()})


@lru_cache(maxsize=1024)
def _symbol_for(total, place: int):
    """The symbol a sum is hidden as, the place-th hidden in one expression: the same one each time,
    so that what is computed from a hidden definition (solve, the inverse's check) is remembered."""
    return Dummy(f"S{place}", positive=total.function.is_positive or None, real=True)


def in_terms_of(expr, rewrites, input_base):
    """Rewrite expr with the (name, body) pairs: vector names index by index, then scalar names.

    input_base is the input (z), or a tuple of the inputs when there are several: then the names are
    matched literally, with no input to solve for.
    """
    several = isinstance(input_base, tuple)
    hidden = Hidden()

    def normal(e):
        # With several inputs sums nest (Σ_l e^{Σ_k W_lk x_k}): named from the outside in, the same sum
        # is recognised in the expression and in a definition.
        return renamed_apart(normalize_sums(e)) if several else normalize_sums(e)

    work = hidden.hide(normal(expr))
    vectors = [(b, body) for b, body in rewrites if not isinstance(b, Symbol)]
    scalars = [(b, body) for b, body in rewrites if isinstance(b, Symbol)]
    for index in sorted(free_indices(expr), key=str):
        options = [work]
        # With several inputs there is no one input to solve for: the index stands in for the scaling
        # e^{z_i} = s_i Σ_k e^{z_k}, nothing is solved, and the names are tried one after another,
        # the last written first (a = softmax(e) before e), each kept if it helps.
        for base, body in reversed(vectors) if several else vectors:
            at = hidden.hide(normal(body.xreplace({i: index})))
            variable, solving = _variable(at, index, input_base) if several else (input_base[index], True)
            options += _substitutions(options[0] if several else work, at, base[index], variable, solving)
            if several:
                options = [min(options, key=lambda e: _cost(e, input_base))]
        work = min(options, key=lambda e: _cost(e, input_base))
    for name, body in reversed(scalars):
        # Later intermediates are built from earlier ones (σ from μ), so they go first.
        # A scalar like σ = √(Σ_k z_k²/n − μ²) is matched literally, or by solving for one of its sums.
        at = hidden.hide(normal(body))
        options = [work]
        for total in sorted(at.atoms(Dummy) & work.atoms(Dummy), key=str):
            options += _substitutions(work, at, name, total)
        options += _substitutions(work, at, name, None)
        work = min(options, key=lambda e: _cost(e, input_base))
    return hidden.reveal(tidy(work))


def _variable(definition, index, inputs):
    """What to solve a definition at index for, among several inputs: its one input entry at that index
    (ẑ_j = (z_j − μ)/σ for z_j), else nothing (the index, for the quotient's scaling alone)."""
    entries = [a for a in definition.atoms(Indexed) if a.base in inputs and index in a.indices]
    return (entries[0], True) if len(entries) == 1 else (index, False)


_X, _VALUE = Dummy("x", real=True), Dummy("v", real=True)


def _substitutions(expr, definition, output, variable, solving=True):
    """expr with definition → output, by literal match and by solving for the input variable."""
    found = [cancel(expr.subs(definition, output))]
    if variable is None:
        return found
    if not solving:
        # No input to solve for: a quotient's numerator is the output times its denominator,
        # e^{e_j} = a_j Σ_k e^{e_k} (hidden sums do not show the index, so as_independent cannot tell).
        top, bottom = fraction(definition)
        if bottom != 1:
            found.append(cancel(expr.subs(top, output * bottom)))
        return found
    x, value = _X, _VALUE  # the same each time, so that solving one definition again is remembered
    plain = definition.xreplace({variable: x})
    if not plain.has(x) or not found[0].has(variable):
        return found  # the literal match already removed the input: no need to solve
    # s = c·g(z) with c free of z gives g(z) = s/c exactly, with no branches: e^{z_j} = s_j Σ_k e^{z_k}.
    scale, part = definition.as_independent(variable, as_Add=False)
    if scale != 1 and scale != 0:
        found.append(cancel(expr.subs(part, output / scale)))
        if not found[-1].has(variable):
            return found  # no need to solve either
    if not _solvable(plain, x):
        return found
    try:
        found_x = solutions(value - plain, x)
    except (NotImplementedError, ValueError, RecursionError):  # SymPy gives up in these ways
        found_x = []
    known = _functions(expr)
    for sol in found_x:
        # Only a true inverse may be substituted: ±√ branches are wrong for half the inputs.
        if _inverts(sol, plain, x, value):
            candidate = cancel(expr.xreplace({variable: sol.xreplace({value: output})}))
            # An inverse the expression did not have (erfinv for erf) is no rewriting in its outputs:
            # code and JSON could not evaluate it. log(s/(1 − s)) that cancels away is fine.
            if _functions(candidate) <= known:
                found.append(candidate)
    return found


def _solvable(definition, x) -> bool:
    """Whether solve may look for x in definition: no power of degree above MAX_SOLVE_DEGREE around x,
    and exponentials (tanh, sin, … are exponentials to solve) only of a·x + b with a of small height.

    solve enumerates every root of v − x^N, minutes of CPU and gigabytes for large N, to find an inverse
    the literal match above almost always made unnecessary. It turns e^{c·x} with c = p/q into a
    polynomial of degree p in e^{x/q}: GELU's c = √(2/π) to 16 digits is p ≈ 4·10¹⁵ (minutes, then
    nothing); and e^{x³} has no inverse in closed form at all.
    """
    if any(
        p.has(x) and isinstance(p.exp, Rational) and max(abs(p.exp.p), p.exp.q) > MAX_SOLVE_DEGREE
        for p in definition.atoms(Pow)
    ):
        return False
    return all(_linear(f.args[0], x) for f in definition.atoms(*EXPONENTIAL) if f.has(x))


def heavy_exponentials(expr) -> bool:
    """Whether expr has e^{(p/q)·u} with |p| or q above MAX_SOLVE_HEIGHT: factor and solve make of it a
    polynomial of degree p in e^{u/q} (GELU's √(2/π) to 16 digits: p ≈ 4·10¹⁵, minutes and gigabytes)."""
    return any(
        max(abs(r.p), r.q) > MAX_SOLVE_HEIGHT
        for f in expr.atoms(*EXPONENTIAL)
        for r in f.args[0].atoms(Rational)
    )


def _linear(argument, x) -> bool:
    """Whether argument is a·x + b, b and a free of x, a rational only of height at most MAX_SOLVE_HEIGHT."""
    slope = expand(argument).coeff(x)
    if slope == 0 or expand(argument - slope * x).has(x) or slope.has(x):
        return False
    rationals = [slope] if isinstance(slope, Rational) else list(slope.atoms(Rational))
    return all(max(abs(r.p), r.q) <= MAX_SOLVE_HEIGHT for r in rationals)


def _functions(expr) -> set:
    """The kinds of function applied in expr (exp, erf, …)."""
    return {type(f) for f in expr.atoms(Function)}


@lru_cache(maxsize=256)  # the derivation and its write-up ask again of the same definition
def _inverts(solution, definition, x, value) -> bool:
    """Whether solution(definition(x)) == x for every real x."""
    back = solution.xreplace({value: definition})
    return back == x or expand_log(simplify(back), force=False) == x


def _cost(expr, input_base):
    """Fewest remaining inputs first, then fewest hidden sums, then the shortest expression."""
    bases = input_base if isinstance(input_base, tuple) else (input_base,)
    inputs = sum(1 for a in expr.atoms(Indexed) if a.base in bases)
    return (inputs, len(expr.atoms(Dummy)), count_ops(expr), len(str(expr)))


def tidy(expr):
    """The most compact of the factored and the δ-collected forms, signs as a person writes them."""
    expr = cancel(expr)
    # factor makes e^{(p/q)·u} a polynomial of degree p: not where p is large (heavy_exponentials).
    factored = (lambda e: e) if heavy_exponentials(expr) else factor
    candidates = [expr, factored(expr)]
    deltas = sorted(expr.atoms(KroneckerDelta), key=str)
    if deltas:
        collected = collect(expand(expr), deltas, evaluate=False)
        candidates.append(Add(*(factored(c) * d for d, c in collected.items())))
        candidates.append(Add(*(c * d for d, c in collected.items())))
    candidates = [positive_signs(c) for c in candidates]
    return min(candidates, key=lambda e: (count_ops(e), len(str(e))))


def positive_signs(expr):
    """Absorb a product's minus sign into one of its sums: −s(s − 1) becomes s(1 − s)."""
    if not expr.args:
        return expr
    expr = expr.func(*(positive_signs(a) for a in expr.args))
    if not isinstance(expr, Mul):
        return expr
    coeff, factors = expr.as_coeff_mul()
    sums = [f for f in factors if isinstance(f, Add)]
    if not (coeff.is_negative and sums):
        return expr
    # Flip the sum that gains most from it: −s(s − 1) → s(1 − s), but −s(t + 1) stays.
    flip = max(sums, key=lambda f: _negative_terms(f) - _negative_terms(_negated(f)))
    if _negative_terms(_negated(flip)) > _negative_terms(flip):
        return expr
    rest = list(factors)
    rest[rest.index(flip)] = _negated(flip)
    return Mul(-coeff, *rest)


def _negated(total):
    """−total expanded, its exponentials kept whole: e^{u − 3M} split in two would overflow in code."""
    return expand(-total, power_exp=False)


def _negative_terms(expr) -> int:
    return sum(1 for t in Add.make_args(expr) if t.could_extract_minus_sign())
