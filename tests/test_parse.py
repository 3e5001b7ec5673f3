"""Tests for derive.parse: golden definitions, a hostile corpus, fuzzing, and no eval/sympify of user text."""

import ast
import builtins
import sys

import pytest
import sympy
import sympy.parsing.sympy_parser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import Abs, Max, Min, Rational, cos, erf, exp, log, simplify, sin, sqrt, tanh

from derive.notation.symbols import i, k, l, m, n, parameter, total, z
from derive.parse import MAX_LENGTH, SYNTAX_HELP, Parsed, ParseError, parse

T, alpha, beta, eps = (parameter(name) for name in ("T", "alpha", "beta", "eps"))

GOLDEN = [
    ("exp(z[i]) / sum(exp(z[k]), k)", exp(z[i]) / total(exp(z[k]), k)),
    ("exp(z[i]/T) / sum(exp(z[k]/T), k)", exp(z[i] / T) / total(exp(z[k] / T), k)),
    ("log(sum(exp(z[k]), k))", log(total(exp(z[k]), k))),
    ("sigmoid(z[i])", 1 / (1 + exp(-z[i]))),
    ("softplus(z[i])", log(1 + exp(z[i]))),
    ("tanh(z[i]) + erf(z[i])", tanh(z[i]) + erf(z[i])),
    ("sin(z[i])^2 + cos(z[i])^2", sin(z[i]) ** 2 + cos(z[i]) ** 2),
    ("sum(sum(z[k]*z[l], l), k)", total(total(z[k] * z[l], l), k)),
    ("sum(z[k] * sum(z[l] * sum(z[m], m), l), k)", total(z[k] * total(z[l] * total(z[m], m), l), k)),
    ("z[i]^2 + 1", z[i] ** 2 + 1),  # ^ binds like **, not like Python's xor
    ("2^3^2 * z[i]", 512 * z[i]),  # and is right-associative
    ("z[i] ** -2", z[i] ** -2),
    ("0.5 * z[i]", Rational(1, 2) * z[i]),
    ("2.5e-1 * z[i] + 1e3", Rational(1, 4) * z[i] + 1000),
    ("0.1 * z[i]", Rational(1, 10) * z[i]),
    ("abs(z[i])", Abs(z[i])),
    ("max(z[i], 0)", Max(z[i], 0)),
    ("min(z[i], 1, T)", Min(z[i], 1, T)),
    ("z[i] - sum(z[k], k) / n", z[i] - total(z[k], k) / n),
    ("sqrt(z[i]^2 + eps)", sqrt(z[i] ** 2 + eps)),
    ("alpha*z[i] + beta", alpha * z[i] + beta),
    ("-(+z[i])", -z[i]),
    ("z[i] * i", z[i] * i),
    ("sum(k * z[k], k)", total(k * z[k], k)),
    ("  exp(  z[i])  ", exp(z[i])),  # leading and inner spaces are plain whitespace (line breaks are refused)
]


@pytest.mark.parametrize("text, expected", GOLDEN)
def test_golden(text, expected):
    parsed = parse(text)
    assert isinstance(parsed, Parsed) and parsed.text == text
    assert parsed.expr == expected or simplify(parsed.expr - expected) == 0


def test_parameters_sorted_by_name():
    assert parse("beta*z[i] + alpha + T").parameters == (T, alpha, beta)
    assert parse("exp(z[i])").parameters == ()
    assert parse("T - T + z[i]").parameters == ()  # cancelled away: not a parameter of the result


