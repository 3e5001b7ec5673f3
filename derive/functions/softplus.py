"""Softplus, a smooth ReLU, applied elementwise."""

from sympy import exp, log

from derive.notation.function import Function
from derive.notation.symbols import i, z

FUNCTION = Function(
    name="softplus",
    title="Softplus",
    titles={"zh": "Softplus"},
    description="A smooth ReLU, elementwise: the log of one plus the exponential.",
    definition=log(1 + exp(z[i])),
)
