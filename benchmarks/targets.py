"""The issue's targets, each judged from the results: met, not met, or not measurable in this build."""

from __future__ import annotations

from symbolic import pipeline_total


def _s(t) -> str:
    return f"{t:.2f} s" if t >= 1 else f"{t * 1e3:.0f} ms"


def _pipeline(r):
    row = next((x for x in r.get("against plain", []) if x["n"] == 64), None)
    if row is None:
        return None
    plain = row["plain"]["total"] if row["plain"] else r["cap"]
    bound = "" if row["plain"] else "> "
    speedups = {state: plain / pipeline_total(row[state]) for state in ("fresh", "cold")}
    measured = (
        f"{bound}{speedups['cold']:,.0f}× cold, {bound}{speedups['fresh']:,.0f}× fresh "
        f"(derive {_s(pipeline_total(row['cold']))} cold, {_s(pipeline_total(row['fresh']))} fresh; "
        f"plain {bound}{_s(plain)})"
    )
    missing = [k for k in ("latex", "emit numpy") if isinstance(row["fresh"].get(k), str)]
    if missing:
        measured += f"; {' and '.join(missing)} not in this build"
    met = "yes" if speedups["fresh"] >= 100 else "cold only" if speedups["cold"] >= 100 else "no"
    if bound and met != "yes":
        met = "— (plain route capped)"
    return ["derive + render + emit at n = 64 ≥ 100× faster than plain SymPy", measured, met]


def _cli(r, name, limit, label):
    found = r.get("cli", {}).get(name)
    if found is None:
        return None
    if isinstance(found, str):
        others = [
            f"{k.split('--format ')[-1]} {_s(v[0])} wall, {_s(v[1])} CPU"
            for k, v in r["cli"].items()
            if "--n 64 --format" in k and not isinstance(v, str)
        ]
        return [label, "not in this build; " + ", ".join(others), "—"]
    wall, cpu = found
    return [label, f"{_s(wall)} wall, {_s(cpu)} CPU", "yes" if wall < limit else "no"]


def _growth(r):
    found = [(k, e) for k, (e, _) in r.get("exponents", {}).items() if "n² entries" in k]
    if not found or found[0][1] is None:
        return None
    e = found[0][1]
    return [
        "cost grows no faster than the output (n²)",
        f"all entries ∝ n^{e:.2f}",
        "yes" if e <= 2.15 else "no",
    ]


def _generated(r, name, label, judge):
    cases = [c for c in r.get("runtime", []) if name in c["times"]]
    if not r.get("runtime"):
        return None
    if not cases:
        reasons = {c["skipped"].get(name) for c in r["runtime"]} - {None}
        return [label, "; ".join(sorted(reasons)) or "not measured", "—"]
    measured, met = judge(r, cases, name)
    return [label, measured, "yes" if met else "no"]


def _numpy_judge(r, cases, name):
    worst = max(
        c["times"][name] / min(t for k, t in c["times"].items() if k.startswith("numpy ")) for c in cases
    )
    return f"worst case {worst:.2f}× NumPy best", worst <= 1.1


def _fast_judge(r, cases, name):
    bw = max(r["bandwidth"].values()) * 1e9
    vjp = [c for c in cases if c["op"] == "vjp" and c["n"] >= 100]
    # Issue 14: ≤ 0.8× torch autograd at every n (float64 and float32), ≤ 2× the floor at n ≥ 100.
    every = [c for c in cases if c["op"] == "vjp"]
    vs_torch = max(c["times"][name] / c["times"].get("torch", float("inf")) for c in every)
    vs_floor = max(c["times"][name] / (c["bytes"] / bw) for c in vjp)
    return f"VJP: {vs_torch:.2f}× torch, {vs_floor:.2f}× the floor", vs_torch <= 0.8 and vs_floor <= 2


FAST = "fast target: VJP ≤ 0.8× torch at every n, ≤ 2× floor at n ≥ 100"


def targets(r) -> list[list[str]]:
    """[target, measured, met] for each target the results speak to."""
    rows = [
        _pipeline(r),
        _cli(r, "derive softmax --n 64 --format latex", 1.0, "`derive softmax --n 64 --format latex` < 1 s"),
        _growth(r),
        _cli(r, "derive softmax --n 1024 (elided)", 2.0, "n = 1024, elided rendering, < 2 s (command line)"),
        _generated(r, "derive numpy", "generated NumPy within 1.1× of NumPy best", _numpy_judge),
        _generated(r, "derive numba", FAST, _fast_judge),
        _generated(r, "derive numba (out=)", f"{FAST}, writing into out=", _fast_judge),
    ]
    return [row for row in rows if row]
