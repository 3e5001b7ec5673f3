"""Whether an expression is 0 over one denominator, decided in a polynomial ring built for it."""

from __future__ import annotations

from math import lcm

from sympy import QQ, Add, Dummy, S, exp, expand_mul
from sympy.polys.rings import ring


def zero_over_one_denominator(expr) -> bool:
    """Whether expr's numerator over a common denominator is the zero polynomial: False says nothing.

    What together and expand do on expression trees, in QQ[generators] with no gcds: each sum's fractions
    are brought over the product of its denominators' highest powers, so only numerators are multiplied
    out. The generators are expr's atoms taken as independent indeterminates, save the relations that
    always hold: a root r = b^(1/q) for every power b^(p/q) of one base (b itself written r^q, and r^q = c
    for a number c), e^{c·m} = (e^{m/Q})^{cQ} for the rational multiples c of each term m of an
    exponential's expanded argument. A numerator that vanishes with the rest independent vanishes for
    any of their values, wherever the denominators do not.
    """
    return _Ring(expr).zero()


class _Ring:
    def __init__(self, expr):
        self.expr = expr
        self.roots: dict = {}  # base -> the lcm of the denominators of its rational exponents
        self.exponents: dict = {}  # a term m of an exponential's argument -> the lcm of its coefficients' q
        self.split: dict = {}  # exp(a) -> a's terms as (rational coefficient, rest)
        self.atoms: set = set()
        self.denominators: dict = {}  # a denominator's key -> the polynomial
        self._scan(expr, set())

    def zero(self) -> bool:
        keys = [("root", base) for base in self.roots]
        keys += [("exp", m) for m in self.exponents]
        keys += [a for a in self.atoms if a not in self.roots]
        if not keys:
            return self.expr.is_Rational and self.expr == 0
        self.ring, *gens = ring([Dummy() for _ in keys], QQ)
        self.gen = dict(zip(keys, gens, strict=True))
        numerator, _ = self._convert(self.expr, {})
        return numerator == 0 or self._roots_of_numbers_reduced(numerator) == 0

    def _scan(self, e, seen):
        if e in seen or e.is_Rational:
            return
        seen.add(e)
        if e.is_Add or e.is_Mul:
            for a in e.args:
                self._scan(a, seen)
        elif isinstance(e, exp):
            for c, m in self._terms(e):
                self.exponents[m] = lcm(self.exponents.get(m, 1), int(c.q))
        elif e.is_Pow and e.exp.is_Integer:
            self._scan(e.base, seen)
        elif e.is_Pow and e.exp.is_Rational:
            self.roots[e.base] = lcm(self.roots.get(e.base, 1), int(e.exp.q))
            if not e.base.is_Rational:
                self._scan(e.base, seen)  # the base's own atoms, for its bare occurrences
        else:
            self.atoms.add(e)

    def _terms(self, e):
        got = self.split.get(e)
        if got is None:
            got = []
            for term in Add.make_args(expand_mul(e.args[0])):
                c, m = term.as_coeff_Mul()
                got.append((c, m) if c.is_Rational else (S.One, term))
            self.split[e] = got
        return got

    def _convert(self, e, memo):
        """e as (numerator, {denominator key: power})."""
        got = memo.get(e)
        if got is None:
            got = memo[e] = self._converted(e, memo)
        return got

    def _converted(self, e, memo):
        if e.is_Rational:
            return self.ring(QQ(int(e.p), int(e.q))), {}
        if e in self.roots:  # a base that stands bare too: b = (b^(1/q))^q
            return self.gen["root", e] ** self.roots[e], {}
        if e.is_Add:
            parts = [self._convert(a, memo) for a in e.args]
            common: dict = {}
            for _, den in parts:
                for key, power in den.items():
                    common[key] = max(common.get(key, 0), power)
            total = self.ring.zero
            for numerator, den in parts:
                for key, power in common.items():
                    if power > den.get(key, 0):
                        numerator = numerator * self.denominators[key] ** (power - den.get(key, 0))
                total += numerator
            return total, common
        if e.is_Mul:
            numerator, den = self.ring.one, {}
            for a in e.args:
                top, bottom = self._convert(a, memo)
                numerator = numerator * top
                _multiplied(den, bottom)
            return numerator, den
        if isinstance(e, exp):
            numerator, den = self.ring.one, {}
            for c, m in self._terms(e):
                power = int(c * self.exponents[m])
                numerator, den = self._times_power(numerator, den, self.gen["exp", m], power)
            return numerator, den
        if e.is_Pow and e.exp.is_Integer:
            top, bottom = self._convert(e.base, memo)
            power = int(e.exp)
            if power >= 0:
                return top**power, {key: p * power for key, p in bottom.items()}
            numerator = self.ring.one
            for key, p in bottom.items():
                numerator = numerator * self.denominators[key] ** (-p * power)
            return numerator, self._denominator(top, -power)
        if e.is_Pow and e.exp.is_Rational:
            power = int(e.exp * self.roots[e.base])
            return self._times_power(self.ring.one, {}, self.gen["root", e.base], power)
        return self.gen[e], {}

    def _times_power(self, numerator, den, generator, power):
        if power >= 0:
            return numerator * generator**power, den
        den = dict(den)
        _multiplied(den, self._denominator(generator, -power))
        return numerator, den

    def _denominator(self, poly, power) -> dict:
        key = frozenset(poly.items())
        self.denominators[key] = poly
        return {key: power}

    def _roots_of_numbers_reduced(self, numerator):
        """numerator with r^q = c for each root r = c^(1/q) of a number c."""
        numbers = {
            self.ring.gens.index(self.gen["root", base]): (q, QQ(int(base.p), int(base.q)))
            for base, q in self.roots.items()
            if base.is_Rational
        }
        if not numbers:
            return numerator
        terms: dict = {}
        for monomial, coefficient in numerator.items():
            powers = list(monomial)
            for at, (q, c) in numbers.items():
                coefficient *= c ** (powers[at] // q)
                powers[at] %= q
            key = tuple(powers)
            terms[key] = terms.get(key, QQ(0)) + coefficient
        return self.ring.from_dict({m: c for m, c in terms.items() if c})


def _multiplied(den: dict, other: dict) -> None:
    for key, power in other.items():
        den[key] = den.get(key, 0) + power
