"""Claims: a derivative someone wrote, proven to hold, to hold under an assumption, or shown wrong."""

import json
import shutil
import subprocess

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import E, KroneckerDelta, Symbol, simplify

from derive import api, derive
from derive.claims.claim import ASSUMED, FAILS, HOLDS, check
from derive.errors import InvalidInput
from derive.notation.symbols import i, j, n, parameter, vector

s, ell, y = vector("s"), vector("ell"), vector("y")
d_ij = KroneckerDelta(i, j)
sigma, r, T = Symbol("sigma", positive=True), Symbol("r", positive=True), parameter("T")

# (function, claim, Hessian?, verdict, claim − derivative for the wrong ones, in SymPy)
CLAIMS = [
    ("softmax", "s[i]*(delta(i,j) - s[j])", False, HOLDS, None),
    ("softmax", "s[i]*delta(i,j) - s[i]*s[j]", False, HOLDS, None),
    # the transposed Jacobian: softmax's is symmetric, so it holds, proven case by case
    ("softmax", "s[j]*(delta(i,j) - s[i])", False, HOLDS, None),
    ("softmax", "exp(z[i])/sum(exp(z[k]),k) * (delta(i,j) - exp(z[j])/sum(exp(z[l]),l))", False, HOLDS, None),
    ("softmax", "s[i]*(1 - s[j])", False, FAILS, s[i] * (1 - d_ij)),
    ("softmax", "-s[i]*s[j]", False, FAILS, -d_ij * s[i]),
    ("softmax", "2*s[i]*(delta(i,j) - s[j])", False, FAILS, s[i] * (d_ij - s[j])),
    # the log-softmax Jacobian claimed for softmax
    ("softmax", "delta(i,j) - s[j]", False, FAILS, (1 - s[i]) * (d_ij - s[j])),
    ("log_softmax", "delta(i,j) - s[j]", False, HOLDS, None),
    # log-softmax's Jacobian is not symmetric: its transpose is wrong
    ("log_softmax", "delta(i,j) - s[i]", False, FAILS, s[j] - s[i]),
    ("softmax_t", "s[i]*(delta(i,j) - s[j])/T", False, HOLDS, None),
    ("softmax_t", "s[i]*(delta(i,j) - s[j])", False, FAILS, s[i] * (d_ij - s[j]) * (1 - 1 / T)),
    ("sigmoid", "delta(i,j)*s[i]*(1 - s[i])", False, HOLDS, None),
    ("sigmoid", "s[i]*(1 - s[i])", False, FAILS, (1 - d_ij) * s[i] * (1 - s[i])),
    ("tanh", "delta(i,j)*(1 - s[i]^2)", False, HOLDS, None),
    ("tanh", "delta(i,j)*(1 - s[i])^2", False, FAILS, -2 * d_ij * s[i] * (1 - s[i])),
    ("softplus", "delta(i,j)*sigmoid(z[i])", False, HOLDS, None),
    ("l2_normalize", "(delta(i,j) - s[i]*s[j])/r", False, HOLDS, None),
    ("l2_normalize", "delta(i,j)/r", False, FAILS, s[i] * s[j] / r),
    ("layer_norm", "(n*delta(i,j) - 1 - s[i]*s[j])/(n*sigma)", False, HOLDS, None),
    # the layer-norm Jacobian missing its 1/n term
    ("layer_norm", "(delta(i,j) - s[i]*s[j]/n)/sigma", False, FAILS, 1 / (n * sigma)),
    ("logsumexp", "s[j]", False, HOLDS, None),
    ("logsumexp", "s[i]*(delta(i,j) - s[j])", True, HOLDS, None),
    ("logsumexp", "s[i]*delta(i,j)", True, FAILS, s[i] * s[j]),
    # the cross-entropy gradient without its assumption
    ("softmax_cross_entropy", "s[j] - y[j]", False, ASSUMED, None),
    ("softmax_cross_entropy", "s[i] - y[i]", False, ASSUMED, None),
    ("softmax_cross_entropy", "s[j]*sum(y[k], k) - y[j]", False, HOLDS, None),
    ("softmax_cross_entropy", "s[j]", False, FAILS, y[i]),
    ("softmax_cross_entropy", "s[i]*(delta(i,j) - s[j])", True, ASSUMED, None),
]


