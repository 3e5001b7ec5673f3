"""derive's torch and jax targets against the frameworks' own: backward time and what is saved for it.

PyTorch: the backward of the generated softmax, log_softmax and layer_norm (torch.autograd.Function)
against PyTorch's built-in (torch.softmax, torch.log_softmax, F.layer_norm without affine, all with
their fused C++ backwards) and against autograd through the plain formula (the definition, as derive
writes it before any rewrite), on the CPU, 2 threads (torch.set_num_threads), float32 and float64.
Backward: the forward runs once, the graph is kept, and torch.autograd.grad is called again, the same
way for every contender. Forward + backward: both, a fresh graph each call. Each time is the fastest
of 200 calls (20 with --quick), contenders called in turn; the median of the same calls is given too.
The main table is at 256 rows of n = 1000; a second one gives the backward ratios at other shapes.
Saved for backward: the bytes of the distinct tensors autograd keeps (saved_tensors_hooks), and of
those beyond the input and the output (which the caller holds anyway).
JAX: the VJP of the generated softmax, log_softmax and layer_norm (jax.custom_vjp) against jax.vjp of
jax.nn.softmax, jax.nn.log_softmax and jax.nn.standardize (epsilon 0), all jitted.

    PYTHONPATH=. python benchmarks/frameworks.py [--quick] [--torch] [--device cuda]

The generated backward runs its fused C++ kernel on the CPU (FUSED, the module's default); the same module
with FUSED = False (the torch lines alone) is timed beside it. --torch: the PyTorch tables alone.
--device cuda: the PyTorch tables on that device (each call waits for the device, torch.cuda.synchronize;
the generated module runs its torch lines there, unchanged); one line where there is no such device.
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
SHAPES = ((64, 1000), (1024, 1000), (256, 100))  # besides (ROWS, N): backward ratios only
BUILTIN, PLAIN, GENERATED = "PyTorch built-in", "autograd, plain formula", "derive (generated)"
EAGER = "derive, torch lines (FUSED = False)"


def fastest(contenders: dict, repeats: int, median: bool = False) -> dict:
    """The fastest single call of each contender, called in turn (A B C, B C A, …) after a warm-up;
    with median, (fastest, median) pairs.

    The fastest leads: on a shared machine a call is only ever slowed by others' work, and with two
    threads a preempted thread stalls the whole call; the fastest run is the code's own time.
    """
    names = list(contenders)
    for name in names:
        contenders[name]()
    times = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
    if median:
        return {name: (min(t), sorted(t)[len(t) // 2]) for name, t in times.items()}
    return {name: min(t) for name, t in times.items()}


def _modules(name: str, folder: Path):
    """The generated torch module of name (its fused kernel built, in a fresh build folder: the seconds
    that took), the same module with FUSED = False, and the plain definition as torch code, imported."""
    import os

    from derive import derive, emit
    from derive.checking.frameworks import _plain_module

    d = derive(name)
    source = emit(d, "torch")
    generated = _imported(folder, f"{name}_t", source)
    eager = _imported(folder, f"{name}_eager", source)
    eager.FUSED = False
    builds = folder / f"builds_{name}"
    builds.mkdir()
    os.environ["TORCH_EXTENSIONS_DIR"] = str(builds)  # a cold build, not one cached by an earlier run
    start = time.perf_counter()
    if not generated._kernels():
        raise Unavailable(f"the fused {name} backward was not built")
    build = time.perf_counter() - start
    return (generated, eager, _imported(folder, f"{name}_plain", _plain_module(d, "torch"))), build


def _imported(folder: Path, stem: str, source: str):
    path = folder / f"{stem}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"_bench_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _builtin(name: str):
    import torch

    return {
        "softmax": lambda z: torch.softmax(z, dim=-1),
        "log_softmax": lambda z: torch.log_softmax(z, dim=-1),
        "layer_norm": lambda z: torch.nn.functional.layer_norm(z, z.shape[-1:], eps=0.0),
    }[name]


def _saved_bytes(f, z) -> tuple[int, int]:
    """Bytes of the distinct tensors autograd keeps for the backward of f(z): all, and beyond z and
    the output (what the caller holds anyway)."""
    import torch

    kept = []

    def pack(x):
        kept.append(x)
        return x

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda x: x):
        out = f(z)
    held = {x.untyped_storage().data_ptr() for x in (z, out)}
    seen = {}
    for x in kept:
        storage = x.untyped_storage()
        seen[(storage.data_ptr(), storage.nbytes())] = storage.nbytes()
    beyond = sum(size for (pointer, _), size in seen.items() if pointer not in held)
    return sum(seen.values()), beyond


def _contenders(generated, eager, plain, name) -> dict:
    return {
        GENERATED: getattr(generated, name),
        EAGER: getattr(eager, name),
        BUILTIN: _builtin(name),
        PLAIN: plain.plain,
    }


def _inputs(rows: int, n: int, dtype, device: str = "cpu"):
    import torch

    gen = torch.Generator().manual_seed(0)  # drawn on the CPU: the same numbers on every device
    z = torch.randn(rows, n, dtype=dtype, generator=gen).to(device).requires_grad_()
    return z, torch.randn(rows, n, dtype=dtype, generator=gen).to(device)


def _waited(f, device: str):
    """f, then a wait for the device's queue: a CUDA call returns before its kernels have run."""
    import torch

    if device == "cpu":
        return f

    def call():
        f()
        torch.cuda.synchronize(device)

    return call


