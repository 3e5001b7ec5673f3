"""Terminal text: one kind of subscript, ∂ for every derivative, prose and matrices within the width."""

import re

import pytest

from derive import derive, render
from derive.engine.registry import one_input
from derive.show.terminal import _after_colon, show, width

NAMES = sorted(one_input())


@pytest.fixture(scope="module")
def texts():
    return {(name, n): render(derive(name, n=n), "text") for name in NAMES for n in (None, 4, 6, 12)}


def test_every_index_is_a_unicode_subscript(texts):
    for (name, n), text in texts.items():
        assert not re.search(r"_[ijkl]", text), (name, n)
    softmax = texts[("softmax", None)]
    assert "sᵢ⋅(δᵢⱼ - sⱼ)" in softmax and "-sᵢ⋅sⱼ" in softmax and "∂zⱼ" in softmax


def test_every_derivative_is_partial(texts):
    for (name, n), text in texts.items():
        assert "dz" not in text and "∂z" in text, (name, n)
    scalar = texts[("logsumexp", None)]
    assert "∂zᵢ" in scalar and "∂zⱼ ∂zᵢ" in scalar


def test_every_line_fits_80_columns(texts):
    for (name, n), text in texts.items():
        assert max(map(len, text.splitlines())) <= 80, (name, n)


@pytest.mark.parametrize("name", NAMES)
def test_prose_wraps_at_the_width_given(name):
    text = show(derive(name, n=4), 50)
    paragraphs = [p.strip("\n") for p in text.split("\n\n") if p.strip()]
    prose = [p for p in paragraphs if p.startswith(("Proven: ", "Hessian proven: "))] + paragraphs[:1]
    assert len(prose) >= 2
    for paragraph in prose:
        lines = paragraph.splitlines()
        assert all(len(line) <= 50 for line in lines) and len(lines) >= 2, paragraph


def test_an_explicit_matrix_is_elided_to_fit():
    at_80 = render(derive("softmax", n=6), "text")
    assert max(map(len, at_80.splitlines())) <= 80
    assert "(middle elided)" in at_80 and "⋱" in at_80
    wide = show(derive("softmax", n=6), 200)
    assert "(middle elided)" not in wide and "⋱" not in wide and "s₃⋅s₄" in wide
    narrow = show(derive("softmax", n=4), 40)
    assert "⋱" in narrow and "s₁⋅(1 - s₁)" in narrow and "s₄⋅(1 - s₄)" in narrow


def test_the_width_is_80_when_not_a_terminal(monkeypatch, tmp_path):
    with open(tmp_path / "out.txt", "w") as file:
        monkeypatch.setattr("sys.stdout", file)
        assert width() == 80


def test_paragraphs_are_separated():
    text = render(derive("softmax_cross_entropy", n=3), "text")
    assert ").Hessian" not in text and "\n\nHessian proven: " in text
    assert text.index("Proven: ") < text.index("Hessian proven: ")


def test_max_and_min_are_written_as_people_write_them(run):
    result = run("expr", "max(0, z[i]) + min(z[i], 1)")
    assert result.exit_code == 0, result.stderr
    assert "max(0, zᵢ)" in result.stdout and "min(1, zᵢ)" in result.stdout
    assert "Max(" not in result.stdout and "Min(" not in result.stdout and "z[i]" not in result.stdout


def test_no_capital_after_the_colon():
    assert render(derive("softmax"), "text").startswith("Softmax: exponentials normalised into")
    assert _after_colon("GELU, elementwise.") == "GELU, elementwise."
    assert _after_colon("L2 norm.") == "L2 norm."


def test_where_is_said_once():
    text = render(derive("layer_norm"), "text")
    assert text.count("where") == 1
    assert text.index("where") < text.index("μ = ") < text.index("σ = ")
