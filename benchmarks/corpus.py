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
    print(f"| {'expression':<{width}} | wall s | CPU s | status |")
    print(f"|{'-' * (width + 2)}|-------:|------:|--------|")
    rows = []
    for name, status, seconds, cpu in table(entries, numba=numba):
        rows.append((name, status, cpu))
        print(f"| {name:<{width}} | {seconds:6.2f} | {cpu:5.2f} | {status} |", flush=True)
    passed = sum(status == "pass" for _, status, _ in rows)
    cpu = sum(c for _, _, c in rows)
    print(f"\n{passed}/{len(rows)} pass; {time.perf_counter() - start:.1f} s wall, {cpu:.1f} s CPU in all")


if __name__ == "__main__":
    main(sys.argv[1:])
