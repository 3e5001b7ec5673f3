"""Documents read as notes: lead-ins kept with their displays, labels true to their steps, prose in words."""

import re
import shutil
import subprocess
from functools import cache

import pytest
from sympy import Add, Indexed, Mul, Symbol

from derive import derive, render
from derive.engine.registry import functions, one_input
from derive.userdefined import user_function
from derive.writeup.routes import is_factoring
from derive.writeup.typeset import CHAIN_RULES
from derive.writeup.writeup import writeup

NAMES = sorted(one_input())


@cache
def steps_of(name):
    """Every step of name's write-up for any n (a scalar's Hessian included)."""
    d = derive(name)
    w = writeup(d)
    found = [step for c in w.chains for step in c]
    if d.kind == "scalar":
        found += [step for c in w.hessian.chains for step in c]
    return found


@pytest.mark.parametrize("name", NAMES)
def test_every_factor_step_only_factors(name):
    for step in steps_of(name):
        if step.rule == "factor":
            assert is_factoring(step.before, step.after), (name, step)


@pytest.mark.parametrize("name", NAMES)
def test_a_renaming_that_also_factors_says_so(name):
    for step in steps_of(name):
        if step.rule in ("outputs", "named", "outputs_factor", "named_factor"):
            factors = Mul.make_args(step.after)
            pulled = isinstance(step.before, Add) and len(factors) > 1 and any(f.is_Add for f in factors)
            assert pulled == step.rule.endswith("_factor"), (name, step)


def test_cross_entropy_names_the_factoring_of_softmax():
    rules = [step.rule for step in steps_of("softmax_cross_entropy")]
    assert "named_factor" in rules
    assert "by definition, factored" in render(derive("softmax_cross_entropy"), "markdown")


def test_silu_multiplying_top_and_bottom_is_not_called_factor():
    fn = user_function("z[i] * sigmoid(z[i])", "silu")
    w = writeup(derive(fn))
    rules = [step.rule for c in w.chains for step in c]
    assert "factor" not in rules and "tidy" in rules


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "gelu", "tanh"])
def test_a_route_heading_names_the_chain_rule_only_when_a_step_uses_it(name):
    d = derive(name)
    w = writeup(d)
    route = (w.hessian if d.kind == "scalar" else w).route
    if route.method != "chain":
        pytest.skip(f"{name} goes by the {route.method} route")
    used = any(step.rule in CHAIN_RULES for c in (*route.known, *route.lemmas, route.main) for step in c)
    text = render(d, "markdown")
    assert ("The chain rule" in text) == used
    assert ("Rule by rule" in text) == (not used)


def test_the_hessian_of_cross_entropy_is_not_headed_the_chain_rule():
    assert "### 2.1 Rule by rule" in render(derive("softmax_cross_entropy"), "markdown")


def test_a_negative_sum_is_written_with_its_sign_in_front():
    text = render(derive("layer_norm"), "latex")
    assert not re.search(r"\+ \\sum_\{k=1\}\^\{n\} -", text)
    assert r"- 2 \mu - \sum_{k=1}^{n} \frac{2 z_{k} - 2 \mu}{n}" in text


def test_a_denominator_every_entry_shares_is_pulled_out_of_the_matrix():
    text = render(derive("layer_norm", n=4), "latex")
    assert text.count(r"\frac{1}{4 \sigma} \begin{pmatrix}") == 2  # row 2 and the whole Jacobian
    assert r"\frac{1}{n \sigma} \begin{pmatrix}" in text
    assert r"\frac{3 - s_{1}^{2}}{4 \sigma}" not in text
    plain = render(derive("softmax", n=4), "latex")
    assert r"\frac{1}{" not in plain.split("Jacobian for")[-1].split("\\begin{pmatrix}")[0]


