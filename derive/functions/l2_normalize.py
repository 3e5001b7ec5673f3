"""L2 normalisation: the input scaled to unit Euclidean length."""

from sympy import Symbol, sqrt

from derive.notation.function import Function
from derive.notation.symbols import i, k, total, z

r = Symbol("r", positive=True)

FUNCTION = Function(
    name="l2_normalize",
    title="L2 normalisation",
    titles={"zh": "L2 归一化", "zh-Hant": "L2 正規化"},
    description="The input divided by its Euclidean norm.",
    definition=z[i] / r,
    where=(("r", sqrt(total(z[k] ** 2, k))),),
)
