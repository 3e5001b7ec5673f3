"""Cheaper step checks that check as much: an entry proven through its general form, δ sums summed
directly; a wrong step is still refused, and a generalisation that could be unsound is not made."""

import pytest
from sympy import Derivative, Gt, ImmutableMatrix, KroneckerDelta, MatrixSymbol, Sum, exp, log, simplify

from derive import derive
from derive.engine.differentiate import collapse, partial
from derive.errors import ProofFailed
from derive.notation.symbols import i, j, k, l, n, total, vector, y, z
from derive.writeup import steps
from derive.writeup.steps import Facts, chain
from derive.writeup.summing import derivative, over_delta
from derive.writeup.views import entry, facts_at


def _softmax_facts(size=None):
    d = derive("softmax")
    facts = Facts(dict(d.definitions), {}, derivatives=steps.derivatives_of(d))
    return d, facts if size is None else facts_at(facts, size)


@pytest.mark.parametrize("size", [None, 64])
def test_an_entry_of_a_matrix_is_proven_through_its_general_form(size, monkeypatch):
    from derive.writeup import citing

    monkeypatch.setattr(citing, "_PROVEN", {})  # no identity to cite: each entry proven here
    d, facts = _softmax_facts(size)
    s = d.output
    top = n if size is None else size
    condition = Gt(n, 2) if size is None else None
    for a, b in ((1, 2), (2, 3), (1, top), (3, 3)):
        (step,) = chain(facts, Derivative(s[a], z[b]), ("entries", entry(d, a, b, top)), condition=condition)
        assert step.checked == "symbolic"
    # the entries off the diagonal share one general difference in i ≠ j, the diagonal one in i alone
    general = [form for form, _ in steps._PROVEN if form.has(z[i])]
    assert general


@pytest.mark.parametrize("size", [None, 5])  # a wrong step at n = 64 meets simplify on 64 terms
def test_a_wrong_entry_is_still_refused(size):
    d, facts = _softmax_facts(size)
    s = d.output
    top = n if size is None else size
    condition = Gt(n, 2) if size is None else None
    for a, b, wrong in ((1, 2, entry(d, 1, 1, top)), (2, 2, entry(d, 1, 2, top)), (1, top, -s[1] * s[2])):
        with pytest.raises(ProofFailed, match="does not hold"):
            chain(facts, Derivative(s[a], z[b]), ("entries", wrong), condition=condition)


def test_a_whole_matrix_with_one_wrong_entry_is_refused():
    d, facts = _softmax_facts(4)
    s = d.output
    J = MatrixSymbol("J", 4, 4)
    partials = ImmutableMatrix(4, 4, lambda a, b: Derivative(s[a + 1], z[b + 1]))
    right = ImmutableMatrix(4, 4, lambda a, b: entry(d, a + 1, b + 1, 4))
    named = Facts(facts.definitions, {J: partials}, derivatives=facts.derivatives)
    assert all(step.checked == "symbolic" for step in chain(named, J, ("entries", right)))
    wrong = right.as_mutable()
    wrong[3, 2] = s[4] * s[3]  # the sign dropped in one entry
    with pytest.raises(ProofFailed):
        chain(named, J, ("entries", ImmutableMatrix(wrong)))


def test_values_that_may_coincide_are_not_generalised():
    difference = exp(z[1]) - exp(z[n])  # 1 and n: the same entry when n = 1
    assert steps._generalised(difference, None) == []
    assert steps._generalised(difference, Gt(n, 2)) != []  # apart once n > 2
    assert steps._generalised(exp(z[1]) - exp(z[2]) + exp(z[3]), None) == []  # three values: not here
    assert steps._generalised(exp(z[i]) - exp(z[j]), None) == []  # nothing concrete
    # the general form gives this one back exactly, and only then is it used
    (form, apart), *_ = steps._generalised(exp(z[2]) - exp(z[1]), None)
    assert apart is not None and form.has(z[i]) and form.has(z[j])


def test_a_generalised_difference_that_is_not_zero_proves_nothing():
    # z_1 − z_2 generalises to z_i − z_j, which does not vanish: the step is checked as it stands, and fails
    facts = Facts({}, {})
    with pytest.raises(ProofFailed):
        chain(facts, z[1], ("wrong", z[2]))


