"""Where the time goes: a cold `derive softmax --n 64` (derive, every entry, JSON, LaTeX) under cProfile.

Run in a fresh process by run.py; prints one JSON object: the CPU seconds of each pipeline stage (as
cProfile counts them, so about twice the unprofiled time: read the shares) and SymPy's hottest functions.
"""

import cProfile
import json
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# (label, file the function is in, function, the caller it is counted under or None for all callers)
STAGES = (
    ("import SymPy", "sympy/__init__.py", "<module>", None),
    ("differentiate for symbolic n", "derive/engine/differentiate.py", "partial", "_general"),
    ("rewrite in the outputs", "derive/engine/rewrite.py", "in_terms_of", "_general"),
    ("split into cases", "derive/engine/matrix.py", "cases", "_general"),
    ("find the matrix form", "derive/engine/matrix.py", "matrix_form", "_general"),
    ("prove the general form", "derive/engine/prove.py", "general", "_general"),
    ("prove the cases", "derive/engine/prove.py", "cases", "_general"),
    ("prove the matrix form", "derive/engine/prove.py", "matrix", "_general"),
    ("prove n = 2..6 (90 entries)", "derive/engine/prove.py", "instances", None),
    ("prove 6 entries at n = 64", "derive/engine/prove.py", "explicit", None),
    ("build all 4096 entries", "derive/engine/matrix.py", "matrix", None),
    ("print them as JSON", "derive/show/jsonify.py", "to_json", None),
    ("render LaTeX", "derive/api.py", "render", "latex"),
)


def stage_seconds(stats: dict, where: str, name: str, caller: str | None) -> float | None:
    """Cumulative seconds of the function `name` in `where`, counted under `caller` if given."""
    total, found = 0.0, False
    for (path, _, function), (_, _, _, cumulative, callers) in stats.items():
        if function != name or not path.replace("\\", "/").endswith(where):
            continue
        found = True
        if caller is None:
            total += cumulative
        else:
            total += sum(c[3] for (_, _, fn), c in callers.items() if fn == caller)
    return total if found else None


def main():
    profiler = cProfile.Profile()
    profiler.enable()
    from derive import api

    d = api.derive("softmax", n=64)
    assert d.jacobian is not None  # built apart from the JSON, so that building and printing count apart
    api.render(d, "json")
    try:

        def latex():
            return api.render(d, "latex")

        latex()
        has_latex = True
    except (ImportError, NotImplementedError):
        has_latex = False  # another branch's stage, not in this build yet
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = sum(tt for _, _, tt, _, _ in stats.values())
    stages = [
        (label, stage_seconds(stats, *where) if has_latex or label != "render LaTeX" else None)
        for label, *where in STAGES
    ]
    hot = sorted(stats.items(), key=lambda item: -item[1][2])[:10]
    print(
        json.dumps(
            {
                "total": total,
                "stages": stages,
                "hottest": [
                    (fn if path == "~" else f"{Path(path).parent.name}/{Path(path).name}:{fn}", tt, calls)
                    for (path, _, fn), (_, calls, tt, _, _) in hot
                ],
            }
        )
    )


if __name__ == "__main__":
    main()