@pytest.mark.parametrize("name, text, hessian, verdict, difference", CLAIMS)
def test_claims(name, text, hessian, verdict, difference):
    v = check(derive(name), text, hessian=hessian)
    assert v.status == verdict, (v.status, v.difference)
    assert v.exit_code() == (1 if verdict == FAILS else 0)
    if verdict == FAILS:
        assert v.difference is not None and v.example is not None
        assert simplify(v.difference - difference) == 0, v.difference
        ex = v.example
        assert sympy.N(ex.claimed - ex.derived, 30) != 0
    else:
        assert v.difference is None


def test_at_least_twenty_claims_over_most_functions():
    assert len(CLAIMS) >= 20
    assert len({c[0] for c in CLAIMS}) >= 10
    assert {c[3] for c in CLAIMS} == {HOLDS, ASSUMED, FAILS}


def test_softmax_wrong_claim_differs_off_the_diagonal_with_exact_values():
    v = check(derive("softmax"), "s[i]*(1 - s[j])")
    assert v.differs == ("other",)
    assert v.cases[0][1] == 0 and v.cases[1][1] == s[i]
    ex = v.example
    assert ex.size == 2 and ex.inputs == {"z": (1, 0)} and ex.entry == (1, 2)
    # s = (e, 1)/(1 + e): the claim gives s_1(1 − s_2) = s_1², the derivative −s_1 s_2
    assert simplify(ex.claimed - E**2 / (1 + E) ** 2) == 0
    assert simplify(ex.derived + E / (1 + E) ** 2) == 0


def test_the_assumption_is_named_and_strict_refuses_it():
    v = check(derive("softmax_cross_entropy"), "s[j] - y[j]")
    assert v.free == "j"
    assert [(str(lhs), rhs) for lhs, rhs in v.assumptions] == [("Sum(y[k], (k, 1, n))", 1)]
    assert v.exit_code() == 0 and v.exit_code(strict=True) == 1
    # a point without the assumption, where the claim is off: y all ones
    assert v.example.inputs["y"] == (1, 1)
    assert sympy.N(v.example.claimed - v.example.derived) != 0


def test_a_parameter_set_on_the_command_line_reaches_the_claim():
    v = check(derive("softmax_t", params={"T": "1/2"}), "2*s[i]*(delta(i,j) - s[j])")
    assert v.status == HOLDS
    v = check(derive("softmax_t", params={"T": "1/2"}), "s[i]*(delta(i,j) - s[j])/T")
    assert v.status == HOLDS


def test_a_claim_about_a_user_expression():
    from derive.userdefined import user_function

    d = derive(user_function("z[i]^2 / sum(z[k]^2, k)", "normsq"))
    assert check(d, "2*z[i]*delta(i,j)/sum(z[k]^2,k) - 2*z[i]^2*z[j]/sum(z[k]^2,k)^2").status == HOLDS
    v = check(d, "2*z[i]*delta(i,j)/sum(z[k]^2,k)")
    assert v.status == FAILS and v.example is not None


@pytest.mark.parametrize(
    "text, message",
    [
        ("__import__('os').system('ls')", "attribute access is not allowed"),
        ("s[i]*mu", "unknown name 'mu'"),
        ("delta(i, k)", "delta takes the free indices"),
        ("s.T", "attribute access"),
        ("q[i]", "only s[...], z[...] can be subscripted"),
        ("s[i] * (1 - s[j]", "unbalanced brackets"),
        ("x" * 2001, "expression too long"),
        ("s[n]", "s must be indexed by i or j"),
        ("lambda: 1", "lambda is not allowed"),
    ],
)
def test_bad_claims_are_refused_in_one_line(text, message):
    with pytest.raises(InvalidInput) as caught:
        check(derive("softmax"), text)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_gradient_claim_has_one_free_index_and_hessian_needs_a_scalar():
    with pytest.raises(InvalidInput, match="one free index"):
        check(derive("logsumexp"), "s[i] + s[j]")
    with pytest.raises(InvalidInput, match="--claim-hessian is for scalar functions"):
        check(derive("softmax"), "s[i]", hessian=True)
    with pytest.raises(InvalidInput, match="unknown function 'delta'"):
        check(derive("logsumexp"), "delta(i, i)")  # a gradient entry has no δ_ij


