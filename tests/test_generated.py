"""The generated functions as a user meets them: shapes, dtypes, bad input, NaN, autodiff, isolation."""

import os
import subprocess
import sys

import numpy as np
import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from derive import derive, emit
from derive.checking.loading import defined
from derive.codegen.module import data as scalar_data
from derive.codegen.module import parameters
from derive.notation.symbols import i, n
from tests.examples import ALL, EXAMPLES, emittable, function, is_scalar
from tests.generated import load

PARAMETER = 1.5
VECTOR = [name for name in ALL if not is_scalar(name)]  # hypothesis draws from a fixed list
SCALAR = [name for name in ALL if is_scalar(name)]


@pytest.fixture(scope="module")
def softmax(tmp_path_factory):
    """The generated softmax modules: for any n, and for n = 4."""
    folder = tmp_path_factory.mktemp("softmax")
    return {
        None: load(emit(derive("softmax")), folder, "softmax_any"),
        4: load(emit(derive("softmax", n=4)), folder, "softmax4"),
    }


@pytest.fixture(scope="module")
def sigmoid(tmp_path_factory):
    return load(emit(derive(EXAMPLES["ex_sigmoid"])), tmp_path_factory.mktemp("sigmoid"), "ex_sigmoid")


def _all_four(module, name, z, g):
    return (
        getattr(module, name)(z),
        getattr(module, f"{name}_jacobian")(z),
        getattr(module, f"{name}_vjp")(z, g),
        getattr(module, f"{name}_jvp")(z, g),
    )


@pytest.mark.parametrize("shape", [(2, 5), (3,), (4, 1)])
def test_another_last_dimension_raises_a_clear_value_error(softmax, shape):
    module = softmax[4]
    for call in (module.softmax, module.softmax_jacobian):
        with pytest.raises(ValueError, match=rf"z must have shape \(\.\.\., 4\), got \({shape[0]},"):
            call(np.zeros(shape))
    with pytest.raises(ValueError, match=r"z must have shape \(\.\.\., 4\), got \(\)"):
        module.softmax_vjp(1.0, 1.0)


def test_a_scalar_or_an_empty_vector_raises_for_any_n(softmax):
    for z in (np.float64(1.0), np.zeros((3, 0))):
        with pytest.raises(ValueError, match=r"z must have shape \(\.\.\., n\) with n >= 1"):
            softmax[None].softmax_jacobian(z)


@pytest.mark.parametrize("n", [None, 4])
def test_g_and_v_must_have_the_shape_of_z(softmax, n):
    module = softmax[n]
    with pytest.raises(ValueError, match=r"g must have the shape of z, \(2, 4\), got \(4,\)"):
        module.softmax_vjp(np.zeros((2, 4)), np.zeros(4))
    with pytest.raises(ValueError, match=r"v must have the shape of z, \(4,\), got \(2, 4\)"):
        module.softmax_jvp(np.zeros(4), np.zeros((2, 4)))


@pytest.mark.parametrize("n", [None, 4])
def test_integers_and_booleans_are_converted_to_float64(softmax, n):
    module = softmax[n]
    as_int = _all_four(module, "softmax", np.arange(4), np.ones(4, dtype=int))
    as_float = _all_four(module, "softmax", np.arange(4.0), np.ones(4))
    for a, b in zip(as_int, as_float, strict=True):
        assert a.dtype == np.float64 and np.array_equal(a, b)
    assert module.softmax(np.array([True, False, True, True])).dtype == np.float64
    # An integer g takes z's dtype: float32 stays float32.
    assert module.softmax_vjp(np.zeros(4, np.float32), np.ones(4, dtype=int)).dtype == np.float32


@pytest.mark.parametrize("n", [None, 4])
def test_nan_makes_its_row_nan_and_leaves_other_rows_alone(softmax, n):
    z = np.array([[1.0, np.nan, 2.0, 0.0], [0.0, 1.0, 2.0, 3.0]])
    for result in _all_four(softmax[n], "softmax", z, np.ones_like(z)):
        assert np.isnan(result[0]).all() and np.isfinite(result[1]).all()


