"""Shared fixtures: a seeded random generator and the CLI runner."""

import numpy as np
import pytest
from typer.testing import CliRunner

from derive.cli import app


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
