"""derive's torch and jax targets against the frameworks' own: backward time and what is saved for it.

PyTorch: the backward of the generated softmax, log_softmax and layer_norm (torch.autograd.Function)
against PyTorch's built-in (torch.softmax, torch.log_softmax, F.layer_norm without affine, all with
their fused C++ backwards) and against autograd through the plain formula (the definition, as derive
writes it before any rewrite), on the CPU, 2 threads, rows of n = 1000, float32 and float64. Only the
backward is timed: the forward runs once, the graph is kept, and torch.autograd.grad is called again.
Each time is the fastest of 200 calls (20 with --quick), contenders called in turn.
Saved for backward: the bytes of the distinct tensors autograd keeps (saved_tensors_hooks).
JAX: the VJP of the generated softmax (jax.custom_vjp) against jax.vjp of jax.nn.softmax, both jitted.

    PYTHONPATH=. python benchmarks/frameworks.py [--quick]
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import time  # noqa: E402

from timing import Unavailable  # noqa: E402

N, ROWS, THREADS = 1000, 256, 2
FUNCTIONS = ("softmax", "log_softmax", "layer_norm")


def fastest(contenders: dict, repeats: int) -> dict[str, float]:
    """The fastest single call of each contender, called in turn (A B C, B C A, …) after a warm-up.

    The fastest, not the median: on a shared machine a call is only ever slowed by others' work, and
    with two threads a preempted thread stalls the whole call; the fastest run is the code's own time.
    """
    names = list(contenders)
    for name in names:
        contenders[name]()
    best = dict.fromkeys(names, float("inf"))
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            contenders[name]()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def _modules(name: str, folder: Path):
    """The generated torch module of name, and the plain definition as torch code, imported."""
    from derive import derive, emit
    from derive.checking.frameworks import _plain_module

    d = derive(name)
    loaded = []
    for label, source in (("t", emit(d, "torch")), ("plain", _plain_module(d, "torch"))):
        path = folder / f"{name}_{label}.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"_bench_{name}_{label}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        loaded.append(module)
    return loaded


def _builtin(name: str):
    import torch

    return {
        "softmax": lambda z: torch.softmax(z, dim=-1),
        "log_softmax": lambda z: torch.log_softmax(z, dim=-1),
        "layer_norm": lambda z: torch.nn.functional.layer_norm(z, z.shape[-1:], eps=0.0),
    }[name]


def _saved_bytes(f, z) -> int:
    """Bytes of the distinct tensors autograd keeps for the backward of f(z)."""
    import torch

    kept = []

    def pack(x):
        kept.append(x)
        return x

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda x: x):
        f(z)
    seen = {}
    for x in kept:
        seen[(x.untyped_storage().data_ptr(), x.untyped_storage().nbytes())] = x.untyped_storage().nbytes()
    return sum(seen.values())


def torch_backward(quick: bool) -> list[dict]:
    """Rows of (function, dtype, contender, seconds per backward, bytes saved)."""
    try:
        import torch
    except ImportError as missing:
        raise Unavailable("torch is not installed") from missing
    torch.set_num_threads(THREADS)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in FUNCTIONS:
            generated, plain = _modules(name, Path(folder))
            contenders = {
                "derive (generated)": getattr(generated, name),
                "PyTorch built-in": _builtin(name),
                "autograd, plain formula": plain.plain,
            }
            for dtype in (torch.float32, torch.float64):
                gen = torch.Generator().manual_seed(0)
                z = torch.randn(ROWS, N, dtype=dtype, generator=gen).requires_grad_()
                g = torch.randn(ROWS, N, dtype=dtype, generator=gen)
                timed = {}
                for label, f in contenders.items():
                    out = f(z)
                    timed[label] = lambda out=out, z=z, g=g: torch.autograd.grad(out, z, g, retain_graph=True)
                seconds = fastest(timed, repeats=20 if quick else 200)
                for label, f in contenders.items():
                    saved = _saved_bytes(f, z)
                    rows.append(
                        dict(
                            function=name,
                            dtype=str(dtype).replace("torch.", ""),
                            contender=label,
                            seconds=seconds[label],
                            saved=saved,
                        )
                    )
    return rows


def jax_vjp(quick: bool) -> list[dict]:
    """Rows of (dtype, contender, seconds per jitted VJP) for softmax."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as missing:
        raise Unavailable("jax is not installed") from missing
    from derive import derive, emit

    jax.config.update("jax_enable_x64", True)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "softmax_j.py"
        path.write_text(emit(derive("softmax"), "jax"), encoding="utf-8")
        spec = importlib.util.spec_from_file_location("_bench_softmax_j", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for dtype in (jnp.float32, jnp.float64):
            key = jax.random.key(0)
            z = jax.random.normal(key, (ROWS, N), dtype=dtype)
            g = jax.random.normal(jax.random.key(1), (ROWS, N), dtype=dtype)
            fns = {
                "derive (generated, custom_vjp)": jax.jit(lambda z, g: jax.vjp(module.softmax, z)[1](g)[0]),
                "jax.vjp(jax.nn.softmax)": jax.jit(lambda z, g: jax.vjp(jax.nn.softmax, z)[1](g)[0]),
            }
            timed = {label: (lambda f=f, z=z, g=g: f(z, g).block_until_ready()) for label, f in fns.items()}
            seconds = fastest(timed, repeats=20 if quick else 200)
            rows += [dict(dtype=jnp.dtype(dtype).name, contender=k, seconds=v) for k, v in seconds.items()]
    return rows


def measure(quick: bool = False) -> dict:
    """Both tables, or the reason one could not run."""
    results = {}
    for key, part in (("torch", torch_backward), ("jax", jax_vjp)):
        try:
            results[key] = part(quick)
        except Unavailable as why:
            results[key] = str(why)
    return results


def render(results: dict, markdown: bool = True) -> str:
    """The tables, with each contender's time relative to the framework's own."""
    lines = [f"### PyTorch and JAX: backward at n = {N}, {ROWS} rows, CPU, {THREADS} threads", ""]
    torch_rows = results.get("torch")
    if isinstance(torch_rows, str):
        lines += [f"PyTorch: {torch_rows}", ""]
    elif torch_rows:
        lines += [
            "| function | dtype | contender | backward | vs built-in | saved for backward |",
            "|---|---|---|---|---|---|",
        ]
        base = {
            (r["function"], r["dtype"]): r["seconds"]
            for r in torch_rows
            if r["contender"] == "PyTorch built-in"
        }
        for r in torch_rows:
            ratio = r["seconds"] / base[(r["function"], r["dtype"])]
            lines.append(
                f"| {r['function']} | {r['dtype']} | {r['contender']} | {r['seconds'] * 1e6:.0f} µs "
                f"| {ratio:.2f}× | {r['saved'] / 1e6:.2f} MB |"
            )
        lines.append("")
    jax_rows = results.get("jax")
    if isinstance(jax_rows, str):
        lines += [f"JAX: {jax_rows}", ""]
    elif jax_rows:
        lines += ["| softmax VJP, jitted | dtype | time | vs jax.nn.softmax |", "|---|---|---|---|"]
        base = {r["dtype"]: r["seconds"] for r in jax_rows if r["contender"].startswith("jax.vjp")}
        for r in jax_rows:
            ratio = r["seconds"] / base[r["dtype"]]
            lines.append(f"| {r['contender']} | {r['dtype']} | {r['seconds'] * 1e6:.0f} µs | {ratio:.2f}× |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(measure("--quick" in sys.argv)))
