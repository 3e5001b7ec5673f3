"""Functions the code tests define, as the registry will soon hold them: elementwise, normalising,
with a parameter, with a log of a sum. Named ex_* so that they never shadow a registered function."""

from sympy import exp, log, sqrt, tanh

from derive.registry import Function
from derive.symbols import i, k, n, parameter, total, vector, z

T = parameter("T")
mu = vector("mu")

EXAMPLES = {
    fn.name: fn
    for fn in (
        Function(
            name="ex_sigmoid",
            description="The logistic sigmoid, entry by entry.",
            definition=1 / (1 + exp(-z[i])),
        ),
        Function(name="ex_tanh", description="tanh, entry by entry.", definition=tanh(z[i])),
        Function(
            name="ex_l2_normalize",
            description="z over its length.",
            definition=z[i] / sqrt(total(z[k] ** 2, k)),
        ),
        Function(
            name="ex_softmax_t",
            description="Softmax at temperature T.",
            definition=exp(z[i] / T) / total(exp(z[k] / T), k),
            parameters=(T,),
        ),
        Function(
            name="ex_log_softmax", description="log softmax.", definition=z[i] - log(total(exp(z[k]), k))
        ),
        Function(
            name="ex_center",
            description="z minus its mean, through a named intermediate.",
            definition=z[i] - mu[i],
            where=(("mu", total(z[k], k) / n),),
        ),
        Function(
            name="ex_softplus", description="log(1 + exp(z)), entry by entry.", definition=log(1 + exp(z[i]))
        ),
    )
}
