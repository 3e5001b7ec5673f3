"""The symbolic side: derive's pipeline against the plain SymPy route, large n, the CLI, import time."""

from __future__ import annotations

import json
import time

from timing import Unavailable, growth, median, run_timed

MISSING = (ImportError, NotImplementedError)  # a stage another branch has not landed in this build yet


# How much is forgotten before a run: "fresh" clears SymPy's cache as well as derive's, as in a new
# process; "cold" clears derive's own caches only (SymPy keeps the objects it has built); "warm" nothing.
STATES = ("fresh", "cold", "warm")


def forget(state: str):
    """Forget what state says: derive's caches (the general form, the entry templates), and SymPy's."""
    from sympy.core.cache import clear_cache

    from derive.engine import derivation, matrix

    if state in ("fresh", "cold"):
        derivation._general.cache_clear()
        if hasattr(matrix, "_templates"):
            matrix._templates.cache_clear()
    if state == "fresh":
        clear_cache()


def _render(fmt):
    def step(d):
        from derive import api

        return api.render(d, fmt)

    return step


def _emit(d):
    from derive import api

    return api.emit(d, "numpy")


# Each step after `derive` takes the derivation; jacobian and json touch all n² entries.
STEPS = {
    "jacobian": lambda d: d.jacobian,
    "json": _render("json"),
    "text": _render("text"),
    "latex": _render("latex"),
    "emit numpy": _emit,
}
PIPELINE = ("derive", "jacobian", "json", "latex", "emit numpy")  # what the plain route also does


def derive_steps(n: int, state: str, steps=PIPELINE) -> dict[str, float | str]:
    """CPU seconds per step of derive's pipeline at n; a step missing from this build gets its reason."""
    import derive

    forget(state)
    start = time.process_time()
    d = derive.derive("softmax", n=n)
    times: dict[str, float | str] = {"derive": time.process_time() - start}
    for name in steps:
        if name == "derive":
            continue
        start = time.process_time()
        try:
            STEPS[name](d)
        except MISSING as error:
            times[name] = f"not available in this build ({type(error).__name__})"
            continue
        times[name] = time.process_time() - start
    times["total"] = sum(t for t in times.values() if isinstance(t, float))
    return times


def _medians(samples: list[dict]) -> dict:
    merged = {}
    for key in samples[0]:
        values = [s[key] for s in samples]
        merged[key] = median(values) if isinstance(values[0], float) else values[0]
    return merged


def plain(n: int, cap: float) -> dict | None:
    """The plain SymPy route's seconds per step at n, in a fresh process, or None past cap seconds."""
    done = run_timed(["benchmarks/plain_sympy.py", str(n)], timeout=cap)
    return None if done is None else json.loads(done[2])


def against_plain(sizes, repeats: int, cap: float) -> list[dict]:
    """derive (fresh, cold, warm) against the plain route at each n, interleaved round by round."""
    plain_runs = {n: [] for n in sizes}
    capped = set()
    runs = {(n, state): [] for n in sizes for state in STATES}
    for round_ in range(repeats):
        for n in sizes:
            # The plain route is repeated while it is cheap; one run past a tenth of the cap is enough.
            slow = any(r["total"] > cap / 10 for r in plain_runs[n])
            if n not in capped and not (slow and round_ > 0):
                result = plain(n, cap)
                if result is None:
                    capped.add(n)
                else:
                    plain_runs[n].append(result)
            for state in STATES:
                runs[n, state].append(derive_steps(n, state))
    rows = []
    for n in sizes:
        row = {"n": n, **{state: _medians(runs[n, state]) for state in STATES}}
        row["plain"] = None if n in capped else _medians(plain_runs[n])
        row["plain runs"] = len(plain_runs[n])
        rows.append(row)
    return rows


def large(sizes, repeats: int, whole_up_to: int = 256) -> list[dict]:
    """derive alone at large n, fresh: elided renderings always, all n² entries up to whole_up_to."""
    rows = []
    for n in sizes:
        steps = ("derive", "text", "latex") + (("jacobian", "json") if n <= whole_up_to else ())
        samples = [derive_steps(n, "fresh", steps=steps) for _ in range(repeats)]
        rows.append({"n": n, "fresh": _medians(samples)})
    return rows


def pipeline_total(times: dict) -> float:
    """Seconds of the steps the plain route also does (derive, every entry, typeset, emit) that ran."""
    return sum(times[k] for k in PIPELINE if isinstance(times.get(k), float))


def exponents(rows_plain, rows_large) -> dict[str, tuple[float | None, str]]:
    """Growth exponents (slope of log t on log n) of the plain route and of derive's parts."""
    # Fitted where the cost is no longer start-up: n ≥ 16 for the plain route, n ≥ 64 for derive.
    plain_points = [(r["n"], r["plain"]["total"]) for r in rows_plain if r["plain"] and r["n"] >= 16]
    everything = [(r["n"], r["fresh"]) for r in rows_plain + rows_large]
    whole = [(n, c) for n, c in everything if isinstance(c.get("json"), float) and n >= 64]
    pipeline = [(n, pipeline_total(c)) for n, c in whole]
    entries = [(n, c["jacobian"] + c["json"]) for n, c in whole]
    derive_only = [(n, c["derive"]) for n, c in everything]

    def fit(points):
        span = f"n = {points[0][0]}…{points[-1][0]}" if points else "no points"
        return growth(points), span

    return {
        "plain SymPy route, total": fit(plain_points),
        "derive, whole pipeline (fresh)": fit(pipeline),
        "derive, all n² entries (jacobian + json)": fit(entries),
        "derive, derive() alone (fresh)": fit(derive_only),
    }


CLI = {
    "derive softmax --n 64 --format json": ["-m", "derive", "softmax", "--n", "64", "--format", "json"],
    "derive softmax --n 64 --format text": ["-m", "derive", "softmax", "--n", "64", "--format", "text"],
    "derive softmax --n 64 --format latex": ["-m", "derive", "softmax", "--n", "64", "--format", "latex"],
    "derive softmax --n 1024 (elided)": ["-m", "derive", "softmax", "--n", "1024"],
    "derive list": ["-m", "derive", "list"],
    "derive --help": ["-m", "derive", "--help"],
}

IMPORTS = {
    "python -c pass": ["-c", "pass"],
    "import derive": ["-c", "import derive"],
    "import derive.cli": ["-c", "import derive.cli"],
    "import derive; derive.derive (loads SymPy)": ["-c", "import derive; derive.derive"],
    "import sympy": ["-c", "import sympy"],
}


def commands(table: dict, repeats: int) -> dict[str, tuple | str]:
    """Median (wall, CPU) seconds of each command in a fresh process, interleaved round by round."""
    samples = {name: [] for name in table}
    failed = {}
    for _ in range(repeats):
        for name, args in table.items():
            if name in failed:
                continue
            try:
                wall, cpu, _ = run_timed(args, timeout=120)
            except Unavailable as error:
                failed[name] = f"fails: {error}"
                continue
            samples[name].append((wall, cpu))
    return {
        name: failed.get(name)
        or (median([w for w, _ in samples[name]]), median([c for _, c in samples[name]]))
        for name in table
    }


def where_the_time_goes() -> dict:
    """Cold `derive softmax --n 64` with JSON output, profiled by stage in a fresh process."""
    done = run_timed(["benchmarks/where.py"], timeout=300)
    return json.loads(done[2])
