"""A user's backward, checked numerically against the derived VJP, its mistake named."""

import json
import textwrap

import pytest

from derive import derive
from derive.claims.backward import TOLERANCE, check_backward

SOFTMAX = """
import numpy as np

def _s(z):
    e = np.exp(z - z.max())
    return e / e.sum()

def right(z, g):
    s = _s(z)
    return s * (g - np.dot(g, s))

def no_outer(z, g):  # forgets the -s s^T part
    return _s(z) * g

def diagonal_only(z, g):  # s_i(1 - s_i) g_i: the diagonal of J only
    s = _s(z)
    return s * (1 - s) * g

def doubled(z, g):
    return 2 * right(z, g)

def raises(z, g):
    raise RuntimeError("not implemented")

def wrong_shape(z, g):
    return np.zeros(len(z) + 1)
"""

LAYER_NORM = """
import numpy as np

def no_mean_term(z, g):  # (g - s mean(g s)) / sigma: the -1/(n sigma) term is missing
    mu = z.mean()
    sigma = np.sqrt(((z - mu) ** 2).mean())
    s = (z - mu) / sigma
    return (g - s * np.mean(g * s)) / sigma
"""

LOG_SOFTMAX = """
import numpy as np

def transposed(z, g):  # J g instead of g^T J
    e = np.exp(z - z.max())
    s = e / e.sum()
    return g - np.dot(g, s)
"""

CROSS_ENTROPY = """
import numpy as np

def no_target(z, y, g):  # g * s: the -y term is missing
    e = np.exp(z - z.max())
    return g * e / e.sum()
"""


def _file(tmp_path, text, name="backward.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_right_backward_passes(tmp_path):
    report = check_backward(derive("softmax"), _file(tmp_path, SOFTMAX), "right")
    assert report.passed and report.failure is None and report.pattern is None
    assert report.largest <= TOLERANCE
    assert len(report.errors) == 10  # n = 3 and 8, five scales each


@pytest.mark.parametrize(
    "function, source, backward, pattern, term, kind",
    [
        ("softmax", SOFTMAX, "no_outer", "missing", "-s_i*s_j", "outer"),
        ("softmax", SOFTMAX, "diagonal_only", "diagonal", None, ""),
        ("softmax", SOFTMAX, "doubled", "factor", None, ""),
        ("layer_norm", LAYER_NORM, "no_mean_term", "missing", "-1/(n*sigma)", ""),
        ("log_softmax", LOG_SOFTMAX, "transposed", "transpose", None, ""),
        ("softmax_cross_entropy", CROSS_ENTROPY, "no_target", "missing", "-y_i", ""),
    ],
)
def test_a_wrong_backward_is_caught_with_its_mistake(
    tmp_path, function, source, backward, pattern, term, kind
):
    report = check_backward(derive(function), _file(tmp_path, source), backward)
    assert not report.passed
    assert report.largest > 1e-3
    f = report.failure
    assert f is not None and abs(f.user - f.derived) > TOLERANCE
    assert (report.pattern, report.term, report.kind) == (pattern, term, kind)
    if pattern == "factor":
        assert report.factor == pytest.approx(2)


def test_a_torch_backward(tmp_path):
    pytest.importorskip("torch")
    source = """
    import torch

    def right(z, g):
        s = torch.softmax(z, -1)
        return s * (g - (g * s).sum())

    def no_outer(z, g):
        return torch.softmax(z, -1) * g
    """
    path = _file(tmp_path, source)
    assert check_backward(derive("softmax"), path, "right").passed
    assert check_backward(derive("softmax"), path, "no_outer").pattern == "missing"


def test_a_backward_that_raises_or_returns_the_wrong_shape_fails(tmp_path):
    path = _file(tmp_path, SOFTMAX)
    report = check_backward(derive("softmax"), path, "raises")
    assert not report.passed and "RuntimeError: not implemented" in report.problem
    report = check_backward(derive("softmax"), path, "wrong_shape")
    assert not report.passed and "shape" in report.problem


def test_cli_catches_a_wrong_numpy_backward(run, tmp_path):
    path = _file(tmp_path, SOFTMAX)
    result = run("softmax", "--claim-module", str(path), "--claim-function", "no_outer")
    assert result.exit_code == 1, result.output
    assert "First failing entry" in result.stdout
    assert "a missing term: the backward leaves out -s_i*s_j (an outer product)" in result.stdout
    result = run("softmax", "--claim-module", str(path), "--claim-function", "right")
    assert result.exit_code == 0 and "agrees with the derived VJP" in result.stdout
    result = run("softmax", "--claim-module", str(path), "--claim-function", "no_outer", "-f", "json")
    record = json.loads(result.stdout)
    assert record["passed"] is False and record["pattern"] == "missing" and record["term_kind"] == "outer"


@pytest.mark.parametrize(
    "source, message",
    [
        ("def f(z, g):\n    return z +\n", "SyntaxError"),
        ("raise SystemExit(3)\n", "SystemExit"),
        ("import no_such_module_here\n", "ModuleNotFoundError"),
    ],
)
def test_cli_refuses_a_file_it_cannot_import_in_one_line(run, tmp_path, source, message):
    path = _file(tmp_path, source)
    result = run("softmax", "--claim-module", str(path), "--claim-function", "f")
    assert result.exit_code == 2
    assert result.stderr.startswith("derive: error: cannot import") and message in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_cli_names_what_the_file_defines(run, tmp_path):
    result = run("softmax", "--claim-module", str(_file(tmp_path, SOFTMAX)), "--claim-function", "nope")
    assert result.exit_code == 2 and "has no function 'nope'; it defines: diagonal_only" in result.stderr
    result = run("softmax", "--claim-module", str(_file(tmp_path, SOFTMAX)))
    assert result.exit_code == 2 and "--claim-function" in result.stderr


def test_a_missing_temperature_is_a_constant_factor_and_a_set_parameter_reaches_the_backward(tmp_path):
    source = """
    import numpy as np

    def right(z, g, T=1.0):
        s = np.exp((z - z.max()) / T)
        s /= s.sum()
        return s * (g - np.dot(g, s)) / T

    def no_temperature(z, g, T=1.0):  # forgets the 1/T of the chain rule
        s = np.exp((z - z.max()) / T)
        s /= s.sum()
        return s * (g - np.dot(g, s))
    """
    path = _file(tmp_path, source)
    assert check_backward(derive("softmax_t"), path, "right").passed
    assert check_backward(derive("softmax_t", params={"T": "0.5"}), path, "right").passed
    report = check_backward(derive("softmax_t", params={"T": "0.5"}), path, "no_temperature")
    assert report.pattern == "factor" and report.factor == pytest.approx(0.5)
