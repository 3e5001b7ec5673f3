"""The engine: every registered function derived, proven, and checked against independent numbers."""

import numpy as np
import pytest
from sympy import Indexed, KroneckerDelta, Piecewise, Symbol, exp, simplify, sqrt

from derive import derive
from derive.engine.derivation import MAX_N
from derive.engine.registry import functions, one_input, register, unregister
from derive.errors import InvalidInput, UnknownFunction
from derive.notation.function import Function
from derive.notation.symbols import i, j, k, parameter, total, vector, z
from derive.show.printing import text

from .numeric import central_derivative, central_jacobian, definition_at, evaluate, named_values, softmax

NAMES = sorted(one_input())


def _setting(fn, rng, size):
    """Parameter values and data vectors for a numeric check: T = 0.7, y a random distribution."""
    params = {name: "7/10" for name in fn.parameter_names}
    data = {}
    if any(a.base.label.name == "y" for a in fn.definition.atoms(Indexed)):
        y = rng.random(size) + 0.1
        data[vector("y")] = y / y.sum()  # the assumption Σ_k y_k = 1 holds
    return params, data


@pytest.mark.parametrize("name", NAMES)
def test_every_function_is_derived_and_proven(name):
    d = derive(name)
    assert d.proven
    claims = {p.claim for p in d.proofs}
    if d.kind == "vector":
        assert claims == {"general", "cases", "matrix", "instances"}
    else:
        assert claims == {"general", "instances"}
        assert {p.claim for p in d.hessian.proofs} == {"general", "cases", "matrix", "instances"}
    assert not d.general.has(Piecewise)
    assert d.jacobian is None


@pytest.mark.parametrize("name", NAMES)
def test_explicit_result_matches_finite_differences(name, rng):
    size = 4
    fn = functions()[name]
    params, data = _setting(fn, rng, size)
    d = derive(name, n=size, params=params)
    f = definition_at(d.definition, size, data)
    for scale in (0.5, 3.0):
        v = rng.normal(scale=scale, size=size)
        numeric = central_derivative(f, v)
        values = named_values(d.spelled if d.kind == "vector" else d.hessian.spelled, v, size, data)
        if d.kind == "vector":
            derived = [
                [evaluate(d.jacobian[a, b], values, v, data) for b in range(size)] for a in range(size)
            ]
            np.testing.assert_allclose(derived, numeric, rtol=1e-6, atol=1e-8)
            continue
        gradient = [evaluate(d.jacobian[a, 0], values, v, data) for a in range(size)]
        np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8)
        # the Hessian against central differences of the gradient, itself checked just above
        grad_f = definition_at(d.hessian.definition, size, data)
        hessian = [
            [evaluate(d.hessian.jacobian[a, b], values, v, data) for b in range(size)] for a in range(size)
        ]
        np.testing.assert_allclose(hessian, central_derivative(grad_f, v), rtol=1e-6, atol=1e-8)


def test_softmax_general_form_is_the_notes_result():
    d = derive("softmax")
    s = vector("s")
    assert simplify(d.general - s[i] * (KroneckerDelta(i, j) - s[j])) == 0
    assert text(d.general) == "s[i]*(KroneckerDelta(i, j) - s[j])"
    (_, same), (_, other) = d.cases
    assert text(same) == "s[i]*(1 - s[i])"
    assert text(other) == "-s[i]*s[j]"
    assert text(d.matrix_form) == "DiagMatrix(s) - s*s.T"


def test_softmax_entries_are_written_as_the_notes_write_them():
    J = derive("softmax", n=4).jacobian
    assert text(J[0, 0]) == "s1*(1 - s1)"
    assert text(J[0, 1]) == "-s1*s2"
    assert text(J[2, 3]) == "-s3*s4"
    assert text(J[3, 3]) == "s4*(1 - s4)"
    assert J.is_symmetric()