def test_claim_text_is_never_evaluated(monkeypatch):
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("must not be called")

    d = derive("softmax")
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(sympy.parsing.sympy_parser, "parse_expr", forbidden)
    assert check(d, "s[i]*(delta(i,j) - s[j])").status == HOLDS


# The command line: the "done when"


def test_cli_wrong_softmax_claim_exits_1_with_difference_and_counterexample(run):
    result = run("softmax", "--claim", "s[i]*(1 - s[j])")
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "does not hold: it is wrong when i ≠ j" in out
    assert "sᵢ⋅(1 - δᵢⱼ)" in out  # claim − derivative, in δ form
    assert "Counterexample: n = 2, z = (1, 0), entry i = 1, j = 2" in out
    assert "0.534447" in out and "-0.196612" in out


def test_cli_right_softmax_claim_exits_0(run):
    result = run("softmax", "--claim", "s[i]*(delta(i,j) - s[j])")
    assert result.exit_code == 0, result.output
    assert "the claim holds for every n" in result.stdout


def test_cli_cross_entropy_holds_given_its_assumption(run):
    result = run("softmax_cross_entropy", "--claim", "s[j] - y[j]")
    assert result.exit_code == 0, result.output
    assert "holds only under the assumption" in result.stdout and "yₖ = 1" in result.stdout
    assert run("softmax_cross_entropy", "--claim", "s[j] - y[j]", "--strict").exit_code == 1


def test_cli_json(run):
    result = run("softmax", "--claim", "s[i]*(1 - s[j])", "--format", "json")
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    assert record["verdict"] == "fails" and record["holds"] is False
    assert record["differs_when"] == ["i != j"]
    assert sympy.sympify(record["difference"], locals={"s": s, "i": i, "j": j}) == s[i] * (1 - d_ij)
    assert record["example"]["entry"] == [1, 2]
    assert record["example"]["claimed_decimal"] == pytest.approx(0.5344466)
    record = json.loads(run("softmax_cross_entropy", "--claim", "s[j]-y[j]", "-f", "json").stdout)
    assert record["verdict"] == "assumed" and record["assumptions"] == ["Sum(y[k], (k, 1, n)) = 1"]


