"""RMS normalisation: the input divided by its root mean square (ε under the root), times a learned scale."""

from sympy import Symbol, sqrt

from derive.notation.function import Function, Input
from derive.notation.symbols import i, k, n, parameter, total, vector, z

gamma, r = vector("gamma"), Symbol("r", positive=True)

FUNCTION = Function(
    name="rms_norm",
    title="RMS normalisation",
    titles={"zh": "均方根归一化", "zh-Hant": "均方根正規化"},
    description="The input divided by its root mean square, then scaled by a learned scale.",
    definition=gamma[i] * z[i] / r,
    where=(("r", sqrt(total(z[k] ** 2, k) / n + parameter("eps"))),),
    inputs=(Input("z"), Input("gamma")),
)
