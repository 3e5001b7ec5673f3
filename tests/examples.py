"""Functions the code tests define, as the registry will soon hold them: elementwise, normalising,
with a parameter, with a log of a sum. Named ex_* so that they never shadow a registered function."""

from sympy import Symbol, exp, log, sqrt, tanh

from derive import derive
from derive.engine.registry import functions, one_input
from derive.notation.function import Function
from derive.notation.symbols import i, k, n, parameter, total, z

T = parameter("T")
mu = Symbol("mu", positive=True)  # a scalar intermediate, as layer_norm writes it

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
            definition=z[i] - mu,
            where=(("mu", total(z[k], k) / n),),
        ),
        Function(
            name="ex_softplus", description="log(1 + exp(z)), entry by entry.", definition=log(1 + exp(z[i]))
        ),
    )
}

# Every registered function and every example: the code tests run over all of them.
ALL = sorted(one_input()) + sorted(EXAMPLES)


def function(name: str) -> Function:
    """The example or registered function called name."""
    return EXAMPLES.get(name) or functions()[name]


def emittable(name: str, n=None):
    """derive(name, n): every registered function and example emits code, scalar ones included."""
    return derive(function(name), n=n)


def is_scalar(name: str) -> bool:
    """Whether the function called name is a scalar L(z), emitted as L, its gradient, Hessian and HVP."""
    return derive(function(name)).kind == "scalar"