@pytest.mark.parametrize("fmt", ["latex", "markdown"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cli_fragments(run, fmt, lang):
    result = run("softmax", "--claim", "s[i]*(1 - s[j])", "--format", fmt, "--lang", lang)
    assert result.exit_code == 1
    out = result.stdout
    assert r"s_{i} \left(1 - \delta_{ij}\right)" in out
    assert r"i \neq j\colon s_{i}" in out
    assert ("counterexample" in out) if lang == "en" else ("反例" in out)
    assert "≠" not in out and "−" not in out  # math in LaTeX only


def test_cli_expr_takes_a_claim(run):
    result = run("expr", "exp(z[i]) / sum(exp(z[k]), k)", "--claim", "s[i]*(delta(i,j) - s[j])")
    assert result.exit_code == 0, result.output


def test_cli_bad_claim_is_one_line_exit_2(run):
    result = run("softmax", "--claim", "s[i]*mu")
    assert result.exit_code == 2
    assert "unknown name 'mu'" in result.stderr and "Traceback" not in result.output


def test_cli_claim_options_conflict(run):
    assert run("softmax", "--strict").exit_code == 2
    assert run("softmax", "--claim", "s[i]", "--emit", "numpy").exit_code == 2
    assert run("softmax", "--claim", "s[i]", "--check").exit_code == 2


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk is not installed")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_latex_fragments_compile(tmp_path, lang):
    verdicts = [
        check(derive("softmax"), "s[i]*(1 - s[j])"),
        check(derive("softmax"), "s[j]*(delta(i,j) - s[i])"),
        check(derive("softmax_cross_entropy"), "s[j] - y[j]"),
    ]
    body = "\n".join(api.render_claim(v, "latex", lang=lang) for v in verdicts)
    documentclass = r"\documentclass[UTF8]{ctexart}" if lang == "zh" else r"\documentclass{article}"
    source = tmp_path / "claims.tex"
    source.write_text(
        f"{documentclass}\n\\usepackage{{amsmath,amssymb}}\n\\begin{{document}}\n{body}\n\\end{{document}}\n",
        encoding="utf-8",
    )
    engine = "-xelatex" if lang == "zh" else "-pdf"
    done = subprocess.run(
        ["latexmk", engine, "-interaction=nonstopmode", "-halt-on-error", source.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and (tmp_path / "claims.pdf").exists(), done.stdout[-2000:]


def test_a_claim_is_decided_within_a_deadline():
    from derive.claims.deadline import TooLong, deadline, or_skip

    with pytest.raises(TooLong, match="took longer than 0.5 s"):
        check(derive("softmax"), "(s[i] + s[j] + z[i] + z[j])^64 - (s[i] + z[j])^63", seconds=0.5)
    # limits nest: an inner one that expires ends only its block, an outer one propagates
    ended = []
    with deadline(5, "outer"):
        with or_skip(0.2, "inner"):
            while True:
                pass
        ended.append("inner")
    assert ended == ["inner"]
    with pytest.raises(TooLong, match="outer"):
        with deadline(0.2, "outer"):
            with or_skip(5, "inner"):
                while True:
                    pass


def test_an_expired_limit_swallowed_once_is_raised_again():
    from derive.claims.deadline import TooLong, deadline

    swallowed = []
    with pytest.raises(TooLong, match="work"):
        with deadline(0.2, "work"):
            try:
                while True:
                    pass
            except TooLong:  # as a library's broad except would
                swallowed.append(True)
            while True:
                pass
    assert swallowed == [True]


def test_a_max_sympy_cannot_order_is_no_crash():
    v = check(derive("softmax"), "max(s[i], s[j], z[i], z[j], 1, 2)*sin(s[i])^9")
    assert v.status == FAILS and v.example is not None


@pytest.mark.parametrize("fmt", ["text", "json", "latex", "markdown"])
def test_an_undecided_claim_renders_and_exits_1(fmt):
    from dataclasses import replace

    from derive.claims.claim import UNPROVEN

    v = replace(check(derive("softmax"), "s[i]*(delta(i,j) - s[j])"), status=UNPROVEN, method="")
    assert v.exit_code() == 1
    out = api.render_claim(v, fmt)
    assert ("unproven" in out) if fmt == "json" else ("Not proven" in out or "not proven" in out)


def test_a_claim_may_name_the_scalar_output():
    assert check(derive("logsumexp"), "exp(z[j] - L)").status == HOLDS
    assert (
        check(derive("logsumexp"), "exp(z[i] - L)*(delta(i,j) - exp(z[j] - L))", hessian=True).status == HOLDS
    )
    assert check(derive("logsumexp"), "exp(z[j] + L)").status == FAILS


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="sziyjklnTmu[]()+-*/^ ,.0123456789delta_", max_size=60))
def test_claim_parser_fuzz_parses_or_refuses_in_one_line(text):
    from derive.claims.claim import parse_claim, target

    d = derive("softmax_t")
    try:
        parse_claim(text, d, target(d))
    except InvalidInput as error:
        assert "\n" not in str(error)


def test_markdown_fragments_parse_in_katex():
    from .documents import katex_available, katex_failures, math_blocks

    if not katex_available():
        pytest.skip("KaTeX is not installed: npm ci")
    claims = [
        ("softmax", "s[i]*(1 - s[j])", False),
        ("softmax", "s[j]*(delta(i,j) - s[i])", False),
        ("softmax_cross_entropy", "s[j] - y[j]", False),
        ("layer_norm", "(delta(i,j) - s[i]*s[j]/n)/sigma", False),
        ("logsumexp", "s[i]*delta(i,j)", True),
    ]
    blocks = [
        block
        for name, text, hessian in claims
        for lang in ("en", "zh")
        for block in math_blocks(
            api.render_claim(check(derive(name), text, hessian=hessian), "markdown", lang=lang), "markdown"
        )
    ]
    assert len(blocks) > 40
    assert katex_failures(blocks) == []
