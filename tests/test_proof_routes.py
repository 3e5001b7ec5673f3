"""The cheaper routes of the proofs: each decides what the slower ones did, and a wrong form still fails."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sympy import (
    Abs,
    Dummy,
    IndexedBase,
    KroneckerDelta,
    Piecewise,
    Product,
    Rational,
    Sum,
    Symbol,
    exp,
    log,
    solve,
    sqrt,
    symbols,
)

from derive import derive
from derive.engine import matrix, prove, registry
from derive.engine.definition import define, solved_for
from derive.engine.derivation import names_of
from derive.engine.sums import written_out
from derive.notation.symbols import d, i, j, n, u, vector

a, b = symbols("a b", real=True)
p = Symbol("p", positive=True)
z, s = vector("z"), vector("s")
k, m = symbols("k m", integer=True)


def test_sums_and_products_written_out_are_what_doit_gives():
    nested = Sum(exp(z[k]) * Sum(z[m] * z[k], (m, 1, 3)), (k, 1, 4)) + Product(1 + z[k], (k, 2, 3))
    assert (written_out(nested) - nested.doit()).expand() == 0
    assert written_out(Sum(z[k], (k, 1, 0))) == 0  # an empty range
    assert written_out(Sum(z[k], (k, 1, 2), (m, 1, 3))) == 3 * z[1] + 3 * z[2]
    # A shared table: the second entry reuses the first's sum.
    written = {}
    total = Sum(exp(z[k]), (k, 1, 3))
    written_out(exp(z[1]) / total, written)
    assert written[total] == exp(z[1]) + exp(z[2]) + exp(z[3])
    # A bound that is not a number is left to doit.
    assert written_out(Sum(z[k], (k, 1, n))) == Sum(z[k], (k, 1, n))


def test_radicands_become_symbols_only_where_spelled_one_way():
    root = sqrt(a**2 + b**2 + 1)
    hidden = prove._radicands_hidden(a / root + b / root - (a + b) / root)
    assert hidden is not None and not hidden.has(a**2 + b**2 + 1)
    assert prove._quickly_zero(hidden)
    # Two spellings of one radicand (a multiple, expanded): as two symbols they would not cancel.
    other = sqrt(2 * (a + b) ** 2 + 2)
    assert prove._radicands_hidden(1 / sqrt((a + b) ** 2 + 1) - sqrt(2) / other) is None
    assert prove.vanishes(1 / sqrt((a + b) ** 2 + 1) - sqrt(2) / other)
    assert prove._radicands_hidden(a + b) is None


@pytest.mark.parametrize(
    "expr",
    [
        a - b,
        exp(z[i]) - exp(z[j]),
        exp(z[i]) / Dummy("S", positive=True) - s[i],
        sqrt(a**2 + b**2) - sqrt(a**2 + 2 * b**2),
        exp(a) * exp(-a) - 1 + Rational(1, 10**25),  # tiny, and still certain
    ],
)
def test_a_certain_nonzero_value_is_found(expr):
    assert prove.nonzero_somewhere(expr)
    assert not prove.vanishes(expr)


@pytest.mark.parametrize(
    "expr",
    [
        sqrt(2) * sqrt(3) - sqrt(6),  # zero: evalf cannot certify a nonzero value
        log(p**2) - 2 * log(p),  # zero for the positive p it is assumed
        Abs(p) - p,
        KroneckerDelta(i, j) * (z[i] - z[j]),
        Sum(z[k], (k, 1, n)) - 1,  # a sum left whole: nothing to evaluate
        sqrt(-p),  # not real at any allowed point
        # Indices within their sizes: a δ collapsed where 1 ≤ u ≤ d is what the engine assumes.
        Piecewise((z[u], u <= d), (0, True)) - z[u],
    ],
)
def test_no_nonzero_value_is_claimed_where_there_is_none(expr):
    assert not prove.nonzero_somewhere(expr)


def test_values_respect_the_assumptions():
    q = Symbol("q", negative=True)
    assert not prove.nonzero_somewhere(Abs(q) + q)  # zero for every negative q
    assert prove.nonzero_somewhere(Abs(a) + a)  # not for every real a: a positive one says so


def test_a_deadline_expiring_inside_the_numeric_screen_is_not_swallowed(monkeypatch):
    # claims/deadline.py raises TooLong from a SIGALRM wherever the work is; taken for evalf's own
    # failure, it left a claim running with no limit (a power of 64 expanded for minutes).
    from sympy.core.evalf import EvalfMixin

    from derive.claims.deadline import TooLong

    def expired(self, *args, **kwargs):
        raise TooLong("deciding the claim took longer than 0.5 s", None)

    monkeypatch.setattr(EvalfMixin, "evalf", expired)
    with pytest.raises(TooLong):
        prove.nonzero_somewhere(Abs(a) + a)


def test_a_linear_assumption_is_solved_as_solve_solves_it():
    y = IndexedBase("y")
    equation = y[1] + y[2] + y[3] - 1
    assert solved_for(equation, y[3]) == solve(equation, y[3])[0]
    assert solved_for(a**2 - p, a) == solve(a**2 - p, a)[0]  # not linear: solve


@pytest.mark.parametrize("name", ["softmax", "layer_norm", "logsumexp"])
def test_a_perturbed_general_form_fails_the_instances(name):
    spelled = define(registry.get(name), {})
    general = derive(name).general
    # Off by a thousandth in the first row only: every other entry is still right.
    wrong = general * (1 + Rational(1, 1000) * KroneckerDelta(i, 1))
    if spelled.kind == "scalar":
        names = names_of(spelled, derive(name).raw)
        proof = prove.instances(lambda size: matrix.ExplicitVector(wrong, size), spelled, names=names)
    else:
        proof = prove.instances(lambda size: matrix.Explicit(wrong, size), spelled)
    # (at n = 2 layer norm's Jacobian is 0, so a multiple of it is right there: it fails at n = 3)
    assert not proof.holds and proof.detail.startswith(("n = 2, entry (1", "n = 3, entry (1"))
    right = derive(name).proofs
    assert [(q.claim, q.holds, q.cases) for q in right if q.claim == "instances"] == [
        ("instances", True, 20 if spelled.kind == "scalar" else 90)
    ]


def test_one_function_is_built_without_the_others():
    code = (
        "import sys; from derive.engine import registry; fn = registry.get('tanh'); "
        "print(fn.name, sorted(m for m in sys.modules if m.startswith('derive.functions.')))"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    ).stdout.split(maxsplit=1)
    assert out[0] == "tanh" and "gelu" not in out[1] and "derive.functions.tanh" in out[1]
    assert registry.get("softmax") is registry.functions()["softmax"]
