"""The torch and jax targets: every function's rules pass gradcheck / check_grads; softmax saves only s."""

import ast
import importlib.util
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

from derive import check, derive, emit
from derive.codegen.frameworks import once_differentiable
from derive.engine.registry import one_input

NAMES = sorted(one_input())


@pytest.fixture(autouse=True, scope="module")
def _kernel_builds(tmp_path_factory):
    """The torch modules' fused kernels built in a folder of this run, not in the user's cache."""
    patch = pytest.MonkeyPatch()
    patch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path_factory.mktemp("torch_extensions")))
    yield
    patch.undo()


def _saved(torch, f, *args) -> tuple:
    """f(*args) and the tensors autograd saves for its backward."""
    kept = []

    def pack(x):
        kept.append(x)
        return x

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda x: x):
        out = f(*args)
    return out, kept


def _load(source, path):
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _arguments(d, rng, shape):
    """z, the data vectors (probability vectors, as the assumption Σ y = 1 wants) and the parameters."""
    z = rng.standard_normal(shape)
    data = []
    if d.kind == "scalar":
        from derive.codegen.module import data as wanted

        for _ in wanted(d):
            e = np.exp(rng.standard_normal(shape))
            data.append(e / e.sum(axis=-1, keepdims=True))
    from derive.codegen.module import parameters

    return z, data, {p: 1.5 for p in parameters(d)}


@pytest.mark.parametrize("target", ["torch", "jax"])
def test_module_imports_its_framework_alone(target):
    for name in ("softmax", "softmax_cross_entropy"):
        tree = ast.parse(emit(derive(name), target))
        imported = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        if target == "torch":  # the fused kernel is built by torch's own tools, loaded by ctypes
            assert {"torch"} <= imported <= {"torch", "torch.utils.cpp_extension", *sys.stdlib_module_names}
        else:
            assert imported == {"jax", "jax.numpy"}


@pytest.mark.parametrize("target", ["torch", "jax"])
def test_modules_are_deterministic(target):
    d = derive("log_softmax")
    assert emit(d, target) == emit(derive("log_softmax"), target)


@pytest.mark.parametrize("name", NAMES)
def test_torch_gradcheck_and_gradgradcheck(name, tmp_path, rng):
    torch = pytest.importorskip("torch")
    d = derive(name)
    module = _load(emit(d, "torch"), tmp_path / f"{name}_t.py")
    z, data, keywords = _arguments(d, rng, (2, 4))
    data = [torch.tensor(y) for y in data]
    x = torch.tensor(z, requires_grad=True)

    def F(x):
        return getattr(module, name)(x, *data, **keywords)

    assert torch.autograd.gradcheck(F, (x,), check_forward_ad=True)
    if once_differentiable(d):  # backward reads what forward saved (σ): double backward must raise
        (gradient,) = torch.autograd.grad(F(x), x, torch.ones(2, 4, dtype=x.dtype), create_graph=True)
        with pytest.raises(RuntimeError):
            torch.autograd.grad(gradient.sum(), x, allow_unused=True)
    else:
        assert torch.autograd.gradgradcheck(F, (x,))


