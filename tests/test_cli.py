"""The command line: output, formats, and one clear line with the right exit code for bad input."""

import json

import pytest

from derive import cli
from derive.engine import derivation, prove


def test_softmax_n4_prints_the_result_and_the_proof(run):
    result = run("softmax", "--n", "4")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for piece in ("s₁⋅(1 - s₁)", "-s₃⋅s₄", "sᵢ⋅(δᵢⱼ - sⱼ)", "diag(s) - s⋅s", "Proven:"):
        assert piece in out
    assert "⋯" not in out


def test_without_n_the_general_result(run):
    result = run("softmax")
    assert result.exit_code == 0
    assert "sᵢ⋅(δᵢⱼ - sⱼ)" in result.stdout
    assert "Explicit" not in result.stdout


def test_large_n_is_elided_in_the_terminal(run):
    result = run("softmax", "--n", "50")
    assert result.exit_code == 0
    assert "⋯" in result.stdout and "⋮" in result.stdout and "⋱" in result.stdout
    assert "s₅₀⋅(1 - s₅₀)" in result.stdout
    assert "s₂₅⋅(1 - s₂₅)" not in result.stdout


def test_json_is_whole_and_in_sympy_syntax(run):
    result = run("softmax", "--n", "12", "--format", "json")
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert record["function"] == "softmax" and record["n"] == 12
    assert record["general"] == "s[i]*(KroneckerDelta(i, j) - s[j])"
    assert record["matrix_form"] == "DiagMatrix(s) - s*s.T"
    assert len(record["jacobian"]) == 12 and all(len(row) == 12 for row in record["jacobian"])
    assert record["jacobian"][0][0] == "s1*(1 - s1)"
    assert record["jacobian"][2][3] == "-s3*s4"
    assert record["jacobian"][11][11] == "s12*(1 - s12)"
    assert record["proven"] is True
    assert {p["claim"] for p in record["proofs"]} == {"general", "cases", "matrix", "instances", "explicit"}


def test_list_names_each_function_first(run):
    result = run("list")
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert any(line.split()[0] == "softmax" for line in lines)


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["sofmax"], 2, "did you mean 'softmax'"),
        (["softmax", "--n", "0"], 2, "--n"),
        (["softmax", "--n", "-3"], 2, "--n"),
        (["softmax", "--n", "abc"], 2, "--n"),
        (["softmax", "--n", "10000000"], 2, "4096"),
        (["softmax", "--format", "xml"], 2, "--format"),
        (["softmax", "--bogus"], 2, "--bogus"),
    ],
)
def test_bad_input_gives_one_line_and_a_usage_exit_code(run, args, code, message):
    result = run(*args)
    assert result.exit_code == code
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("derive: error:")
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_a_failed_proof_is_never_printed(run, monkeypatch):
    failing = prove.Proof("general", False, "forced to fail by the test")
    monkeypatch.setattr(prove, "general", lambda *a: failing)
    derivation._general.cache_clear()
    try:
        result = run("softmax", "--n", "4", "--no-cache")  # a cached entry is proven already
    finally:
        derivation._general.cache_clear()
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "derive: error: proof failed: general (forced to fail by the test; )"


def test_help_states_the_limit_on_n(run):
    result = run("function", "--help")
    assert result.exit_code == 0
    assert "4096" in result.stdout


def test_cli_limit_matches_the_engine():
    assert cli.MAX_N == derivation.MAX_N


def test_output_file_is_written_and_never_overwritten_without_force(run, tmp_path):
    target = tmp_path / "softmax.json"
    first = run("softmax", "--n", "3", "--format", "json", "-o", str(target))
    assert first.exit_code == 0 and first.stdout == ""
    saved = target.read_text()
    assert json.loads(saved)["n"] == 3
    again = run("softmax", "--n", "4", "--format", "json", "-o", str(target))
    assert again.exit_code == 1 and "--force" in again.stderr
    assert target.read_text() == saved
    forced = run("softmax", "--n", "4", "--format", "json", "-o", str(target), "--force")
    assert forced.exit_code == 0 and json.loads(target.read_text())["n"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["softmax.json"]


def test_unwritable_output_path_is_one_line(run, tmp_path):
    result = run("softmax", "--format", "json", "-o", str(tmp_path / "missing" / "x.json"))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "does not exist" in result.stderr


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "logsumexp", "layer_norm", "log_softmax"])
def test_json_for_every_kind_of_function(run, name):
    result = run(name, "--n", "3", "--format", "json")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["proven"] is True
    if record["kind"] == "scalar":
        assert len(record["gradient"]["explicit"]) == 3 and len(record["hessian"]["jacobian"]) == 3
    else:
        assert len(record["jacobian"]) == 3


def test_cross_entropy_states_its_assumption(run):
    record = json.loads(run("softmax_cross_entropy", "--format", "json").stdout)
    assert record["gradient"]["general"] == "s[i] - y[i]"
    assert record["assumed"] == ["Sum(y[k], (k, 1, n)) = 1"]
    assert record["hessian"]["matrix_form"] == "DiagMatrix(s) - s*s.T"
