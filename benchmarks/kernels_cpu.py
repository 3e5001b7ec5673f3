"""derive's Numba VJP against torch autograd in CPU seconds per call, one thread each: a measure that a
shared machine disturbs less than wall time (a preempted call accrues no CPU; page faults count, as
system time). python benchmarks/kernels_cpu.py [--threads N] [--rounds R]

Softmax, z of 4,096,000 entries (32 MB float64), n = 10, 100, 1000, float64 and float32; derive allocating
its result and writing into out= (a buffer allocated once); torch.autograd.grad through torch.softmax,
forward included on both sides. Median of interleaved rounds (each round calls every contender once, in
a rotating order).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import numpy as np  # noqa: E402
from peers import generated_module  # noqa: E402  (sets Numba's workqueue layer before it compiles)

ELEMENTS = 4_096_000


def measure(threads: int = 1, rounds: int = 21, sizes=(10, 100, 1000), dtypes=("float64", "float32")):
    """[{dtype, n, cpu: {name: s}, wall: {name: s}}] per case."""
    import numba
    import torch

    module = generated_module("numba")
    numba.set_num_threads(threads)
    torch.set_num_threads(threads)
    found = []
    for dtype in dtypes:
        for n in sizes:
            rng = np.random.default_rng(20261126)
            z = rng.normal(scale=2.0, size=(ELEMENTS // n, n)).astype(dtype)
            g = rng.normal(size=z.shape).astype(dtype)
            out = np.empty_like(z)
            zt, gt = torch.from_numpy(z).clone().requires_grad_(), torch.from_numpy(g)
            calls = {
                "derive numba": lambda z=z, g=g: module.softmax_vjp(z, g),
                "derive numba (out=)": lambda z=z, g=g, out=out: module.softmax_vjp(z, g, out=out),
                "torch autograd": lambda zt=zt, gt=gt: torch.autograd.grad(torch.softmax(zt, -1), zt, gt)[0],
            }
            for call in calls.values():  # compiles, warms caches and the allocator
                call(), call()
            names = list(calls)
            cpu = {name: [] for name in names}
            wall = {name: [] for name in names}
            for r in range(rounds):
                shift = r % len(names)
                for name in names[shift:] + names[:shift]:
                    c, w = time.process_time(), time.perf_counter()
                    calls[name]()
                    cpu[name].append(time.process_time() - c)
                    wall[name].append(time.perf_counter() - w)
            median = statistics.median
            found.append(
                {
                    "dtype": dtype,
                    "n": n,
                    "cpu": {k: median(v) for k, v in cpu.items()},
                    "wall": {k: median(v) for k, v in wall.items()},
                }
            )
    return found


def table(found) -> str:
    names = list(found[0]["cpu"])
    header = "| dtype | n | " + " | ".join(f"{k}, CPU" for k in names) + " |"
    lines = [header, "|---" * (len(names) + 2) + "|"]
    for row in found:
        torch = row["cpu"]["torch autograd"]
        cells = [f"{row['cpu'][k] * 1e3:.1f} ms ({row['cpu'][k] / torch:.2f}×)" for k in names]
        lines.append(f"| {row['dtype']} | {row['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    print(table(measure(args.threads, args.rounds)))
