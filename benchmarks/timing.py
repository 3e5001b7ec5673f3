"""Timing: contenders timed in turn (round-robin), medians, subprocess wall and CPU time, growth exponents."""

from __future__ import annotations

import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# torch's OpenMP threads (libgomp) sleep between calls, as Numba's workqueue threads do: spinning, they took
# the cores from the contender timed next (derive's out= VJP right after torch's backward: 32.8 against
# 20.3 ms at n = 100, float64; level with this set) and, on a shared machine, from torch itself (its
# backward 51 against 31 ms). Read once, when torch loads libgomp: every part imports this module first.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class Unavailable(Exception):
    """A contender or a step that this build or this machine cannot run; the message says why."""


def loops_for(fn, target: float) -> int:
    """Calls per sample so that one sample lasts about target seconds (the call is also a warm-up)."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    return max(1, math.ceil(target / max(first, 1e-7)))


def interleave(contenders: dict, repeats: int, target: float = 0.01) -> dict[str, float]:
    """Median seconds per call of each contender, timed in turn: A B C, B C A, C A B, …

    Round-robin with a rotating start, so that a slow spell of the machine (another job, a
    frequency change) is shared by every contender instead of landing on one of them.
    """
    names = list(contenders)
    loops = {name: loops_for(contenders[name], target) for name in names}
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            fn, count = contenders[name], loops[name]
            start = time.perf_counter()
            for _ in range(count):
                fn()
            samples[name].append((time.perf_counter() - start) / count)
    return {name: statistics.median(values) for name, values in samples.items()}


def environment() -> dict:
    """os.environ with this checkout first on PYTHONPATH, so that `python -m derive` runs this tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run_timed(args: list[str], timeout: float | None = None) -> tuple[float, float, str] | None:
    """(wall seconds, CPU seconds, stdout) of `python *args` in a fresh process, or None past timeout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=environment(),
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        return None
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1]
        raise Unavailable(f"exit {done.returncode}, {last}")
    return wall, cpu, done.stdout


def growth(points) -> float | None:
    """Least-squares slope of log t against log n over (n, t) points: the cost grows like n^slope."""
    pts = [(math.log(n), math.log(t)) for n, t in points if t and t > 0]
    if len(pts) < 2:
        return None
    mx = statistics.fmean(x for x, _ in pts)
    my = statistics.fmean(y for _, y in pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx


def median(values):
    """The median, or None for no values."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
