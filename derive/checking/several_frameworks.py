"""Check the torch or jax module emitted for several inputs: with gradcheck or check_grads, against
autograd through the plain definition, and against the checked NumPy module's cotangents."""

from __future__ import annotations

import types
import warnings

import numpy as np

from derive.checking.checks import _Worst
from derive.checking.frameworks import TOLERANCE, _error
from derive.checking.points import PARAMETER
from derive.checking.report import Check
from derive.checking.several import ANY_SIZES, SCALES, Report, _completed, _point, _tuple

SAME = "F and its cotangents = NumPy module's (float64)"


def verify(d, target: str) -> Report:
    """Generate d's torch or jax module, run it, and check every cotangent its backward returns."""
    from derive.codegen.several import generate as numpy_module
    from derive.codegen.several_frameworks import generate, plain_source

    name = d.function.name
    module = _run(generate(d, target), f"{name}_{target}")
    reference = _run(numpy_module(d), f"{name}_numpy")
    plain = _run(plain_source(d, target), f"{name}_plain")
    own = {dim for x in d.function.declared_inputs for dim in x.dims} | {d.function.dim}
    sizes = tuple(
        {k: v for k, v in size.items() if k in own}
        for size in ((_completed(d.sizes),) if d.sizes else ANY_SIZES)
    )
    worst = _Worst()
    run = _torch if target == "torch" else _jax
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for size in sizes:
            run(worst, module, reference, plain, d, size)
    tolerances = {k: 0.0 for k in worst.errors} | {
        SAME: TOLERANCE["same"] * 10,
        "= autograd through the definition, float64": TOLERANCE["autograd64"],
        "= autograd through the definition, float32": TOLERANCE["autograd32"],
        "= jax.vjp through the definition, float64": TOLERANCE["autograd64"],
        "jax.jit(F) = F and jax.vmap(F) = F": TOLERANCE["same"] * 10,
    }
    checks = tuple(Check(k, e, tolerances[k], worst.notes.get(k, "")) for k, e in worst.errors.items())
    return Report(name, sizes, checks)


def _run(source: str, name: str):
    module = types.ModuleType(f"_derive_checked_{name}")
    exec(compile(source, f"<derive: {name}>", "exec"), module.__dict__)  # derive's own code
    return module


def _setting(d):
    """Which arguments are differentiated (positions), the parameters, and the reference backward's name."""
    fn = d.function
    order = [x.name for x in fn.declared_inputs]
    wrt = [order.index(b.input.name) for b in d.blocks]
    backward = f"{fn.name}_grad" if d.kind == "scalar" else f"{fn.name}_vjp"
    return wrt, {p: PARAMETER for p in fn.parameter_names}, backward


def _expected(reference, d, args, g, params, backward, wrt):
    value = getattr(reference, d.function.name)(*args, **params)
    found = getattr(reference, backward)(*args, *([g] if g is not None else []), **params)
    return value, _tuple(found, wrt)