def _backward_only(contenders: dict, z, g, device: str = "cpu") -> dict:
    import torch

    timed = {}
    for label, f in contenders.items():
        out = f(z)
        again = lambda out=out, z=z, g=g: torch.autograd.grad(out, z, g, retain_graph=True)  # noqa: E731
        timed[label] = _waited(again, device)
    return timed


def torch_backward(quick: bool, device: str = "cpu") -> dict:
    """Rows of (function, dtype, contender, backward fastest and median, forward + backward, bytes saved),
    and of (function, dtype, shape, contender, backward) at the other shapes."""
    try:
        import torch
    except ImportError as missing:
        raise Unavailable("torch is not installed") from missing
    if device != "cpu" and not (device.startswith("cuda") and torch.cuda.is_available()):
        raise Unavailable(f"no {device} device on this machine (--device {device}): nothing measured")
    torch.set_num_threads(THREADS)
    repeats = 20 if quick else 200
    rows, shapes, builds = [], [], {}
    with tempfile.TemporaryDirectory() as folder:
        for name in FUNCTIONS:
            modules, builds[name] = _modules(name, Path(folder))
            contenders = _contenders(*modules, name)
            for dtype in (torch.float32, torch.float64):
                z, g = _inputs(ROWS, N, dtype, device)
                seconds = fastest(_backward_only(contenders, z, g, device), repeats, median=True)
                both = fastest(
                    {
                        label: _waited(lambda f=f, z=z, g=g: torch.autograd.grad(f(z), z, g), device)
                        for label, f in contenders.items()
                    },
                    repeats,
                )
                for label, f in contenders.items():
                    saved, beyond = _saved_bytes(f, z)
                    rows.append(
                        dict(
                            function=name,
                            dtype=str(dtype).replace("torch.", ""),
                            contender=label,
                            seconds=seconds[label][0],
                            median=seconds[label][1],
                            both=both[label],
                            saved=saved,
                            beyond=beyond,
                        )
                    )
                for shape in SHAPES:
                    z, g = _inputs(*shape, dtype, device)
                    seconds = fastest(_backward_only(contenders, z, g, device), repeats)
                    shapes += [
                        dict(
                            function=name,
                            dtype=str(dtype).replace("torch.", ""),
                            shape=f"{shape[0]}×{shape[1]}",
                            contender=label,
                            seconds=s,
                        )
                        for label, s in seconds.items()
                    ]
    return dict(rows=rows, shapes=shapes, builds=builds, device=device)


def jax_vjp(quick: bool) -> list[dict]:
    """Rows of (function, dtype, contender, seconds per jitted VJP)."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as missing:
        raise Unavailable("jax is not installed") from missing
    from derive import derive, emit

    jax.config.update("jax_enable_x64", True)
    library = {
        "softmax": ("jax.nn.softmax", jax.nn.softmax),
        "log_softmax": ("jax.nn.log_softmax", jax.nn.log_softmax),
        "layer_norm": ("jax.nn.standardize", lambda z: jax.nn.standardize(z, axis=-1, epsilon=0.0)),
    }
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in FUNCTIONS:
            module = _imported(Path(folder), f"{name}_j", emit(derive(name), "jax"))
            label, theirs = library[name]
            for dtype in (jnp.float32, jnp.float64):
                z = jax.random.normal(jax.random.key(0), (ROWS, N), dtype=dtype)
                g = jax.random.normal(jax.random.key(1), (ROWS, N), dtype=dtype)
                fns = {
                    "derive (generated, custom_vjp)": getattr(module, name),
                    f"jax.vjp({label})": theirs,
                }
                jitted = {k: jax.jit(lambda z, g, f=f: jax.vjp(f, z)[1](g)[0]) for k, f in fns.items()}
                timed = {k: (lambda f=f, z=z, g=g: f(z, g).block_until_ready()) for k, f in jitted.items()}
                seconds = fastest(timed, repeats=20 if quick else 200)
                rows += [
                    dict(function=name, dtype=jnp.dtype(dtype).name, contender=k, seconds=v)
                    for k, v in seconds.items()
                ]
    return rows


def measure(quick: bool = False, parts=("torch", "jax"), device: str = "cpu") -> dict:
    """Both tables (or the parts named), or the reason one could not run; PyTorch's on device."""
    results = {}
    for key, part in (("torch", torch_backward), ("jax", jax_vjp)):
        if key not in parts:
            continue
        try:
            results[key] = part(quick, device) if key == "torch" else part(quick)
        except Unavailable as why:
            results[key] = str(why)
    return results


