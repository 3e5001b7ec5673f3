"""The logistic sigmoid, applied elementwise."""

from sympy import exp

from derive.notation.function import Function
from derive.notation.symbols import i, z

FUNCTION = Function(
    name="sigmoid",
    title="Sigmoid",
    titles={"zh": "Sigmoid"},
    description="The logistic function, elementwise: squashes each score between zero and one.",
    definition=1 / (1 + exp(-z[i])),
)
