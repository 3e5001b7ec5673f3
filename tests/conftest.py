"""Shared fixtures: a seeded random generator and the CLI runner; a cache directory of the session's own."""

import atexit
import os
import shutil
import tempfile

import numpy as np
import pytest
from typer.testing import CliRunner

from derive.cli import app

# The derivation cache starts empty in every test session (and in the commands tests run), so that no
# test depends on what an earlier run left in the user's cache.
os.environ["DERIVE_CACHE_DIR"] = tempfile.mkdtemp(prefix="derive-test-cache-")
atexit.register(shutil.rmtree, os.environ["DERIVE_CACHE_DIR"], ignore_errors=True)


@pytest.fixture
def cachedir(tmp_path, monkeypatch):
    """A cache directory of the test's own, empty."""
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def rng():
    return np.random.default_rng(20261121)


@pytest.fixture
def run():
    """Run the command line in process: run("softmax", "--n", "4") → result with exit_code, stdout, stderr."""
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, list(args), prog_name="derive")

    return invoke
