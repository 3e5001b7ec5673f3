"""Log-sum-exp: a smooth maximum of the scores."""

from sympy import exp, log

from derive.registry import Function
from derive.symbols import k, total, z

FUNCTION = Function(
    name="logsumexp",
    title="Log-sum-exp",
    titles={"zh": "log-sum-exp（对数求和指数）"},
    description="A smooth maximum: the log of the sum of exponentials.",
    definition=log(total(exp(z[k]), k)),
    output="L",
)
