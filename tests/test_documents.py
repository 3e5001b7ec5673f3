"""Documents: every function in every format, language and route; golden files; KaTeX; the command line."""

import os
import re
import subprocess
import sys
from functools import cache
from itertools import product

import pytest
from sympy import Eq, Sum

from derive import derive, render
from derive.engine.registry import one_input, register, unregister
from derive.errors import InvalidInput, NotApplicable
from derive.notation.symbols import j, k, n, vector
from derive.writeup.writeup import writeup

from .documents import ROOT, SHAPES, katex_available, katex_failures, math_blocks, shape
from .regen_golden import CASES, GOLDEN, render_case

FORMATS, LANGS, METHODS = ("latex", "markdown"), ("en", "zh", "zh-Hant"), ("quotient", "log")


# The registry at collection time (more functions come in other modules), and the shapes a test registers.
NAMES = sorted(set(one_input()) | set(SHAPES))


@pytest.fixture(scope="module")
def registered():
    """The test shapes, registered for this module only."""
    for name in SHAPES:
        register(shape(name))
    yield NAMES
    for name in SHAPES:
        unregister(name)


@cache
def documents(name, n=4) -> tuple:
    """(fmt, lang, method, text) in every combination; text None where the route does not apply."""
    d = derive(name, n=n)
    found = []
    for fmt, lang, method in product(FORMATS, LANGS, METHODS):
        try:
            found.append((fmt, lang, method, render(d, fmt, lang=lang, method=method)))
        except NotApplicable as error:
            # Only the log route may not apply, to a function whose outputs (or gradient) can be negative.
            assert method == "log"
            assert "\n" not in str(error)
            found.append((fmt, lang, method, None))
    return tuple(found)


@pytest.mark.parametrize("name", NAMES)
def test_every_function_renders_in_every_format_language_and_route(registered, name):
    rendered = documents(name)
    assert any(text is not None for *_, text in rendered)
    for fmt, _, _, text in rendered:
        if text is None:
            continue
        assert text.endswith("\n") and "Traceback" not in text
        assert "<<" not in text and "<%" not in text  # no template syntax left behind
        if fmt == "markdown":
            assert not re.search(r"\\begin\{align\*?\}", text) and text.count("$$") % 2 == 0


@pytest.mark.skipif(
    not katex_available(), reason="KaTeX is not installed: run `npm ci` to parse the Markdown math"
)
def test_every_math_block_parses_in_katex(registered):
    # One node process for every block of every document: starting KaTeX once per block would take minutes.
    blocks = [
        block
        for name in registered
        for fmt, _, _, text in documents(name)
        if text is not None
        for block in math_blocks(text, fmt)
    ]
    assert len(blocks) > 1000
    assert katex_failures(blocks) == []


def test_a_function_registered_in_a_test_gets_its_own_steps(registered):
    tanh = render(derive("test_tanh", n=3), "markdown")
    assert "## 1. The chain rule" in tanh and "no denominator" not in tanh
    assert "The definition of tanh is not one, so the chain rule differentiates it directly" in tanh
    square = render(derive("test_square_share", n=3), "latex", lang="zh")
    assert "用商法则求导" in square and "交叉熵" not in square


@pytest.mark.parametrize("name, options", CASES, ids=[name for name, _ in CASES])
def test_golden_documents(name, options):
    # On purpose: regenerate with `python -m tests.regen_golden` and review the diff.
    assert render_case(options) == (GOLDEN / name).read_text(encoding="utf-8")


def test_rendering_is_deterministic():
    d = derive("softmax", n=5)
    assert render(d, "latex", lang="zh") == render(derive("softmax", n=5), "latex", lang="zh")


def test_the_command_line_gives_the_golden_bytes_in_a_fresh_process(tmp_path):
    target = tmp_path / "softmax.tex"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "12345"}
    args = ["softmax", "--n", "4", "--format", "latex", "--standalone", "--lang", "zh", "-o", str(target)]
    done = subprocess.run([sys.executable, "-m", "derive", *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert target.read_text(encoding="utf-8") == (GOLDEN / "softmax-n4-zh-quotient.standalone.tex").read_text(
        encoding="utf-8"
    )


def test_an_existing_file_is_refused_without_force(run, tmp_path):
    target = tmp_path / "softmax.md"
    assert run("softmax", "--n", "4", "--format", "markdown", "-o", str(target)).exit_code == 0
    saved = target.read_text()
    again = run("softmax", "--n", "4", "--format", "markdown", "--lang", "zh", "-o", str(target))
    assert again.exit_code == 1 and "--force" in again.stderr and target.read_text() == saved
    forced = run("softmax", "--n", "4", "--format", "markdown", "--lang", "zh", "-o", str(target), "--force")
    assert forced.exit_code == 0 and "函数求导" in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["softmax.md"]


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["test_tanh", "--format", "latex", "--method", "log"], 1, "the log route needs positive outputs"),
        (["softmax", "--format", "markdown", "--method", "taylor"], 2, "--method"),
        (["softmax", "--format", "latex", "--lang", "fr"], 2, "--lang"),
        (
            ["softmax", "--format", "markdown", "--standalone"],
            2,
            "--standalone makes a complete LaTeX document",
        ),
    ],
)
def test_bad_document_options_give_one_line(run, registered, args, code, message):
    result = run(*args)
    assert result.exit_code == code and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_the_python_api_refuses_bad_options_in_one_line():
    d = derive("softmax")
    with pytest.raises(InvalidInput, match="--standalone makes a complete LaTeX document"):
        render(d, "markdown", standalone=True)
    with pytest.raises(InvalidInput, match="unknown language 'fr'"):
        render(d, "latex", lang="fr")


