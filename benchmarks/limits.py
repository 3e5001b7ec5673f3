"""How fast derive refuses hostile text and renders a large n: python benchmarks/limits.py

These were wall-clock assertions in tests/ (under one second each); a test's pass or fail must not
depend on the machine's load, so the figures live here, printed, never asserted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's derive

from derive import derive, render  # noqa: E402
from derive.parse import MAX_LENGTH, ParseError, parse  # noqa: E402

HOSTILE = {
    "deep brackets": "(" * 41 + "z[i]" + ")" * 41,
    "huge exponent": "z[i] ** 99999999",
    "too long": "z" * (MAX_LENGTH + 1),
    "attribute access": "__import__('os').system('ls')",
}


def _seconds(work) -> float:
    """The fastest of five runs of work(), in CPU seconds."""
    times = []
    for _ in range(5):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def _refuse(text: str):
    try:
        parse(text)
    except ParseError:
        return
    raise AssertionError(f"accepted: {text[:30]!r}")


def main():
    for label, text in HOSTILE.items():
        print(f"refuse {label:<18} {_seconds(lambda t=text: _refuse(t)) * 1e3:8.2f} ms")
    render(derive("softmax", n=1024), "markdown")  # the n-independent route, computed once
    seconds = _seconds(lambda: render(derive("softmax", n=1024), "latex", lang="zh"))
    print(f"render softmax n=1024 latex zh {seconds * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
