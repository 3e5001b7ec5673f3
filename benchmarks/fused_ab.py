"""Two generated Numba softmax VJPs side by side with the hand-fused kernel, interleaved: a module saved
from another commit ("before") against this checkout's ("after"). python benchmarks/fused_ab.py BEFORE.py

Two measures: z of 32 MB on every core (memory and compute, as `fused.py`), and z of 256 KB on one
thread, repeated (in cache: the kernels' arithmetic alone, which load disturbs less). Set
NUMBA_NUM_THREADS=1 for the second to mean one thread; the first then runs on one thread too.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import fused  # noqa: E402  (after the path above)
from timing import interleave  # noqa: E402


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fresh(source: str, name: str) -> Path:
    """source written into a new folder: no kernel cache from an earlier run (or another name) applies."""
    path = Path(tempfile.mkdtemp(prefix="derive-ab-")) / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return path


def _after() -> str:
    from derive import derive, emit

    return emit(derive("softmax"), "numba")


def large(modules: dict, repeats: int = 31) -> None:
    """Median ms per call over z of 32 MB, and each generated kernel's ratio to the hand kernel."""
    for n in (10, 100, 1000):
        rng = np.random.default_rng(20261126)
        z = rng.normal(scale=2.0, size=(2**22 // n, n))
        g = rng.normal(size=z.shape)
        reference = fused.hand_vjp(z, g)
        calls = {"hand": lambda z=z, g=g: fused.hand_vjp(z, g)}
        for name, module in modules.items():
            assert np.allclose(module.softmax_vjp(z, g), reference, rtol=1e-9, atol=1e-12), name
            calls[name] = lambda m=module, z=z, g=g: m.softmax_vjp(z, g)
        found = interleave(calls, repeats)
        times = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in found.items())
        ratios = ", ".join(f"{k} {found[k] / found['hand']:.2f}" for k in modules)
        print(f"32 MB, n = {n}: {times}; / hand: {ratios}")


def in_cache(modules: dict, rounds: int = 11, calls: int = 200) -> None:
    """Least ns per entry over rounds (rotating the order), z of 2^15 entries, the row kernels alone."""
    kernels = {"hand": fused.softmax_vjp_rows}
    kernels.update({name: m._softmax_vjp_rows for name, m in modules.items()})
    names = list(kernels)
    for n in (10, 100, 1000):
        rng = np.random.default_rng(1)
        z = rng.normal(scale=2.0, size=(2**15 // n, n))
        g = rng.normal(size=z.shape)
        out = np.empty_like(z)
        for kernel in kernels.values():
            kernel(z, g, out)  # compiles
        samples = {name: [] for name in names}
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                start = time.perf_counter()
                for _ in range(calls):
                    kernels[name](z, g, out)
                samples[name].append((time.perf_counter() - start) / (calls * z.size) * 1e9)
        best = {name: min(v) for name, v in samples.items()}
        times = ", ".join(f"{k} {v:.2f}" for k, v in best.items())
        ratios = ", ".join(f"{k} {best[k] / best['hand']:.2f}" for k in modules)
        print(f"in cache, n = {n}: {times} ns/entry; / hand: {ratios}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python benchmarks/fused_ab.py BEFORE.py (a softmax module from --emit numba)")
    before = Path(sys.argv[1]).read_text(encoding="utf-8")
    generated = {
        "before": _module(_fresh(before, "before_nb"), "before_nb"),
        "after": _module(_fresh(_after(), "after_nb"), "after_nb"),
    }
    large(generated)
    in_cache(generated)
