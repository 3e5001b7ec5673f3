"""Cross-entropy of softmax probabilities of a linear layer z = W x + b against a target distribution y."""

from sympy import exp, log

from derive.notation.function import Function, Input
from derive.notation.symbols import d, i, k, l, matrix, total, vector, y

x, W, b, z, s = vector("x"), matrix("W"), vector("b"), vector("z"), vector("s")

FUNCTION = Function(
    name="linear_softmax_cross_entropy",
    title="Linear softmax cross-entropy",
    titles={"zh": "线性层 softmax 交叉熵", "zh-Hant": "線性層 softmax 交叉熵"},
    description="The cross-entropy of the softmax of a linear layer against a target distribution.",
    definition=-total(y[k] * log(s[k]), k),
    output="L",
    where=(("z", total(W[i, l] * x[l], l, d) + b[i]), ("s", exp(z[i]) / total(exp(z[l]), l))),
    assumptions=((total(y[k], k), 1),),
    inputs=(Input("x", ("d",)), Input("W", ("n", "d")), Input("b", ("n",)), Input("y", ("n",), data=True)),
)
