"""The cache tests' processes: derive's command line, and one script run by two processes at once."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _environment(cache) -> dict:
    return os.environ | {"DERIVE_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}


def cli(*args, cache) -> subprocess.CompletedProcess:
    """derive *args run in a process of its own with the cache in folder cache."""
    return subprocess.run(
        [sys.executable, "-m", "derive", *args],
        capture_output=True,
        text=True,
        env=_environment(cache),
        timeout=600,
    )


def two_writers(script: str, cache) -> None:
    """script run by two processes at once against the cache in folder cache; both must succeed."""
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", script], env=_environment(cache), stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for w in writers:
        assert w.wait(timeout=600) == 0, w.stderr.read()
