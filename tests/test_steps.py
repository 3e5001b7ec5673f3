"""The step engine: every step checked, routes that reach the engine's result, routes that do not apply."""

import pytest
from sympy import Derivative, KroneckerDelta, Sum, Symbol, exp, log, simplify

from derive import derive
from derive.engine.registry import one_input, register, unregister
from derive.errors import InvalidInput, NotApplicable, ProofFailed
from derive.notation.symbols import i, j, k, l, n, total, vector, z
from derive.writeup.routes import route
from derive.writeup.steps import Facts, chain
from derive.writeup.writeup import writeup

from .documents import SHAPES, shape


@pytest.fixture
def registered():
    """Register the test shapes for one test."""
    for name in SHAPES:
        register(shape(name))
    yield
    for name in SHAPES:
        unregister(name)


def test_the_quotient_route_names_f_and_g_and_finds_delta_in_the_numerator():
    d = derive("softmax")
    r = route(d, "quotient")
    (f,), (g,) = r.parts
    assert (f.after, g.after) == (exp(z[i]), total(exp(z[k]), k))
    f_prime, g_prime = r.lemmas
    assert f_prime[-1].after.has(KroneckerDelta(i, j))
    assert "collapse" in [step.rule for step in g_prime]
    assert [step.rule for step in r.main] == ["definition", "quotient"]
    assert r.same[-1].after == d.cases[0][1] and r.other[-1].after == d.cases[1][1]
    assert [step.rule for step in r.same] == ["delta_one", "factor", "split", "outputs"]


def test_the_log_route_goes_through_log_s_minus_log_sum():
    d = derive("softmax")
    r = route(d, "log")
    (parts,) = r.parts
    assert simplify(parts[-1].after - (z[i] - log(total(exp(z[k]), k)))) == 0
    s = vector("s")
    assert simplify(r.lemmas[-1][-1].after - (KroneckerDelta(i, j) - s[j])) == 0
    assert r.main[-1].after == d.general


def test_a_wrong_step_raises_and_is_never_kept():
    d = derive("softmax")
    facts = Facts(dict(d.definitions), {})
    s = vector("s")
    with pytest.raises(ProofFailed, match="does not hold"):
        chain(facts, Derivative(s[i], z[j]), ("outputs", s[i] * (KroneckerDelta(i, j) + s[j])))


def test_a_step_the_algebra_cannot_reach_is_checked_at_n_2_to_5():
    facts = Facts({}, {})
    square = Sum(z[k], (k, 1, n)) ** 2
    double = Sum(Sum(z[k] * z[l], (l, 1, n)), (k, 1, n))
    (step,) = chain(facts, square, ("expand", double))
    assert step.checked == "instances"
    with pytest.raises(ProofFailed):
        chain(facts, square, ("expand", 2 * double))


def test_every_step_of_every_write_up_is_checked(registered):
    for name in one_input():
        d = derive(name, n=3)
        for method in ("quotient", "log"):
            try:
                w = writeup(d, method)
            except NotApplicable:
                continue
            assert all(step.checked in ("symbolic", "instances") for c in w.chains for step in c)


def test_the_quotient_rule_falls_back_to_the_chain_rule_without_a_denominator(registered):
    r = route(derive("test_tanh"), "quotient")
    assert (r.method, r.asked) == ("chain", "quotient")
    assert r.main[-1].after == derive("test_tanh").general


@pytest.mark.parametrize("name", ["test_tanh", "test_square_share"])
def test_the_log_route_says_in_one_line_why_it_does_not_apply(registered, name):
    with pytest.raises(NotApplicable) as error:
        route(derive(name), "log")
    message = str(error.value)
    assert "\n" not in message and message.startswith("the log route needs positive outputs")
    assert name in message


def test_an_unknown_method_is_refused():
    with pytest.raises(InvalidInput, match="unknown method 'taylor'; known: quotient, log"):
        route(derive("softmax"), "taylor")


