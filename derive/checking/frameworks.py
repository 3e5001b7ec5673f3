"""Check generated PyTorch and JAX modules with the tools those ecosystems trust, and against NumPy's."""

from __future__ import annotations

import importlib.util
import tempfile
import warnings
from pathlib import Path

import numpy as np

from derive.checking import checks
from derive.checking.loading import _load, defined
from derive.checking.points import PARAMETER, POINTS, SEED, SIZES, batch
from derive.checking.report import Check, Report

TOLERANCE = {
    "same": 1e-12,  # against the checked NumPy module: the same formulas, rounding only (/ max(1, |z|))
    "autograd64": 1e-10,  # against autograd through the plain definition at N(0, 1), float64
    "autograd32": 1e-5,  # … float32
}


def available(target: str) -> bool:
    """Whether the framework of target is installed."""
    return importlib.util.find_spec(target) is not None


def verify_framework(d, target: str, module_path=None) -> Report:
    """Generate d's torch or jax module (or take module_path), import it, and check it."""
    from derive.checking.checks import said
    from derive.codegen.module import command, parameters
    from derive.codegen.targets import generate

    sizes = (d.n,) if d.n else tuple(size for size in SIZES if defined(d, size))
    with tempfile.TemporaryDirectory(prefix="derive-check-") as folder:
        path = Path(module_path) if module_path else Path(folder) / f"{d.function.name}_{target}.py"
        if module_path is None:
            path.write_text(generate(d, target), encoding="utf-8")
        numpy_path = Path(folder) / f"{d.function.name}_numpy.py"
        numpy_path.write_text(generate(d, "numpy"), encoding="utf-8")
        plain_path = Path(folder) / f"{d.function.name}_plain.py"
        plain_path.write_text(_plain_module(d, target), encoding="utf-8")
        shown = str(module_path) if module_path else f"the code of `{command(d, target)}`"
        try:
            module, reference, plain = _load(path), _load(numpy_path), _load(plain_path)
        except Exception as error:  # the module itself is under test: any failure is a finding
            return Report(d.function.name, shown, sizes, (Check("import", np.nan, 0, said(error)),))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = _torch_checks if target == "torch" else _jax_checks
            checks = run(module, reference, plain, d, sizes)
    return Report(d.function.name, shown, sizes, tuple(checks), tuple(parameters(d)))


def _plain_module(d, target: str) -> str:
    """F written straight from the definition in target's code, no stabilising rewrite: autograd's input."""
    from derive.codegen.frameworkprint import RESERVED, printer, statements
    from derive.codegen.module import _names
    from derive.codegen.statements import Statement, block
    from derive.notation.symbols import n

    scalar = d.kind == "scalar"
    names = _names(d, data=scalar)
    found = statements(d, "value" if scalar else "forward", names)
    found = [Statement(s.target, s.op, s.value.xreplace({n: d.n}) if d.n else s.value) for s in found]
    lines = block(found, {names["input"], *names["data"], *names["params"]} | RESERVED, printer(target))
    module = "torch" if target == "torch" else "jax.numpy as jnp"
    args = ", ".join([names["input"], *names["data"], *names["params"]])
    body = "\n".join(f"    {line}" for line in lines)
    size = f"    n = {names['input']}.shape[-1]\n" if d.n is None else ""
    return f"import {module}\n\n\ndef plain({args}):\n{size}{body}\n"


class _Worst(checks._Worst):
    """The worst error of each check, kept as the module check keeps it; its rows in the order first seen."""

    def checks(self, tolerances) -> list[Check]:
        return [Check(name, e, tolerances[name], self.notes.get(name, "")) for name, e in self.errors.items()]


