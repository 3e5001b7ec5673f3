"""An independent oracle: JAX's autodiff of each function written from its formula, in float64.

Every registered function is written here once more, by hand, in jax.numpy (not from derive's
definition or output); JAX differentiates it. derive's explicit Jacobians (gradients and Hessians for
a scalar) at several n, and the generated modules, must agree with it to rounding.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.special import logsumexp

from derive import derive, emit
from derive.engine.registry import functions, one_input
from derive.notation.symbols import vector
from tests.generated import load
from tests.numeric import evaluate, named_values

jax.config.update("jax_enable_x64", True)

T = 1.5  # the temperature, where a function has one

# f(z, y) for one row z (y the target, where the function has one), from the textbook formula.
FORMULAS = {
    "softmax": lambda z, y: jax.nn.softmax(z),
    "log_softmax": lambda z, y: jax.nn.log_softmax(z),
    "softmax_t": lambda z, y: jax.nn.softmax(z / T),
    "sigmoid": lambda z, y: jax.nn.sigmoid(z),
    "tanh": lambda z, y: jnp.tanh(z),
    "softplus": lambda z, y: jax.nn.softplus(z),
    "gelu": lambda z, y: jax.nn.gelu(z, approximate=False),
    "l2_normalize": lambda z, y: z / jnp.linalg.norm(z),
    "layer_norm": lambda z, y: (z - jnp.mean(z)) / jnp.std(z),
    "logsumexp": lambda z, y: logsumexp(z),
    "softmax_cross_entropy": lambda z, y: -jnp.sum(y * jax.nn.log_softmax(z)),
}
NAMES = sorted(one_input())
SIZES = (2, 3, 6)
TOLERANCE = 1e-10


def test_every_registered_function_has_a_formula_here():
    assert set(FORMULAS) == set(NAMES)


def _point(name, size, seed):
    """z, and y a random probability vector (Σ_k y_k = 1, as the cross-entropy assumes)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(size) * 2
    y = rng.dirichlet(np.ones(size))
    return z, y


def _scalar(name) -> bool:
    return derive(name).kind == "scalar"


def _close(actual, expected):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape
    assert np.abs(actual - expected).max() <= TOLERANCE * max(1.0, np.abs(expected).max())


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", NAMES)
def test_derived_jacobian_agrees_with_jax(name, size):
    fn = functions()[name]
    d = derive(name, n=size, params={p: "3/2" for p in fn.parameter_names})
    for seed in (0, 1):
        z, y = _point(name, size, seed)
        data = {vector("y"): y} if name == "softmax_cross_entropy" else {}
        f = FORMULAS[name]
        if d.kind == "vector":
            values = named_values(d.spelled, z, size, data)
            derived = [
                [evaluate(d.jacobian[a, b], values, z, data) for b in range(size)] for a in range(size)
            ]
            _close(derived, jax.jacfwd(f)(jnp.asarray(z), jnp.asarray(y)))
            continue
        values = named_values(d.hessian.spelled, z, size, data)
        gradient = [evaluate(d.jacobian[a, 0], values, z, data) for a in range(size)]
        _close(gradient, jax.grad(f)(jnp.asarray(z), jnp.asarray(y)))
        hessian = [
            [evaluate(d.hessian.jacobian[a, b], values, z, data) for b in range(size)] for a in range(size)
        ]
        _close(hessian, jax.hessian(f)(jnp.asarray(z), jnp.asarray(y)))


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    """Each function's generated NumPy module, for any n and for n = 4, loaded by path."""
    folder = tmp_path_factory.mktemp("jax_oracle")
    return {
        (name, n): load(emit(derive(name, n=n)), folder, f"{name}_{n}") for name in NAMES for n in (None, 4)
    }


@pytest.mark.parametrize("n", [None, 4])
@pytest.mark.parametrize("name", NAMES)
def test_generated_module_agrees_with_jax(modules, name, n):
    module = modules[(name, n)]
    keywords = {p: T for p in functions()[name].parameter_names}
    f = FORMULAS[name]
    rows = 3
    for size in [4] if n else [2, 5, 8]:
        rng = np.random.default_rng(size)
        z = rng.standard_normal((rows, size)) * 3
        v = rng.standard_normal((rows, size))
        y = rng.dirichlet(np.ones(size), size=rows)
        zj, yj, vj = jnp.asarray(z), jnp.asarray(y), jnp.asarray(v)
        if _scalar(name):
            args = (y,) if name == "softmax_cross_entropy" else ()
            L = jax.vmap(f)(zj, yj)
            H = jax.vmap(jax.hessian(f))(zj, yj)
            _close(getattr(module, name)(z, *args), L)
            _close(getattr(module, f"{name}_grad")(z, *args), jax.vmap(jax.grad(f))(zj, yj))
            _close(getattr(module, f"{name}_hessian")(z, *args), H)
            _close(getattr(module, f"{name}_hvp")(z, *args, v), np.einsum("rij,rj->ri", H, v))
            continue
        J = jax.vmap(jax.jacrev(f))(zj, yj)
        _close(getattr(module, name)(z, **keywords), jax.vmap(f)(zj, yj))
        _close(getattr(module, f"{name}_jacobian")(z, **keywords), J)
        pullback = jax.vmap(lambda a, b, g: jax.vjp(lambda x: f(x, b), a)[1](g)[0])(zj, yj, vj)
        pushed = jax.vmap(lambda a, b, t: jax.jvp(lambda x: f(x, b), (a,), (t,))[1])(zj, yj, vj)
        _close(getattr(module, f"{name}_vjp")(z, v, **keywords), pullback)
        _close(getattr(module, f"{name}_jvp")(z, v, **keywords), pushed)
