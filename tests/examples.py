"""Functions the code tests define, as the registry will soon hold them: elementwise, normalising,
with a parameter, with a log of a sum. Named ex_* so that they never shadow a registered function."""

import pytest
from sympy import exp, log, sqrt, tanh

from derive import derive
from derive.codegen import generate
from derive.errors import NotApplicable
from derive.registry import Function, functions
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

# Every registered function and every example: the code tests run over all of them.
ALL = sorted(functions()) + sorted(EXAMPLES)


def function(name: str) -> Function:
    """The example or registered function called name."""
    return EXAMPLES.get(name) or functions()[name]


def emits(name: str) -> bool:
    """Whether derive emits code for the function called name (for any n)."""
    try:
        generate(derive(function(name)), "numpy")
    except NotApplicable:
        return False
    return True


def emittable(name: str, n=None):
    """derive(name, n), skipping the test when derive says it cannot emit code for it yet."""
    d = derive(function(name), n=n)
    try:
        generate(d, "numpy")
    except NotApplicable as error:  # e.g. a scalar function: the emitter says so in one line
        pytest.skip(f"{name}: {error}")
    return d