def test_the_loss_section_follows_the_outputs_not_the_name(registered):
    assert writeup(derive("test_softmax_t"), "quotient").loss is not None
    assert writeup(derive("test_sigmoid"), "quotient").loss is None
    assert writeup(derive("test_square_share"), "quotient").loss is None


def test_the_cross_entropy_gradient_is_derived_and_uses_the_sum_of_y():
    loss = writeup(derive("softmax"), "quotient").loss
    s, y = vector("s"), vector("y")
    assert simplify(loss.gradient - (s[j] - y[j])) == 0
    (used,) = [step for step in loss.main if step.rule == "assumption"]
    assert used.condition == loss.assumption


def test_the_one_hot_example_is_computed_and_small():
    example = writeup(derive("softmax", n=4), "quotient").example
    assert example.size == 4 and example.s[0] > 0.999
    assert example.largest < 1e-3 < example.uniform
    assert max(abs(v) for v in example.jacobian) == example.largest


def test_the_one_hot_example_is_checked_against_central_differences(monkeypatch):
    from derive.writeup import vanishing

    d = derive("softmax", n=3)
    assert vanishing.example(d) is not None
    monkeypatch.setattr(vanishing, "entry", lambda d, a, b, size: 2 * views_entry(d, a, b, size))
    with pytest.raises(ProofFailed, match="central differences"):
        vanishing.example(d)


def views_entry(*args):
    from derive.writeup.views import entry

    return entry(*args)


def test_the_rules_differentiate_through_an_intermediate_whose_derivative_is_known():
    from derive.writeup.rules import explain

    mu = Symbol("mu", positive=True)
    facts = Facts({mu: total(z[k], k) / n}, {}, {mu: 1 / n})
    found = explain(facts, Derivative((z[i] - mu) ** 2, z[j]), (z[i] - mu) ** 2, z[j])
    # As the chain rule gives it, 2(z_i − μ)(δ_ij − 1/n), not multiplied out
    assert KroneckerDelta(i, j) - 1 / n in found.result.args
    assert simplify(found.result - 2 * (z[i] - mu) * (KroneckerDelta(i, j) - 1 / n)) == 0
    assert all(step.checked == "symbolic" for step in found.steps)


def test_a_route_through_scalar_intermediates_derives_them_first():
    r = route(derive("l2_normalize"), "quotient")
    s, r_ = vector("s"), Symbol("r", positive=True)
    (lemma,) = [c for c in r.known if c[0].before == Derivative(r_, z[j])]
    assert lemma[-1].after == s[j]  # ∂r/∂z_j = z_j/r = s_j
    (f,), (g,) = r.parts
    assert (f.after, g.after) == (z[i], r_)


@pytest.mark.parametrize("size", [2, 3, 64])
def test_an_assumption_on_a_sum_is_solved_for_its_last_term_as_solve_would(size):
    from sympy import solve

    from derive.writeup.steps import _solved_for_last

    y = vector("y")
    for lhs, rhs in ((Sum(y[k], (k, 1, size)), 1), (Sum(2 * y[k], (k, 1, size)), Symbol("c"))):
        last, value = _solved_for_last(lhs, rhs)
        assert last == y[size]
        assert value == solve(lhs.doit() - rhs, last)[0]
        assert simplify(lhs.doit().xreplace({last: value}) - rhs) == 0


def test_a_chain_reuses_each_value_and_still_refuses_a_false_link():
    facts = Facts(definitions={}, named={})
    a, b = Symbol("a"), Symbol("b")
    steps = chain(
        facts, (a + b) ** 2, ("expand", a**2 + 2 * a * b + b**2), ("regroup", a * (a + 2 * b) + b**2)
    )
    assert [s.rule for s in steps] == ["expand", "regroup"] and all(s.checked == "symbolic" for s in steps)
    with pytest.raises(ProofFailed, match="wrong"):
        chain(facts, (a + b) ** 2, ("expand", a**2 + 2 * a * b + b**2), ("wrong", a**2 + b**2))
