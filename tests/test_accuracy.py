"""Accuracy where functions saturate: the emitted derivative's relative error in float64 against mpmath."""

import mpmath
import numpy as np
import pytest
from sympy import Symbol, diff, lambdify, sympify

from derive import check, derive, emit
from derive.engine.rewrite import _solvable
from derive.userdefined import user_function
from tests.generated import load

x = Symbol("x", real=True)
# Each function of one variable applied entrywise, as derive reads it and as mpmath evaluates it.
ENTRYWISE = [
    ("sigmoid", None, "1/(1 + exp(-x))"),
    ("tanh", None, "tanh(x)"),
    ("silu", "z[i]*sigmoid(z[i])", "x/(1 + exp(-x))"),
    ("tanh_sq", "tanh(z[i])**2", "tanh(x)**2"),
]
Z = np.array([20.0, 40.0, -20.0, -40.0, 30.0])


def _relative_error(jacobian, formula):
    """max over Z of |J_ii − f′(z_i)| / |f′(z_i)|, f′ evaluated by mpmath at 50 digits."""
    derivative = lambdify(x, diff(sympify(formula, locals={"x": x}), x), "mpmath")
    got = np.diagonal(jacobian(Z))
    with mpmath.workdps(50):
        exact = [derivative(mpmath.mpf(z)) for z in Z]
    return max(abs(g - float(e)) / abs(float(e)) for g, e in zip(got, exact, strict=True))


@pytest.mark.parametrize(("name", "source", "formula"), ENTRYWISE)
def test_saturating_derivative_is_accurate_to_rounding(name, source, formula, tmp_path):
    fn = name if source is None else user_function(source, name)
    module = load(emit(derive(fn)), tmp_path, name)
    # 1 − s at z = 40 is 0 in float64 (relative error 1) where σ′(40) = 4.2e-18; 1 − tanh² likewise.
    assert _relative_error(getattr(module, f"{name}_jacobian"), formula) < 1e-13


def test_the_module_says_why_it_left_the_form_in_the_outputs(tmp_path):
    source = emit(derive("sigmoid"))
    assert "loses accuracy at ∂sigmoid/∂z" in source
    assert "from the derivative in z" in source


def test_solve_is_not_asked_for_exponentials_of_large_height_or_of_cubics():
    v = Symbol("v", real=True)
    gelu = sympify(
        "x*(1 + tanh(3989422804014327/5000000000000000*(x + 8943/200000*x**3)))/2", locals={"x": x}
    )
    assert not _solvable(gelu.xreplace({x: v}), v)
    assert not _solvable(sympify("exp(x**3)", locals={"x": x}).xreplace({x: v}), v)
    assert _solvable(sympify("1/(1 + exp(-x/2))", locals={"x": x}).xreplace({x: v}), v)


def test_check_skips_only_vectors_where_the_function_exceeds_float_range():
    d = derive(user_function("exp(z[i])*sin(z[i])", "expsin"), n=3)
    report = check(d)
    assert all(c.passed for c in report.checks), [c.name for c in report.checks if not c.passed]
    finite = next(c for c in report.checks if c.name == "finite everywhere, float64")
    assert "skipped, where the function exceeds float64" in finite.note


def test_the_probe_covers_the_vjp_and_jvp():
    from derive.codegen.probe import Overflow, probe

    d = derive("softmax", n=3)
    source = emit(d)
    # A VJP that overflows where softmax and its Jacobian are finite: the probe of F and J alone passes it.
    overflowing = "def softmax_vjp(z, g):\n    return np.exp(z) * g\n\n\ndef _old_vjp("
    broken = source.replace("def softmax_vjp(", overflowing)
    probe(d, source)
    with pytest.raises(Overflow, match="gᵀ∂softmax/∂z is finite"):
        probe(d, broken)
