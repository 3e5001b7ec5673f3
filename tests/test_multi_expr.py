"""derive expr with several inputs: indexed names are inputs, each sum over the dimension its index has."""

import pytest
from sympy import Sum

from derive.engine.derivation import derive
from derive.notation.symbols import d, h, i, j, k, matrix
from derive.parse import ParseError, parse
from derive.userdefined import user_function

W, x, b, V = matrix("W"), matrix("x"), matrix("b"), matrix("V")


def test_a_linear_layer_infers_its_dimensions():
    parsed = parse("sum(W[i,k]*x[k], k, d) + b[i]")
    assert parsed.expr == Sum(W[i, k] * x[k], (k, 1, d)) + b[i]
    assert parsed.inputs == (("W", ("n", "d"), False), ("x", ("d",), False), ("b", ("n",), False))


def test_an_unnamed_sum_takes_the_dimension_of_what_it_indexes():
    parsed = parse("sum(V[i,k]*x[k], k, h) + sum(x[k], k)")
    assert parsed.expr.atoms(Sum) == {Sum(V[i, k] * x[k], (k, 1, h)), Sum(x[k], (k, 1, h))}
    assert parse("sum(exp(V[k,i]), k)").inputs == (("V", ("n", "n"), False),)  # n stays the default


def test_z_alone_and_z_with_a_target_stay_the_one_input():
    assert parse("exp(z[i]) / sum(exp(z[k]), k)").inputs == ()
    assert parse("sum(y[k]*log(y[k]*sum(exp(z[l]), l)/exp(z[k])), k)").inputs == ()
    assert parse("sum(z[k], k, d)").inputs == (("z", ("d",), False),)


def test_a_bare_name_is_a_parameter_and_a_named_dimension_a_size():
    parsed = parse("gamma[i]*z[i]/sqrt(sum(z[k]^2, k)/n + eps)")
    assert [p.name for p in parsed.parameters] == ["eps"]
    assert parse("exp(sum(W[i,k]*x[k], k, d)/sqrt(d))").expr.has(d)  # d the dimension, not a parameter
    assert not parse("exp(sum(W[i,k]*x[k], k, d)/sqrt(d))").parameters


@pytest.mark.parametrize(
    "text, message",
    [
        ("sum(W[i,k]*x[k], k, d) + sum(x[k], k, n)", "x[k] at column 30: its index k ranges over d"),
        (
            "sum(z[k], k, d) + z[i]",
            "ranges over d (sum(..., k, d) at column 1) and over n (the output index i)",
        ),
        ("sum(W[i,k]*x[k], k) + W[i]", "W has 2 indices (W[i, k] at column 5) and 1 (W[i] at column 23)"),
        ("W[i,k,l]", "one index (a vector) or two (a matrix)"),
        ("W[i,i]", "indexed twice"),
        ("W[i, j]", "'j' is reserved"),
        ("T*W[i] + T[i]", "both as a parameter"),
        ("W[i] + W", "'W' must be subscripted"),
        ("sum(W[i,k], k, 2)", "third argument of sum must be a dimension's name"),
        ("y[i]", "does not depend on the input"),
        ("exp[i]", "cannot be subscripted"),
        ("W[0]", "must be indexed by i or a summation index"),
    ],
)
def test_bad_several_input_texts_get_one_line_naming_the_places(text, message):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert message in info.value.message and "\n" not in info.value.message


def test_derive_expr_gives_a_block_per_input():
    fn = user_function("sum(W[i,k]*x[k], k, d) + b[i]", "linear")
    result = derive(fn)
    forms = {blk.input.name: blk.general for blk in result.blocks}
    assert set(forms) == {"W", "x", "b"}
    assert str(forms["b"]) == "KroneckerDelta(i, j)"
    assert forms["x"] == W[i, j]
    assert str(result.block("x").matrix_form) == "W"


def test_derive_expr_of_a_loss_through_a_linear_layer(run):
    text = (
        "0 - sum(y[k]*log(exp(sum(W[k,l]*x[l], l, d) + b[k])/sum(exp(sum(W[m,l]*x[l], l, d) + b[m]), m)), k)"
    )
    result = run("expr", text, "--emit", "numpy", "--check", "--dim", "n=3", "--dim", "d=2")
    # Right by central differences; written without a softmax intermediate, its exponentials overflow at
    # scale 1e3, and the check says so.
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert [line.split()[0] for line in lines] == ["ok", "ok", "FAIL"] and "finite at scale 1000" in lines[2]


def test_derive_expr_check_passes_for_a_stable_expression(run):
    result = run("expr", "gamma[i]*z[i]/sqrt(sum(z[k]^2, k)/n + eps)", "--emit", "numpy", "--check")
    assert result.exit_code == 0, result.output
    assert "(passed)" in result.stderr and "d = " not in result.stderr


def test_the_target_is_data_in_code_too(run):
    result = run("expr", "sum(y[k]*exp(W[k,i]), k) + x[i]", "--emit", "numpy")
    assert result.exit_code == 0, result.output
    assert "def f_vjp(y, W, x, g):" in result.stdout and "(y: data, not differentiated)" in result.stdout


def test_bad_wrt_for_an_expression(run):
    result = run("expr", "sum(W[i,k]*x[k], k) + b[i]", "--wrt", "y")
    assert result.exit_code == 2 and "--wrt y is no input of 'f'" in result.stderr


def test_one_input_expressions_keep_their_one_input_derivation():
    assert derive(user_function("exp(z[i]) / sum(exp(z[k]), k)")).general.has(matrix("s"))
