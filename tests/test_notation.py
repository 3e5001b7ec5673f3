"""--symbols and --bold: a reader's notation, read from an allow-list and printed by every printer."""

import ast
import builtins
import json
import re
import sys

import numpy as np
import pytest
import sympy

from derive import derive, emit, render
from derive.engine.registry import functions, one_input
from derive.errors import InvalidInput
from derive.notation.reader import name, parse
from derive.notation.symbols import i, j

from .documents import katex_available, katex_failures, math_blocks
from .regen_golden import GOLDEN, NOTATIONS


@pytest.mark.parametrize(
    "text, latex, unicode",
    [
        ("a", "a", "a"),
        ("S", "S", "S"),
        ("\\hat{y}", "\\hat{y}", "ŷ"),
        ("ŷ", "\\hat{y}", "ŷ"),  # typed as one character
        ("\\alpha", "\\alpha", "α"),
        ("μ", "\\mu", "μ"),
        ("\\tilde{\\Sigma}", "\\tilde{\\Sigma}", "Σ̃"),
        (" d ", "d", "d"),
        ("\\ell", "\\ell", "ℓ"),
    ],
)
def test_names_on_the_allow_list(text, latex, unicode):
    found = name(text)
    assert (found.latex, found.unicode) == (latex, unicode)


