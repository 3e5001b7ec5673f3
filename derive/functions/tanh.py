"""The hyperbolic tangent, applied elementwise."""

from sympy import tanh

from derive.notation.function import Function
from derive.notation.symbols import i, z

FUNCTION = Function(
    name="tanh",
    title="Tanh",
    titles={"zh": "Tanh"},
    description="The hyperbolic tangent, elementwise: squashes each score between minus one and one.",
    definition=tanh(z[i]),
)
