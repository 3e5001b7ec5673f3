"""Log-softmax: the logarithm of softmax, as used inside the cross-entropy loss."""

from sympy import exp, log

from derive.notation.function import Function
from derive.notation.symbols import i, k, total, vector, z

s = vector("s")

FUNCTION = Function(
    name="log_softmax",
    title="Log-softmax",
    titles={"zh": "对数 softmax", "zh-Hant": "對數 softmax"},
    description="The logarithm of softmax: log-probabilities from scores.",
    definition=log(s[i]),
    output="ell",
    where=(("s", exp(z[i]) / total(exp(z[k]), k)),),
)
