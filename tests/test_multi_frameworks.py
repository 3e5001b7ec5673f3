"""The torch and jax modules emitted for several inputs: gradcheck, torch autograd through each formula
(written here, not by derive), None for what needs no gradient, and --check."""

import types

import numpy as np
import pytest

from derive import api
from derive.engine.derivation import derive
from tests.test_multi_torch import NAMES, _inputs, _relative, _torch_forward

torch = pytest.importorskip("torch")

SIZES = {"n": 4, "d": 3, "h": 2}
PARAMS = {"eps": 1e-5}


def _module(name, target, wrt=None):
    params = {"eps": "1e-5"} if name in ("layer_norm_affine", "rms_norm") else None
    d = derive(name, params=params, wrt=wrt)
    module = types.ModuleType(f"generated_{name}_{target}")
    exec(compile(api.emit(d, target), name, "exec"), module.__dict__)
    return d, module


def _call(module, name, d):
    F = getattr(module, name)
    return (lambda *a: F(*a, **PARAMS)) if d.function.parameter_names else F


@pytest.mark.parametrize("name", NAMES)
def test_torch_module_imports_torch_alone_and_passes_gradcheck(name, rng):
    d, module = _module(name, "torch")
    source = api.emit(d, "torch")
    assert "import torch" in source and "numpy" not in source and "sympy" not in source
    F = _call(module, name, d)
    args = _inputs(d, SIZES, 1.0, rng, batch=(2,))
    tensors = [
        torch.tensor(a, requires_grad=not x.data)
        for a, x in zip(args, d.function.declared_inputs, strict=True)
    ]
    chosen = [t for t in tensors if t.requires_grad]

    def f(*xs):
        full, it = [], iter(xs)
        for t in tensors:
            full.append(next(it) if t.requires_grad else t)
        return F(*full)

    assert torch.autograd.gradcheck(f, tuple(chosen))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("scale", [1.0, 10.0, 1e3])
@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-10), (torch.float32, 1e-4)])
def test_torch_gradients_match_autograd_through_the_formula(name, scale, dtype, tolerance, rng):
    d, module = _module(name, "torch")
    F = _call(module, name, d)
    args = _inputs(d, SIZES, scale, rng)
    floor = (
        scale**2 if (name, dtype, scale) == ("attention", torch.float32, 1e3) else 1.0
    )  # see test_multi_torch
    found = []
    for f, precision in ((F, dtype), (_torch_forward(name), torch.float64)):
        xs = [
            torch.tensor(a, dtype=precision, requires_grad=not x.data)
            for a, x in zip(args, d.function.declared_inputs, strict=True)
        ]
        out = f(*xs)
        g = torch.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape), dtype=precision)
        (out * g).sum().backward()
        found.append([out.detach(), *(x.grad for x in xs if x.requires_grad)])
    for ours, theirs in zip(*found, strict=True):
        assert ours.dtype == dtype and ours.shape == theirs.shape
        assert _relative(ours.double().numpy(), theirs.numpy(), floor) < tolerance


def test_torch_backward_returns_none_for_data_and_for_what_needs_no_gradient(rng):
    d, module = _module("linear_softmax_cross_entropy", "torch")
    x, W, b, y = (torch.tensor(a) for a in _inputs(d, {"n": 3, "d": 2}, 1.0, rng))
    W.requires_grad_(True)
    y.requires_grad_(True)  # a target: its gradient is None even when asked for
    module.linear_softmax_cross_entropy(x, W, b, y).sum().backward()
    assert W.grad is not None and W.grad.shape == W.shape and y.grad is None and x.grad is None


def test_torch_unbatched_weights_get_the_batch_summed(rng):
    d, module = _module("attention", "torch")
    q, K, V = (torch.tensor(a) for a in _inputs(d, SIZES, 1.0, rng))
    K1 = K[0].clone().requires_grad_(True)
    module.attention(q, K1, V).sum().backward()
    each = []
    for t in range(len(q)):
        Kt = K[0].clone().requires_grad_(True)
        module.attention(q[t], Kt, V[t]).sum().backward()
        each.append(Kt.grad)
    assert torch.allclose(K1.grad, sum(each), rtol=1e-12, atol=0)


def test_torch_backward_forms_no_three_index_array():
    source = api.emit(derive("attention"), "torch")
    for line in source.splitlines():
        for spec in line.split("torch.einsum('")[1:]:
            assert len(spec.split("->")[1].split("'")[0].replace("...", "")) <= 2


@pytest.mark.parametrize("name", NAMES)
def test_torch_check_passes(run, name):
    result = run(name, "--emit", "torch", "--check")
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.stderr and "gradcheck" in result.stderr and "(passed)" in result.stderr
