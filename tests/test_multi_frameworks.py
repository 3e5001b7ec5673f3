"""The torch and jax modules emitted for several inputs: gradcheck, torch autograd through each formula
(written here, not by derive), None for what needs no gradient, and --check."""

import subprocess
import sys
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


# JAX runs in a subprocess: forking a process that holds JAX's threads (derive's worker) can deadlock.
_JAX_SCRIPT = """
import sys, types
import jax, jax.numpy as jnp, numpy as np, torch
from derive import api
from derive.engine.derivation import derive
from tests.test_multi_torch import _inputs, _relative, _torch_forward
jax.config.update("jax_enable_x64", True)
name = sys.argv[1]
params = {"eps": "1e-5"} if name in ("layer_norm_affine", "rms_norm") else None
d = derive(name, params=params)
module = types.ModuleType("m")
exec(compile(api.emit(d, "jax"), name, "exec"), module.__dict__)
F = getattr(module, name)
f = (lambda *a: F(*a, eps=1e-5)) if d.function.parameter_names else F
worst = 0.0
for scale in (1.0, 10.0, 1e3):
    args = _inputs(d, {"n": 4, "d": 3, "h": 2}, scale, np.random.default_rng(7))
    wrt = [k for k, x in enumerate(d.function.declared_inputs) if not x.data]
    def partial(*chosen, f=f, args=args, wrt=wrt):
        full = [jnp.asarray(a) for a in args]
        for k, x in zip(wrt, chosen):
            full[k] = x
        return f(*full)
    out, pullback = jax.jit(lambda *c: jax.vjp(partial, *c))(*[jnp.asarray(args[k]) for k in wrt])
    g = np.linspace(-1, 1, out.size).reshape(out.shape)
    ours = [np.asarray(out), *map(np.asarray, pullback(jnp.asarray(g)))]
    xs = [torch.tensor(a, requires_grad=k in wrt) for k, a in enumerate(args)]
    value = _torch_forward(name)(*xs)
    (value * torch.tensor(g)).sum().backward()
    theirs = [value.detach().numpy(), *(xs[k].grad.numpy() for k in wrt)]
    # attention at 1e3: its q-cotangent cancels terms of size scale² (see test_multi_torch._floor).
    floor = scale**2 if name == "attention" and scale == 1e3 else 1.0
    worst = max(worst, *(_relative(a, b, floor) for a, b in zip(ours, theirs, strict=True)))
    batched = jax.vmap(f)(*[jnp.asarray(a) for a in args])
    worst = max(worst, _relative(np.asarray(batched), np.asarray(out)))
print(worst)
"""


@pytest.mark.parametrize("name", NAMES)
def test_jax_vjp_matches_torch_autograd_through_the_formula_under_jit_and_vmap(name):
    pytest.importorskip("jax")
    done = subprocess.run(
        [sys.executable, "-c", _JAX_SCRIPT, name], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.split()[-1]) < 1e-10


@pytest.mark.parametrize("name", NAMES)
def test_jax_check_passes(name):
    pytest.importorskip("jax")
    command = [sys.executable, "-m", "derive", name, "--emit", "jax", "--check"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "check_grads" in done.stderr and "FAIL" not in done.stderr and "(passed)" in done.stderr
    assert "import jax" in done.stdout and "torch" not in done.stdout and "numpy as np" not in done.stdout


@pytest.mark.parametrize("target", ["numpy", "torch"])
def test_a_power_broadcast_in_a_cotangent_is_one_array(run, target):
    # tanh's (1 − s²) meets a new axis in W's cotangent: s ** 2 must be taken before it is indexed.
    result = run("expr", "tanh(sum(W[i,k]*x[k], k, d) + b[i])", "--emit", target, "--check")
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.stderr and "(passed)" in result.stderr