@pytest.mark.parametrize(
    ("size", "count", "every"), [(1, 1, True), (4, 16, True), (8, 64, True), (9, 6, False)]
)
def test_the_explicit_matrix_is_compared_entry_by_entry_up_to_n_8(size, count, every):
    (proof,) = [p for p in derive("softmax", n=size).proofs if p.claim == "explicit"]
    assert proof.holds and proof.cases == count and proof.every == every
    assert ("all 16 entries" if size == 4 else "") in render(derive("softmax", n=size), "markdown")


def test_the_checked_sentence_says_what_was_checked():
    text = render(derive("softmax", n=4), "markdown")
    assert "by symbolic algebra" not in text
    assert re.search(r"For each of the \d+ steps, SymPy took the derivatives", text)


@pytest.mark.parametrize("name", NAMES)
def test_descriptions_are_plain_words_without_the_functions_symbols(name):
    fn = functions()[name]
    d = derive(name)
    symbols = {str(a.base) for a in d.spelled.expanded.atoms(Indexed)} | {key for key, _ in fn.where}
    symbols |= {str(s) for s in d.spelled.expanded.atoms(Symbol)} | set(fn.parameter_names)
    symbols |= {"mu", "sigma", "tau", "alpha", "beta", "eps"}
    words = set(re.findall(r"[A-Za-z]+", fn.description)) - {"a", "A"}
    assert not words & symbols, (name, words & symbols)
    assert not re.search(r"[0-9()]", fn.description), name


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_target_vector_is_introduced_in_words(lang):
    text = render(derive("softmax_cross_entropy"), "markdown", lang=lang)
    said = {"en": "is the target: a second input, held fixed", "zh": "是目标向量"}[lang]
    assert said in text
    assert text.index(said) < text.index("## 1.")
    assert "target distribution y" not in text


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", ["softmax", "softmax_cross_entropy", "layer_norm"])
def test_no_display_starts_a_paragraph_of_its_own(name, lang):
    text = render(derive(name, n=4), "latex", lang=lang)
    assert not re.search(r"\n\n(\\\[|\\begin\{alignat\*\})", text)
    assert "\\begin{aligned}" not in text  # a chain is alignat*, which may break between its steps


@pytest.mark.skipif(shutil.which("pdflatex") is None or shutil.which("pdftotext") is None, reason="no TeX")
def test_no_page_ends_with_a_lead_in(tmp_path):
    """softmax at n = 4, which before left "Substituting … into the quotient rule:" at a page's foot."""
    source = tmp_path / "softmax.tex"
    source.write_text(render(derive("softmax", n=4), "latex", standalone=True), encoding="utf-8")
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name],
        cwd=tmp_path,
        capture_output=True,
        timeout=300,
        check=True,
    )
    pages = subprocess.run(
        ["pdftotext", "-layout", "softmax.pdf", "-"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split("\f")
    assert len(pages) > 3
    for page in pages[:-2]:
        lines = [line.strip() for line in page.splitlines() if line.strip() and not line.strip().isdigit()]
        assert not re.search(r"([:,]|\bis)$", lines[-1]), lines[-1]


def test_the_log_route_derives_the_slope_of_log_once():
    """∂ log s_i/∂z_j = δ_ij − s_j is derived in the lemmas; multiplying back takes it from there."""
    from derive.writeup.routes import route

    r = route(derive("softmax"), "log")
    assert [step.rule for step in r.main] == ["log_derivative", "known"]
    assert r.main[-1].after == derive("softmax").general


def test_layer_norm_cases_go_over_one_denominator_before_the_outputs():
    """Not (σ(1 − 1/n) − (z_i − μ)²/(nσ))/σ² = (n − s_i² − 1)/(nσ) in one jump."""
    from derive.writeup.routes import route

    r = route(derive("layer_norm"), "quotient")
    for case, delta in ((r.same, "delta_one"), (r.other, "delta_zero")):
        assert [step.rule for step in case] == [delta, "together", "outputs"]
        assert case[1].after.as_numer_denom()[1].has(Symbol("sigma", positive=True) ** 3)
