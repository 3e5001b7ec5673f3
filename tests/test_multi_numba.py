"""--emit numba for several inputs: the NumPy module's functions, equal to its, checked by --check."""

import types

import numpy as np
import pytest

from derive import api
from derive.checking.several import verify
from derive.engine.blocks import derive_blocks

FUNCTIONS = ("linear_softmax_cross_entropy", "layer_norm_affine", "rms_norm", "attention")
SIZES = {"n": 3, "d": 4, "h": 2}


def _module(source, name):
    module = types.ModuleType(name)
    exec(compile(source, name, "exec"), module.__dict__)
    return module


def _inputs(d, rng, batched):
    """Seeded inputs: the first input with batch axes (2, 3), the others with none or (3,), to broadcast."""
    args = []
    for k, x in enumerate(d.function.declared_inputs):
        batch = (2, 3) if k == 0 else ((3,) if batched and k % 2 else ())
        shape = batch + tuple(SIZES[dim] for dim in x.dims)
        raw = rng.standard_normal(shape)
        args.append(np.exp(raw) / np.exp(raw).sum(axis=-1, keepdims=True) if x.data else raw)
    g = rng.standard_normal((2, 3, SIZES[d.function.dim])) if d.kind == "vector" else None
    return args, g


def _close(found, expected):
    assert np.shape(found) == np.shape(expected)
    scale = max(1.0, float(np.max(np.abs(expected))))
    assert float(np.max(np.abs(np.asarray(found) - expected))) <= 1e-12 * scale


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_numba_module_equals_the_numpy_module_in_values_and_cotangents(name):
    d = derive_blocks(name)
    source = api.emit(d, "numba")
    assert "einsum" not in source and "@numba.njit(fastmath=False, cache=_CACHE)" in source
    numba_module, numpy_module = _module(source, "nb"), _module(api.emit(d, "numpy"), "np_")
    backward = f"{name}_grad" if d.kind == "scalar" else f"{name}_vjp"
    params = {p: 1e-5 for p in d.function.parameter_names}
    rng = np.random.default_rng(7)
    for batched in (False, True):
        args, g = _inputs(d, rng, batched)
        extra = [g] if g is not None else []
        _close(getattr(numba_module, name)(*args, **params), getattr(numpy_module, name)(*args, **params))
        found = getattr(numba_module, backward)(*args, *extra, **params)
        expected = getattr(numpy_module, backward)(*args, *extra, **params)
        names = [x.name for x in d.function.declared_inputs]
        chosen = [args[names.index(b.input.name)] for b in d.blocks]
        differentiated = [x for x in d.function.declared_inputs if not x.data]
        assert len(found) == len(expected) == len(chosen) == len(differentiated)
        for a, b, x in zip(found, expected, chosen, strict=True):
            assert np.shape(a) == np.shape(x)
            _close(a, b)


def test_wrt_one_input_returns_that_cotangent_alone_equal_to_numpy():
    d = derive_blocks("attention", wrt=["K"])
    numba_module = _module(api.emit(d, "numba"), "nb")
    numpy_module = _module(api.emit(d, "numpy"), "np_")
    args, g = _inputs(d, np.random.default_rng(3), True)
    found = numba_module.attention_vjp(*args, g)
    assert isinstance(found, np.ndarray) and found.shape == args[1].shape
    _close(found, numpy_module.attention_vjp(*args, g))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_emit_numba_check_passes_and_compares_with_the_numpy_module(run, name):
    result = run(name, "--emit", "numba", "--check")
    assert result.exit_code == 0, result.stderr
    assert "vs the NumPy module" in result.stdout + result.stderr
    assert "passed" in result.stdout + result.stderr


def test_a_wrong_numba_module_fails_the_comparison_with_the_numpy_module():
    d = derive_blocks("rms_norm")
    source = api.emit(d, "numba")
    wrong = source.replace("gamma_out[row] = ", "gamma_out[row] = 1.0001 * ", 1)
    assert wrong != source
    report = verify(d, wrong, reference=api.emit(d, "numpy"))
    assert not report.passed
    # Both sizes, float64 and float32 in: every comparison with the NumPy module fails.
    assert [c.passed for c in report.checks if "NumPy module" in c.name] == [False] * 4


def test_float32_inputs_stay_float32():
    d = derive_blocks("rms_norm")
    source = api.emit(d, "numba")
    module = _module(source, "nb")
    args, g = _inputs(d, np.random.default_rng(5), True)
    small = [x.astype(np.float32) for x in args]
    found = module.rms_norm_vjp(*small, g.astype(np.float32), eps=1e-5)
    assert all(x.dtype == np.float32 for x in found)
    assert module.rms_norm(small[0], args[1], eps=1e-5).dtype == np.float64  # one float64 input: float64
