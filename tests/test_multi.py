"""Several inputs: a block per input, in index and matrix form, proven; the command line's --wrt and --dim."""

import json

import pytest
from sympy import KroneckerDelta, Sum, Symbol, sqrt

from derive import api
from derive.engine import blocks
from derive.engine.blocks import derive_blocks
from derive.engine.derivation import derive
from derive.engine.registry import one_input
from derive.errors import InvalidInput, ProofFailed
from derive.notation.symbols import d, i, j, k, matrix, n, u, vector

s, y, x, W, z = vector("s"), vector("y"), vector("x"), matrix("W"), vector("z")
a, o, q, K, V = vector("a"), vector("o"), vector("q"), matrix("K"), matrix("V")
gamma, zhat = vector("gamma"), vector("zhat")
sigma, r = Symbol("sigma", positive=True), Symbol("r", positive=True)


def _forms(name):
    return {b.input.name: (b.general, b.matrix_form) for b in derive_blocks(name).blocks}


def test_linear_softmax_cross_entropy_gives_the_backprop_formulas():
    forms = _forms("linear_softmax_cross_entropy")
    assert set(forms) == {"x", "W", "b"}  # y is data: no block
    assert forms["W"][0] == (s[i] - y[i]) * x[j]
    assert forms["b"][0] == s[i] - y[i]
    assert forms["x"][0] == Sum((s[k] - y[k]) * W[k, i], (k, 1, n))
    assert str(forms["W"][1]) == "(s - y)*x.T"
    assert str(forms["b"][1]) == "s - y"
    assert str(forms["x"][1]) == "W.T*(s - y)"


def test_the_assumption_is_stated_where_it_is_used():
    result = derive_blocks("linear_softmax_cross_entropy")
    assert [str(lhs) for lhs, _ in result.assumed] == ["Sum(y[k], (k, 1, n))"]


def test_norms_are_written_in_their_intermediates():
    forms = _forms("layer_norm_affine")
    assert forms["gamma"][0] == KroneckerDelta(i, j) * zhat[i]
    assert forms["beta"][0] == KroneckerDelta(i, j)
    assert forms["z"][0] == gamma[i] * (n * KroneckerDelta(i, j) - zhat[i] * zhat[j] - 1) / (n * sigma)
    assert str(forms["gamma"][1]) == "DiagMatrix(zhat)"
    rms = _forms("rms_norm")
    assert rms["gamma"][0] == KroneckerDelta(i, j) * vector("z")[i] / r
    assert rms["z"][0] == KroneckerDelta(i, j) * gamma[i] / r - s[i] * z[j] / (n * r**2)


def test_attention_is_written_with_its_weights_and_output():
    forms = _forms("attention")
    assert forms["V"][0] == KroneckerDelta(i, u) * a[j]
    assert forms["K"][0] == a[j] * q[u] * (V[j, i] - o[i]) / sqrt(d)
    assert forms["q"][0] == Sum(K[k, j] * a[k] * (V[k, i] - o[i]) / sqrt(d), (k, 1, n))
    assert forms["q"][1] is not None and forms["K"][1] is None  # a 3-index block has no matrix form


def test_every_block_is_proven_three_ways_and_at_given_sizes():
    result = derive_blocks("attention", sizes={"n": 3, "d": 2, "h": 2})
    for b in result.blocks:
        assert [p.claim for p in b.proofs] == ["general", "matrix", "instances", "explicit"]
        assert all(p.holds for p in b.proofs)
    assert result.block("K").proofs[3].cases == 2 * 3 * 2  # every entry of ∂o_i/∂K_ju at h, n, d


def test_a_wrong_form_fails_its_proof():
    result = derive_blocks("linear_softmax_cross_entropy", wrt=["W"])
    (b,) = result.blocks
    wrong = s[i] * x[j]  # y forgotten
    proof = blocks.instances(result.spelled, b.input, b.wrt, b.index, wrong)
    assert not proof.holds and "entry" in proof.detail
    with pytest.raises(ProofFailed):
        blocks._require(proof)