@pytest.mark.parametrize(
    "text, message",
    [
        ("z=ab", "not a name derive can typeset"),
        ("z=1", "not a name derive can typeset"),
        ("z=\\foo{a}", "unknown accent \\foo"),
        ("z=\\hat{\\hat{a}}", "not a name derive can typeset"),
        ("z=\\mathbf{a}", "unknown accent"),
        ("z=a}", "not a name derive can typeset"),
        ("z=\\input{x}", "unknown accent"),
        ("z=\\delta", "not a name derive can typeset"),
        ("z=a#", "may not contain '#'"),
        ("z=a\x00", "may not contain"),
        ("z=a\u202e", "may not contain"),  # a bidi override, category Cf
        ("z=a\nb", "may not contain"),
        ("z", "OLD=NEW pairs"),
        ("z=", "OLD=NEW pairs"),
        ("=a", "OLD=NEW pairs"),
        ("z=a,z=b", "names 'z' twice"),
        ("z.x=a", "not a symbol's name"),
        ("__import__('os')=a", "not a symbol's name"),
        ("z=" + "a" * 300, "at most 200"),
    ],
)
def test_bad_text_is_refused_in_one_line(text, message):
    with pytest.raises(InvalidInput, match=re.escape(message)) as error:
        parse(text)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "function, symbols, message",
    [
        ("softmax", "z=i", "clashes with i, which is reserved"),
        ("softmax", "z=j", "clashes with j"),
        ("softmax", "z=k", "clashes with k"),
        ("softmax", "s=e", "clashes with e"),
        ("softmax", "s=I", "clashes with I"),
        ("softmax", "z=a,s=a", "z and s would both be written a"),
        ("softmax", "q=a", "softmax has no symbol 'q'; its symbols: z, s, n, k"),
        ("softmax", "z=s", "clashes with s, which softmax already uses"),
        ("softmax_cross_entropy", "s=y", "clashes with y, which softmax_cross_entropy already uses"),
        ("layer_norm", "z=\\mu", "clashes with mu"),
    ],
)
def test_names_that_clash_are_refused(function, symbols, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        render(derive(function, n=2), "text", symbols=symbols)


def test_a_swap_is_a_renaming_not_a_clash():
    text = render(derive("softmax", n=2), "json", symbols="z=s,s=z")
    assert json.loads(text)["general"] == "z[i]*(KroneckerDelta(i, j) - z[j])"


def test_every_format_speaks_the_readers_notation():
    d = derive("softmax", n=4)
    symbols = {"z": "a", "s": "S", "n": "N"}
    assert "Sᵢ⋅(δᵢⱼ - Sⱼ)" in render(d, "text", symbols=symbols)
    record = json.loads(render(d, "json", symbols=symbols))
    assert (record["input"], record["output"]) == ("z", "s")  # the keys stay canonical
    assert record["general"] == "S[i]*(KroneckerDelta(i, j) - S[j])"
    assert record["definition"] == "exp(a[i])/Sum(exp(a[k]), (k, 1, N))"
    assert record["jacobian"][0][1] == "-S1*S2" and record["notation"] == {"z": "a", "s": "S", "n": "N"}
    for fmt in ("latex", "markdown"):
        text = render(d, fmt, lang="zh", symbols=symbols)
        assert r"S_{i} \left(\delta_{ij} - S_{j}\right)" in text  # note 003
        assert r"\sum_{k=1}^{N} e^{a_{k}}" in text
        assert not re.search(r"(?<![\\a-zA-Z])[zs]_\{", text)
        assert '--symbols "z=a,s=S,n=N"' in text.splitlines()[0]


def test_the_derivation_stays_canonical():
    d = derive("softmax", n=3)
    render(d, "latex", symbols="z=a,s=S")
    s = sympy.IndexedBase("s", real=True)
    assert d.general == s[i] * (sympy.KroneckerDelta(i, j) - s[j])
    assert "s_{i}" in render(d, "latex")  # and the next document, without symbols, is canonical again


@pytest.mark.parametrize("fn", sorted(one_input()))
def test_every_registered_function_can_be_renamed(fn):
    d = derive(fn, n=3)
    symbols = {d.function.input: "x", "n": "N"}
    text = render(d, "latex", symbols=symbols)
    assert "x_{" in text and not re.search(r"(?<![\\a-zA-Z])z_\{", text)
    assert not re.search(r"\^\{n\}|_\{n\}|\{n\} ", text)
    record = json.loads(render(d, "json", symbols=symbols))
    assert not re.search(r"\bz\[", json.dumps(record))


def test_a_users_expression_and_its_intermediates_are_renamed():
    from derive.userdefined import user_function

    d = derive(user_function("exp(z[i]) / sum(exp(z[k]), k)", "sm"), n=2)
    assert r"S_{i} \left(\delta_{ij} - S_{j}\right)" in render(d, "latex", symbols="z=a,s=S")
    # the summation index, in its limits and in the entries it indexes, in every printer
    assert r"\sum_{m=1}^{n} e^{a_{m}}" in render(d, "latex", symbols="z=a,k=m")
    assert "aₘ" in render(d, "text", symbols="z=a,k=m") and "aₖ" not in render(d, "text", symbols="z=a,k=m")
    assert "Σ_m exp(a_m)" in emit(d, "numpy", symbols="z=a,k=m")
    assert "Sum(exp(a[m]), (m, 1, n))" in render(d, "json", symbols="z=a,k=m")
    norm = render(derive("layer_norm"), "latex", symbols="mu=m,sigma=\\varsigma")
    assert r"m = \frac{" in norm and "\\varsigma" in norm and "\\mu" not in norm and "\\sigma" not in norm


def test_a_letter_the_write_up_uses_steps_aside():
    # note 004 names the output y: the cross-entropy's target, y elsewhere, becomes t
    text = render(derive("softmax", n=4), "latex", symbols="z=x,s=y")
    assert r"\operatorname{diag}\left(y\right) - y y^{\top}" in text
    assert r"L = - \sum_{k=1}^{n} t_{k} \log{\left(y_{k} \right)}" in text


def test_bold_vectors_and_plain_entries():
    text = render(derive("softmax", n=4), "latex", symbols="s=\\hat{y},n=d", bold=True)
    bold = r"\mathbf{\hat{y}}"
    assert rf"J = \operatorname{{diag}}\left({bold}\right) - {bold} {bold}^{{\top}}" in text
    assert r"\mathbf{z} = \left( z_{1}, \  \dots, \  z_{d}\right)" in text  # the vector bold, entries not
    assert r"\hat{y}_{i} \left(\delta_{ij} - \hat{y}_{j}\right)" in text
    greek = render(derive("softmax"), "markdown", symbols="z=\\alpha", bold=True)
    assert r"\boldsymbol{\alpha}" in greek
    with pytest.raises(InvalidInput, match="bold vectors are typeset by LaTeX"):
        render(derive("softmax"), "text", bold=True)


def test_generated_code_keeps_its_names_and_says_the_readers_in_its_docstrings():
    d = derive("softmax", n=4)
    source = emit(d, "numpy", symbols="s=\\hat{y},n=d")
    assert "∂ŷ_i/∂z_j = ŷ_i*(δ_ij - ŷ_j)" in source
    assert "Formulas are written ŷ for s, d for n" in source
    assert '--symbols "s=\\hat{y},n=d"' in source.splitlines()[1]
    module = {}
    exec(compile(source, "softmax_yhat.py", "exec"), module)  # noqa: S102 — our own generated code
    z = np.array([1.0, 2.0, 0.5, -1.0])
    s = np.exp(z) / np.exp(z).sum()
    assert np.allclose(module["softmax_jacobian"](z), np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-15)
    assert _code(source) == _code(emit(d, "numpy"))  # only the docstrings differ


def _code(source: str) -> str:
    """The module's syntax tree without its docstrings."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                node.body = body[1:]
    return ast.dump(tree)


def test_the_symbols_text_is_never_evaluated(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("must not be called")

    original = sympy.sympify

    def no_strings(a, *args, **kwargs):
        if isinstance(a, str):
            raise AssertionError(f"sympify called on text {a!r}")
        return original(a, *args, **kwargs)

    d = derive("softmax", n=3)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(sympy.parsing.sympy_parser, "parse_expr", forbidden)
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("sympy") and vars(module).get("sympify") is original:
            monkeypatch.setattr(module, "sympify", no_strings)
    assert "S_{i}" in render(d, "latex", symbols="z=a,s=S,n=N")
    with pytest.raises(InvalidInput):
        render(d, "latex", symbols="z=__import__('os').system('ls')")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--symbols", "z=ab"], "'ab' is not a name derive can typeset"),
        (["--symbols", "z=a#b"], "may not contain '#'"),
        (["--symbols", "s=e"], "clashes with e"),
        (["--symbols", "w=a"], "softmax has no symbol 'w'"),
        (["--bold"], "bold vectors are typeset by LaTeX"),
        (["--emit", "numpy", "--bold"], "--bold"),
    ],
)
def test_the_command_line_refuses_a_bad_notation_in_one_line(run, args, message):
    result = run("softmax", "--n", "2", *args)
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_the_command_line_renames_in_every_format(run):
    done = run("softmax", "--n", "2", "--symbols", "z=x,s=y", "--format", "json")
    assert done.exit_code == 0 and json.loads(done.stdout)["general"] == "y[i]*(KroneckerDelta(i, j) - y[j])"
    tex = run("softmax", "--symbols", "z=x,s=y", "--format", "latex", "--bold", "--lang", "zh-Hant")
    assert tex.exit_code == 0 and r"\operatorname{diag}\left(\mathbf{y}\right)" in tex.stdout


def test_traditional_chinese_and_its_alias():
    d = derive("softmax", n=4)
    hant = render(d, "latex", lang="zh-Hant")
    assert "Softmax 函數的微分" in hant and "雅可比矩陣" in hant and "梯度消失" in hant and "交叉熵" in hant
    assert "$J$ 的第 $i$ 列第 $j$ 行" in hant  # Taiwan: 列 is a row, 行 a column
    assert not set("导数阵这时为个对计损") & set(re.sub(r"%.*", "", hant))
    assert render(d, "markdown", lang="zh-Hans") == render(d, "markdown", lang="zh")
    assert "層正規化" in render(derive("layer_norm"), "markdown", lang="zh-Hant")


def test_a_title_falls_back_across_scripts_only_when_it_reads_the_same():
    fns = functions()
    assert fns["softmax"].title_in("zh-Hant") == "Softmax"  # no Chinese characters: the zh title serves
    assert fns["layer_norm"].title_in("zh-Hant") == "層正規化"
    from dataclasses import replace

    simplified_only = replace(fns["layer_norm"], titles={"zh": "层归一化"})
    assert simplified_only.title_in("zh-Hant") is None  # named in code font, never in the wrong script


@pytest.mark.skipif(not katex_available(), reason="KaTeX is not installed: npm ci")
def test_the_notation_documents_parse_in_katex():
    blocks = [
        block
        for path in sorted(GOLDEN.glob("softmax-n4-zh*.md"))
        for block in math_blocks(path.read_text(encoding="utf-8"), "markdown")
    ]
    assert len(blocks) > 100 and len(NOTATIONS) == 3
    assert katex_failures(blocks) == []
