"""Stable lowering, the probe and the check's domain: rules proven, overflow refused in one line."""

import numpy as np
import pytest
from sympy import Symbol, exp, log

from derive import derive, emit
from derive.codegen.domain import restricted
from derive.codegen.lowering import RULES, proven
from derive.errors import NotApplicable
from derive.userdefined import user_function

from .generated import load


def test_every_rule_is_an_identity_and_a_false_one_is_refused():
    assert len(RULES) >= 4
    x = Symbol("x", real=True)
    with pytest.raises(AssertionError, match="not an identity"):
        proven("wrong", log(1 + exp(x)), x)


@pytest.mark.parametrize(
    "source, at, expected",
    [
        ("z[i]*sigmoid(z[i])", [-1e3, 1e3, -1e4], [0.0, 1e3, 0.0]),
        ("log((exp(z[i]) + exp(-z[i]))/2)", [1e3, -1e4], [1e3 - np.log(2), 1e4 - np.log(2)]),
        (
            "exp(-z[i]**2)/sum(exp(-z[k]**2), k)",
            [30.0, 31.0],
            [1 / (1 + np.exp(-61.0)), 1 / (1 + np.exp(61.0))],
        ),
    ],
)
def test_lowered_code_is_finite_where_the_function_is(tmp_path, source, at, expected):
    module = load(emit(derive(user_function(source, "f")), "numpy"), tmp_path, "f")
    z = np.array(at)
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-6)):
        got = module.f(z.astype(dtype))
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-300)
        assert np.all(np.isfinite(module.f_jacobian(z.astype(dtype))))


def test_the_probe_refuses_code_that_overflows_where_the_function_is_finite():
    d = derive(user_function("sqrt(exp(2*z[i]) + 1) - exp(z[i])", "f"))
    with pytest.raises(NotApplicable) as caught:
        emit(d, "numpy")
    message = str(caught.value)
    assert message.startswith("cannot emit stable code:") and "\n" not in message
    assert "exp(" in message and "overflows float64" in message


@pytest.mark.parametrize(
    "source, needs",
    [
        ("log(z[i])", "log(z[i])"),
        ("sqrt(z[i])", "sqrt(z[i])"),
        ("1/z[i]", None),
        ("z[i]/sqrt(sum(z[k]**2, k))", None),
        ("log(sum(exp(z[k]), k))", None),
        ("(z[i] + sqrt(z[i]**2 + 4))/2", None),
    ],
)
def test_the_domain_is_found_from_the_definition(source, needs):
    assert restricted(user_function(source).definition) == needs
