"""derive's benchmarks, in one run: python benchmarks/run.py [--quick] [--only PART] [--op OP] [--markdown]

`--json FILE` saves the raw results; `--from FILE` reports what `--json FILE` saved without measuring
again (after editing NOTES.md, say).

Symbolic: derive's pipeline against the plain SymPy route, large n, the command line, import time, and
where the time goes; every function's document and derivation, cold and cached (`documents.py`).
Runtime: the Numba VJP against a hand-fused reference kernel (`fused.py`); softmax's VJP, JVP and
Jacobian by hand-written NumPy, derive's generated code, PyTorch and JAX, against the memory-bandwidth
floor; and the VJP's peak memory. Contenders are timed in turn, round by round, and reported as medians.
Progress goes to stderr, tables to stdout.
"""

from __future__ import annotations

import argparse
import atexit
import compileall
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # the modules beside this file, and this checkout's derive

import report  # noqa: E402
import symbolic  # noqa: E402
from timing import ROOT  # noqa: E402

QUICK_DOCUMENTS = ("softmax", "rms_norm")
PARTS = ("symbolic", "profile", "runtime", "memory", "frameworks", "documents", "fused")


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer repeats, smaller sizes")
    parser.add_argument("--only", action="append", choices=PARTS, help="run only this part (repeatable)")
    parser.add_argument(
        "--op", action="append", choices=("vjp", "jvp", "jacobian"), help="runtime: only this operation"
    )
    parser.add_argument("--cap", type=float, help="seconds allowed to the plain SymPy route (60; quick 10)")
    parser.add_argument(
        "--markdown",
        nargs="?",
        const="BENCHMARKS.md",
        metavar="FILE",
        help="also write the tables as Markdown (default file: BENCHMARKS.md)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the raw results as JSON")
    parser.add_argument(
        "--from", dest="source", metavar="FILE", help="measure nothing: report the results --json wrote"
    )
    args = parser.parse_args(argv)
    args.cap = args.cap or (10.0 if args.quick else 60.0)
    args.only = args.only or list(PARTS)
    return args


def _say(message: str):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure(args) -> dict:
    """Every part asked for, into one dict of results."""
    quick = args.quick
    r = {"cap": args.cap}
    if "symbolic" in args.only:
        sizes = (4, 8, 16, 32, 64)
        _say(f"symbolic: derive against the plain SymPy route at n = {sizes} (cap {args.cap:.0f} s)")
        r["against plain"] = symbolic.against_plain(sizes, repeats=1 if quick else 3, cap=args.cap)
        _say("symbolic: derive alone at n = 128, 256, 1024")
        r["large"] = symbolic.large((128, 256, 1024), repeats=1 if quick else 3)
        r["exponents"] = symbolic.exponents(r["against plain"], r["large"])
        _say("symbolic: the command line and import time, fresh processes")
        r["cli"] = symbolic.commands(symbolic.CLI, repeats=2 if quick else 7)
        r["imports"] = symbolic.commands(symbolic.IMPORTS, repeats=2 if quick else 7)
    if "profile" in args.only:
        _say("symbolic: where the time goes (cProfile, fresh process)")
        r["profile"] = symbolic.where_the_time_goes()
    if "runtime" in args.only or "memory" in args.only:
        import peers
        import runtime

        r["contenders"] = list(peers.CONTENDERS)
        if "runtime" in args.only:
            _say("runtime: memory bandwidth")
            r["bandwidth"] = runtime.bandwidth(quick)
            _say("runtime: VJP, JVP, Jacobian at n = 10, 100, 1000, float64 and float32")
            ops = tuple(args.op) if args.op else runtime.OPS
            r["runtime"] = runtime.cases(quick, repeats=3 if quick else 15, ops=ops)
        if "memory" in args.only:
            _say("runtime: peak memory of the VJP")
            r["memory"] = runtime.peak_memory(quick)
    if "documents" in args.only:
        import documents

        # --quick proves the part runs, on one function of one input and one of several: all fifteen, cold
        # and cached, take minutes
        some = QUICK_DOCUMENTS if quick else None
        _say("documents: each function's document and derivation, cold and cached; tensorgrad beside")
        r["documents"] = documents.measure(repeats=1 if quick else 5, functions=some)
    if "fused" in args.only:
        import fused

        _say("fused: derive's Numba VJP against the hand-fused reference kernel, torch and the floor")
        r["fused"] = fused.measure(quick)
    if "frameworks" in args.only:
        import frameworks

        _say("frameworks: derive's torch and jax targets against PyTorch's and JAX's own backward")
        r["frameworks"] = frameworks.measure(quick)
    return r


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _machine() -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in lscpu.splitlines() if "Model name" in line)
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def _commit() -> str:
    git = ["git", "describe", "--always", "--dirty"]
    found = subprocess.run(git, capture_output=True, text=True, cwd=ROOT)
    return found.stdout.strip() or "unknown"


def header(argv, load) -> dict:
    """When, where and with what the run was made."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(),
        "load average (1 min) before, after": load,
        "versions": ", ".join(
            [f"Python {platform.python_version()}"]
            + [f"{name} {_version(name)}" for name in ("sympy", "numpy", "torch", "jax", "numba")]
        ),
        "command": "python benchmarks/run.py " + " ".join(argv),
        "commit": _commit(),
    }


def markdown(meta: dict, r: dict) -> str:
    lines = ["# Benchmarks", "", "Generated by `benchmarks/run.py --markdown`: do not edit by hand.", ""]
    lines += [f"- **{k}**: {v}" for k, v in meta.items()]
    lines += ["", report.render(r, markdown=True)]
    notes = HERE / "NOTES.md"
    if notes.exists():
        lines += [notes.read_text(encoding="utf-8")]
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = arguments(argv)
    # Every command this run starts derives into a cache of the run's own: none reads the user's cache.
    os.environ["DERIVE_CACHE_DIR"] = tempfile.mkdtemp(prefix="derive-bench-")
    atexit.register(shutil.rmtree, os.environ["DERIVE_CACHE_DIR"], ignore_errors=True)
    if args.source:
        saved = json.loads(Path(args.source).read_text(encoding="utf-8"))
        meta, r = saved["meta"], saved["results"]
        if "against plain" in r:  # derived from the measurements: recomputed, not stored
            r["exponents"] = symbolic.exponents(r["against plain"], r["large"])
    else:
        # As pip does for an installed package: with PYTHONDONTWRITEBYTECODE set (this machine's default),
        # a checkout's modules are otherwise compiled again by every command timed (0.03-0.09 s each).
        compileall.compile_dir(str(ROOT / "derive"), quiet=1)
        before = os.getloadavg()[0]
        r = measure(args)
        meta = header(argv, f"{before:.2f}, {os.getloadavg()[0]:.2f}")
    print("\n".join(f"{k}: {v}" for k, v in meta.items()) + "\n")
    print(report.render(r))
    if args.markdown:
        Path(args.markdown).write_text(markdown(meta, r), encoding="utf-8")
        _say(f"wrote {args.markdown}")
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": r}, indent=1, default=str))
        _say(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