def test_the_block_engine_gives_the_one_input_functions_their_own_forms():
    # One path: a function of the one input z is the case of one input.
    for name in ("softmax", "log_softmax", "layer_norm", "l2_normalize", "softmax_t", "sigmoid"):
        (b,) = derive_blocks(name).blocks
        assert b.general == derive(name).general, name
    assert "linear_softmax_cross_entropy" not in one_input()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"wrt": ["y"]}, "data"),
        ({"wrt": ["Q"]}, "no input"),
        ({"dims": {"e": 2}}, "no dimension 'e'"),
        ({"dims": {"n": 0}}, "from 1 to"),
    ],
)
def test_bad_inputs_and_sizes_are_refused(kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        derive("linear_softmax_cross_entropy", **kwargs)


def test_one_input_functions_refuse_other_inputs_and_dimensions():
    with pytest.raises(InvalidInput, match="no input"):
        derive("softmax", wrt=["x"])
    with pytest.raises(InvalidInput, match="no dimension"):
        derive("softmax", dims={"d": 3})
    assert derive("softmax", dims={"n": 3}).n == 3


def test_the_command_line_prints_the_matrix_form_from_the_engine(run):
    result = run("linear_softmax_cross_entropy")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "∂L/∂W = (s - y)⋅x" in out and "∂L/∂b = s - y" in out and "∂L/∂x = W ⋅(s - y)" in out
    assert out.count("Proven:") == 3


def test_json_has_one_block_per_input_keyed_by_name(run):
    result = run("attention", "--format", "json", "--wrt", "K", "--wrt", "V", "--dim", "n=2", "--dim", "d=2")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert list(record["blocks"]) == ["K", "V"]
    assert record["blocks"]["K"]["general"] == "a[j]*q[u]*(V[j, i] - o[i])/sqrt(d)"
    assert record["sizes"] == {"d": 2, "n": 2} and record["proven"] is True


@pytest.mark.parametrize(
    "args, message",
    [
        (["attention", "--wrt", "x"], "--wrt x is no input of 'attention'"),
        (["linear_softmax_cross_entropy", "--wrt", "y"], "--wrt y is data"),
        (["attention", "--dim", "h"], "--dim takes NAME=SIZE"),
        (["attention", "--dim", "e=2"], "no dimension 'e'"),
        (["attention", "--dim", "n=5000"], "between 1 and 4096"),
        (["attention", "--n", "3", "--dim", "n=4"], "disagree"),
        (["softmax", "--wrt", "W"], "no input of 'softmax'"),
    ],
)
def test_bad_wrt_and_dim_give_one_line_and_exit_2(run, args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert result.stdout == ""


def test_n_is_the_shorthand_for_dim_n(run):
    by_n, by_dim = (
        run("rms_norm", "--n", "3", "--format", "json"),
        run("rms_norm", "--dim", "n=3", "--format", "json"),
    )
    assert by_n.exit_code == 0 and by_n.stdout == by_dim.stdout


def test_list_shows_them_without_building_them(run):
    names = {line.split()[0] for line in run("list").stdout.splitlines()}
    assert {"linear_softmax_cross_entropy", "layer_norm_affine", "rms_norm", "attention"} <= names


def test_the_api_renders_blocks():
    text = api.render(derive("rms_norm"), "text")
    assert "Gradient" not in text and "Derivative of output i with respect to gamma" in text


def test_the_check_catches_a_wrong_cotangent():
    from derive.checking.several import verify

    d = derive("linear_softmax_cross_entropy", wrt=["b"])
    source = api.emit(d, "numpy")
    assert verify(d, source).passed
    wrong = source.replace("return _like(((-1 * y) + s), b)", "return _like(s, b)")  # y forgotten
    assert wrong != source
    report = verify(d, wrong)
    assert not report.passed
    assert [c.passed for c in report.checks if "differences" in c.name] == [False] * 4


@pytest.mark.parametrize(
    "args, message",
    [
        (["rms_norm", "--claim", "delta(i,j)"], "--claim is not written for several inputs"),
    ],
)
def test_what_is_not_written_for_several_inputs_is_refused_in_one_line(run, args, message):
    result = run(*args)
    assert result.exit_code == 2 and message in result.stderr and result.stderr.count("\n") == 1


def test_at_larger_sizes_the_blocks_are_compared_at_a_seeded_point_and_a_wrong_one_fails():
    result = derive_blocks("linear_softmax_cross_entropy", sizes={"n": 6, "d": 5}, wrt=["W"])
    (b,) = result.blocks
    assert b.proofs[-1].claim == "explicit" and b.proofs[-1].holds and b.proofs[-1].cases == blocks.SAMPLED
    assert "seeded rational point" in b.proofs[-1].method
    sizes = {n: 6, d: 5, blocks.DIMENSIONS[2]: 2}
    failed, _ = blocks._compare(result.spelled, b.wrt, b.index, s[i] * x[j], sizes, 64)
    assert failed is not None
    failed, _ = blocks._compare(result.spelled, b.wrt, b.index, b.general, sizes, 64)
    assert failed is None
