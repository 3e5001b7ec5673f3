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
        # log(x·Σ_k e^{z_k}) = log x + log Σ_k e^{z_k} for any x (the sum is positive): log-sum-exp meets it
        ("log(z[i]**2*sum(exp(z[k]), k))", [1e3, -2e3], [2 * np.log(1e3) + 1e3, 2 * np.log(2e3) + 1e3]),
        # σ(z) = e^{−M}·r with r in [1/2, 1] (its sum shifted by M = max(0, −z)): the row sum of them is
        # shifted by the largest −M, where σ(z_k) alone underflows to 0/0 in float64 at z ≪ 0
        (
            "sigmoid(z[i])/sum(sigmoid(z[k]), k)",
            [-1e3, -1e3 - 1.0],
            [1 / (1 + np.exp(-1.0)), np.exp(-1.0) / (1 + np.exp(-1.0))],
        ),
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


def test_where_the_form_in_outputs_overflows_the_derivative_in_z_is_emitted_and_said(tmp_path):
    # ∂s_i/∂z_j in the outputs is e^{−Σz²/2}(δ_ij − e^{Σz²} s_i s_j): e^{Σz²} overflows at |z| ~ 30.
    d = derive(user_function("z[i]*exp(-sum(z[k]**2, k)/2)", "f"))
    assert d.general != d.raw
    source = emit(d, "numpy")
    assert "computed from the derivative in z" in source and "overflows float32 at z = 30" in source
    module = load(source, tmp_path, "f")
    for scale in (1.0, 30.0):
        z = scale * np.array([0.83, -0.47, 0.29])
        w = np.exp(-np.sum(z**2) / 2)
        want = w * (np.eye(3) - np.outer(z, z))
        got = module.f_jacobian(z)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
        g = np.array([0.3, -1.0, 2.0])
        np.testing.assert_allclose(module.f_vjp(z, g), g @ want, rtol=1e-12, atol=1e-300)


def test_a_form_in_outputs_that_is_stable_is_kept():
    source = emit(derive(user_function("exp(z[i])/sum(exp(z[k]), k)", "f")), "numpy")
    assert "derivative in z" not in source


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_vjp_and_jvp_of_a_shifted_quotient_stay_finite(tmp_path, sign):
    # z·softmax(z): its VJP has Σ_k e^{z_k} beside e^{z_i − 2M}; each sum is shifted by its own max.
    module = load(
        emit(derive(user_function("z[i]*exp(z[i])/sum(exp(z[k]), k)", "f")), "numpy"), tmp_path, "f"
    )
    z = sign * 1e3 * np.array([0.83, -0.47, 0.29])
    g = np.array([0.3, -1.0, 2.0])
    J = module.f_jacobian(z)
    assert np.all(np.isfinite(J))
    np.testing.assert_allclose(module.f_vjp(z, g), g @ J, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(module.f_jvp(z, g), J @ g, rtol=1e-12, atol=1e-12)


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


@pytest.mark.parametrize(
    "lang, said", [("en", "PyTorch's subgradient"), ("zh", "次梯度"), ("zh-Hant", "次梯度")]
)
def test_documents_state_the_kink_convention_computed_from_the_definition(lang, said):
    from derive.writeup.document import document

    text = document(derive(user_function("max(-1, min(1, z[i]))", "f")), "markdown", lang)
    assert said in text
    # SymPy's own derivative of max and min, and the step's value at the tie: θ(0) = 1/2.
    assert r"\max\left(a, b\right) = \theta\left(a - b\right)" in text
    assert r"\theta\left(0\right) = \frac{1}{2}" in text
    assert said not in document(derive("softmax"), "markdown", lang)


def test_numba_shares_the_numpy_probe_its_fallback_and_its_refusal():
    # The form in the outputs overflows (e^{Σz²} s_i s_j): the Numba kernels take the derivative in z too.
    source = emit(derive(user_function("z[i]*exp(-sum(z[k]**2, k)/2)", "f")), "numba")
    assert "computed from the derivative in z" in source and "overflows float32 at z = 30" in source
    # Both forms overflow: the Numba target refuses with the NumPy target's one line, not silently.
    d = derive(user_function("sqrt(exp(2*z[i]) + 1) - exp(z[i])", "f"))
    with pytest.raises(NotApplicable) as numpy_refusal:
        emit(d, "numpy")
    with pytest.raises(NotApplicable) as numba_refusal:
        emit(d, "numba")
    assert str(numba_refusal.value) == str(numpy_refusal.value)
    assert str(numba_refusal.value).startswith("cannot emit stable code:")
