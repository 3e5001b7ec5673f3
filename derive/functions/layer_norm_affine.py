"""Layer normalisation with ε under the root and a learned scale γ and shift β."""

from sympy import Symbol, sqrt

from derive.notation.function import Function, Input
from derive.notation.symbols import i, k, n, parameter, total, vector, z

gamma, beta, zhat = vector("gamma"), vector("beta"), vector("zhat")
mu, sigma = Symbol("mu", positive=True), Symbol("sigma", positive=True)

FUNCTION = Function(
    name="layer_norm_affine",
    title="Layer normalisation with scale and shift",
    titles={"zh": "带缩放与平移的层归一化", "zh-Hant": "帶縮放與平移的層正規化"},
    description="The input centred and scaled by its statistics, then by a learned scale and shift.",
    definition=gamma[i] * zhat[i] + beta[i],
    where=(
        ("mu", total(z[k], k) / n),
        ("sigma", sqrt(total((z[k] - mu) ** 2, k) / n + parameter("eps"))),
        ("zhat", (z[i] - mu) / sigma),
    ),
    inputs=(Input("z"), Input("gamma"), Input("beta")),
)
