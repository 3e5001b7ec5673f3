"""The polynomial-ring route of the proofs and the proofs' own differentiation: each agrees with SymPy."""

import pytest
from sympy import Abs, IndexedBase, Piecewise, Rational, Sum, Symbol, cos, erf, exp, log, sin, sqrt, tanh

from derive.engine.differentiate import direct, partial
from derive.engine.prove import vanishes
from derive.engine.ringzero import zero_over_one_denominator

x, y = Symbol("x", real=True), Symbol("y", real=True)
t = Symbol("t", positive=True)
z = [Symbol(f"z{a}", real=True) for a in range(1, 4)]
total = sum(exp(a) for a in z)


@pytest.mark.parametrize(
    "identity",
    [
        # softmax's Jacobian entry against the quotient rule, over one denominator
        exp(z[0]) / total - exp(2 * z[0]) / total**2 - exp(z[0]) / total * (1 - exp(z[0]) / total),
        # e^{−z} e^{z} in separate terms, e^{x + y} against e^x e^y, e^{x/2} squared
        exp(-x) * (exp(x) + 1) - 1 - exp(-x),
        exp(x + y) - exp(x) * exp(y) + exp(x / 2) * exp(x / 2) - exp(x),
        # a symbol under roots of several orders, and bare: t^{3/2}/√t = t, t^{1/3} t^{1/6} = √t
        t ** Rational(3, 2) / sqrt(t) - t + t ** Rational(1, 3) * t ** Rational(1, 6) - sqrt(t),
        # a number's root squared inside a product: (√2 x + 1)(√2 x − 1) = 2x² − 1
        (sqrt(2) * x + 1) * (sqrt(2) * x - 1) - (2 * x**2 - 1),
        # a function's value as one indeterminate
        tanh(x) / (1 + tanh(x)) - 1 + 1 / (1 + tanh(x)),
    ],
)
def test_the_ring_proves_what_holds(identity):
    assert zero_over_one_denominator(identity)
    assert vanishes(identity)


@pytest.mark.parametrize(
    "difference",
    [
        x - y,
        sqrt(t) - t,
        exp(x) * exp(y) - exp(x * y),
        exp(z[0]) / total - exp(z[0]) / (total + 1),
        # true, but only through a relation between atoms the ring does not know: it says nothing
        sin(x) ** 2 + cos(x) ** 2 - 1,
        log(x * y) - log(x) - log(y),
    ],
)
def test_the_ring_proves_nothing_else(difference):
    assert not zero_over_one_denominator(difference)


W = IndexedBase("W")
k = Symbol("k", integer=True, positive=True)


@pytest.mark.parametrize(
    "expr, wrt",
    [
        (exp(z[0]) / total, z[0]),
        (exp(z[0]) / total, z[1]),
        (log(total) * z[2] ** 3 / sqrt(1 + z[1] ** 2), z[1]),
        (erf(x / sqrt(2)) * x + tanh(x * y) ** 2 + x**y, x),
        (Sum(exp(W[k, 1] * x) / (1 + W[k, 2] ** 2), (k, 1, 5)), W[3, 2]),
        # functions with derivatives of their own (huber's and l1's): SymPy's, not the chain rule's
        (Abs(z[0] - z[1]) + Abs(z[0]) * z[1], z[0]),
        (Piecewise((z[0] ** 2 / 2, Abs(z[0]) < 1), (Abs(z[0]) - Rational(1, 2), True)) * z[1], z[0]),
    ],
)
def test_the_proofs_differentiate_as_sympy_does(expr, wrt):
    memo = {}
    assert vanishes(direct(expr, wrt, memo) - partial(expr, wrt))
    assert memo  # each subexpression's derivative kept, for the next row
