"""derive expr: user-defined functions through the same engine, and hostile text refused cleanly."""

import numpy as np
import pytest

from derive import derive
from derive.printing import text
from derive.userdefined import user_function

from .numeric import central_derivative, definition_at, evaluate, named_values

SHAPES = [
    # a quotient of sums
    ("exp(z[i]) / sum(exp(z[k]), k)", "s[i]*(KroneckerDelta(i, j) - s[j])"),
    # elementwise
    ("sigmoid(z[i])", "KroneckerDelta(i, j)*s[i]*(1 - s[i])"),
    # mixed with a sum
    ("z[i] - sum(z[k], k) / n", "KroneckerDelta(i, j) - 1/n"),
    # with a parameter
    ("exp(z[i] / T) / sum(exp(z[k] / T), k)", "s[i]*(KroneckerDelta(i, j) - s[j])/T"),
    # a scalar: gradient recognised as softmax
    ("log(sum(exp(z[k]), k))", "s[i]"),
]


@pytest.mark.parametrize("source, general", SHAPES)
def test_user_expressions_are_derived_and_proven(source, general):
    d = derive(user_function(source))
    assert d.proven
    assert text(d.general) == general


@pytest.mark.parametrize("source", [s for s, _ in SHAPES] + ["z[i]^2 / sum(z[k]^2, k)", "tanh(z[i]) * z[i]"])
def test_user_expressions_match_finite_differences(source, rng):
    size = 4
    fn = user_function(source)
    params = {name: "1/2" for name in fn.parameter_names}
    d = derive(fn, n=size, params=params)
    f = definition_at(d.definition, size)
    v = rng.normal(size=size) + 0.3
    names = d.spelled if d.kind == "vector" else d.hessian.spelled
    values = named_values(names, v, size)
    rows, cols = d.jacobian.shape
    derived = np.array([[evaluate(d.jacobian[a, b], values, v) for b in range(cols)] for a in range(rows)])
    np.testing.assert_allclose(derived.squeeze(), central_derivative(f, v), rtol=1e-6, atol=1e-8)


HOSTILE = [
    "__import__('os').system('touch /tmp/derive-pwned')",
    "().__class__.__bases__",
    "open('/etc/passwd')",
    "lambda: 1",
    "[x for x in z]",
    "z[i]**99999999999",
    "exp(" * 300 + "z[i]" + ")" * 300,
    " + ".join(["z[i]"] * 20000),
    "foo(z[i])",
    "exp(z[i]",
    "exp(z[i]))",
    "",
    "z.i",
    "exp(x=z[i])",
    "'abc'",
]


@pytest.mark.parametrize("source", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_gets_one_error_line_and_nothing_runs(run, tmp_path, source):
    target = tmp_path / "out.tex"
    result = run("expr", source, "--n", "4", "-o", str(target))
    assert result.exit_code == 2
    assert result.stdout == ""
    first, *pointer = result.stderr.splitlines()
    assert first.startswith("derive: error: ") and "Traceback" not in result.stderr
    assert all(line.startswith("    ") for line in pointer)
    assert not target.exists() and list(tmp_path.iterdir()) == []
    import os

    assert not os.path.exists("/tmp/derive-pwned")


def test_expr_with_every_cli_option(run, tmp_path):
    target = tmp_path / "f.json"
    result = run(
        "expr", "exp(z[i]/T) / sum(exp(z[k]/T), k)", "--n", "3", "--param", "T=2", "--format", "json"
    )
    assert result.exit_code == 0
    assert '"general": "s[i]*(KroneckerDelta(i, j) - s[j])/2"' in result.stdout
    written = run("expr", "sigmoid(z[i])", "--name", "sig", "--format", "json", "-o", str(target))
    assert written.exit_code == 0 and target.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["softmax_t", "--param", "T=abc"], "must be a number"),
        (["softmax_t", "--param", "T"], "NAME=NUMBER"),
        (["softmax_t", "--param", "X=1"], "its parameters: T"),
        (["softmax_t", "--param", "T=-1"], "positive"),
        (["expr", "z[i]", "--name", "Bad Name"], "--name"),
    ],
)
def test_bad_parameters_are_one_line(run, args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
