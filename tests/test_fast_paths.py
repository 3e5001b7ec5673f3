"""The fast paths of the engine give exactly what the plain way gives, and leave nothing behind."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sympy import Dummy, Indexed, Mul, Symbol, exp, sqrt, symbols
from sympy.printing.str import StrPrinter

from derive import derive, render
from derive.engine.registry import functions, one_input, register, unregister
from derive.notation.function import Function
from derive.notation.symbols import i, j, k, n, parameter, total, z
from derive.show import printing

NAMES = sorted(one_input())


def _plainly(expr, a, b, size):
    """expr at i = a, j = b, n = size in one simultaneous substitution: the reference for entries."""
    subs = {i: a, j: b, n: size}
    for x in expr.atoms(Indexed):
        if x.indices[0] in (i, j):
            subs[x] = Symbol(f"{x.base.name}{a if x.indices[0] == i else b}")
    return expr.xreplace(subs)


@pytest.mark.parametrize(
    "definition",
    [
        *(functions()[name] for name in NAMES),
        exp(z[i] / parameter("T")) / total(exp(z[k] / parameter("T")), k),
        z[i] ** 2 / total(z[k] ** 2, k),
        z[i] / sqrt(total(z[k] ** 2, k)),
        z[i] ** 2 / total(exp(z[k]), k),  # not symmetric: no mirrored entries
    ],
)
def test_explicit_entries_are_exactly_the_cases_substituted(definition):
    if isinstance(definition, Function):
        fn = replace(definition, name="test_fn")  # a registered function, with its intermediates
    else:
        fn = Function(name="test_fn", description="registered by a test", definition=definition)
    register(fn)
    try:
        d = derive("test_fn", n=5, params={p: "7/10" for p in fn.parameter_names})
        if d.kind == "scalar":
            d = d.hessian  # the Hessian is the explicit matrix of a scalar
        (_, same), (_, other) = d.cases
        J = d.jacobian
        for a in range(1, 6):
            for b in range(1, 6):
                expected = _plainly(same if a == b else other, a, b, 5)
                assert J[a - 1, b - 1] == expected
                assert d.table.entry(a, b) == expected
    finally:
        unregister("test_fn")


def test_printing_for_the_terminal_leaves_sympy_physics_units_importable():
    before = "sympy.physics.units" in sys.modules
    render(derive("softmax", n=3), "text")
    assert ("sympy.physics.units" in sys.modules) == before
    import sympy.physics.units as units

    assert str(units.meter) == "meter"


def _products():
    s1, s2, s10, x = symbols("s1 s2 s10 x")
    T = parameter("T")
    d = Dummy("d")
    return [
        -s1 * s2,
        s1 * s2,
        -s10 * s2,
        -s1,
        -2 * s1 * s2,
        s1 * (1 - s1),
        -s1 * s2 / T,
        x * d,
        -x * d,
        -s1 * s2 * x,
        Mul(1, s1, s2, evaluate=False),
        Mul(-1, s1, s2, evaluate=False),
        Mul(s2, s1, evaluate=False),
        s1 * z[1],
    ]


@pytest.mark.parametrize("expr", _products())
def test_products_print_as_sympys_string_printer_prints_them(expr):
    with printing._person_order():
        expected = StrPrinter({"order": None}).doprint(expr)
    assert printing.text(expr) == expected


def test_every_entry_prints_as_one_at_a_time():
    entries = list(derive("softmax", n=12).jacobian)
    assert printing.texts(entries) == [printing.text(e) for e in entries]


@pytest.mark.parametrize(
    "args, code, stream",
    [(["softmax", "--n", "3", "--format", "json"], 0, "stdout"), (["sofmax"], 2, "stderr")],
)
def test_the_command_leaves_at_once_with_its_output_and_exit_code(args, code, stream):
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "derive", *args], capture_output=True, text=True, env=env, cwd=root
    )
    assert done.returncode == code
    if stream == "stdout":
        assert json.loads(done.stdout)["n"] == 3 and done.stderr == ""
    else:
        assert done.stderr.startswith("derive: error: unknown function 'sofmax'") and done.stdout == ""
