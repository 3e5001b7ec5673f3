"""Documents for several inputs: the chain rule through z = W x + b, then each input's block, en and zh."""

import shutil
import subprocess

import pytest

from derive import api
from derive.engine.derivation import derive
from derive.errors import InvalidInput

from .regen_golden import GOLDEN

NAMES = ("linear_softmax_cross_entropy", "layer_norm_affine", "rms_norm", "attention")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lang", ["en", "zh", "zh-Hant"])
def test_every_function_is_written_out(name, lang):
    d = derive(name)
    text = api.render(d, "markdown", lang=lang)
    chained = 1 if d.kind == "scalar" else 0  # the chain rule's own section
    assert text.count("\n## ") + text.startswith("## ") == 1 + chained + len(d.blocks)
    said = {"en": "In matrix form", "zh": "矩阵形式：", "zh-Hant": "矩陣形式："}[lang]
    assert text.count(said) == sum(b.matrix_form is not None for b in d.blocks)
    assert text.count("$$") % 2 == 0 and "$$" in text
    latex = api.render(d, "latex", lang=lang, standalone=True)
    assert latex.startswith("\\documentclass") and latex.rstrip().endswith("\\end{document}")


def test_the_chain_rule_goes_through_the_layer():
    text = api.render(derive("linear_softmax_cross_entropy"), "markdown")
    assert "\\frac{\\partial L}{\\partial z_{p}} = s_{p} - y_{p}" in text
    assert "\\frac{\\partial z_{p}}{\\partial W_{i,j}} = \\delta_{ip} x_{j}" in text
    assert "\\partial L/\\partial W = \\left(s - y\\right) x^{\\top}" in text
    assert "The chain rule" not in api.render(derive("rms_norm"), "markdown")  # a vector function: none


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_documents_match_the_golden_files(lang):
    d = derive("linear_softmax_cross_entropy")
    assert (
        api.render(d, "markdown", lang=lang)
        == (GOLDEN / f"linear_softmax_cross_entropy-{lang}.md").read_text()
    )


def test_options_that_do_not_apply_are_refused():
    d = derive("attention")
    with pytest.raises(InvalidInput, match="--method"):
        api.render(d, "latex", method="log")
    with pytest.raises(InvalidInput, match="zh-Hant"):
        api.render(d, "markdown", lang="ja")
    with pytest.raises(InvalidInput, match="--standalone"):
        api.render(d, "markdown", standalone=True)


def _compile(folder, source: str, engine: str) -> str:
    """latexmk's log for source, asserting that it compiled."""
    (folder / "doc.tex").write_text(source, encoding="utf-8")
    done = subprocess.run(
        ["latexmk", engine, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = (folder / "doc.log").read_text(errors="replace")
    assert done.returncode == 0 and (folder / "doc.pdf").exists(), log[-2000:]
    return log


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk is not installed")
@pytest.mark.parametrize("lang, engine", [("en", "-pdf"), ("zh", "-xelatex")])
def test_the_golden_documents_compile(tmp_path, lang, engine):
    golden = (GOLDEN / f"linear_softmax_cross_entropy-{lang}.standalone.tex").read_text()
    log = _compile(tmp_path, golden, engine)
    assert "Overfull \\hbox" not in log and "Missing character" not in log


def test_traditional_chinese_is_traditional():
    text = api.render(derive("linear_softmax_cross_entropy"), "markdown", lang="zh-Hant")
    assert "連鎖律" in text and "矩陣形式：" in text and "對" in text
    assert not any(c in text for c in "链阵对验证导数输义设")  # no simplified form left


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk is not installed")
def test_the_traditional_chinese_document_compiles(tmp_path):
    d = derive("linear_softmax_cross_entropy")
    log = _compile(tmp_path, api.render(d, "latex", lang="zh-Hant", standalone=True), "-xelatex")
    assert "Overfull \\hbox" not in log and "Missing character" not in log
