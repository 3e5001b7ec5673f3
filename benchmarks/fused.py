"""The reference for derive's Numba VJP: softmax's backward fused by hand, against the generated kernel,
PyTorch's autograd and the bandwidth floor. python benchmarks/fused.py [--quick]

The hand kernel keeps no per-row temporary (the output row holds e^{z−max} until it is overwritten),
computes exp with an integer conversion in int32 (which LLVM vectorises; int64 it does not on AVX2), and
lets only its two reductions reassociate (fastmath={"reassoc", "contract"} on the sum and the dot product,
their own functions). It is derive's target, not derive's output: nothing here is generated.
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import numba
import numba.extending
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from timing import interleave  # noqa: E402  (after the path above)

REDUCE = {"reassoc", "contract"}  # only the reductions may reorder their additions
# As the runtime benchmark (peers.py): workqueue threads sleep between calls, where OpenMP's spin and
# steal the time of the contender timed next (torch's backward read 2-3x slower beside them); set before
# the first kernel compiles, which is when Numba picks its layer. Two threads, as torch.
numba.config.THREADING_LAYER = "workqueue"
numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))


@numba.njit(fastmath=REDUCE, cache=True)
def _sum(x):
    acc = 0.0
    for i in range(len(x)):
        acc += x[i]
    return acc


@numba.njit(fastmath=REDUCE, cache=True)
def _dot(x, y):
    acc = 0.0
    for i in range(len(x)):
        acc += x[i] * y[i]
    return acc


@numba.njit(cache=True)
def _max(x):
    m = -np.inf
    for i in range(len(x)):
        m = max(m, x[i])
    return m


@numba.extending.intrinsic
def _two_to(typingctx, k):
    """2^k from exponent bits, k an int32 in the normal range."""

    def codegen(context, builder, signature, args):
        wide = builder.sext(args[0], context.get_value_type(numba.types.int64))
        biased = builder.add(wide, context.get_constant(numba.types.int64, 1023))
        bits = builder.shl(biased, context.get_constant(numba.types.int64, 52))
        return builder.bitcast(bits, context.get_value_type(numba.types.float64))

    return numba.types.float64(numba.types.int32), codegen


@numba.njit(cache=True)
def _exp(x):
    """exp for x ≤ 0 (a max-shifted softmax argument), within 1 ulp: the reduction k ln 2 + r, Taylor."""
    x = max(x, -700.0)
    k = math.floor(x * 1.4426950408889634 + 0.5)
    r = x - k * 0.6931471803691238 - k * 1.9082149292705877e-10
    p = 1.6059043836821613e-10
    p = p * r + 2.08767569878681e-09
    p = p * r + 2.505210838544172e-08
    p = p * r + 2.755731922398589e-07
    p = p * r + 2.7557319223985893e-06
    p = p * r + 2.48015873015873e-05
    p = p * r + 0.0001984126984126984
    p = p * r + 0.001388888888888889
    p = p * r + 0.008333333333333333
    p = p * r + 0.041666666666666664
    p = p * r + 0.16666666666666666
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return p * _two_to(np.int32(k))


@numba.njit(parallel=True, cache=True)
def softmax_vjp_rows(z_rows, g_rows, out_rows):
    """s ⊙ (g − Σ g s) per row, the output row the only buffer."""
    rows, n = z_rows.shape
    for row in numba.prange(rows):
        z, g, out = z_rows[row], g_rows[row], out_rows[row]
        m = _max(z)
        for i in range(n):
            out[i] = _exp(z[i] - m)
        inv = 1.0 / _sum(out)
        dot = _dot(g, out) * inv
        for i in range(n):
            out[i] = out[i] * inv * (g[i] - dot)


def hand_vjp(z, g, out=None):
    out = np.empty_like(z) if out is None else out
    softmax_vjp_rows(z.reshape(-1, z.shape[-1]), g.reshape(-1, g.shape[-1]), out.reshape(-1, z.shape[-1]))
    return out


def generated_vjp():
    """derive's Numba VJP for softmax, emitted and imported from a temporary file."""
    import importlib.util

    from derive import derive, emit

    folder = Path(tempfile.mkdtemp(prefix="derive-fused-"))
    path = folder / "softmax_nb.py"
    path.write_text(emit(derive("softmax"), "numba"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("softmax_nb_fused", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.softmax_vjp


def into(vjp):
    """vjp writing into out=, one buffer kept for the latest shape and dtype: as the floor's np.add, no call
    first-touches fresh pages of a new result (torch autograd has no out=: it allocates every call)."""
    kept = {}

    def run(z, g):
        key = (z.shape, z.dtype)
        if key not in kept:
            kept.clear()
            kept[key] = np.empty_like(z)
        return vjp(z, g, out=kept[key])

    return run


def torch_vjp():
    import torch

    torch.set_num_threads(2)

    def run(z, g):
        tz = torch.from_numpy(z).requires_grad_(True)
        s = torch.softmax(tz, dim=-1)
        (grad,) = torch.autograd.grad(s, tz, torch.from_numpy(g))
        return grad.numpy()

    return run


def measure(quick: bool = False, sizes=(10, 100, 1000), dtype="float64") -> list[dict]:
    """Median seconds of each contender per size, z of 32 MB (past every cache, quick too: a smaller z
    would measure the cache, not memory), checked against the reference."""
    elements = 2**22
    repeats = 5 if quick else 15
    derived = generated_vjp()
    contenders = {
        "hand fused": hand_vjp,
        "derive numba": derived,
        "hand fused (out=)": into(hand_vjp),
        "derive numba (out=)": into(derived),
    }
    try:
        contenders["torch autograd"] = torch_vjp()
    except ImportError:
        pass
    found = []
    for n in sizes:
        rng = np.random.default_rng(20261126)
        z = rng.normal(scale=2.0, size=(elements // n, n)).astype(dtype)
        g = rng.normal(size=z.shape).astype(dtype)
        s = np.exp(z - z.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        reference = s * (g - (g * s).sum(-1, keepdims=True))
        out = np.empty_like(z)
        calls = {"floor": lambda z=z, g=g, out=out: np.add(z, g, out=out)}
        row = {"n": n}
        for name, fn in contenders.items():
            got = fn(z, g)  # compiles, warms caches
            if not np.allclose(got, reference, rtol=1e-9, atol=1e-12):
                row[name] = None
                continue
            calls[name] = lambda fn=fn, z=z, g=g: fn(z, g)
        # Interleaved rounds (A B C, B C A, …): a slow spell of the shared machine lands on every contender.
        row.update(interleave(calls, repeats))
        found.append(row)
    return found


def table(found: list[dict]) -> str:
    names = [k for k in found[0] if k not in ("n", "floor")]
    lines = ["| n | floor (z, g → out) | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
    for row in found:
        cells = [
            "fails the check" if row[k] is None else f"{row[k] * 1e3:.1f} ms ({row[k] / row['floor']:.1f}×)"
            for k in names
        ]
        lines.append(f"| {row['n']} | {row['floor'] * 1e3:.1f} ms | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(measure(quick="--quick" in sys.argv)))
