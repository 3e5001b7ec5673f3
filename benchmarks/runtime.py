"""The runtime side: softmax's VJP, JVP and Jacobian by each contender, against NumPy's best and the
memory-bandwidth floor, and the peak memory of the VJP."""

from __future__ import annotations

import gc
import time
import tracemalloc

import numpy as np
from peers import CONTENDERS, NUMPY, OPS
from timing import Unavailable, interleave

SIZES = (10, 100, 1000)
DTYPES = ("float64", "float32")


def batch(op: str, n: int, quick: bool) -> int:
    """Rows per call: 4 M input elements (256 k quick), and at most 64 M (4 M) Jacobian entries."""
    elements = 2**18 if quick else 4_096_000
    rows = elements // n
    if op == "jacobian":
        rows = min(rows, (2**22 if quick else 2**26) // (n * n))
    return rows


def inputs(op: str, n: int, rows: int, dtype: str, seed: int = 20261121):
    """z ~ N(0, 2²) and, for the VJP and JVP, v ~ N(0, 1), of shape (rows, n)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2.0, size=(rows, n)).astype(dtype)
    v = None if op == "jacobian" else rng.normal(size=(rows, n)).astype(dtype)
    return z, v


def moved(op: str, n: int, rows: int, itemsize: int) -> int:
    """Bytes a perfect implementation must move: read z (and v), write the result."""
    if op == "jacobian":
        return rows * n * itemsize + rows * n * n * itemsize
    return 3 * rows * n * itemsize


def bandwidth(quick: bool) -> dict[str, float]:
    """Memory bandwidth in GB/s by a large copy and a large a + b (NumPy, and torch on 2 threads)."""
    size = 2**23 if quick else 2**25  # float64: 64 MB per array quick, 256 MB full
    a, b, c = np.ones(size), np.ones(size), np.empty(size)
    tests = {
        "numpy copy": (lambda: np.copyto(c, a), 2 * a.nbytes),
        "numpy a + b": (lambda: np.add(a, b, out=c), 3 * a.nbytes),
    }
    try:
        import torch

        torch.set_num_threads(2)
        ta, tb, tc = (torch.from_numpy(x) for x in (a, b, c))
        tests["torch a + b, 2 threads"] = (lambda: torch.add(ta, tb, out=tc), 3 * a.nbytes)
    except ImportError:
        pass
    times = interleave({name: fn for name, (fn, _) in tests.items()}, repeats=5 if quick else 15)
    return {name: tests[name][1] / times[name] / 1e9 for name in tests}


def _as_array(result):
    if hasattr(result, "detach"):
        result = result.detach()
    return np.asarray(result)


def _agrees(result, reference, dtype: str) -> bool:
    rtol, atol = (1e-9, 1e-12) if dtype == "float64" else (1e-3, 1e-6)
    result = _as_array(result)
    return result.shape == reference.shape and np.allclose(result, reference, rtol=rtol, atol=atol)


def case(op: str, n: int, dtype: str, quick: bool, repeats: int) -> dict:
    """Median seconds per call of every contender that runs and agrees with the reference."""
    rows = batch(op, n, quick)
    z, v = inputs(op, n, rows, dtype)
    reference = NUMPY[op]["broadcast"](*(x.astype(np.float64) for x in (z, v) if x is not None))
    calls, skipped, first = {}, {}, {}
    for name, make in CONTENDERS.items():
        try:
            call = make(op)(z, v)
            # The first call compiles what JITs (Numba, JAX) and warms every cache: timed apart.
            start = time.perf_counter()
            result = call()
            first[name] = time.perf_counter() - start
            if not _agrees(result, reference, dtype):
                skipped[name] = "wrong result"
                continue
        except Unavailable as why:
            skipped[name] = str(why)
            continue
        except Exception as error:  # a hook whose code landed with another signature: say so, go on
            skipped[name] = f"fails: {type(error).__name__}: {error}"
            continue
        calls[name] = call
    del reference
    gc.collect()
    times = interleave(calls, repeats, target=0.01 if quick else 0.02)
    found = {"op": op, "n": n, "rows": rows, "dtype": dtype, "bytes": moved(op, n, rows, z.itemsize)}
    return {**found, "times": times, "skipped": skipped, "first": first}


def cases(quick: bool, repeats: int, dtypes=DTYPES, sizes=SIZES, ops=OPS) -> list[dict]:
    """Every (op, n, dtype) case."""
    return [case(op, n, dtype, quick, repeats) for op in ops for dtype in dtypes for n in sizes]


def peak_memory(quick: bool) -> list[dict]:
    """Peak bytes allocated by each NumPy-based VJP, per input element, at n = 100 and 1000 (same
    number of elements): a VJP that built the n×n Jacobian would grow tenfold from one to the other."""
    elements = 2**18 if quick else 4_096_000
    found = []
    for name, make in CONTENDERS.items():
        if name in ("torch", "jax jit"):
            continue  # their allocators are invisible to tracemalloc
        row = {"contender": name}
        for n in (100, 1000):
            z, g = inputs("vjp", n, elements // n, "float64")
            try:
                call = make("vjp")(z, g)
            except Unavailable as why:
                row = {"contender": name, "skipped": str(why)}
                break
            gc.collect()
            tracemalloc.start()
            call()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            row[f"n = {n}"] = peak / z.size
        found.append(row)
    return found
