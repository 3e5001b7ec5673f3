"""Help, --version, -n, and options refused where they do not apply: what a new user meets first."""

import pytest

from derive import __version__


def test_top_level_help_shows_every_command_whole(run):
    result = run("--help")
    assert result.exit_code == 0
    expr = next(line for line in result.stdout.splitlines() if line.strip().startswith("expr "))
    assert not expr.rstrip().endswith("e.g.") and expr.rstrip().endswith(").")
    assert "--version" in result.stdout


@pytest.mark.parametrize(
    ("args", "usage"),
    [
        (["softmax", "--help"], "Usage: derive NAME [OPTIONS]"),
        (["expr", "--help"], "Usage: derive expr TEXT [OPTIONS]"),
        (["list", "--help"], "Usage: derive list [OPTIONS]"),
    ],
)
def test_usage_reads_as_the_command_is_typed(run, args, usage):
    result = run(*args)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == usage
    for internal in ("derive function", "{name}", "list[str]", "<path>", "<int range>", "<str>"):
        assert internal not in result.stdout
    assert "NAME=NUMBER" in result.stdout or args[0] == "list"


def test_version(run):
    result = run("--version")
    assert result.exit_code == 0 and result.stdout == f"derive {__version__}\n"


def test_short_n_is_the_long_n(run):
    short, long = run("softmax", "-n", "3"), run("softmax", "--n", "3")
    assert short.exit_code == 0 and short.stdout == long.stdout and "s₃" in short.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["softmax", "--format", "xx"],
        ["softmax", "--lang", "fr", "--format", "latex"],
        ["softmax", "--emit", "fortran"],
        ["softmax", "--n", "0"],
        ["softmax", "--n", "abc"],
    ],
)
def test_messages_carry_no_validator_prefix(run, args):
    result = run(*args)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("derive: error: ") and "Value error" not in line and "value_error" not in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lang", "zh"], "--lang does not apply to text output"),
        (["--method", "log"], "--method does not apply to text output"),
        (["--standalone"], "--standalone does not apply to text output"),
        (["--format", "json", "--lang", "en"], "--lang does not apply to json output"),
        (["--format", "json", "--method", "quotient"], "--method does not apply to json output"),
        (["--format", "json", "--standalone"], "--standalone does not apply to json output"),
        (["--emit", "numpy", "--lang", "zh"], "--lang does not apply to --emit numpy (code)"),
        (["--emit", "numpy", "--format", "latex"], "--format does not apply to --emit numpy (code)"),
        (["--emit", "numba", "--standalone"], "--standalone does not apply to --emit numba (code)"),
    ],
)
def test_an_option_that_does_not_apply_is_refused(run, args, message):
    for command in (["softmax", "--n", "3"], ["expr", "exp(z[i])/sum(exp(z[k]), k)"]):
        result = run(*command, *args)
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr.strip() == f"derive: error: {message}"


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "latex", "--lang", "zh", "--method", "log", "--standalone"],
        ["--format", "markdown", "--lang", "zh", "--method", "log"],
        ["--format", "json"],
        ["--emit", "numpy"],
    ],
)
def test_options_that_apply_are_accepted(run, args):
    result = run("softmax", "--n", "3", *args)
    assert result.exit_code == 0, result.stderr
