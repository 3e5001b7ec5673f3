"""The Numba target: standalone, checked like the NumPy module, equal to it, formatted and deterministic."""

import ast
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from derive import check, derive, emit
from derive.errors import NotApplicable

numba = pytest.importorskip("numba")


def _load(source, path):
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    """softmax for any n from both targets, imported once: Numba compiles each kernel once per module."""
    folder = tmp_path_factory.mktemp("numba")
    d = derive("softmax")
    return _load(emit(d, "numba"), folder / "softmax_nb.py"), _load(
        emit(d, "numpy"), folder / "softmax_np.py"
    )


def test_module_imports_numpy_and_numba_alone():
    tree = ast.parse(emit(derive("softmax"), "numba"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"os", "numba", "numba.extending", "numpy", "numpy.typing"}


def test_kernels_are_parallel_fused_loops_from_the_derivation():
    source = emit(derive("softmax"), "numba")
    assert source.count("@numba.njit(parallel=True, fastmath=False, cache=_CACHE)") == 4
    vjp = source[source.index("def _softmax_vjp_rows") : source.index("def _softmax_jvp_rows")]
    # max(z); e^{z − max} into the output row; its sum and Σ g e in one more pass (_total_dot); then the
    # result over it, s = e / Σ e recomputed where read: two loops over a row, and no row buffer of its own.
    assert vjp.count("for i in range(n):") == 2 and "_largest(z)" in vjp and "np.empty" not in vjp
    assert "exp_z = out" in vjp and "exp_z[i] = _exp_nonpositive(z[i] - max_z)" in vjp
    # 1/Σ e once per row, then a product per entry: no division in the loop.
    # Each row scalar in the row's dtype (_like), so that a float32 row's entries compute in float32.
    assert "inv_sum_exp_z = _like(z, 1 / sum_exp_z)" in vjp
    assert "sum_exp_z, sum_exp_z_g = _total_dot(exp_z, g)" in vjp and "= _dot(" not in vjp
    assert "sum_g_s = _like(z, inv_sum_exp_z * sum_exp_z_g)" in vjp
    assert "out[i] = inv_sum_exp_z * (g[i] - sum_g_s) * exp_z[i]" in vjp
    # Only the sums reassociate: the kernels themselves keep IEEE arithmetic.
    assert source.count('fastmath={"reassoc", "contract"}') == 2


def test_a_sum_and_a_dot_product_of_the_same_array_share_one_pass():
    """_paired: Σ x and Σ y x ready at the same point become one _total_dot(x, y) where the first stood;
    a dot product of other arrays, or a lone sum, stays as it was."""
    from derive.codegen.numba import Line, _paired

    lines = [
        Line("a", "sum", "e"),
        Line("inv_a", "row=", "1 / a"),
        Line("b", "dot", "g, e"),
        Line("c", "dot", "g, k"),
        Line("d", "sum", "h"),
        Line("f", "dot", "h, g"),
    ]
    assert _paired(lines) == (
        Line("a, b", "sum dot", "e, g"),
        Line("inv_a", "row=", "1 / a"),
        Line("c", "dot", "g, k"),
        Line("d, f", "sum dot", "h, g"),
    )
    assert _paired([Line("d", "sum", "h")]) == (Line("d", "sum", "h"),)


def test_row_programs_keep_buffers_only_where_a_later_loop_needs_them():
    """Every registered vector function: VJP and JVP programs with the first buffer in the output row,
    arrays of plain arithmetic recomputed rather than stored, and sums of products read as dot products."""
    from derive.codegen import loops
    from derive.engine.derivation import Derivation
    from derive.engine.registry import summaries

    for name in summaries():
        d = derive(name)
        if not isinstance(d, Derivation) or d.kind == "scalar":  # several inputs; a scalar: no loops
            continue
        for kind in ("forward", "vjp", "jvp"):
            program = loops.program(d, kind)
            assert program.in_out == (program.buffers[0] if program.buffers else None), (name, kind)
            steps = {s.name: s for loop in program.loops for s in loop.steps}
            for buffer in program.buffers:
                arithmetic = loops._arithmetic(steps[buffer].value)
                assert not arithmetic or buffer.startswith("terms"), (name, buffer)
    program = loops.program(derive("l2_normalize"), "vjp")
    sums = [s for s in program.before if s.op == "sum"]
    assert sums and all(loops.dot(s.value) for s in sums) and program.buffers == ()


def test_runs_where_sympy_cannot_be_imported(tmp_path):
    path = tmp_path / "softmax_nb.py"
    path.write_text(emit(derive("softmax", n=4), "numba"), encoding="utf-8")
    script = (
        "import sys; sys.modules['sympy'] = None; sys.modules['derive'] = None\n"
        "import numpy as np, softmax_nb\n"
        "s = softmax_nb.softmax(np.array([[1.0, 2.0, 3.0, 4.0]]))\n"
        "assert abs(s.sum() - 1) < 1e-15 and s.shape == (1, 4), s\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_kernels_are_cached_beside_a_writable_module_and_not_elsewhere(tmp_path):
    """A second process loads the compiled kernels from __pycache__; a read-only folder gets no cache."""
    path = tmp_path / "softmax_nb.py"
    path.write_text(emit(derive("softmax"), "numba"), encoding="utf-8")
    script = (
        "import numpy as np, softmax_nb\n"
        "z = np.array([[1.0, 2.0, 3.0]])\n"
        "print(softmax_nb._CACHE, softmax_nb.softmax_vjp(z, z).tolist())\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
        for _ in range(2)
    ]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    assert runs[0].stdout == runs[1].stdout and runs[0].stdout.startswith("True ")
    cached = {p.name.split("-")[0] for p in (tmp_path / "__pycache__").glob("*.nbi")}
    assert "softmax_nb._softmax_vjp_rows" in cached and "softmax_nb._exp_nonpositive64" in cached
    if os.geteuid() == 0:
        return  # root writes anywhere: the read-only case cannot be made here
    readonly = tmp_path / "ro"
    readonly.mkdir()
    (readonly / "softmax_nb.py").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    readonly.chmod(0o555)
    try:
        done = subprocess.run([sys.executable, "-c", script], cwd=readonly, capture_output=True, text=True)
    finally:
        readonly.chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("False ") and not (readonly / "__pycache__").exists()


@pytest.mark.parametrize(
    "name, n, params",
    [("softmax", None, {}), ("softmax", 4, {}), ("sigmoid", None, {}), ("tanh", None, {})]
    + [("softmax_t", None, {"T": "0.5"}), ("log_softmax", 4, {}), ("layer_norm", None, {})],
)
def test_check_passes(name, n, params):
    report = check(derive(name, n=n, params=params), "numba")
    assert report.passed, str(report)
    assert "--emit numba" in report.module
    assert not any("complex step" in c.name for c in report.checks)  # real-only kernels: not run


def test_agrees_with_the_numpy_target(modules, rng):
    nb, np_ = modules
    z = 3 * rng.standard_normal((2, 5, 37))
    g = rng.standard_normal(z.shape)
    for name, args in [("softmax", (z,)), ("softmax_jacobian", (z,)), ("softmax_vjp", (z, g))]:
        found, expected = getattr(nb, name)(*args), getattr(np_, name)(*args)
        assert found.shape == expected.shape and found.dtype == expected.dtype
        np.testing.assert_allclose(found, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(nb.softmax_jvp(z, g), np_.softmax_jvp(z, g), rtol=0, atol=1e-12)


def test_keeps_float32_and_rejects_bad_input(modules):
    nb, _ = modules
    z = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert nb.softmax_vjp(z, np.ones_like(z)).dtype == np.float32
    assert nb.softmax(np.arange(3)).dtype == np.float64
    assert nb.softmax(np.empty((0, 3))).shape == (0, 3)
    with pytest.raises(ValueError, match="real-only"):
        nb.softmax(z.astype(np.complex128))
    with pytest.raises(ValueError, match="shape"):
        nb.softmax_vjp(z, np.ones(3))


def test_vjp_and_jvp_write_into_out(modules, rng):
    """out= takes the result in place of a new array: the same values, the same array returned."""
    nb, _ = modules
    for dtype in (np.float64, np.float32):
        z = (3 * rng.standard_normal((3, 4, 29))).astype(dtype)
        g = rng.standard_normal(z.shape).astype(dtype)
        for name in ("softmax_vjp", "softmax_jvp"):
            fn = getattr(nb, name)
            out = np.full_like(z, np.nan)
            assert fn(z, g, out=out) is out
            np.testing.assert_array_equal(out, fn(z, g))


def test_out_is_checked_with_one_clear_error(modules):
    nb, _ = modules
    z = np.linspace(-2, 2, 12).reshape(3, 4)
    g = np.ones_like(z)
    readonly = np.empty_like(z)
    readonly.flags.writeable = False
    both = np.empty((3, 8))
    bad = {
        "shape": np.empty((4, 3)),
        "dtype": np.empty(z.shape, np.float32),
        "a list": [[0.0] * 4] * 3,
        "strided": both[:, ::2],
        "read-only": readonly,
        "z itself": z,
        "g itself": g,
        "a view of g": g.reshape(12).reshape(3, 4),
    }
    for what, out in bad.items():
        with pytest.raises(ValueError) as raised:
            nb.softmax_vjp(z, g, out=out)
        message = str(raised.value)
        assert message.startswith("out must be a writable C-contiguous float64 array of shape (3, 4)"), what
        assert "\n" not in message
    with pytest.raises(ValueError, match="may overlap z or v"):
        nb.softmax_jvp(z, g, out=z)
    # A z converted to float64 is a new array: the caller's integer z may not receive it (dtype), but
    # an unrelated float64 out may.
    assert nb.softmax_vjp(np.arange(4), np.ones(4), out=np.empty(4)).dtype == np.float64


def test_output_is_deterministic():
    d = derive("softmax_t")
    assert emit(d, "numba") == emit(derive("softmax_t"), "numba")


@pytest.mark.parametrize("name", ["softmax", "sigmoid", "softmax_t", "layer_norm", "gelu"])
def test_modules_are_ruff_format_clean(name, tmp_path):
    path = tmp_path / f"{name}_nb.py"
    path.write_text(emit(derive(name), "numba"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--isolated", "--check", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_what_it_cannot_loop_is_one_clear_line():
    with pytest.raises(NotApplicable, match="scalar") as raised:
        emit(derive("logsumexp"), "numba")
    assert "\n" not in str(raised.value)


def test_cli_emits_numba(run):
    result = run("softmax", "--n", "4", "--emit", "numba")
    assert result.exit_code == 0 and "@numba.njit(parallel=True" in result.stdout