def test_nan_in_an_elementwise_function_stays_in_its_entry(sigmoid):
    z = np.array([0.5, np.nan, -1.0])
    s, J, gJ, Jv = _all_four(sigmoid, "ex_sigmoid", z, np.ones(3))
    for vector in (s, gJ, Jv):
        assert np.isnan(vector).tolist() == [False, True, False]
    assert np.isnan(J).sum() == 1 and np.isnan(J[1, 1])


@pytest.mark.parametrize("n", [None, 4])
@pytest.mark.parametrize("batch", [(0,), (2, 0), (0, 3)])
def test_an_empty_batch_gives_empty_results(softmax, n, batch):
    z = np.zeros(batch + (4,), dtype=np.float32)
    s, J, gJ, Jv = _all_four(softmax[n], "softmax", z, z)
    assert s.shape == gJ.shape == Jv.shape == z.shape and J.shape == z.shape + (4,)
    assert {a.dtype for a in (s, J, gJ, Jv)} == {np.dtype(np.float32)}


@settings(max_examples=60, deadline=None)
@given(
    batch=st.lists(st.integers(0, 3), max_size=3).map(tuple),
    size=st.integers(1, 6),
    dtype=st.sampled_from([np.float32, np.float64]),
    scale=st.sampled_from([1.0, 10.0, 1e3, 1e4]),
    offset=st.sampled_from([0.0, 1e4, -1e4]),
    seed=st.integers(0, 2**32 - 1),
)
def test_shapes_dtypes_and_values_hold_for_any_batch_dtype_and_scale(
    softmax, batch, size, dtype, scale, offset, seed
):
    rng = np.random.default_rng(seed)
    z = (offset + scale * rng.standard_normal(batch + (size,))).astype(dtype)
    g = rng.standard_normal(z.shape).astype(dtype)
    module = softmax[None] if size != 4 else softmax[4]
    s, J, gJ, Jv = _all_four(module, "softmax", z, g)
    assert s.shape == gJ.shape == Jv.shape == z.shape and J.shape == z.shape + (size,)
    assert {a.dtype for a in (s, J, gJ, Jv)} == {np.dtype(dtype)}
    assert all(np.isfinite(a).all() for a in (s, J, gJ, Jv))
    assert np.allclose(s.sum(axis=-1), 1, atol=1e-5) and (s >= 0).all()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.allclose(gJ, np.einsum("...i,...ij->...j", g, J), atol=tol)
    assert np.allclose(Jv, np.einsum("...ij,...j->...i", J, g), atol=tol)
    reference = _all_four(module, "softmax", z.astype(np.float64), g.astype(np.float64))
    for low, high in zip((s, J, gJ, Jv), reference, strict=True):
        assert np.allclose(low, high, atol=1e-5 if dtype == np.float32 else 0)
    if z.size:  # batching: the first vector alone gives the first result
        first = (0,) * len(batch)
        assert np.array_equal(module.softmax_jacobian(z[first]), J[first])


@pytest.fixture(scope="module")
def every(tmp_path_factory):
    """Every function's module for any n, with its parameters filled in."""
    folder = tmp_path_factory.mktemp("every")
    found = {}
    for name in VECTOR:
        d = derive(function(name))
        found[name] = (load(emit(d), folder, name), {p: PARAMETER for p in parameters(d)})
    return found


