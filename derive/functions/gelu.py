"""GELU, the Gaussian error linear unit (exact, with erf), applied elementwise."""

from sympy import erf, sqrt

from derive.notation.function import Function
from derive.notation.symbols import i, z

FUNCTION = Function(
    name="gelu",
    title="GELU",
    titles={"zh": "GELU"},
    description="The Gaussian error linear unit, elementwise: each score times the normal CDF at it.",
    definition=z[i] * (1 + erf(z[i] / sqrt(2))) / 2,
)