def _torch(worst, module, reference, plain, d, size):
    import torch

    wrt, params, backward = _setting(d)
    F = getattr(module, d.function.name)
    rng = np.random.default_rng([20260, *size.values()])
    for scale in SCALES:
        args, g = _point(d.function, d.kind, size, scale, rng)
        value, cotangents = _expected(reference, d, args, g, params, backward, wrt)

        def grads(f, dtype, args=args, g=g):
            xs = [torch.tensor(a, dtype=dtype, requires_grad=k in wrt) for k, a in enumerate(args)]
            out = f(*xs)
            seed = torch.ones_like(out) if g is None else torch.tensor(g, dtype=dtype)
            found = torch.autograd.grad(out, [xs[k] for k in wrt], seed)
            return out.detach().numpy(), [c.numpy() for c in found]

        def same(value=value, cotangents=cotangents, grads=grads):
            out, found = grads(lambda *xs: F(*xs, **params), torch.float64)
            pairs = [(out, value), *zip(found, cotangents, strict=True)]
            return max(_error(a, b) for a, b in pairs)

        worst.attempt(SAME, same)
        if scale != 1:
            continue
        for dtype in (torch.float64, torch.float32):

            def agree(dtype=dtype, grads=grads):
                out, found = grads(lambda *xs: F(*xs, **params), dtype)
                theirs, expected = grads(lambda *xs: plain.plain(*xs, *params.values()), dtype)
                wrong = out.dtype != {torch.float64: np.float64, torch.float32: np.float32}[dtype]
                pairs = [(out, theirs), *zip(found, expected, strict=True)]
                return np.nan if wrong else max(_error(a, b) for a, b in pairs)

            label = "float64" if dtype == torch.float64 else "float32"
            worst.attempt(f"= autograd through the definition, {label}", agree)

        def gradcheck(args=args):
            xs = [torch.tensor(a, dtype=torch.float64, requires_grad=k in wrt) for k, a in enumerate(args)]

            def f(*chosen):
                full = list(xs)
                for k, x in zip(wrt, chosen, strict=True):
                    full[k] = x
                return F(*full, **params)

            return 0.0 if torch.autograd.gradcheck(f, tuple(xs[k] for k in wrt)) else np.nan

        worst.attempt("torch.autograd.gradcheck, float64", gradcheck)

        def needs(args=args):
            # Only the first differentiated input asks for a gradient: backward returns None for the rest.
            xs = [torch.tensor(a, dtype=torch.float64, requires_grad=k == wrt[0]) for k, a in enumerate(args)]
            out = F(*xs, **params)
            out.sum().backward()
            others = [xs[k].grad for k in range(len(xs)) if k != wrt[0]]
            return 0.0 if xs[wrt[0]].grad is not None and all(o is None for o in others) else np.nan

        worst.attempt("no gradient computed for inputs that need none", needs)


def _jax(worst, module, reference, plain, d, size):
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    wrt, params, backward = _setting(d)
    F = getattr(module, d.function.name)
    rng = np.random.default_rng([20260, *size.values()])
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        for scale in SCALES:
            args, g = _point(d.function, d.kind, size, scale, rng)
            value, cotangents = _expected(reference, d, args, g, params, backward, wrt)

            def pulled(f, args=args, g=g):
                def partial(*chosen):
                    full = [jnp.asarray(a) for a in args]
                    for k, x in zip(wrt, chosen, strict=True):
                        full[k] = x
                    return f(*full)

                out, pullback = jax.vjp(partial, *[jnp.asarray(args[k]) for k in wrt])
                found = pullback(jnp.ones_like(out) if g is None else jnp.asarray(g))
                return np.asarray(out), [np.asarray(c) for c in found], partial

            def same(value=value, cotangents=cotangents, pulled=pulled):
                out, found, _ = pulled(lambda *xs: F(*xs, **params))
                return max(_error(a, b) for a, b in [(out, value), *zip(found, cotangents, strict=True)])

            worst.attempt(SAME, same)
            if scale != 1:
                continue

            def agree(pulled=pulled):
                out, found, _ = pulled(lambda *xs: F(*xs, **params))
                theirs, expected, _ = pulled(lambda *xs: plain.plain(*xs, *params.values()))
                return max(_error(a, b) for a, b in [(out, theirs), *zip(found, expected, strict=True)])

            worst.attempt("= jax.vjp through the definition, float64", agree)

            def grads(args=args, pulled=pulled):
                _, _, partial = pulled(lambda *xs: F(*xs, **params))
                check_grads(partial, tuple(jnp.asarray(args[k]) for k in wrt), order=1, modes=["rev"])
                return 0.0

            worst.attempt("jax.test_util.check_grads, rev, order 1", grads)

            def traced(args=args):
                xs = [jnp.asarray(a) for a in args]
                direct = F(*xs, **params)
                jitted = jax.jit(lambda *xs: F(*xs, **params))(*xs)
                mapped = jax.vmap(lambda *xs: F(*xs, **params))(*xs)
                pairs = [(np.asarray(jitted), np.asarray(direct)), (np.asarray(mapped), np.asarray(direct))]
                return max(_error(a, b) for a, b in pairs)

            worst.attempt("jax.jit(F) = F and jax.vmap(F) = F", traced)
    finally:
        jax.config.update("jax_enable_x64", previous)
