"""Layer normalisation without the affine part: zero mean, unit variance."""

from sympy import Symbol, sqrt

from derive.notation.function import Function
from derive.notation.symbols import i, k, n, total, z

mu, sigma = Symbol("mu", positive=True), Symbol("sigma", positive=True)

FUNCTION = Function(
    name="layer_norm",
    title="Layer normalisation",
    titles={"zh": "层归一化", "zh-Hant": "層正規化"},
    description="The input centred by its mean and scaled by its standard deviation.",
    definition=(z[i] - mu) / sigma,
    where=(("mu", total(z[k], k) / n), ("sigma", sqrt(total((z[k] - mu) ** 2, k) / n))),
)