def test_a_large_n_is_elided():
    # How fast this is belongs to benchmarks/, never to a test's pass or fail.
    text = render(derive("softmax", n=1024), "latex", lang="zh")
    assert r"\cdots" in text and r"\vdots" in text and r"\ddots" in text
    assert "s_{1024} \\left(1 - s_{1024}\\right)" in text and "s_{500}" not in text
    matrices = re.findall(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}", text, re.S)
    widest = max(row.count("&") + 1 for body in matrices for row in body.split("\\\\"))
    assert widest <= 10  # LaTeX's default pmatrix takes ten columns


@pytest.mark.parametrize("name", NAMES)
def test_chinese_prose_has_no_untranslated_words(registered, name):
    allowed = {"one-hot", "derive", "SymPy", "latexmk", "xelatex", "amsmath", "ctex", "input", "n", "format"}
    for fmt, lang, _, text in documents(name):
        if not lang.startswith("zh") or text is None:
            continue
        prose = re.sub(
            r"\$\$.*?\$\$|\\\[.*?\\\]|\\begin\{alignat\*\}.*?\\end\{alignat\*\}|\\csname .*?\\endcsname"
            r"|\$[^$]*\$|`[^`]*`|\\[a-zA-Z]+\*?(\{[^}]*\})?",
            " ",
            text,
            flags=re.S,
        )
        prose = "\n".join(line for line in prose.splitlines() if not line.startswith(("%", "<!--")))
        words = set(re.findall(WORD, prose)) - allowed - chinese_titles(name, lang)
        assert not words, (name, fmt, words)


WORD = r"[A-Za-z][A-Za-z-]+"


def chinese_titles(name, lang="zh") -> set:
    """The Latin words a Chinese document may take from titles: its function's Chinese title, and for a
    scalar that of the function its gradient is; a function without one is named in code font."""
    d = derive(name)
    named = [d.function]
    if d.kind == "scalar" and d.hessian.spelled.recognized:
        named.append(d.hessian.function)
    return {word for fn in named for word in re.findall(WORD, fn.title_in(lang) or "")}


def test_a_function_without_a_chinese_title_is_named_in_code_font(registered):
    d = derive("test_tanh", n=2)
    assert "# `test_tanh` 函数求导" in render(d, "markdown", lang="zh")
    assert r"\section*{\texttt{test\_tanh} 函数求导}" in render(d, "latex", lang="zh")
    assert "# tanh: its derivative, step by step" in render(d, "markdown")


def test_a_notebook_shows_the_write_up_and_latex_consumers_the_results():
    d = derive("softmax", n=4)
    assert d._repr_markdown_() == render(d, "markdown")
    latex = d._repr_latex_()
    assert latex.startswith("$$") and "\\operatorname{diag}" in latex
    scalar = derive("softmax_cross_entropy")._repr_latex_()
    assert "s - y" in scalar and "\\operatorname{diag}" in scalar


def test_a_scalar_gets_its_gradient_through_s_and_its_hessian_through_the_same_jacobian():
    d = derive("softmax_cross_entropy", n=4)
    w = writeup(d)
    s, y = vector("s"), vector("y")
    assert w.gradient.via == s and w.gradient.main[-1].after == s[j] - y[j]
    (used,) = [step for step in w.gradient.main if step.rule == "assumption"]
    assert used.condition == Eq(Sum(y[k], (k, 1, n)), 1)  # stated on the one step that uses it
    assert w.hessian.route.main[-1].after == d.hessian.general
    text = render(d, "markdown")
    assert "# Softmax cross-entropy: its gradient and Hessian, step by step" in text
    assert "## 3. The Hessian" in text and "### 3.3 The Hessian matrix" in text
    assert "H = \\operatorname{diag}\\left(s\\right) - s s^{\\top}" in text
    assert text.count("\\frac{\\partial s_{i}}{\\partial z_{j}} &= ") == 1  # s's Jacobian derived once
    assert "\\frac{\\partial L}{\\partial z} = s - y" in text


def test_a_gradient_that_is_a_function_of_its_own_is_named():
    text = render(derive("logsumexp", n=3), "latex", lang="zh")
    assert "其中 $s$ 是 $z$ 的 Softmax 函数" in text and "log-sum-exp（对数求和指数）的梯度与黑塞矩阵" in text
    assert "\\frac{\\partial L}{\\partial z} = s" in text


def test_the_log_route_for_a_gradient_that_can_be_negative_says_so_in_one_line():
    with pytest.raises(NotApplicable, match="^the log route differentiates log g_i for the Hessian") as error:
        render(derive("softmax_cross_entropy"), "markdown", method="log")
    assert "\n" not in str(error.value)


def test_scalar_intermediates_are_differentiated_first_and_shown_where_they_are_defined():
    text = render(derive("l2_normalize"), "markdown")
    assert "where\n\n$$\nr = \\sqrt{\\sum_{k=1}^{n} z_{k}^{2}}\n$$" in text
    assert "The definition is written with $r$, which depends on $z$ as well." in text
    assert "f = z_{i}, \\qquad g = r" in text
    assert "J = \\frac{1}{r} \\left(I - s s^{\\top}\\right)" in text
    assert "$I$ the identity matrix" in text and "diagonal matrix" not in text


def test_a_document_with_a_parameter_set_shows_its_value_and_the_command(run):
    result = run("softmax_t", "--n", "3", "--param", "T=0.5", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first == "<!-- Generated by `derive softmax_t --n 3 --param T=1/2 --format markdown`. -->"
    assert "T = \\frac{1}{2}" in result.stdout
