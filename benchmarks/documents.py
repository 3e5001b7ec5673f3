"""Per registered function: CPU seconds of its document and its derivation on the command line, cold and
cached, against the floor `python -c "import sympy, numpy"`; `derive list`; tensorgrad beside, if installed.

Cold is `--no-cache`; cached is the same command after one run has filled a fresh cache directory (the
DERIVE_CACHE_DIR this module points at a temporary directory of its own, so no run reads the user's).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

from timing import ROOT, Unavailable, median, run_timed

FLOOR = ["-c", "import sympy, numpy"]
SIZE = "64"
# The peer's side, run by the Python of a venv that has tensorgrad (TENSORGRAD_PYTHON, or the one
# benchmarks/NOTES.md describes); skipped with one line when there is none.
TENSORGRAD_PYTHON = os.environ.get("TENSORGRAD_PYTHON", "/work/venv-tg/bin/python")


def commands(name: str) -> dict[str, list[str]]:
    """The two commands timed for one function: its LaTeX document and its derivation (JSON output)."""
    return {
        "document": ["-m", "derive", name, "--n", SIZE, "--format", "latex"],
        "derivation": ["-m", "derive", name, "--n", SIZE, "--format", "json"],
    }


def registered() -> list[str]:
    from derive.engine.registry import summaries

    return list(summaries())


def measure(repeats: int = 3, functions=None) -> dict:
    """{'floor': CPU, 'list': (wall, CPU), 'functions': {name: {'document cold': CPU, …}}, 'skipped': …}."""
    functions = functions or registered()
    folder = tempfile.mkdtemp(prefix="derive-bench-cache-")
    saved = os.environ.get("DERIVE_CACHE_DIR")
    os.environ["DERIVE_CACHE_DIR"] = folder  # timing.environment() passes os.environ on
    try:
        # The floor is timed in every round too, beside the commands: the machine's speed drifts over a
        # run of minutes, and a floor timed only at the start moved every ratio by up to a fifth.
        floors = [run_timed(FLOOR)[1] for _ in range(repeats)]
        lists = [run_timed(["-m", "derive", "list"]) for _ in range(repeats)]
        found, skipped = {}, {}
        for name in functions:
            times = {}
            try:
                for what, args in commands(name).items():
                    run_timed(args, timeout=300)  # fills the cache
                    cold, cached = [], []
                    for _ in range(repeats):  # interleaved, so all three meet the same load
                        cold.append(run_timed([*args, "--no-cache"], timeout=300)[1])
                        cached.append(run_timed(args, timeout=300)[1])
                        floors.append(run_timed(FLOOR)[1])
                    times[f"{what} cold"], times[f"{what} cached"] = median(cold), median(cached)
            except (Unavailable, TypeError) as why:  # TypeError: run_timed gave None, past its timeout
                skipped[name] = str(why) or "timed out"
                continue
            found[name] = times
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if saved is None:
            os.environ.pop("DERIVE_CACHE_DIR", None)
        else:
            os.environ["DERIVE_CACHE_DIR"] = saved
    return {
        "floor": median(floors),
        "list": (median([w for w, _, _ in lists]), median([c for _, c, _ in lists])),
        "functions": found,
        "skipped": skipped,
        "tensorgrad": tensorgrad(repeats),
    }


_PEER = r"""
import resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
start = cpu()
import sympy
import tensorgrad.functions as F
from tensorgrad import Variable
from tensorgrad.tensor import Derivative
base = cpu()
i = sympy.Symbol("i")
x = Variable("x", i)
y = Variable("y", i)
def timed(expr):
    t = cpu()
    expr.full_simplify()
    return cpu() - t
jac = timed(Derivative(F.softmax(x, dim="i"), x))
ce = timed(Derivative(F.cross_entropy(x, y, dim="i"), x))
print(f"{base - start:.3f} {jac:.3f} {ce:.3f}")
"""


def tensorgrad(repeats: int) -> dict | str:
    """tensorgrad's symbolic time for softmax's Jacobian and the cross-entropy gradient (CPU seconds, in
    a fresh process each), or why it was skipped."""
    if not os.path.exists(TENSORGRAD_PYTHON):
        return f"tensorgrad: no Python with it at {TENSORGRAD_PYTHON} (set TENSORGRAD_PYTHON): skipped"
    samples = []
    for _ in range(repeats):
        done = subprocess.run(
            [TENSORGRAD_PYTHON, "-c", _PEER], capture_output=True, text=True, timeout=300, cwd=ROOT
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return f"tensorgrad: fails ({last[:120]}): skipped"
        samples.append([float(x) for x in done.stdout.split()])
    imports, jac, ce = (median(column) for column in zip(*samples, strict=True))
    return {
        "import": imports,
        "softmax Jacobian": jac,
        "cross-entropy gradient": ce,
    }


def table(r: dict, markdown: bool = True) -> str:
    """The per-function table with ratios to the floor, then derive list and tensorgrad."""
    floor = r["floor"]
    head = "| function | document cold | document cached | derivation cold | derivation cached |"
    lines = [
        f'Floor: `python -c "import sympy, numpy"` {floor:.2f} s CPU. Each cell: CPU seconds of '
        f"`derive F --n {SIZE} --format latex` (document) or `--format json` (derivation), and the ratio "
        "to the floor; cold is `--no-cache`.",
        "",
        head,
        "|---|---|---|---|---|",
    ]
    keys = ("document cold", "document cached", "derivation cold", "derivation cached")
    for name, times in r["functions"].items():
        cells = [f"{times[k]:.2f} s ({times[k] / floor:.1f}×)" for k in keys]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for name, why in r["skipped"].items():
        lines.append(f"| {name} | {why} | | | |")
    wall, cpu = r["list"]
    lines += ["", f"`derive list`: {wall:.2f} s wall, {cpu:.2f} s CPU."]
    peer = r["tensorgrad"]
    if isinstance(peer, str):
        lines += ["", peer]
    else:
        lines += [
            "",
            "tensorgrad (symbolic, `full_simplify`, CPU after its imports of "
            f"{peer['import']:.2f} s): softmax Jacobian {peer['softmax Jacobian']:.2f} s, "
            f"cross-entropy gradient {peer['cross-entropy gradient']:.2f} s (its fused layer_norm has no "
            "symbolic derivative: not compared). It proves nothing it prints.",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    chosen = [a for a in sys.argv[1:] if not a.startswith("--")] or None
    print(table(measure(repeats=1 if quick else 3, functions=chosen)))
