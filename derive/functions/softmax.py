"""Softmax: exponentials normalised into a probability vector."""

from sympy import exp

from derive.notation.function import Function
from derive.notation.symbols import i, k, total, z

FUNCTION = Function(
    name="softmax",
    title="Softmax",
    titles={"zh": "Softmax"},
    description="Exponentials normalised into a probability vector.",
    definition=exp(z[i]) / total(exp(z[k]), k),
)
