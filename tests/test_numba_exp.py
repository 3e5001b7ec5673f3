"""The Numba kernels' exp: one-sided only where SymPy proves the argument ≤ 0, and either one checked
against NumPy's exp over its whole domain (subnormal results, −inf, NaN) by --check."""

import types

import numpy as np
import pytest
from sympy import IndexedBase, Max, Symbol

from derive import check, derive, emit
from derive.checking import exps
from derive.codegen import numba_exp
from derive.codegen.ranges import nonpositive
from derive.notation.symbols import i
from tests.generated import load

numba = pytest.importorskip("numba")

z, e = IndexedBase("z", real=True), IndexedBase("e", real=True)
M, T = Symbol("max_z"), Symbol("T", positive=True)


@pytest.mark.parametrize(
    "u, proven",
    [
        (z[i] - M, True),  # the max shift
        ((z[i] - M) / T, True),  # a temperature, positive
        (2 * z[i] - 2 * M, True),
        (e[i], True),  # a named entry, read through its definition z_i − M
        (-z[i] - Max(0, -z[i]), True),  # sigmoid's shift by its own largest exponent
        (-Max(0, z[i]), True),
        (z[i], False),
        (M - z[i], False),
        (z[i] - M + 1, False),
        (-z[i] - Max(0, z[i]), False),  # Max(0, z) ≥ 0 does not bound −z
        ((z[i] - M) * Symbol("c", real=True), False),  # a factor of either sign
    ],
)
def test_nonpositive_is_proven_only_where_it_holds(u, proven):
    assert nonpositive(u, {M: z[i]}, {"e": z[i] - M}) is proven


def test_shifted_exponents_call_the_one_sided_exp_and_others_do_not(run):
    softmax = emit(derive("softmax"), "numba")
    assert "_exp_nonpositive(z[i] - max_z)" in softmax and "def _exp(" not in softmax
    quotient = run("expr", "exp(z[i])/sum(exp(z[k]),k)", "--emit", "numba")
    assert quotient.exit_code == 0 and "_exp_nonpositive(" in quotient.stdout
    growing = run("expr", "z[i]*exp(z[i])", "--emit", "numba")
    assert growing.exit_code == 0 and "_exp(z[i])" in growing.stdout
    assert "_exp_nonpositive" not in growing.stdout  # z_i may be positive: the two-sided exp only


def test_both_exps_match_numpy_to_an_ulp_over_their_domains(tmp_path, run):
    one_sided = load(emit(derive("softmax"), "numba"), tmp_path, "softmax_nb")
    found = exps.checks(one_sided)
    assert [c.name.split("(")[0] for c in found] == ["_exp_nonpositive64", "_exp_nonpositive32"]
    assert all(c.passed and c.error <= 1.0 for c in found), found
    f = one_sided._exp_nonpositive64
    assert f(-np.inf) == 0.0 and f(-746.0) == 0.0 and np.isnan(f(np.nan)) and f(0.0) == 1.0
    assert f(-740.0) == np.exp(-740.0) > 0  # a subnormal result, rounded once
    x = numba_exp.function(True).highest
    assert abs(f(x) - np.exp(x)) <= np.spacing(np.exp(x))  # exact past 0, where rounding may land
    f32 = one_sided._exp_nonpositive32
    assert f32(np.float32(-104.0)) == 0 and f32(np.float32(-100.0)) == np.float32(np.exp(-100.0)) > 0
    assert isinstance(f32(np.float32(-1.0)), float) and np.isnan(f32(np.float32(np.nan)))
    growing = run("expr", "z[i]*exp(z[i])", "--emit", "numba").stdout
    two_sided = load(growing, tmp_path, "growing_nb")
    found = exps.checks(two_sided)
    assert [c.name.split("(")[0] for c in found] == ["_exp64", "_exp32"] and all(c.passed for c in found)
    assert two_sided._exp64(np.inf) == np.inf and two_sided._exp64(710.0) == np.inf
    assert two_sided._exp32(np.float32(89.0)) == np.inf


def test_float32_rows_compute_in_float32_and_float64_rows_in_float64(tmp_path):
    """The kernel's exp is chosen by its argument's type; a row scalar is rounded to the row's dtype."""
    module = load(emit(derive("softmax"), "numba"), tmp_path, "softmax_nb")
    rng = np.random.default_rng(7)
    z = 5 * rng.standard_normal((4, 33))
    g = rng.standard_normal(z.shape)
    s = np.exp(z - z.max(-1, keepdims=True))
    s /= s.sum(-1, keepdims=True)
    expected = s * (g - (g * s).sum(-1, keepdims=True))
    np.testing.assert_allclose(module.softmax_vjp(z, g), expected, rtol=1e-13, atol=1e-15)
    low = module.softmax_vjp(z.astype(np.float32), g.astype(np.float32))
    assert low.dtype == np.float32
    np.testing.assert_allclose(low, expected, rtol=0, atol=2e-6)
    signatures = [str(sig) for sig in module._exp_nonpositive32.nopython_signatures]
    assert signatures == ["(float32,) -> float32"]  # called by the float32 kernel, in float32


def test_the_check_fails_an_exp_clamped_short_of_underflow():
    """An exp that stops at −700 (as a hand kernel may) returns e^−700 for e^−800: the check says so."""
    import math

    clamped = types.SimpleNamespace(_exp_nonpositive64=lambda x: math.exp(max(x, -700.0)))
    (found,) = exps.checks(clamped)
    assert not found.passed and found.error > 1e6
    wrong_nan = types.SimpleNamespace(_exp64=lambda x: 0.0 if x != x else math.exp(min(x, 709.0)))
    (found,) = exps.checks(wrong_nan)
    assert not found.passed and np.isnan(found.error)


def test_check_reports_the_exp_row():
    report = check(derive("softmax", n=3), "numba")
    assert report.passed, str(report)
    assert any(c.name.startswith("_exp_nonpositive32(x) = np.exp(x)") for c in report.checks)