HOSTILE = [
    "__import__('os').system('ls')",
    "().__class__.__bases__",
    "open('x')",
    "lambda: 1",
    "[x for x in z]",
    "z[i]**99999999999",
    "exp(" * 300 + "z[i]" + ")" * 300,
    " + ".join(["z[i]"] * 20000),
    "foo(z[i])",
    "exp(z[i]",
    "exp(z[i]))",
    "",
    "   ",
    "z.i",
    "z[0]",
    "z[i+1]",
    "y[i]",
    "exp(x=z[i])",
    "'abc'",
    "z[i] if 1 else 2",
    "z[i] < 1",
    "sum(z[k], j)",
    "z[k]",
    "sum(sum(z[k], k), k)",
    "1e400",
    "2**10**10",
    "\x00",
    "exp(*z)",
    "__builtins__",
    "globals()",
    "z[i]; import os",
    "z[i]\nimport os",
    # more of the same spirit
    "z[i] ^ 99",
    "z[i] ** (1/1000)",
    "(2**60)**60 * z[i]",
    "1" * 31 + " * z[i]",
    "0x1F * z[i]",
    "1_000 * z[i]",
    "1j * z[i]",
    "None",
    "True",
    "...",
    "b'x'",
    "f'{z}'",
    "z[i] and z[i]",
    "not z[i]",
    "~z[i]",
    "z[i] % 2",
    "z[i] // 2",
    "z[i] @ z[i]",
    "(x := z[i])",
    "[z[i]]",
    "(z[i], z[i])",
    "{z[i]}",
    "{1: z[i]}",
    "z[1:2]",
    "z[i, k]",
    "z[j]",
    "z",
    "exp",
    "exp(z[i], z[i])",
    "max(z[i])",
    "sum(z[k])",
    "sum(z[k], i)",
    "sum(z[k], 2)",
    "sum(z[k], T)",
    "exp(z[i]).real",
    "z[i](2)",
    "getattr(z, 'x')",
    "eval('1')",
    "exec('1')",
    "sympify('z')",
    "T + 1",
    "z[i] - z[i]",
    "z[i] / 0",
    "log(0) + z[i]",
    "sqrt(-1) * z[i]",
    "0 ** -1 + z[i]",
    "averyveryverylongname * z[i]",
    "_x * z[i]",
    "z[i] \\\n + 1",
    "- " * 990 + "z[i]",
    "+".join(["z[i]"] * 300),
    "(" * 41 + "z[i]" + ")" * 41,
    "max(" + ", ".join(f"z[i]**{e}" for e in range(1, 40)) + ")",
    "z[i]]",
    "(z[i]]",
    "z[i] é",
    "z[i]\u200b",
    "\ufeffz[i]",
    "z[i]\x7f",
    "z" * (MAX_LENGTH + 1),
]


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t[:30]) for t in HOSTILE])
def test_hostile_is_rejected(text):
    with pytest.raises(ParseError) as info:
        parse(text)
    err = info.value
    assert "\n" not in err.message and "\n" not in str(err) and err.message
    assert err.text == text
    shown, caret = err.pointer().split("\n")
    assert "^" in caret and len(shown) <= 70 and caret.index("^") <= len(shown)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "open('x')",
            "unknown function 'open'; allowed: abs, cos, erf, exp, log, max, min, sigmoid, sin, "
            "softplus, sqrt, sum, tanh",
        ),
        ("__import__", "unknown name '__import__'"),
        ("z.i", "attribute access is not allowed"),
        ("exp(z[i]", "unbalanced brackets: '(' at column 4 is never closed"),
        ("", "empty expression"),
        ("z[k]", "index 'k' is not bound by a sum"),
        ("sum(sum(z[k], k), k)", "already bound"),
        ("sum(z[k], j)", "'j' is reserved"),
        ("z[i]**99", "exponent too large"),
        ("2**10**10", "exponent too large"),
        ("z" * 3000, f"at most {MAX_LENGTH}"),
        ("exp(" * 300 + "z[i]" + ")" * 300, "too deeply nested"),
        ("2 * T", "does not depend on the input z"),
        ("z[i]; import os", "syntax error:"),
        ("exp(z[i], 1)", "exp() takes 1 arguments, got 2"),
        ("exp(x=z[i])", "keyword arguments are not allowed"),
        ("lambda: 1", "lambda is not allowed"),
    ],
)
def test_messages(text, message):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert message in info.value.message