@settings(max_examples=80, deadline=None)
@given(
    name=st.sampled_from(VECTOR),
    batch=st.lists(st.integers(0, 3), max_size=2).map(tuple),
    size=st.integers(1, 5),
    dtype=st.sampled_from([np.float32, np.float64]),
    scale=st.sampled_from([1.0, 10.0, 1e4]),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_function_keeps_shape_dtype_finiteness_and_consistency(
    every, name, batch, size, dtype, scale, seed
):
    module, keywords = every[name]
    assume(defined(derive(function(name)), size))  # layer norm at n = 1 is 0/0
    rng = np.random.default_rng(seed)
    z = (scale * rng.standard_normal(batch + (size,))).astype(dtype)
    g = rng.standard_normal(z.shape).astype(dtype)
    s, J, gJ, Jv = (
        getattr(module, name)(z, **keywords),
        getattr(module, f"{name}_jacobian")(z, **keywords),
        getattr(module, f"{name}_vjp")(z, g, **keywords),
        getattr(module, f"{name}_jvp")(z, g, **keywords),
    )
    assert s.shape == gJ.shape == Jv.shape == z.shape and J.shape == z.shape + (size,)
    assert {a.dtype for a in (s, J, gJ, Jv)} == {np.dtype(dtype)}
    assert all(np.isfinite(a).all() for a in (s, J, gJ, Jv))
    scale_J = np.abs(J).max(initial=1.0)
    tol = (1e-5 if dtype == np.float32 else 1e-12) * scale_J * size
    assert np.allclose(gJ, np.einsum("...i,...ij->...j", g, J), rtol=0, atol=tol)
    assert np.allclose(Jv, np.einsum("...ij,...j->...i", J, g), rtol=0, atol=tol)


@pytest.mark.parametrize("n", [None, 4])
def test_the_module_imports_and_runs_where_sympy_and_derive_cannot_be_imported(n, tmp_path):
    (tmp_path / "softmax_gen.py").write_text(emit(derive("softmax", n=n)), encoding="utf-8")
    (tmp_path / "sympy.py").write_text("raise ImportError('sympy must not be imported')\n", encoding="utf-8")
    script = (
        "import sys\n"
        "sys.modules['derive'] = None\n"
        "import numpy as np\n"
        "import softmax_gen as m\n"
        "z = np.array([[1.0, 2.0, 3.0, 4.0]])\n"
        "J = m.softmax_jacobian(z)\n"
        "assert 'sympy' not in sys.modules or sys.modules['sympy'] is None\n"
        "print(round(float(J[0, 0, 0]), 12), m.softmax_vjp(z, z).shape, m.softmax_jvp(z, z).shape)\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    s1 = np.exp(1) / np.exp([1, 2, 3, 4]).sum()
    assert result.stdout.split()[0] == str(round(s1 * (1 - s1), 12))


def _torch():
    return pytest.importorskip("torch", reason="torch is not installed (pip install torch==2.13.0)")


def _irrational(e):
    return e.is_Pow and e.is_number and not e.is_Rational


def _definition_in_torch(fn, size):
    """F from the definition alone, through SymPy's torch printer: an oracle independent of the emitter."""
    d = derive(fn)
    xs = sympy.symbols(f"x1:{size + 1}", real=True)
    values = {sympy.Symbol(p, positive=True): PARAMETER for p in parameters(d)}
    rows = [
        d.definition.xreplace({i: a, n: size}).doit().xreplace({d.input[b + 1]: xs[b] for b in range(size)})
        for a in range(1, size + 1)
    ]
    # Constants as floats (√2 in GELU, √n in layer norm): torch.sqrt takes tensors only.
    rows = [row.xreplace(values).replace(_irrational, lambda e: e.evalf(17)) for row in rows]
    function = sympy.lambdify(xs, rows, modules="torch")
    return lambda z: _torch().stack(list(function(*z)))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")  # raised inside torch.func
@pytest.mark.parametrize("name", VECTOR)
def test_agrees_with_torch_autodiff_to_1e_12(name, tmp_path):
    torch = _torch()
    size = 5
    d = emittable(name)
    fn = d.function
    module = load(emit(d), tmp_path, name)
    keywords = {p: PARAMETER for p in parameters(derive(fn))}
    reference = _definition_in_torch(fn, size)
    rng = np.random.default_rng(7)
    for _ in range(3):
        z, g, v = rng.standard_normal((3, size))
        J = torch.func.jacrev(reference)(torch.tensor(z, dtype=torch.float64)).numpy()
        _, pullback = torch.func.vjp(reference, torch.tensor(z))
        _, pushed = torch.func.jvp(reference, (torch.tensor(z),), (torch.tensor(v),))
        assert np.abs(getattr(module, f"{name}_jacobian")(z, **keywords) - J).max() < 1e-12
        assert (
            np.abs(
                getattr(module, f"{name}_vjp")(z, g, **keywords) - pullback(torch.tensor(g))[0].numpy()
            ).max()
            < 1e-12
        )
        assert np.abs(getattr(module, f"{name}_jvp")(z, v, **keywords) - pushed.numpy()).max() < 1e-12


def test_softmax_agrees_with_torch_softmax_and_jacrev(softmax):
    torch = _torch()
    rng = np.random.default_rng(11)
    z = rng.standard_normal((6, 4)) * 3
    for module in softmax.values():
        J = torch.func.vmap(torch.func.jacrev(lambda t: torch.softmax(t, dim=-1)))(torch.tensor(z)).numpy()
        assert np.abs(module.softmax_jacobian(z) - J).max() < 1e-12
        assert np.abs(module.softmax(z) - torch.softmax(torch.tensor(z), dim=-1).numpy()).max() < 1e-15


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
@pytest.mark.parametrize("name", SCALAR)
@pytest.mark.parametrize("n", [None, 5])
def test_scalar_functions_agree_with_torch_grad_and_hessian(name, n, tmp_path):
    torch = _torch()
    size = 5
    d = emittable(name, n)
    module = load(emit(d), tmp_path, name)
    rng = np.random.default_rng(3)
    for _ in range(3):
        z, v = rng.standard_normal((2, size)) * 3
        y = rng.dirichlet(np.ones(size))  # a probability vector: Σ_k y_k = 1, as the loss assumes
        data = {name: y for name in scalar_data(d)}
        ys = [torch.tensor(a) for a in data.values()]
        reference = _scalar_in_torch(d, size, data)
        t = torch.tensor(z)
        assert abs(getattr(module, name)(z, *data.values()) - reference(t, *ys).item()) < 1e-12
        grad = torch.func.grad(reference)(t, *ys).numpy()
        H = torch.func.hessian(reference)(t, *ys).numpy()
        assert np.abs(getattr(module, f"{name}_grad")(z, *data.values()) - grad).max() < 1e-12
        assert np.abs(getattr(module, f"{name}_hessian")(z, *data.values()) - H).max() < 1e-12
        assert np.abs(getattr(module, f"{name}_hvp")(z, *data.values(), v) - H @ v).max() < 1e-12


def _scalar_in_torch(d, size, data):
    """L from the definition alone, in torch: the oracle for gradient and Hessian."""
    xs = sympy.symbols(f"x1:{size + 1}", real=True)
    ts = sympy.symbols(f"t1:{size + 1}", real=True)
    expr = d.definition.xreplace({n: size}).doit().xreplace({d.input[b + 1]: xs[b] for b in range(size)})
    expr = expr.xreplace(
        {sympy.IndexedBase(name, real=True)[b + 1]: ts[b] for name in data for b in range(size)}
    )
    function = sympy.lambdify([xs, ts], expr, modules="torch")
    return lambda z, *ys: function(list(z), list(ys[0]) if ys else [0.0] * size)


def test_cross_entropy_stays_finite_where_softmax_underflows(tmp_path):
    module = load(emit(derive("softmax_cross_entropy")), tmp_path, "ce")
    z = np.array([[0.0, -800.0, 5.0], [1e4, -1e4, 0.0]])
    y = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    L = module.softmax_cross_entropy(z, y)
    # log softmax_2 = −800 − log(1 + e^−800 + e^5) = −805 − log1p(e^−5 + e^−805), though softmax_2 is 0.
    assert (
        np.isfinite(L).all() and abs(L[0] - (805 + np.log1p(np.exp(-805.0)) + np.log1p(np.exp(-5.0)))) < 1e-9
    )
    assert abs(L[1] - 1e4) < 1e-9
    assert np.allclose(module.softmax_cross_entropy_grad(z, y).sum(axis=-1), 0)
    with pytest.raises(ValueError, match=r"y must have the shape of z"):
        module.softmax_cross_entropy(z, y[0])


def test_logsumexp_module_shapes_and_dtypes(tmp_path):
    module = load(emit(derive("logsumexp")), tmp_path, "lse")
    z = np.zeros((2, 0, 3), dtype=np.float32)
    assert module.logsumexp(z).shape == (2, 0) and module.logsumexp_hessian(z).shape == (2, 0, 3, 3)
    z = np.array([1e4, 1e4, -1e4], dtype=np.float32)
    assert module.logsumexp(z).dtype == np.float32 and abs(module.logsumexp(z) - (1e4 + np.log(2))) < 1e-2