def render(results: dict, markdown: bool = True) -> str:
    """The tables, with each contender's time relative to the framework's own."""
    measured = results.get("torch")
    device = measured.get("device", "cpu") if isinstance(measured, dict) else "cpu"
    where = f"CPU, {THREADS} threads" if device == "cpu" else f"PyTorch on {device}, JAX on the CPU"
    lines = [f"### PyTorch and JAX: backward at n = {N}, {ROWS} rows, {where}", ""]
    if isinstance(measured, str):
        lines += [f"PyTorch: {measured}", ""]
    elif measured:
        lines += _torch_tables(measured)
    jax_rows = results.get("jax")
    if isinstance(jax_rows, str):
        lines += [f"JAX: {jax_rows}", ""]
    elif jax_rows:
        lines += ["| VJP, jitted | dtype | contender | time | vs jax.nn |", "|---|---|---|---|---|"]
        jax_rows = [{"function": "softmax", **r} for r in jax_rows]  # older --json files: softmax alone
        base = {
            (r["function"], r["dtype"]): r["seconds"]
            for r in jax_rows
            if r["contender"].startswith("jax.vjp")
        }
        for r in jax_rows:
            ratio = r["seconds"] / base[(r["function"], r["dtype"])]
            lines.append(
                f"| {r['function']} | {r['dtype']} | {r['contender']} | {r['seconds'] * 1e6:.0f} µs "
                f"| {ratio:.2f}× |"
            )
        lines.append("")
    return "\n".join(lines)


def _torch_tables(measured) -> list[str]:
    rows = measured["rows"] if isinstance(measured, dict) else measured  # older --json files: rows alone
    lines = [
        "| function | dtype | contender | backward | vs built-in | median vs built-in "
        "| forward + backward vs built-in | saved for backward | of which beyond z and the output |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    base = {(r["function"], r["dtype"]): r for r in rows if r["contender"] == BUILTIN}
    for r in rows:
        b = base[(r["function"], r["dtype"])]
        median = f"{r['median'] / b['median']:.2f}×" if "median" in r else "—"
        both = f"{r['both'] / b['both']:.2f}×" if "both" in r else "—"
        beyond = f"{r['beyond'] / 1e6:.3f} MB" if "beyond" in r else "—"
        lines.append(
            f"| {r['function']} | {r['dtype']} | {r['contender']} | {r['seconds'] * 1e6:.0f} µs "
            f"| {r['seconds'] / b['seconds']:.2f}× | {median} | {both} | {r['saved'] / 1e6:.3f} MB "
            f"| {beyond} |"
        )
    lines.append("")
    shapes = measured.get("shapes") if isinstance(measured, dict) else None
    if shapes:
        lines += [
            "Backward at other shapes (rows × n), time / built-in's, fastest of the calls:",
            "",
            "| function | dtype | shape | derive (generated) | derive, torch lines | autograd, plain formula "
            "| built-in |",
            "|---|---|---|---|---|---|---|",
        ]
        times = {(r["function"], r["dtype"], r["shape"], r["contender"]): r["seconds"] for r in shapes}
        for function, dtype, shape in dict.fromkeys((r["function"], r["dtype"], r["shape"]) for r in shapes):
            b = times[(function, dtype, shape, BUILTIN)]
            eager = times.get((function, dtype, shape, EAGER))
            lines.append(
                f"| {function} | {dtype} | {shape} | {times[(function, dtype, shape, GENERATED)] / b:.2f}× "
                f"| {'—' if eager is None else f'{eager / b:.2f}×'} "
                f"| {times[(function, dtype, shape, PLAIN)] / b:.2f}× | {b * 1e6:.0f} µs |"
            )
        lines.append("")
    builds = measured.get("builds") if isinstance(measured, dict) else None
    if builds:
        built = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in builds.items())
        lines += [f"First backward on CPU builds the fused kernel (cold, wall clock): {built}.", ""]
    return lines


def _device(argv: list[str]) -> str:
    """The value of --device (cpu when absent)."""
    if "--device" not in argv:
        return "cpu"
    at = argv.index("--device") + 1
    if at == len(argv):
        sys.exit("frameworks.py: error: --device needs a value, e.g. --device cuda")
    return argv[at]


if __name__ == "__main__":
    parts = ("torch",) if "--torch" in sys.argv else ("torch", "jax")
    print(render(measure("--quick" in sys.argv, parts, _device(sys.argv))))
