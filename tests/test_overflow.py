"""Generated code warns of nothing on finite input in the documented range: |z| up to 1e4."""

import warnings

import numpy as np
import pytest
import sympy

from derive import derive, emit
from derive.codegen.lowering import lower
from derive.engine.registry import functions, one_input
from tests.generated import load

NAMES = sorted(one_input())
x = sympy.Symbol("x", real=True)
# offset + scale·N(0, 1): rows of large and small entries, all of one sign or mixed, up to |z| = 1e4.
POINTS = [(0.0, 1.0), (0.0, 30.0), (0.0, 1e3), (1e4, 1.0), (-1e4, 1.0), (0.0, 1e4), (-800.0, 50.0)]


def _inputs(size, rng):
    for offset, scale in POINTS:
        z = np.clip(offset + scale * rng.standard_normal((3, size)), -1e4, 1e4)
        yield z, rng.dirichlet(np.ones(size), size=3), rng.standard_normal((3, size))


@pytest.mark.parametrize("n", [None, 4])
@pytest.mark.parametrize("name", NAMES)
def test_no_runtime_warning_up_to_1e4(name, n, tmp_path):
    d = derive(name, n=n)
    module = load(emit(d), tmp_path, name)
    keywords = {p: 1.5 for p in functions()[name].parameter_names}
    rng = np.random.default_rng(5)
    suffixes = ("", "_grad", "_hessian", "_hvp") if d.kind == "scalar" else ("", "_jacobian", "_vjp", "_jvp")
    for z, y, v in _inputs(n or 6, rng):
        data = (y,) if name == "softmax_cross_entropy" else ()
        for suffix in suffixes:
            extra = (v,) if suffix in ("_hvp", "_vjp", "_jvp") else ()
            with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
                warnings.simplefilter("error")
                result = getattr(module, name + suffix)(z, *data, *extra, **keywords)
            assert np.isfinite(result).all(), (name + suffix, z)


@pytest.mark.parametrize(
    "quotient",
    [
        1 / (1 + sympy.exp(-x)),
        sympy.exp(x) / (1 + sympy.exp(x) + sympy.exp(2 * x)),
        1 / (2 + sympy.exp(3 * x)) ** 2,
    ],
    ids=["sigmoid", "three terms", "squared"],
)
def test_a_quotient_by_a_sum_of_exponentials_is_scaled_by_its_largest_term(quotient):
    scaled = lower(quotient, shifted=False)
    assert scaled != quotient
    f = sympy.lambdify(x, scaled, "numpy")
    for value in (-1e4, -700.0, -3.0, 0.0, 0.5, 40.0, 1e4):
        with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
            warnings.simplefilter("error")
            got = f(np.float64(value))
        exact = float(quotient.subs(x, sympy.Float(value, 40)).evalf(40))
        assert abs(got - exact) <= 1e-15 * max(1.0, abs(exact)), (value, got, exact)
