"""The cache tests' shared parts: damaged entries, derive's command line, two writing processes at once."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What any cache entry may suffer: each must be ignored and the entry rebuilt.
DAMAGES = [
    lambda text: text[: len(text) // 2],  # cut short
    lambda text: "\x00\xff garbage",
    lambda text: "[]",
    lambda text: text.replace('"format":1', '"format":99'),
    lambda text: json.dumps(json.loads(text) | {"key": "0" * 64}),  # a foreign entry
]


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
