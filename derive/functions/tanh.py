"""The hyperbolic tangent, applied elementwise."""

from sympy import tanh

from derive.registry import Function
from derive.symbols import i, z

FUNCTION = Function(
    name="tanh",
    title="Tanh",
    titles={"zh": "Tanh"},
    description="The hyperbolic tangent, elementwise: squashes each score between minus one and one.",
    definition=tanh(z[i]),
)
