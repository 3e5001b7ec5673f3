"""Log-sum-exp: a smooth maximum of the scores."""

from sympy import exp, log

from derive.notation.function import Function
from derive.notation.symbols import k, total, z

FUNCTION = Function(
    name="logsumexp",
    title="Log-sum-exp",
    titles={"zh": "log-sum-exp（对数求和指数）", "zh-Hant": "log-sum-exp（對數求和指數）"},
    description="A smooth maximum: the log of the sum of exponentials.",
    definition=log(total(exp(z[k]), k)),
    output="L",
)
