"""A step at concrete indices cited from the identity proven for symbolic ones: only an exact instance,
at values the identity covers, with names that mean the same; anything else is proven as before."""

import pytest
from sympy import Derivative, Gt, Sum, exp

from derive import derive
from derive.errors import ProofFailed
from derive.notation.symbols import i, j, k, n, z
from derive.writeup import citing, steps
from derive.writeup.steps import Facts, Step, chain
from derive.writeup.views import entry, facts_at


def _proven_softmax(size=None):
    """Softmax's facts (at size), with ∂s_i/∂z_j = {case i = j, case i ≠ j} proven for symbolic i, j, n."""
    d = derive("softmax")
    facts = Facts(dict(d.definitions), {}, derivatives=steps.derivatives_of(d))
    (same_when, same), (other_when, other) = d.cases
    chain(facts, Derivative(d.output[i], z[j]), ("cases", d.general))  # a name for the general one
    chain(facts, Derivative(d.output[i], z[j]), ("other", other), condition=other_when)
    chain(facts, Derivative(d.output[i], z[j]), ("same", same.xreplace({i: j})), condition=same_when)
    return d, facts if size is None else facts_at(facts, size)


@pytest.mark.parametrize("size", [None, 64])
def test_an_instance_of_a_proven_identity_is_cited(size):
    d, facts = _proven_softmax(size)
    s, top = d.output, n if size is None else size
    condition = Gt(n, 2) if size is None else None
    for a, b in ((2, 3), (3, 2), (1, top), (2, 2)):
        step = Step("entries", Derivative(s[a], z[b]), entry(d, a, b, top), condition)
        assert citing.cited(step, facts)
        (checked,) = chain(facts, step.before, (step.rule, step.after), condition=condition)
        assert checked.checked == "symbolic"


def test_a_wrong_instance_is_not_cited_and_is_refused():
    d, facts = _proven_softmax(64)
    s = d.output
    for a, b, wrong in ((2, 3, entry(d, 2, 2, 64)), (2, 2, entry(d, 2, 3, 64)), (2, 3, s[2] * s[3])):
        assert not citing.cited(Step("entries", Derivative(s[a], z[b]), wrong), facts)
        with pytest.raises(ProofFailed, match="does not hold"):
            chain(facts, Derivative(s[a], z[b]), ("entries", wrong))


def test_an_identity_for_i_other_than_j_is_not_cited_where_the_values_may_coincide():
    d, facts = _proven_softmax()
    s = d.output
    (_, other) = d.cases[1]
    at_1_n = other.xreplace({i: 1, j: n})
    # 1 and n are the same index when n = 1: only a step that says n > 1 may cite i ≠ j there
    assert not citing.cited(Step("entries", Derivative(s[1], z[n]), at_1_n), facts)
    assert citing.cited(Step("entries", Derivative(s[1], z[n]), at_1_n, Gt(n, 2)), facts)
    # the same value for i and j: the i ≠ j case does not say anything there
    assert not citing.cited(Step("entries", Derivative(s[3], z[3]), other.xreplace({i: 3, j: 3})), facts)


def test_indices_beyond_n_and_other_definitions_are_not_cited():
    d, facts = _proven_softmax(64)
    s = d.output
    (_, other) = d.cases[1]
    beyond = Step("entries", Derivative(s[2], z[70]), other.xreplace({i: 2, j: 70}))
    assert not citing.cited(beyond, facts)
    # the same entries where s means something else (e^{2 z_i}/Σ e^{2 z_k}): proven afresh, not cited
    twice = Facts({s: exp(2 * z[i]) / Sum(exp(2 * z[k]), (k, 1, 64))}, {})
    assert not citing.cited(Step("entries", Derivative(s[2], z[3]), other.xreplace({i: 2, j: 3})), twice)


def test_the_documents_cite_their_entries_and_prove_the_general_steps():
    from derive.engine import cache
    from derive.writeup.writeup import writeup

    with cache.enabled(False):
        w = writeup(derive("softmax", n=64, cache=False))
    # every step is checked, the row's elements through the route's steps for symbolic indices
    assert all(step.checked == "symbolic" for c in w.chains for step in c)
    assert any(citing._PROVEN.values())


def test_the_gradient_for_a_given_n_cites_the_general_one_only_under_its_assumption():
    from derive.engine import cache
    from derive.writeup.gradient import gradient

    with cache.enabled(False):
        d = derive("softmax_cross_entropy", n=64, cache=False)
        g = gradient(d)
    assert all(step.checked == "symbolic" for step in g.explicit)
    L = d.output
    at = facts_at(g.facts, 64)
    assumed = g.assumptions[0].xreplace({n: 64})
    right = d.general.xreplace({i: 2, n: 64})
    assert citing.cited(Step("entries", Derivative(L, z[2]), right, assumed), at)
    # the same entry without the assumption it needs (Σ_k y_k = 1) is not cited
    assert not citing.cited(Step("entries", Derivative(L, z[2]), right, None), at)