@pytest.mark.parametrize("name", NAMES)
def test_torch_func_transforms_agree_with_autograd(name, tmp_path, rng):
    """vmap over jacrev and jacfwd gives each row's Jacobian (no in-place update breaks a batched backward);
    a Hessian through torch.func is right, or refused where backward is once differentiable."""
    torch = pytest.importorskip("torch")
    d = derive(name)
    module = _load(emit(d, "torch"), tmp_path / f"{name}_t.py")
    z, data, keywords = _arguments(d, rng, (3, 4))
    z, data = torch.tensor(z), [torch.tensor(y) for y in data]

    def F(x, *ys):
        return getattr(module, name)(x, *ys, **keywords)

    rows = [
        torch.autograd.functional.jacobian(lambda x, k=k: F(x, *(y[k] for y in data)), z[k]) for k in range(3)
    ]
    for transform in (torch.func.jacrev, torch.func.jacfwd):
        mapped = torch.func.vmap(transform(F))(z, *data)
        for k in range(3):
            torch.testing.assert_close(mapped[k], rows[k], rtol=1e-12, atol=1e-14)
    total = lambda x: F(x, *(y[0] for y in data)).sum()  # noqa: E731
    if once_differentiable(d):
        with pytest.raises(RuntimeError, match="once differentiable"):
            torch.func.hessian(total)(z[0])
    else:
        expected = torch.autograd.functional.hessian(total, z[0])
        torch.testing.assert_close(torch.func.hessian(total)(z[0]), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_jax_check_grads(name, tmp_path, rng):
    jax = pytest.importorskip("jax")
    from jax.test_util import check_grads

    d = derive(name)
    module = _load(emit(d, "jax"), tmp_path / f"{name}_j.py")
    z, data, keywords = _arguments(d, rng, (2, 4))
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        for function, modes in ((name, ["rev"]), (f"{name}_custom_jvp", ["fwd", "rev"])):
            F = getattr(module, function)
            check_grads(lambda x, F=F: F(x, *data, **keywords), (jax.numpy.asarray(z),), order=2, modes=modes)
        # jit and vmap give the same values
        F = getattr(module, name)
        direct = F(z, *data, **keywords)
        jitted = jax.jit(lambda x, *ys: F(x, *ys, **keywords))(z, *data)
        mapped = jax.vmap(lambda x, *ys: F(x, *ys, **keywords))(z, *data)
        np.testing.assert_allclose(np.asarray(jitted), np.asarray(direct), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(np.asarray(mapped), np.asarray(direct), rtol=1e-13, atol=1e-15)
    finally:
        jax.config.update("jax_enable_x64", previous)


def test_torch_softmax_saves_only_its_output(tmp_path):
    torch = pytest.importorskip("torch")
    module = _load(emit(derive("softmax"), "torch"), tmp_path / "softmax_t.py")
    z = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    s, kept = _saved(torch, module.softmax, z)
    assert len(kept) == 1 and kept[0] is s


def test_torch_log_softmax_saves_s_from_its_forward(tmp_path):
    """Backward reads s, not ℓ: the forward hands s over and backward takes no exp (ℓ is not saved)."""
    torch = pytest.importorskip("torch")
    source = emit(derive("log_softmax"), "torch")
    assert "ctx.save_for_backward(s)" in source and "torch.exp(ell)" not in source
    module = _load(source, tmp_path / "log_softmax_t.py")
    z = torch.tensor([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]], dtype=torch.float64, requires_grad=True)
    ell = module.log_softmax(z)
    expected = torch.log_softmax(z.detach(), dim=-1)
    assert torch.equal(torch.isfinite(ell), torch.ones_like(ell, dtype=torch.bool))
    assert torch.allclose(ell.detach(), expected, rtol=1e-15, atol=0)
    g = torch.randn(2, 3, dtype=torch.float64)
    (grad,) = torch.autograd.grad(ell, z, g)
    z2 = z.detach().requires_grad_()
    (reference,) = torch.autograd.grad(torch.log_softmax(z2, dim=-1), z2, g)
    assert torch.allclose(grad, reference, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(("name", "row"), [("layer_norm", "sigma"), ("l2_normalize", "r")])
def test_torch_saves_the_output_and_a_column_not_z(name, row, tmp_path):
    """What backward reads, from the where-clauses: the output and σ per vector; z is not kept."""
    torch = pytest.importorskip("torch")
    source = emit(derive(name), "torch")
    assert f"ctx.save_for_backward(s, {row})" in source
    module = _load(source, tmp_path / f"{name}_t.py")
    z = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    s, kept = _saved(torch, getattr(module, name), z)
    assert len(kept) == 2 and kept[0] is s and kept[1].shape == (3, 1)
    assert all(x.untyped_storage().data_ptr() != z.untyped_storage().data_ptr() for x in kept)


@pytest.mark.parametrize("name", NAMES)
def test_torch_fused_backward_agrees_with_the_torch_lines(name, tmp_path, rng):
    """On CPU backward runs the derived VJP compiled (one C++ loop per vector); it gives what the torch
    lines give (FUSED = False), in float64 and float32, one vector or many in parallel, g strided."""
    torch = pytest.importorskip("torch")
    d = derive(name)
    module = _load(emit(d, "torch"), tmp_path / f"{name}_t.py")
    assert module._kernels(), "the kernel did not build (g++ and ninja are on this machine)"
    calls, fused = [], module._fused
    module._fused = lambda *args: calls.append(args) or fused(*args)
    for shape in [(1, 5), (3, 2, 7), (80, 500)]:  # 80 × 500 = 40000 entries: vectors in parallel
        z, data, keywords = _arguments(d, rng, shape)
        out = shape[:-1] if d.kind == "scalar" else shape
        cotangent = rng.standard_normal(out[::-1]).T
        for dtype, rtol, atol in ((torch.float64, 1e-12, 1e-14), (torch.float32, 2e-5, 1e-6)):
            x = torch.tensor(z, dtype=dtype, requires_grad=True)
            g = torch.tensor(cotangent, dtype=dtype)  # transposed: not contiguous
            ys = [torch.tensor(y, dtype=dtype) for y in data]
            gradients = []
            for switch in (True, False):
                module.FUSED = switch
                before = len(calls)
                gradients.append(torch.autograd.grad(getattr(module, name)(x, *ys, **keywords), x, g)[0])
                assert len(calls) == before + switch
            np.testing.assert_allclose(gradients[0].numpy(), gradients[1].numpy(), rtol=rtol, atol=atol)
    module.FUSED = True
    z, data, keywords = _arguments(d, rng, (2, 4))
    x, ys = torch.tensor(z, requires_grad=True), [torch.tensor(y) for y in data]
    before = len(calls)
    if not once_differentiable(d):  # double backward differentiates the torch lines, never the kernel
        torch.autograd.grad(getattr(module, name)(x, *ys, **keywords).sum(), x, create_graph=True)
    torch.func.jacrev(lambda u: getattr(module, name)(u, *[y[0] for y in ys], **keywords))(x[0])
    assert len(calls) == before


def test_torch_fused_backward_not_built_warns_once_and_runs_the_torch_lines(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    cpp_extension = pytest.importorskip("torch.utils.cpp_extension")

    def unavailable(*args, **kwargs):
        raise RuntimeError("Ninja is required to load C++ extensions")

    monkeypatch.setattr(cpp_extension, "load_inline", unavailable)
    module = _load(emit(derive("softmax"), "torch"), tmp_path / "softmax_t.py")
    z = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    g = torch.randn(3, 5, dtype=torch.float64)
    with pytest.warns(UserWarning, match="the fused backward was not built.*Ninja is required"):
        (grad,) = torch.autograd.grad(module.softmax(z), z, g)
    (reference,) = torch.autograd.grad(torch.softmax(z, dim=-1), z, g)
    assert torch.allclose(grad, reference, rtol=1e-14, atol=1e-16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.autograd.grad(module.softmax(z), z, g)  # the failure is remembered: no second warning


def test_torch_module_drops_into_a_model(tmp_path):
    """The README's example: the generated softmax inside a loss, loss.backward(), gradients as PyTorch's."""
    torch = pytest.importorskip("torch")
    module = _load(emit(derive("softmax"), "torch"), tmp_path / "softmax_t.py")
    torch.manual_seed(0)
    layer = torch.nn.Linear(6, 4).double()
    x, target = torch.randn(8, 6, dtype=torch.float64), torch.randint(0, 4, (8,))
    grads = []
    for softmax in (module.softmax, lambda u: torch.softmax(u, dim=-1)):
        layer.zero_grad()
        loss = -torch.log(softmax(layer(x))[torch.arange(8), target]).mean()
        loss.backward()
        grads.append(layer.weight.grad.clone())
    assert torch.allclose(grads[0], grads[1], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("target", ["torch", "jax"])
def test_check_passes_for_softmax(target):
    pytest.importorskip(target)
    report = check(derive("softmax", n=3), target)
    assert report.passed, str(report)
    names = [c.name for c in report.checks]
    assert any(("gradcheck" if target == "torch" else "check_grads") in name for name in names)
    if target == "torch":
        saved = next(c for c in report.checks if c.name == "what backward saves")
        assert saved.note == "saved: the output"


def test_check_finds_a_wrong_backward(tmp_path):
    pytest.importorskip("torch")
    source = emit(derive("softmax"), "torch")
    # The backward's returned VJP replaced by a wrong one, however the derived one is spelled.
    broken = re.sub(
        r"(def backward\(ctx, g\):\n(?:        .*\n)*?)        return .*\n",
        r"\1        return s * g\n",
        source,
    )
    assert broken != source
    path = tmp_path / "broken.py"
    path.write_text(broken, encoding="utf-8")
    report = check(derive("softmax", n=3), "torch", module_path=path)
    assert not report.passed


def test_a_function_torch_cannot_express_gets_one_line(run):
    from sympy import besselj

    from derive.engine.registry import register, unregister
    from derive.notation.function import Function
    from derive.notation.symbols import i, z

    register(Function(name="bessel0", description="a Bessel function", definition=besselj(0, z[i])))
    try:
        result = run("bessel0", "--emit", "torch")
    finally:
        unregister("bessel0")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "PyTorch code for besselj is not supported" in result.stderr


@pytest.mark.parametrize("target", ["torch", "jax"])
def test_a_kink_is_a_choice_in_both_frameworks(target):
    pytest.importorskip(target)
    # A fresh process: the command's worker is forked, and a fork of a process already running JAX's
    # threads (this one, after the tests above) may deadlock; the command itself never imports JAX first.
    args = [
        "expr",
        "max(-1, min(1, z[i]))",
        "--name",
        "hardtanh",
        "--emit",
        target,
        "--check",
        "--timeout",
        "120",
    ]
    result = subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    prefix = "torch" if target == "torch" else "jnp"
    assert " np." not in result.stdout and f"{prefix}.where" in result.stdout


def test_user_expression_emits_for_both(tmp_path, rng):
    torch = pytest.importorskip("torch")
    d = derive(
        __import__("derive.userdefined", fromlist=["user_function"]).user_function(
            "z[i]^2 / sum(z[k]^2, k)", "normsq"
        )
    )
    module = _load(emit(d, "torch"), tmp_path / "normsq_t.py")
    x = torch.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert torch.autograd.gradcheck(module.normsq, (x,))
    assert "def normsq_custom_jvp" in emit(d, "jax")


def test_torch_lines_split_never_update_what_the_rest_of_the_line_reads(tmp_path, rng):
    """mish's backward is split into pieces to fit; a piece once updated x2_z in place that the rest of
    the line read again (0.18 off). The torch lines (FUSED = False) now agree with autograd."""
    torch = pytest.importorskip("torch")
    user_function = __import__("derive.userdefined", fromlist=["user_function"]).user_function
    d = derive(user_function("z[i]*tanh(log(1+exp(z[i])))", "mish"))
    module = _load(emit(d, "torch"), tmp_path / "mish_t.py")
    module.FUSED = False
    z = torch.tensor(rng.standard_normal((3, 4)) * 3, requires_grad=True)
    g = torch.tensor(rng.standard_normal((3, 4)))
    (grad,) = torch.autograd.grad(module.mish(z), z, g)
    (reference,) = torch.autograd.grad(z * torch.tanh(torch.nn.functional.softplus(z)), z, g)
    assert torch.allclose(grad, reference, rtol=1e-12, atol=1e-14)
    assert torch.autograd.gradcheck(module.mish, (z.detach().requires_grad_(),), check_forward_ad=True)


def test_check_without_the_framework_is_skipped_in_one_line(run, monkeypatch):
    import derive.checking.frameworks

    monkeypatch.setattr(derive.checking.frameworks, "available", lambda target: False)
    result = run("softmax", "--emit", "torch", "--check")
    assert result.exit_code == 0
    assert result.stderr == "derive: torch is not installed: the torch check is skipped\n"
    assert "class Softmax(torch.autograd.Function)" in result.stdout
