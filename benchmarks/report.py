"""The results as tables: aligned text for the terminal, Markdown for BENCHMARKS.md."""

from __future__ import annotations

from symbolic import PIPELINE, STATES, pipeline_total
from targets import targets


def seconds(t) -> str:
    """1.23 s, 45.6 ms, 789 µs; text (a reason) as it is; — for nothing."""
    if t is None:
        return "—"
    if isinstance(t, str):
        return "n/a"
    if t >= 1:
        return f"{t:.2f} s"
    return f"{t * 1e3:.3g} ms" if t >= 1e-3 else f"{t * 1e6:.3g} µs"


def ratio(a, b) -> str:
    return f"{a / b:,.0f}×" if a / b >= 10 else f"{a / b:.2f}×"


def table(headers, rows, markdown: bool) -> str:
    """A table with a header row; Markdown's pipes, or columns padded to their widest cell."""
    cells = [list(map(str, headers))] + [list(map(str, row)) for row in rows]
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in cells]
        lines.insert(1, "|" + "|".join("---" for _ in headers) + "|")
        return "\n".join(lines)
    widths = [max(len(row[c]) for row in cells) for c in range(len(headers))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _symbolic(r):
    rows = []
    for row in r["against plain"]:
        plain = row["plain"]["total"] if row["plain"] else None
        totals = [pipeline_total(row[state]) for state in STATES]
        rows.append(
            [row["n"], seconds(plain) if plain else f"> {r['cap']:.0f} s (cap)"]
            + [seconds(row["fresh"].get(k)) for k in PIPELINE]
            + [seconds(t) for t in totals]
            + [ratio(plain, t) if plain else "—" for t in totals]
        )
    headers = ["n", "plain SymPy", *PIPELINE, *(f"derive {s}" for s in STATES)]
    return headers + [f"plain / {s}" for s in STATES], rows


def _large(r):
    keys = ("derive", "text", "latex", "jacobian", "json")
    rows = [[row["n"], *(seconds(row["fresh"].get(k)) for k in keys)] for row in r["large"]]
    return ["n", *keys], rows


def _commands(found: dict, base=None):
    rows = []
    for name, result in found.items():
        if isinstance(result, str):
            rows.append([f"`{name}`", result, ""] + ([""] if base is not None else []))
            continue
        wall, cpu = result
        row = [f"`{name}`", seconds(wall), seconds(cpu)]
        if base is not None:
            row.append(seconds(wall - base) if wall - base > 0.005 else "≈ 0")
        rows.append(row)
    return rows


def _runtime(r, op, dtype):
    floor_bw = max(r["bandwidth"].values())
    found = [c for c in r["runtime"] if c["op"] == op and c["dtype"] == dtype]
    names = [n for n in r["contenders"] if not n.startswith("numpy ")]
    rows = []
    for c in found:
        numpy = {k[len("numpy ") :]: t for k, t in c["times"].items() if k.startswith("numpy ")}
        best_name = min(numpy, key=numpy.get)
        best = numpy[best_name]
        cells = [c["n"], c["rows"], f"{seconds(best)} ({best_name})"]
        for name in names:
            t = c["times"].get(name)
            cells.append("n/a" if t is None else f"{seconds(t)} ({ratio(t, best)})")
        floor = c["bytes"] / (floor_bw * 1e9)
        cells.append(f"{seconds(floor)} (NumPy best {ratio(best, floor)})")
        rows.append(cells)
    return ["n", "batch", "NumPy best (form)", *names, "bandwidth floor"], rows


def _compile(r):
    """The first call of each JIT contender per (op, dtype): at the smallest n, where compiling happens."""
    rows = []
    for name in ("derive numba", "jax jit"):
        for c in r["runtime"]:
            same = [x for x in r["runtime"] if (x["op"], x["dtype"]) == (c["op"], c["dtype"])]
            if c["n"] == min(x["n"] for x in same) and name in c.get("first", {}) and name in c["times"]:
                first, median = c["first"][name], c["times"][name]
                rows.append([name, c["op"], c["dtype"], seconds(first), f"{seconds(median)} (n = {c['n']})"])
    return rows


PEAKS = ("n = 100", "n = 1000")
RUNTIME_NOTE = (
    "Median per call, forward pass included; (×) = time / NumPy best. torch: autograd.grad (VJP), "
    "torch.func.jvp (JVP), vmap(torch.func.jacrev) (Jacobian), 2 threads. jax: jit of jax.vjp, jax.jvp, "
    "vmap(jax.jacrev), x64 on. The floor: bytes that must move (read z and v, write the result) at the "
    "best bandwidth measured below. derive numba (out=): the same kernel writing into a buffer allocated "
    "once before timing; every other contender allocates its result per call (torch autograd has no out=). "
    "n/a: not installed, or not in this build (see Targets)."
)


def sections(r) -> list[tuple[str, str, list, list]]:
    """(title, note, headers, rows) for every table the results have."""
    out = []
    if "against plain" in r:
        headers, rows = _symbolic(r)
        note = (
            "CPU seconds, median of the runs (CPU, not wall: the machine is shared). The plain route runs "
            f"in a fresh process under a {r['cap']:.0f} s cap, timed from after SymPy's import. derive runs "
            "in process: fresh = derive's caches and SymPy's cleared first, as in a new process; cold = "
            "derive's caches only; warm = the general form cached. The steps are fresh; a total is the "
            "sum of the steps that ran. n/a = that stage is not in this build yet."
        )
        out.append(("Symbolic: derive against the plain SymPy route", note, headers, rows))
        headers, rows = _large(r)
        title = "Symbolic: derive alone at large n (fresh, CPU seconds)"
        out.append((title, "text, latex: elided matrices.", headers, rows))
        rows = [[k, "—" if e is None else f"{e:.2f}", span] for k, (e, span) in r["exponents"].items()]
        out.append(("Growth exponents (slope of log time on log n)", "", ["what", "exponent", "over"], rows))
        rows = _commands(r["cli"])
        note = "median of the runs, each a fresh `python -m derive …` process."
        out.append(("Command line, fresh process", note, ["command", "wall", "CPU"], rows))
        base = r["imports"]["python -c pass"][0]
        rows = _commands(r["imports"], base)
        out.append(("Import time", "", ["command", "wall", "CPU", "wall above bare python"], rows))
    if "profile" in r:
        p = r["profile"]
        rows = [
            [k, "—" if v is None else f"{v:.3f}", "—" if v is None else f"{v / p['total']:.0%}"]
            for k, v in p["stages"]
        ]
        note = "CPU seconds under cProfile (about twice the plain run); stages nest in `derive()`."
        out.append(
            (
                "Where the time goes: cold `derive softmax --n 64`, JSON",
                note,
                ["stage", "s (profiled)", "share"],
                rows,
            )
        )
        rows = [[f"`{name}`", f"{tt:.3f}", calls] for name, tt, calls in p["hottest"]]
        out.append(("Hottest functions (own time)", "", ["function", "s", "calls"], rows))
    if "runtime" in r:
        for op in ("vjp", "jvp", "jacobian"):
            for dtype in ("float64", "float32"):
                headers, rows = _runtime(r, op, dtype)
                if rows:
                    note = RUNTIME_NOTE if (op, dtype) == ("vjp", "float64") else ""
                    out.append(
                        (
                            f"Runtime: softmax {op.upper() if op != 'jacobian' else 'Jacobian'}, {dtype}",
                            note,
                            headers,
                            rows,
                        )
                    )
        rows = _compile(r)
        if rows:
            note = (
                "The first call of each (operation, dtype), which compiles for the JIT contenders, "
                "against the median call of the same case; the tables above leave it out."
            )
            headers = ["contender", "op", "dtype", "first", "median"]
            out.append(("JIT compile: first call", note, headers, rows))
        rows = [[k, f"{v:.1f}"] for k, v in r["bandwidth"].items()]
        out.append(("Memory bandwidth", "the floor uses the best.", ["test", "GB/s"], rows))
    if "memory" in r:
        rows = [
            [m["contender"], *([m["skipped"], ""] if "skipped" in m else [f"{m[k]:.1f}" for k in PEAKS])]
            for m in r["memory"]
        ]
        note = "peak bytes allocated per input element (tracemalloc), same elements at both n."
        out.append(("Peak memory of the VJP", note, ["contender", *PEAKS], rows))
    rows = targets(r)
    if rows:
        out.append(("Targets", "", ["target", "measured", "met"], rows))
    return out


def render(r, markdown: bool = False) -> str:
    """Every table, titled."""
    parts = []
    for title, note, headers, rows in sections(r):
        heading = f"### {title}" if markdown else f"== {title}"
        # Markdown wants blank lines around a table; the terminal reads better without.
        parts.append(
            ("\n\n" if markdown else "\n").join(
                x for x in (heading, note, table(headers, rows, markdown)) if x
            )
        )
    if "documents" in r:
        import documents

        heading = "### Documents and derivations, cold and cached" if markdown else "== Documents"
        parts.append(f"{heading}\n\n{documents.table(r['documents'])}")
    if "fused" in r:
        import fused

        heading = "### Numba VJP against the hand-fused kernel, float64" if markdown else "== Fused"
        parts.append(f"{heading}\n\n{fused.table(r['fused'])}")
    if "frameworks" in r:  # its own tables: contenders differ per framework
        import frameworks

        parts.append(frameworks.render(r["frameworks"], markdown=markdown).rstrip())
    return "\n\n".join(parts) + "\n"
