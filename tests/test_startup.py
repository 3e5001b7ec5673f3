"""Start-up: `derive list` and the help read the function files without SymPy or NumPy."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from derive.engine import registry
from derive.notation.function import Function
from derive.notation.symbols import i, z

ROOT = Path(__file__).resolve().parent.parent

# Runs the command line in a fresh interpreter where importing sympy or numpy (or any part) fails.
_REFUSING = """
import sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("sympy", "numpy"):
            raise ImportError(f"{name} is refused in this test")

sys.meta_path.insert(0, Refuse())
sys.argv = ["derive", *sys.argv[1:]]
from derive.cli import main
main()
"""


def _without_sympy(*args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", _REFUSING, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_refusal_refuses():
    done = _without_sympy("softmax", "--n", "2")
    assert done.returncode != 0 and "refused" in done.stderr


def test_list_needs_neither_sympy_nor_numpy():
    done = _without_sympy("list")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    listed = dict(line.split(maxsplit=1) for line in done.stdout.splitlines())
    assert listed == {name: fn.description for name, fn in registry._builtin().items()}
    assert list(listed) == sorted(listed) and "softmax" in listed


@pytest.mark.parametrize(
    ("args", "first"),
    [
        (["--help"], "Usage: derive [OPTIONS] COMMAND [ARGS]..."),
        (["softmax", "--help"], "Usage: derive NAME [OPTIONS]"),
        (["expr", "--help"], "Usage: derive expr TEXT [OPTIONS]"),
        (["list", "--help"], "Usage: derive list [OPTIONS]"),
    ],
)
def test_help_needs_neither_sympy_nor_numpy(args, first):
    done = _without_sympy(*args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == first


def test_read_summaries_agree_with_the_built_definitions():
    read = registry._builtin_summaries()
    built = {name: registry._summary(fn) for name, fn in registry._builtin().items()}
    assert read == built
    assert read["layer_norm"] == (
        "layer_norm",
        "Layer normalisation",
        "The input centred by its mean and scaled by its standard deviation.",
    )


def test_a_file_whose_fields_are_not_literals_is_not_read(tmp_path):
    literal = 'FUNCTION = Function(name="f", title="F", description="One.", definition=exp(z[i]))\n'
    computed = 'FUNCTION = Function(name="f", description=TEXT, definition=exp(z[i]))\n'
    positional = 'FUNCTION = Function("f", "One.", exp(z[i]))\n'
    untitled = 'FUNCTION = Function(name="f", description="One.", definition=z[i])\n'
    expected = {literal: ("f", "F", "One."), computed: None, positional: None, untitled: ("f", "f", "One.")}
    for source, summary in expected.items():
        path = tmp_path / "f.py"
        path.write_text(f"from x import Function\n{source}")
        assert registry._read(path) == summary


def test_a_function_registered_in_process_is_listed(run):
    fn = registry.register(Function(name="ex_cubed", description="Each input cubed.", definition=z[i] ** 3))
    try:
        lines = run("list").stdout.splitlines()
        assert any(line.split()[0] == "ex_cubed" and line.endswith("Each input cubed.") for line in lines)
    finally:
        registry.unregister(fn.name)
    assert "ex_cubed" not in run("list").stdout
