"""Cross-entropy of softmax outputs against a target distribution y."""

from sympy import exp, log

from derive.notation.function import Function
from derive.notation.symbols import i, k, l, total, vector, y, z

s = vector("s")

FUNCTION = Function(
    name="softmax_cross_entropy",
    title="Softmax cross-entropy",
    titles={"zh": "softmax 交叉熵", "zh-Hant": "softmax 交叉熵"},
    description="The cross-entropy loss of softmax probabilities against a target distribution.",
    definition=-total(y[k] * log(s[k]), k),
    output="L",
    where=(("s", exp(z[i]) / total(exp(z[l]), l)),),
    assumptions=((total(y[k], k), 1),),
)
