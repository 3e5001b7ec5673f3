"""The contenders of the runtime benchmark, in a registry: adding one (say "derive numba") is one entry.

A contender is make(op) → prepare, where op is "vjp", "jvp" or "jacobian"; prepare(z, v) takes NumPy
inputs (z of shape (batch, n); v the cotangent or tangent, None for the Jacobian), converts them once,
and returns a call with no arguments that computes the result from z (forward pass included). make
raises Unavailable when the library or the generated code is not there.
"""

from __future__ import annotations

import importlib
import importlib.util
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
from timing import Unavailable

OPS = ("vjp", "jvp", "jacobian")


# Hand-written NumPy, in the forms people write; the benchmark keeps the fastest per case.
def softmax(z):
    """Softmax over the last axis, shifted for stability."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def vjp_broadcast(z, g):
    s = softmax(z)
    return s * (g - (g * s).sum(axis=-1, keepdims=True))


def vjp_einsum(z, g):
    s = softmax(z)
    return s * (g - np.einsum("...i,...i->...", g, s)[..., None])


def vjp_in_place(z, g):
    s = softmax(z)
    out = np.subtract(g, np.einsum("...i,...i->...", g, s)[..., None])
    out *= s
    return out


def jacobian_broadcast(z):
    s = softmax(z)
    return s[..., :, None] * (np.eye(z.shape[-1], dtype=z.dtype) - s[..., None, :])


def jacobian_einsum(z):
    s = softmax(z)
    J = np.einsum("...i,...j->...ij", -s, s)
    n = z.shape[-1]
    J.reshape(*J.shape[:-2], n * n)[..., :: n + 1] += s  # the diagonal, in place
    return J


def jacobian_in_place(z):
    s = softmax(z)
    n = z.shape[-1]
    J = np.multiply(s[..., :, None], s[..., None, :])
    np.negative(J, out=J)
    J.reshape(*J.shape[:-2], n * n)[..., :: n + 1] += s
    return J


# The Jacobian of softmax is symmetric, so J v = Jᵀ v: the JVP is the VJP's formula with v for g.
NUMPY = {
    "vjp": {"broadcast": vjp_broadcast, "einsum": vjp_einsum, "in place": vjp_in_place},
    "jvp": {"broadcast": vjp_broadcast, "einsum": vjp_einsum, "in place": vjp_in_place},
    "jacobian": {"broadcast": jacobian_broadcast, "einsum": jacobian_einsum, "in place": jacobian_in_place},
}


def _calls(fn):
    """prepare(z, v) for a plain function of z, or of z and v."""

    def prepare(z, v):
        args = (z,) if v is None else (z, v)
        return lambda: fn(*args)

    return prepare


def numpy_variant(name):
    return lambda op: _calls(NUMPY[op][name])


def _library(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        raise Unavailable(f"{name} is not installed") from None


def torch_contender(op):
    """PyTorch: autograd.grad for the VJP, torch.func.jvp, vmap(torch.func.jacrev)."""
    torch = _library("torch")
    torch.set_num_threads(2)

    def f(z):
        return torch.softmax(z, -1)

    def prepare(z, v):
        zt = torch.from_numpy(z)
        vt = None if v is None else torch.from_numpy(v)
        if op == "vjp":
            zt = zt.clone().requires_grad_()
            return lambda: torch.autograd.grad(f(zt), zt, vt)[0]
        if op == "jvp":
            return lambda: torch.func.jvp(f, (zt,), (vt,))[1]
        jacobian = torch.func.vmap(torch.func.jacrev(f))
        return lambda: jacobian(zt)

    return prepare


def jax_contender(op):
    """JAX under jit: jax.vjp, jax.jvp, vmap(jax.jacrev), float64 enabled."""
    jax = _library("jax")
    jax.config.update("jax_enable_x64", True)
    f = jax.nn.softmax
    if op == "vjp":
        compiled = jax.jit(lambda z, g: jax.vjp(f, z)[1](g)[0])
    elif op == "jvp":
        compiled = jax.jit(lambda z, t: jax.jvp(f, (z,), (t,))[1])
    else:
        compiled = jax.jit(jax.vmap(jax.jacrev(f)))

    def prepare(z, v):
        args = [jax.device_put(x) for x in (z, v) if x is not None]
        return lambda: compiled(*args).block_until_ready()

    return prepare


@cache
def generated_module(target: str):
    """The module derive emits for softmax for target, imported from a temporary file."""
    import derive
    from derive.errors import DeriveError

    try:
        source = derive.emit(derive.derive("softmax"), target)
    except (ImportError, NotImplementedError, DeriveError) as error:
        why = f"derive --emit {target}: not available in this build ({type(error).__name__})"
        raise Unavailable(why) from None
    if target == "numba":
        import numba

        # workqueue threads sleep between calls; OpenMP's spin, and on 2 cores that steals the time of
        # whichever contender runs next (torch's OpenMP pool does the same to Numba's): measured 7× at
        # n = 1000, batch 262. Set before the first kernel compiles, which is when Numba picks a layer.
        numba.config.THREADING_LAYER = "workqueue"
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))  # as torch: 2 threads
    path = Path(tempfile.mkdtemp(prefix="derive-bench-")) / f"softmax_{target}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generated(target: str):
    """derive's generated code for target: softmax_vjp(z, g), softmax_jvp(z, t), softmax_jacobian(z)."""

    return lambda op: _calls(getattr(generated_module(target), f"softmax_{op}"))


def generated_into(target: str):
    """derive's generated VJP or JVP for target writing into out=, a buffer allocated once before timing
    (as a training loop reuses its gradient buffers); every other contender allocates its result per call,
    torch autograd included, which has no out=."""

    def make(op):
        if op == "jacobian":
            raise Unavailable("out= is for the VJP and JVP")
        fn = getattr(generated_module(target), f"softmax_{op}")

        def prepare(z, v):
            out = np.empty_like(z)
            return lambda: fn(z, v, out=out)

        return prepare

    return make


CONTENDERS = {
    **{f"numpy {name}": numpy_variant(name) for name in NUMPY["vjp"]},
    "derive numpy": generated("numpy"),
    "derive numba": generated("numba"),
    "derive numba (out=)": generated_into("numba"),
    "torch": torch_contender,
    "jax jit": jax_contender,
}