def _error(found, expected, z=None) -> float:
    """max |found − expected| / max(1, max |expected|) per vector or matrix, or / max |z| if larger."""
    found, expected = np.asarray(found, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if found.shape != expected.shape:
        return np.nan
    if found.size == 0:
        return 0.0
    scale = np.abs(expected) if expected.ndim == 0 else np.max(np.abs(expected), axis=-1, keepdims=True)
    scale = np.maximum(1.0, scale)
    if z is not None:
        peak = np.max(np.abs(z), axis=-1)
        scale = np.maximum(scale, peak.reshape(peak.shape + (1,) * (expected.ndim - peak.ndim)))
    with np.errstate(invalid="ignore"):
        return float(np.max(np.abs(found - expected) / scale))


def _points(d, sizes):
    """Seeded (size, point name, z, g, v, data) as every check uses them; data vectors are probabilities."""
    from derive.codegen.module import data

    wanted = data(d) if d.kind == "scalar" else []
    for size in sizes:
        rng = np.random.default_rng([SEED, size])
        for name, offset, scale in POINTS:
            z = offset + scale * rng.standard_normal(batch(size) + (size,))
            g = rng.standard_normal(z.shape[:-1] if d.kind == "scalar" else z.shape)
            v = rng.standard_normal(z.shape)
            ys = []
            for _ in wanted:
                e = np.exp(rng.standard_normal(z.shape))
                ys.append(e / e.sum(axis=-1, keepdims=True))
            yield size, name, z, g, v, ys


def _names(d):
    name = d.function.name
    suffixes = ("grad", "hessian", "hvp") if d.kind == "scalar" else ("jacobian", "vjp", "jvp")
    return name, [f"{name}_{s}" for s in suffixes]


def _refused(torch, f, x) -> float:
    """0 when differentiating f's gradient raises (as once_differentiable makes it), NaN when it runs."""
    (gradient,) = torch.autograd.grad(f(x), x, torch.ones_like(f(x)), create_graph=True)
    try:
        torch.autograd.grad(gradient.sum(), x, allow_unused=True)
    except RuntimeError:
        return 0.0
    return np.nan


def _torch_checks(module, reference, plain, d, sizes) -> list[Check]:
    import torch

    from derive.codegen.frameworks import once_differentiable
    from derive.codegen.module import parameters

    keywords = {p: PARAMETER for p in parameters(d)}
    name, publics = _names(d)
    F = getattr(module, name)
    worst = _Worst()

    def tensor(a, dtype=torch.float64, grad=False):
        return torch.tensor(a, dtype=dtype, requires_grad=grad)

    paths = _paths(module, worst)

    for _, point, z, g, v, ys in _points(d, sizes):
        data = [tensor(y) for y in ys]
        with np.errstate(all="ignore"):
            expected = reference_values(reference, name, publics, z, g, v, ys, keywords)

        def same(z=z, g=g, v=v, data=data, expected=expected):
            zt = tensor(z, grad=True)
            out = F(zt, *data, **keywords)
            (grad,) = torch.autograd.grad(out, zt, tensor(g))
            _, tangent = torch.func.jvp(
                lambda u, data=data: F(u, *data, **keywords), (tensor(z),), (tensor(v),)
            )
            found = [out.detach(), grad, tangent]
            found += [
                getattr(module, p)(tensor(z), *data, *extra, **keywords)
                for p, extra in _extras(publics, g, v, tensor)
            ]
            return max(_error(f.detach().numpy(), e, z) for f, e in zip(found, expected, strict=True))

        for label, fused in paths:
            worst.attempt(
                f"F, backward, jvp and the functions = NumPy module's{label}", _switched(module, fused, same)
            )
        if point != "N(0,1)":
            continue
        small = z[:1, :1]  # gradcheck forms J column by column: one vector of each size is enough
        data1 = [x[:1, :1].detach() for x in data]

        def function(x, data1=data1):
            return F(x, *data1, **keywords)

        worst.attempt(
            "torch.autograd.gradcheck, float64 (backward and forward AD)",
            lambda small=small, f=function: (
                0.0
                if torch.autograd.gradcheck(f, (tensor(small, grad=True),), check_forward_ad=True)
                else np.nan
            ),
        )
        if once_differentiable(d):
            worst.attempt(
                "double backward refused (once_differentiable: backward reads what forward saved)",
                lambda small=small, f=function: _refused(torch, f, tensor(small, grad=True)),
            )
        else:
            worst.attempt(
                "torch.autograd.gradgradcheck, float64 (double backward)",
                lambda small=small, f=function: (
                    0.0 if torch.autograd.gradgradcheck(f, (tensor(small, grad=True),)) else np.nan
                ),
            )
        for dtype in (torch.float64, torch.float32):

            def agree(z=z, g=g, dtype=dtype, data=data):
                zs = [tensor(z, dtype, grad=True) for _ in range(2)]
                cast = [y.to(dtype) for y in data]
                mine = F(zs[0], *cast, **keywords)
                theirs = plain.plain(zs[1], *cast, *keywords.values())
                (a,) = torch.autograd.grad(mine, zs[0], tensor(g, dtype))
                (b,) = torch.autograd.grad(theirs, zs[1], tensor(g, dtype))
                errors = [
                    _error(mine.detach().numpy(), theirs.detach().numpy()),
                    _error(a.numpy(), b.numpy()),
                ]
                return max(errors) if mine.dtype == dtype else np.nan

            shown = f"= PyTorch autograd through the definition, {dtype}".replace("torch.", "")
            for label, fused in paths:
                worst.attempt(shown + label, _switched(module, fused, agree))

        def vmapped(z=z, data=data):
            zt = tensor(z)
            flat = zt.reshape(-1, zt.shape[-1])
            flat_data = [y.reshape(-1, y.shape[-1]) for y in data]
            mapped = torch.func.vmap(_bound(F, keywords))(flat, *flat_data)
            return _error(mapped.numpy(), F(flat, *flat_data, **keywords).numpy())

        worst.attempt("torch.func.vmap(F) = F", vmapped)
    saved = _saved(F, d, keywords, tensor)
    worst.add("what backward saves", 0.0, saved)
    tolerances = {k: 0 for k in worst.errors} | {"torch.func.vmap(F) = F": TOLERANCE["same"]}
    for label, _ in paths:
        tolerances |= {
            f"F, backward, jvp and the functions = NumPy module's{label}": TOLERANCE["same"],
            f"= PyTorch autograd through the definition, float64{label}": TOLERANCE["autograd64"],
            f"= PyTorch autograd through the definition, float32{label}": TOLERANCE["autograd32"],
        }
    return worst.checks(tolerances)


def _paths(module, worst) -> list[tuple[str, bool | None]]:
    """The backwards to check: the fused C++ kernel (when the module has one and it builds here) and the
    torch lines, each by the module's FUSED switch; or the module as it is."""
    if not hasattr(module, "FUSED"):
        return [("", None)]
    if not getattr(module, "_kernels", dict)():
        worst.add("fused C++ backward built", 0.0, "not built here: the torch lines are checked alone")
        return [(", torch lines (FUSED = False)", False)]
    return [(", fused C++ backward", True), (", torch lines (FUSED = False)", False)]


def _switched(module, fused, check):
    """check run with the module's FUSED set to fused (None: left as it is), then restored."""
    if fused is None:
        return check

    def run():
        before, module.FUSED = module.FUSED, fused
        try:
            return check()
        finally:
            module.FUSED = before

    return run


def _bound(F, keywords):
    """F(z, *data) with the parameters set."""
    return lambda u, *data: F(u, *data, **keywords)


def _saved(F, d, keywords, tensor) -> str:
    """Which tensors backward keeps, as names: "s (the output)" for softmax."""
    import torch

    size = d.n or 4
    z = tensor(np.linspace(-1, 1, 3 * size).reshape(3, size), grad=True)
    data = [torch.full((3, size), 1 / size, dtype=torch.float64) for _ in _data(d)]
    kept = []
    with torch.autograd.graph.saved_tensors_hooks(lambda x: kept.append(x) or x, lambda x: x):
        out = F(z, *data, **keywords)
    labels = []
    for x in kept:
        label = (
            "the output"
            if x is out
            else "z"
            if x is z
            else "a data vector"
            if any(x is y for y in data)
            else f"one number per vector, shape {tuple(x.shape)}"
            if x.shape == (*z.shape[:-1], 1)
            else f"an intermediate of shape {tuple(x.shape)}"
        )
        labels.append(label)
    return "saved: " + (", ".join(labels) if labels else "nothing")


def _data(d):
    from derive.codegen.module import data

    return data(d) if d.kind == "scalar" else []


def _extras(publics, g, v, wrap):
    """Each public function with the extra arguments it takes (g for a VJP, v for a JVP or HVP)."""
    kinds = [(), (), (wrap(v),)] if publics[0].endswith("_grad") else [(), (wrap(g),), (wrap(v),)]
    return list(zip(publics, kinds, strict=True))


def reference_values(reference, name, publics, z, g, v, ys, keywords) -> list:
    """What the checked NumPy module computes: F, the backward's gᵀJ, J v, then its three functions."""
    F = getattr(reference, name)
    if publics[0].endswith("_grad"):
        grad = getattr(reference, publics[0])(z, *ys, **keywords)
        backward, tangent = g[..., None] * grad, np.sum(grad * v, axis=-1)
    else:
        backward = getattr(reference, publics[1])(z, g, **keywords)
        tangent = getattr(reference, publics[2])(z, v, **keywords)
    rest = [
        getattr(reference, p)(z, *ys, *extra, **keywords) for p, extra in _extras(publics, g, v, lambda a: a)
    ]
    return [F(z, *ys, **keywords), backward, tangent, *rest]


def _jax_checks(module, reference, plain, d, sizes) -> list[Check]:
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    from derive.codegen.module import parameters

    keywords = {p: PARAMETER for p in parameters(d)}
    name, publics = _names(d)
    F, G = getattr(module, name), getattr(module, f"{name}_custom_jvp")
    worst = _Worst()
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        for _, point, z, g, v, ys in _points(d, sizes):
            with np.errstate(all="ignore"):
                expected = reference_values(reference, name, publics, z, g, v, ys, keywords)

            def same(z=z, g=g, v=v, ys=ys, expected=expected):
                out, pullback = jax.vjp(lambda x: F(x, *ys, **keywords), jnp.asarray(z))
                (grad,) = pullback(jnp.asarray(g))
                _, tangent = jax.jvp(lambda x: G(x, *ys, **keywords), (jnp.asarray(z),), (jnp.asarray(v),))
                found = [out, grad, tangent]
                found += [
                    getattr(module, p)(z, *ys, *extra, **keywords)
                    for p, extra in _extras(publics, g, v, jnp.asarray)
                ]
                return max(_error(np.asarray(f), e, z) for f, e in zip(found, expected, strict=True))

            worst.attempt("F, VJP, JVP and the functions = NumPy module's", same)
            if point != "N(0,1)":
                continue
            small, ys1 = jnp.asarray(z[:1, :1]), [jnp.asarray(y[:1, :1]) for y in ys]

            def grads(f, modes, small=small, ys1=ys1):
                check_grads(lambda x: f(x, *ys1, **keywords), (small,), order=2, modes=modes)
                return 0.0

            worst.attempt("check_grads of F (custom_vjp), rev, order 2", lambda: grads(F, ["rev"]))
            worst.attempt(
                "check_grads of F_custom_jvp, fwd and rev, order 2", lambda: grads(G, ["fwd", "rev"])
            )

            def traced(z=z, ys=ys):
                x = jnp.asarray(z).reshape(-1, z.shape[-1])
                flat = [jnp.asarray(y).reshape(-1, y.shape[-1]) for y in ys]
                direct = F(x, *flat, **keywords)
                jitted = jax.jit(lambda x, *ys: F(x, *ys, **keywords))(x, *flat)
                mapped = jax.vmap(lambda x, *ys: F(x, *ys, **keywords))(x, *flat)
                return max(
                    _error(np.asarray(jitted), np.asarray(direct)),
                    _error(np.asarray(mapped), np.asarray(direct)),
                )

            worst.attempt("jax.jit(F) = F and jax.vmap(F) = F", traced)

            def single(z=z, ys=ys):
                x = jnp.asarray(z, dtype=jnp.float32)
                out = F(x, *[jnp.asarray(y, dtype=jnp.float32) for y in ys], **keywords)
                return 0.0 if out.dtype == jnp.float32 else np.nan

            worst.attempt("float32 in, float32 out", single)
    finally:
        jax.config.update("jax_enable_x64", previous)
    tolerances = {k: 0 for k in worst.errors} | {
        "F, VJP, JVP and the functions = NumPy module's": TOLERANCE["same"],
        "jax.jit(F) = F and jax.vmap(F) = F": TOLERANCE["same"],
    }
    return worst.checks(tolerances)