@pytest.mark.parametrize(
    "body, limits",
    [
        (KroneckerDelta(j, k) * y[k], (k, 1, n)),
        ((KroneckerDelta(j, k) - exp(z[j]) / total(exp(z[l]), l)) * y[k] / vector("s")[k], (k, 1, n)),
        (KroneckerDelta(k, 2) * z[k] ** 2 + z[k], (k, 1, 4)),
        (KroneckerDelta(k, 7) * z[k], (k, 1, 4)),  # 7 is out of range: nothing survives
        (KroneckerDelta(j, k) * total(exp(z[k]), k), (k, 1, n)),  # an inner sum binds its own k
    ],
)
def test_a_delta_sum_is_summed_as_doit_sums_it(body, limits):
    s = Sum(body, limits)
    direct = over_delta(s)
    assert direct is not None and not direct.has(KroneckerDelta)
    assert simplify((direct - collapse(s)).doit()) == 0


@pytest.mark.parametrize(
    "body, limits",
    [
        (KroneckerDelta(k, 2) * z[k], (k, 1, n)),  # 2 ≤ n is not known: left to the engine
        (KroneckerDelta(j, k) * KroneckerDelta(l, k) * z[k], (k, 1, n)),  # two δ in one term
        (KroneckerDelta(j, 2 * k) * z[k], (k, 1, n)),  # does not read k = x
        (exp(KroneckerDelta(j, k)) * z[k], (k, 1, n)),  # inside a function
    ],
)
def test_a_delta_sum_of_another_shape_is_left_to_the_engine(body, limits):
    assert over_delta(Sum(body, limits)) is None


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "layer_norm", "logsumexp"])
def test_the_checking_derivative_equals_the_engines(name):
    d = derive(name)
    body = d.definition
    for wrt in (z[j], z[2]):
        mine, engines = derivative(body, wrt), partial(body, wrt)
        assert simplify(mine - engines) == 0 or mine == engines


def test_the_loss_derivative_by_z_i_and_z_j_is_taken_once():
    loss = -Sum(y[k] * log(exp(z[k]) / total(exp(z[l]), l)), (k, 1, n))
    by_j = steps._partial(loss, z[j])
    assert by_j == steps._partial(loss, z[i]).xreplace({i: j})


def test_compiled_templates_are_kept_only_in_a_folder_of_ones_own_and_a_bad_entry_is_compiled_again(
    tmp_path, monkeypatch
):
    from derive.show import templating

    monkeypatch.setattr(templating.environment("latex"), "bytecode_cache", None)
    monkeypatch.setattr(templating.environment("text"), "bytecode_cache", None)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    templating.keep_compiled(shared)  # others may write there: not used
    assert templating.environment("latex").bytecode_cache is None
    own = tmp_path / "own"
    templating.keep_compiled(own)
    env = templating.environment("latex")
    assert env.bytecode_cache is not None
    env.cache.clear()
    first = templating.render_template("chain.j2", syntax="latex", chain=[], fmt="latex")
    kept = list(own.iterdir())
    assert kept
    for path in kept:
        path.write_bytes(path.read_bytes()[:40] + b"\x00garbage")  # right header, broken code
    env.cache.clear()
    assert templating.render_template("chain.j2", syntax="latex", chain=[], fmt="latex") == first


def test_compiled_templates_are_read_but_never_written_when_writing_is_off(tmp_path, monkeypatch):
    from derive.show import templating

    monkeypatch.setattr(templating.environment("latex"), "bytecode_cache", None)
    monkeypatch.setattr(templating.environment("text"), "bytecode_cache", None)
    env = templating.environment("latex")
    missing = tmp_path / "missing"
    templating.keep_compiled(missing, write=False)  # not created, and nothing to read
    assert not missing.exists() and env.bytecode_cache is None
    own = tmp_path / "own"
    templating.keep_compiled(own)
    env.cache.clear()
    first = templating.render_template("chain.j2", syntax="latex", chain=[], fmt="latex")
    kept = sorted(own.iterdir())
    assert kept
    for path in kept:
        path.unlink()
    templating.keep_compiled(own, write=False)
    env.cache.clear()
    assert templating.render_template("chain.j2", syntax="latex", chain=[], fmt="latex") == first
    assert list(own.iterdir()) == []  # compiled in this process, not written
