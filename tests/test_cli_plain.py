"""The command line reads plain option values without pydantic, and reads every value as typer does."""

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from derive.cli import app

ROOT = Path(__file__).resolve().parent.parent
typer_coercion = pytest.importorskip("typer._coercion")

VALUES = [
    *("0", "1", "64", "4096", "4097", "-3", "abc", "1.5", "", " 5", "007", "0.1", "0.05", "30", "86400"),
    *("86401", "nan", "inf", "1e3", ".5", "5.", "text", "latex", "Latex", "zh-Hant", "numpy", "log"),
    *("/tmp", "/nonexistent/x", "out.tex", ("a=1",), ("a=1", "b=2"), (), 30.0, True, False),
]


def _outcome(runtime, value, param, command):
    try:
        return "value", repr(runtime.coerce(value, param=param, ctx=typer.Context(command)))
    except Exception as error:  # the message the user would see
        return "error", type(error).__name__, getattr(error, "message", str(error))


def test_every_option_reads_every_value_as_typer_does():
    group = typer.main.get_command(app)
    checked = 0
    for command in [group, *group.commands.values()]:
        for param in command.get_params(typer.Context(command)):
            if not hasattr(param, "type_descriptor"):
                continue
            typers = typer_coercion.build_runtime_param(param.type_descriptor)
            assert type(param.get_runtime_param()).__name__ == "Plain", param.name
            for value in [*VALUES, param.default]:
                ours = _outcome(param.get_runtime_param(), value, param, command)
                assert ours == _outcome(typers, value, param, command), (command.name, param.name, value)
                checked += 1
    assert checked > 500


def test_a_run_with_plain_options_imports_no_pydantic(tmp_path):
    script = (
        "import sys\n"
        "from derive.cli import app\n"
        "try:\n"
        "    app(['list'])\n"
        "    app(['softmax', '--n', '2', '--format', 'json', '--timeout', '20', '--no-cache',\n"
        "         '-o', sys.argv[1]])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('pydantic' in sys.modules)\n"
    )
    out = tmp_path / "J.json"
    done = subprocess.run(
        [sys.executable, "-c", script, str(out)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=600,
    )
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr
    assert out.read_text().startswith("{")