def test_column_and_pointer():
    err = pytest.raises(ParseError, parse, "exp(z[i]) + foo(z[i])").value
    assert err.column == 12 and str(err).endswith("at column 13")
    assert err.pointer() == "exp(z[i]) + foo(z[i])\n            ^~~"
    err = pytest.raises(ParseError, parse, "z[i] + q^2").value  # columns survive the ^ -> ** rewrite
    assert err.column == 7 and err.pointer().split("\n")[1] == "       ^"
    err = pytest.raises(ParseError, parse, "exp(z[i])\n + bad(z[i])").value  # refused, shown as a space
    assert str(err) == "control character U+000A is not allowed at column 10"
    assert err.pointer() == "exp(z[i])  + bad(z[i])\n         ^"
    long = "z[i] + " * 30 + "foo(z[i])" + " + z[i]" * 30
    err = pytest.raises(ParseError, parse, long).value
    shown, caret = err.pointer().split("\n")
    assert len(shown) <= 70 and shown[caret.index("^") :].startswith("foo")
    assert ParseError("no column", "abc").pointer() == "abc\n^~~"


def test_not_a_string():
    with pytest.raises(ParseError):
        parse(None)


def test_syntax_help_mentions_everything():
    for word in ("z[i]", "sum(", "`^` is accepted as a synonym of `**`", "sigmoid", "softplus", "n"):
        assert word in SYNTAX_HELP
    assert "`^` is accepted as a synonym of `**`" in sys.modules["derive.parse"].__doc__


TOKENS = [
    "z[i]",
    "z[k]",
    "z[l]",
    "z[j]",
    "z[",
    "]",
    "exp(",
    "log(",
    "sum(",
    "max(",
    "sigmoid(",
    "(",
    ")",
    ", k",
    ", l",
    ",",
    "+",
    "-",
    "*",
    "/",
    "**",
    "^",
    "0",
    "1",
    "2.5",
    "1e9",
    "99",
    "T",
    "n",
    "i",
    "k",
    "alpha",
    " ",
    "\n",
    "__",
    ".",
    "'",
    "lambda",
    "if",
    ":",
    "=",
    "[",
    "0.",
    "e",
    "j",
]
grammar = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)
ascii_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=60)
math_text = st.text(alphabet="z[i]k(),+-*/^.e0123456789 sumexplogTn", max_size=60)
atoms = st.sampled_from(
    ["z[i]", "z[k]", "z[l]", "T", "n", "i", "k", "0", "1", "2", "0.5", "64", "1e-3", "eps"]
)
expressions = st.recursive(
    atoms,
    lambda inner: st.one_of(  # mostly well-formed, to exercise the builder
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "^"]), inner).map(
            lambda t: f"({t[0]}{t[1]}{t[2]})"
        ),
        st.tuples(
            st.sampled_from(
                ["exp", "log", "sqrt", "tanh", "sigmoid", "softplus", "abs", "sin", "cos", "erf", "-"]
            ),
            inner,
        ).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(inner, st.sampled_from(["k", "l", "m"])).map(lambda t: f"sum({t[0]}, {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"max({t[0]}, {t[1]})"),
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(expressions, grammar, ascii_text, math_text, st.text(max_size=40)))
def test_fuzz_parses_or_raises_parse_error(text):
    try:
        result = parse(text)
    except ParseError as err:
        assert "\n" not in str(err) and "^" in err.pointer()
    else:
        assert isinstance(result, Parsed) and isinstance(result.expr, sympy.Expr) and result.expr.has(z)


def test_user_text_never_evaluated(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("must not be called")

    sympify_module = sys.modules["sympy.core.sympify"]  # the name sympy.core.sympify is the function
    original_sympify = sympify_module.sympify

    def sympify_no_strings(a, *args, **kwargs):
        if isinstance(a, str):
            raise AssertionError(f"sympify called on text {a!r}")
        return original_sympify(a, *args, **kwargs)

    real_compile = builtins.compile

    def compile_ast_only(source, filename, mode, flags=0, *args, **kwargs):
        assert flags & ast.PyCF_ONLY_AST, "compile used for code, not just an AST"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", compile_ast_only)
    monkeypatch.setattr(sympy.parsing.sympy_parser, "parse_expr", forbidden)
    for module in list(sys.modules.values()):  # also the copies imported by name into other sympy modules
        if (
            getattr(module, "__name__", "").startswith("sympy")
            and vars(module).get("sympify") is original_sympify
        ):
            monkeypatch.setattr(module, "sympify", sympify_no_strings)
    for text, expected in GOLDEN:
        assert simplify(parse(text).expr - expected) == 0
    with pytest.raises(ParseError):
        parse("__import__('os').system('ls')")
