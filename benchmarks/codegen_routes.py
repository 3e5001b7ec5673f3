"""Where writing entries out beats broadcasting: time both routes of generated softmax code, n = 1..8.

    PYTHONPATH=. python benchmarks/codegen_routes.py

For each generated function and n, the two routes are timed alternately at batch 1 and batch 4096;
each time is the fastest of REPEATS runs (the least disturbed by other processes on the machine).
The last line is the largest n up to which the explicit route won at batch 4096, where runtime
matters (at batch 1 either route takes microseconds): the numbers in derive.codegen.numpy.EXPLICIT_UP_TO.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import timeit
from pathlib import Path

import numpy as np

from derive import derive
from derive.codegen.module import KINDS
from derive.codegen.targets import generate

SIZES = range(1, 9)
BATCHES = (1, 4096)
ROUTES = ("explicit", "broadcast")
REPEATS = 41


def load(source: str, path: Path):
    """The generated module, imported from its file."""
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fastest(calls: dict) -> dict:
    """The fastest time per call of each, timed in turn so that both see the same load."""
    number = {k: max(1, int(2e-3 / max(timeit.timeit(c, number=3) / 3, 1e-7))) for k, c in calls.items()}
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(REPEATS):
        for key, call in calls.items():
            best[key] = min(best[key], timeit.timeit(call, number=number[key]) / number[key])
    return best


def _last_win(won) -> int:
    """The largest n such that the explicit route won at every n up to it."""
    return next((n - 1 for n, w in zip(SIZES, won, strict=True) if not w), max(SIZES))


def _call(function, args):
    return lambda: function(*args)


def main() -> None:
    rng = np.random.default_rng(0)
    wins = {kind: [] for kind in KINDS}
    with tempfile.TemporaryDirectory() as folder:
        for n in SIZES:
            d = derive("softmax", n=n)
            modules = {
                r: load(generate(d, "numpy", route=r), Path(folder) / f"softmax{n}_{r}.py") for r in ROUTES
            }
            for kind in KINDS:
                name = "softmax" if kind == "forward" else f"softmax_{kind}"
                row = []
                for batch in BATCHES:
                    z, g = rng.normal(size=(2, batch, n))
                    args = (z,) if kind in ("forward", "jacobian") else (z, g)
                    t = fastest({r: _call(getattr(m, name), args) for r, m in modules.items()})
                    row.append(f"batch {batch:>4}: " + ", ".join(f"{r} {t[r] * 1e6:7.1f} µs" for r in ROUTES))
                wins[kind].append(t["explicit"] < t["broadcast"])  # at the largest batch
                print(f"n={n} {kind:8s} " + "; ".join(row), flush=True)
    found = {kind: _last_win(won) for kind, won in wins.items()}
    print(f"EXPLICIT_UP_TO = {found}  # numpy {np.__version__}, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
