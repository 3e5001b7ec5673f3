"""Print the corpus table: each expression's status (pass, refused: …, fails: …) and its time.

Run from the repository root: PYTHONPATH=$PWD python -m benchmarks.corpus [--numba] [name ...]
"""

from __future__ import annotations

import sys
import time

from tests.corpus import CORPUS
from tests.corpus_run import table


def main(argv: list[str]) -> None:
    numba = "--numba" in argv
    names = [a for a in argv if not a.startswith("--")]
    entries = [e for e in CORPUS if not names or e.name in names]
    start = time.perf_counter()
    width = max(len(e.name) for e in entries)
    print(f"| {'expression':<{width}} | seconds | status |")
    print(f"|{'-' * (width + 2)}|--------:|--------|")
    rows = []
    for name, status, seconds in table(entries, numba=numba):
        rows.append((name, status, seconds))
        print(f"| {name:<{width}} | {seconds:7.2f} | {status} |", flush=True)
    passed = sum(status == "pass" for _, status, _ in rows)
    print(f"\n{passed}/{len(rows)} pass, {time.perf_counter() - start:.1f} s in all")


if __name__ == "__main__":
    main(sys.argv[1:])
