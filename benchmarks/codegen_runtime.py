"""Generated softmax code against hand-written NumPy: Jacobian, VJP and JVP at n = 10, 100, 1000.

    PYTHONPATH=. python benchmarks/codegen_runtime.py

Every function takes z (and g or v) and computes s = softmax(z) itself, as the generated code does.
Calls are timed in turn, so that all see the same load; each time is the median of REPEATS runs, with
the fastest run in parentheses (the least disturbed by other processes). The ratio is the generated
code's time over the best hand-written version's (best by median).

Measured on a shared 2-core x86-64 (other jobs running), numpy 2.4.6, python 3.11.7:

| function | n | batch | generated | best hand-written | ratio of medians (fastest) |
|---|---|---|---|---|---|
| jacobian | 10 | 4096 | 1.070 (1.009) ms | einsum: 1.000 (0.937) ms | 1.07 (1.08) |
| vjp | 10 | 4096 | 0.509 (0.483) ms | s*(g-(g*s).sum()): 0.491 (0.471) ms | 1.04 (1.03) |
| jvp | 10 | 4096 | 0.553 (0.486) ms | s*(v-(s*v).sum()): 0.539 (0.476) ms | 1.03 (1.02) |
| jacobian | 100 | 1024 | 17.025 (15.330) ms | s[:,None]*s[None,:]: 18.987 (17.089) ms | 0.90 (0.90) |
| vjp | 100 | 1024 | 0.488 (0.444) ms | s*(g-(g*s).sum()): 0.471 (0.436) ms | 1.03 (1.02) |
| jvp | 100 | 1024 | 0.462 (0.440) ms | s*(v-(s*v).sum()): 0.445 (0.429) ms | 1.04 (1.02) |
| jacobian | 1000 | 64 | 88.542 (78.108) ms | s[:,None]*s[None,:]: 91.546 (81.820) ms | 0.97 (0.95) |
| vjp | 1000 | 64 | 0.258 (0.222) ms | s*(g-(g*s).sum()): 0.240 (0.214) ms | 1.08 (1.04) |
| jvp | 1000 | 64 | 0.269 (0.219) ms | s*(v-(s*v).sum()): 0.222 (0.210) ms | 1.21 (1.04) |

The jvp at n = 1000 runs the same operations as the vjp: its median ratio is the machine's noise.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import timeit
from pathlib import Path

import numpy as np

from derive import derive, emit

SIZES = {10: 4096, 100: 1024, 1000: 64}  # n: batch; the Jacobians are 3, 80 and 512 MB in float64
REPEATS = 31


def softmax(z):
    """Softmax by hand, with the max shift."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def jacobian_einsum(z):
    s = softmax(z)
    J = -np.einsum("bi,bj->bij", s, s)
    idx = np.arange(s.shape[-1])
    J[:, idx, idx] += s
    return J


def jacobian_broadcast(z):
    s = softmax(z)
    J = -s[..., :, None] * s[..., None, :]
    idx = np.arange(s.shape[-1])
    J[..., idx, idx] += s
    return J


def jacobian_eye(z):
    s = softmax(z)
    return s[..., :, None] * (np.eye(s.shape[-1]) - s[..., None, :])


def vjp(z, g):
    s = softmax(z)
    return s * (g - (g * s).sum(-1, keepdims=True))


def jvp(z, v):
    s = softmax(z)
    return s * (v - (s * v).sum(-1, keepdims=True))


HAND = {
    "jacobian": {"einsum": jacobian_einsum, "s[:,None]*s[None,:]": jacobian_broadcast, "eye": jacobian_eye},
    "vjp": {"s*(g-(g*s).sum())": vjp},
    "jvp": {"s*(v-(s*v).sum())": jvp},
}


def load(source: str, path: Path):
    """The generated module, imported from its file."""
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timings(calls: dict) -> dict:
    """(median, fastest) time per call of each, over REPEATS runs, the calls taken in turn."""
    number = {k: max(1, int(0.02 / max(timeit.timeit(c, number=1), 1e-7))) for k, c in calls.items()}
    times = {k: [] for k in calls}
    for _ in range(REPEATS):
        for key, call in calls.items():
            times[key].append(timeit.timeit(call, number=number[key]) / number[key])
    return {k: (float(np.median(t)), min(t)) for k, t in times.items()}


def _call(function, args):
    return lambda: function(*args)


def main() -> None:
    rng = np.random.default_rng(0)
    versions = f"numpy {np.__version__}, python {sys.version.split()[0]}"
    print(f"{versions}, float64; median (fastest) of {REPEATS} runs")
    print("| function | n | batch | generated | best hand-written | ratio of medians (fastest) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for n, batch in SIZES.items():
            module = load(emit(derive("softmax", n=n)), Path(folder) / f"softmax{n}.py")
            z, g = rng.normal(size=(2, batch, n))
            for kind, hand in HAND.items():
                args = (z,) if kind == "jacobian" else (z, g)
                generated = getattr(module, f"softmax_{kind}")
                assert all(np.allclose(generated(*args), f(*args), atol=1e-12) for f in hand.values())
                calls = {"generated": _call(generated, args)} | {k: _call(f, args) for k, f in hand.items()}
                t = timings(calls)
                best = min(hand, key=lambda k: t[k][0])
                (ours, ours_min), (theirs, theirs_min) = t["generated"], t[best]
                row = f"| {kind} | {n} | {batch} | {ours * 1e3:.3f} ({ours_min * 1e3:.3f}) ms "
                row += f"| {best}: {theirs * 1e3:.3f} ({theirs_min * 1e3:.3f}) ms "
                print(row + f"| {ours / theirs:.2f} ({ours_min / theirs_min:.2f}) |", flush=True)


if __name__ == "__main__":
    main()