def test_softmax_jacobian_against_hand_written_softmax(rng):
    for size in (2, 3, 5):
        J = derive("softmax", n=size).jacobian
        v = rng.normal(scale=2.0, size=size)
        s = softmax(v)
        values = {Symbol(f"s{a + 1}"): s[a] for a in range(size)}
        derived = np.array([[evaluate(J[a, b], values, v) for b in range(size)] for a in range(size)])
        np.testing.assert_allclose(derived, central_jacobian(softmax, v), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(derived, np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("size", [2, 3, 4, 5, 6])
def test_general_form_instantiates_to_the_explicit_matrix(size, rng):
    d = derive("softmax", n=size)
    s_values = softmax(rng.normal(size=size))
    s = vector("s")
    for a in range(1, size + 1):
        for b in range(1, size + 1):
            general = d.general.xreplace({i: a, j: b})
            general = general.xreplace({s[a]: s_values[a - 1], s[b]: s_values[b - 1]})
            values = {Symbol(f"s{c + 1}"): s_values[c] for c in range(size)}
            explicit = evaluate(d.jacobian[a - 1, b - 1], values, np.zeros(size))
            assert float(general) == pytest.approx(explicit, rel=1e-12, abs=1e-15)


def test_large_n_is_answered_without_building_the_whole_matrix():
    d = derive("softmax", n=256)
    assert d.proven
    assert text(d.table.entry(256, 256)) == "s256*(1 - s256)"
    assert text(d.table.entry(3, 200)) == "-s3*s200"


@pytest.mark.parametrize(
    "definition, expected",
    [
        # softmax with a temperature: s_i(δ_ij − s_j)/T
        (
            exp(z[i] / parameter("T")) / total(exp(z[k] / parameter("T")), k),
            "s[i]*(KroneckerDelta(i, j) - s[j])/T",
        ),
        # the normalised square z_i² / Σ z_k²: no inverse, so z stays where it must
        (z[i] ** 2 / total(z[k] ** 2, k), None),
        # l2 normalisation z_i / ‖z‖
        (z[i] / sqrt(total(z[k] ** 2, k)), None),
    ],
)
def test_a_function_registered_in_the_test_is_derived_and_proven(definition, expected, rng):
    fn = register(Function(name="test_fn", description="registered by a test", definition=definition))
    try:
        d = derive("test_fn", n=3)
        assert d.proven
        if expected:
            assert text(d.general) == expected
        else:
            # whatever form the rewriting reached must still equal the derivative numerically
            f = definition_at(d.definition.xreplace({parameter("T"): 1}), 3)
            v = rng.normal(size=3) + 2.0
            values = named_values(d.spelled, v, 3)
            derived = [[evaluate(d.jacobian[a, b], values, v) for b in range(3)] for a in range(3)]
            np.testing.assert_allclose(derived, central_jacobian(f, v), rtol=1e-6, atol=1e-8)
        assert fn.name in functions()
    finally:
        unregister("test_fn")


def test_the_outputs_replace_the_inputs():
    d = derive("softmax")
    assert not any(isinstance(a, Indexed) and a.base.label.name == "z" for a in d.general.atoms(Indexed))


@pytest.mark.parametrize("bad", [0, -3, MAX_N + 1, 2.5, "4", True])
def test_bad_n_is_refused(bad):
    with pytest.raises(InvalidInput):
        derive("softmax", n=bad)


def test_unknown_function_names_the_close_match():
    with pytest.raises(UnknownFunction, match=r"did you mean 'softmax'\?.*known: .*softmax"):
        derive("sofmax")


def test_derivations_are_immutable():
    d = derive("softmax")
    with pytest.raises(AttributeError):
        d.general = 0


@pytest.mark.parametrize("name", NAMES)
def test_every_function_is_proven_beyond_the_instances(name):
    # n = 9 is not among the n = 2..6 written out: its sums stay symbolic in the explicit proof.
    d = derive(name, n=9, params={p: "7/10" for p in functions()[name].parameter_names})
    assert d.proven and d.proofs[-1].claim == "explicit" and d.proofs[-1].holds


def test_vanishes_decides_zero_over_a_common_denominator_and_refuses_a_nonzero():
    from sympy import Symbol, sqrt

    from derive.engine.prove import vanishes

    a, b = Symbol("a", positive=True), Symbol("b", positive=True)
    assert vanishes((a - b) / sqrt(a + b) - a / sqrt(a + b) + b / sqrt(a + b))
    assert vanishes(1 / (a * (a + b)) - 1 / (a * b) + 1 / (b * (a + b)))
    assert not vanishes(1 / (a * (a + b)) - 1 / (a * b))
    assert not vanishes((a - b) / sqrt(a + b) - a / sqrt(a + b))
