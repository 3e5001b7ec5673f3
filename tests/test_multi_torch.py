"""The NumPy code emitted for several inputs against torch autograd written from each formula, and --check."""

import types

import numpy as np
import pytest

from derive import api
from derive.engine.derivation import derive

torch = pytest.importorskip("torch")

NAMES = ("linear_softmax_cross_entropy", "layer_norm_affine", "rms_norm", "attention")
EPS = 1e-5


def _torch_forward(name):
    """Each function written in torch from its formula, not from derive."""
    if name == "linear_softmax_cross_entropy":
        return lambda x, W, b, y: (
            -(y * torch.log_softmax(W @ x.unsqueeze(-1) + b.unsqueeze(-1), -2).squeeze(-1)).sum(-1)
        )
    if name == "layer_norm_affine":

        def layer_norm(z, gamma, beta):
            mu = z.mean(-1, keepdim=True)
            sigma = torch.sqrt(((z - mu) ** 2).mean(-1, keepdim=True) + EPS)
            return gamma * (z - mu) / sigma + beta

        return layer_norm
    if name == "rms_norm":
        return lambda z, gamma: gamma * z / torch.sqrt((z**2).mean(-1, keepdim=True) + EPS)

    def attention(q, K, V):
        weights = torch.softmax((K @ q.unsqueeze(-1)).squeeze(-1) / np.sqrt(q.shape[-1]), -1)
        return (weights.unsqueeze(-1) * V).sum(-2)

    return attention


def _module(name, wrt=None):
    d = derive(name, params={"eps": "1e-5"} if name in ("layer_norm_affine", "rms_norm") else None, wrt=wrt)
    module = types.ModuleType(f"generated_{name}")
    exec(compile(api.emit(d, "numpy"), name, "exec"), module.__dict__)
    return d, module


def _inputs(d, sizes, scale, rng, batch=(3,)):
    args = []
    for x in d.function.declared_inputs:
        shape = batch + tuple(sizes[dim] for dim in x.dims)
        if x.data:
            raw = rng.random(shape)
            args.append(raw / raw.sum(-1, keepdims=True))
        else:
            args.append(scale * rng.standard_normal(shape))
    return args


def _relative(a, b, floor=1.0):
    """max |a − b| / max(floor, max |b|): relative where b is large."""
    return float(np.max(np.abs(a - b)) / max(floor, np.max(np.abs(b))))


def _floor(name, dtype, scale):
    """The magnitude below which float32 rounding is absolute: attention's q-cotangent sums terms
    a_k V_ki K_kj of size scale², which cancel to nearly 0 where the weights saturate (scale 1e3), so its
    float32 error is measured against scale² (float32's ε · 1e6 ≈ 0.1 absolute)."""
    return scale**2 if (name, dtype, scale) == ("attention", np.float32, 1e3) else 1.0


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("scale", [1.0, 10.0, 1e3])
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_value_and_cotangents_match_torch_autograd(name, scale, dtype, tolerance, rng):
    d, module = _module(name)
    sizes = {"n": 4, "d": 3, "h": 2}
    args = [a.astype(dtype) for a in _inputs(d, sizes, scale, rng)]
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    value = _torch_forward(name)(*tensors)
    ours = getattr(module, name)(*args)
    assert ours.dtype == dtype
    assert _relative(ours, value.detach().numpy()) < tolerance
    if d.kind == "scalar":
        value.sum().backward()
        cotangents = module.__dict__[f"{name}_grad"](*args)
    else:
        g = rng.standard_normal(value.shape).astype(dtype)
        (value * torch.tensor(g, dtype=torch.float64)).sum().backward()
        cotangents = module.__dict__[f"{name}_vjp"](*args, g)
    differentiable = [t for t, x in zip(tensors, d.function.declared_inputs, strict=True) if not x.data]
    assert len(cotangents) == len(differentiable)
    for ours, theirs, arg in zip(cotangents, differentiable, args, strict=False):
        assert ours.shape == arg.shape
        assert _relative(ours, theirs.grad.numpy(), _floor(name, dtype, scale)) < tolerance


def test_unbatched_parameters_get_the_batch_summed(rng):
    d, module = _module("linear_softmax_cross_entropy")
    x, W, b, y = _inputs(d, {"n": 3, "d": 2}, 1.0, rng)
    gx, gW, gb = module.linear_softmax_cross_entropy_grad(x, W[0], b[0], y)
    assert gW.shape == W[0].shape and gb.shape == b[0].shape and gx.shape == x.shape
    each = [module.linear_softmax_cross_entropy_grad(x[t], W[0], b[0], y[t]) for t in range(len(x))]
    assert np.allclose(gW, sum(e[1] for e in each), rtol=1e-12, atol=0)


def test_wrt_limits_what_is_returned(rng):
    d, module = _module("attention", wrt=["K"])
    q, K, V = _inputs(d, {"n": 3, "d": 2, "h": 4}, 1.0, rng)
    g = rng.standard_normal((3, 4))
    only = module.attention_vjp(q, K, V, g)
    assert isinstance(only, np.ndarray) and only.shape == K.shape
    _, every = _module("attention")
    assert np.array_equal(only, every.attention_vjp(q, K, V, g)[1])


def test_no_block_is_formed_for_a_vjp():
    d, _ = _module("attention")
    source = api.emit(d, "numpy")
    # Each einsum returns at most two axes: n×h, n×d or d×h; no three-index array.
    for line in source.splitlines():
        for spec in line.split("np.einsum('")[1:]:
            assert len(spec.split("->")[1].split("'")[0].replace("...", "")) <= 2


@pytest.mark.parametrize("name", NAMES)
def test_check_passes_at_any_sizes_and_at_given_ones(run, name):
    own = sorted({dim for x in derive(name).function.declared_inputs for dim in x.dims})
    given = [arg for size, dim in zip((2, 3, 2), own, strict=False) for arg in ("--dim", f"{dim}={size}")]
    for extra in ([], given):
        result = run(name, "--emit", "numpy", "--check", *extra)
        assert result.exit_code == 0, result.output
        assert "FAIL" not in result.stderr and "(passed)" in result.stderr
