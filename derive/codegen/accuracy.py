"""Accuracy, not only finiteness: of the proven forms of a derivative, emit the one measured most accurate.

The form in the outputs can cancel where the function saturates: σ′ = s(1 − s) is 0 in float64 once
s rounds to 1 (z ≈ 37), though σ′(40) = 4·10⁻¹⁸ is a float like any other. The derivative in z, proven
equal to it, often does not (e^{−z}/(1 + e^{−z})², shifted by the lowering). Each candidate module is
run at saturating inputs and compared, entry by entry, with the derivative its definition gives when
evaluated by mpmath at 50 digits; the relative error decides, with the form in the outputs kept unless
another is clearly better.
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
from sympy import lambdify

from derive.codegen.probe import LARGEST, UNIT, concrete_entries, load
from derive.notation.symbols import i, j

SCALES = (5.0, 20.0, 40.0)  # up to where σ and tanh round to 1 in float64 (z ≈ 19 and 37)
# Entries near one another far from 0: a difference of nearly equal sums (n Σ z² − (Σ z)², the variance
# expanded) cancels there, as at --check's points 1e4 + N(0, 1).
OFFSETS = (1e4, -1e4)
ENOUGH = 1e-10  # a relative error below this is accurate enough: no other form is generated and measured
BETTER = 1e-3  # another form replaces the first only if its error is this many times smaller
TINY = float(np.finfo(np.float64).tiny)
FLOOR = 1e-30  # entries smaller than this times the largest are measured against that
MOST_DIGITS = 4200  # the doubling stops here
# ... and at the offsets: a cancelling sum needs tens of digits there, while e^{−1e4} beside 1 (sigmoid′ at
# 1e4, no float anyway) would double to MOST_DIGITS for nothing (focal: +4.5 CPU s).
OFFSET_DIGITS = 400
IN_Z, ROOTS = "in z", "roots"  # how a candidate form was made: the module's docstring says which


class Measured:
    """A module's worst relative error at saturating inputs, and where it was."""

    def __init__(self, error: float, where: str = ""):
        self.error, self.where = error, where


def measure(d, source) -> Measured | None:
    """The worst relative error of the module's derivatives at saturating z; None where it is not measured."""
    from derive.codegen.domain import restricted
    from derive.codegen.module import data, parameters

    size = d.n or 3
    if size > LARGEST or parameters(d) or (d.kind == "scalar" and data(d)):
        return None  # as the probe: large n, symbolic parameters and targets y have no values here
    unit = np.array(UNIT[:size])
    positive = bool(restricted(d.definition))
    directions = [np.abs(unit)] if positive else [unit, -unit]  # saturation is entrywise: mixed signs
    module = load(source, d.function.name)
    name = d.function.name
    rows = [{i: a} for a in range(1, size + 1)]
    pairs = [{i: a, j: b} for a in range(1, size + 1) for b in range(1, size + 1)]
    if d.kind == "vector":
        targets = [(getattr(module, f"{name}_jacobian"), d.raw, pairs, f"∂{name}/∂z")]
    else:
        targets = [
            (getattr(module, f"{name}_grad"), d.raw, rows, f"∇{name}"),
            (getattr(module, f"{name}_hessian"), d.hessian.raw, pairs, f"∇²{name}"),
        ]
    worst = Measured(0.0)
    points = [(s * v, f"{s:g}·({_listed(v)})", MOST_DIGITS) for s in SCALES for v in directions]
    points += [
        (o + unit, f"{o:g} + ({_listed(unit)})", OFFSET_DIGITS) for o in OFFSETS if not positive or o > 0
    ]
    for function, expr, at, said in targets:
        entries, inputs = concrete_entries(expr, size, at)
        compiled = [lambdify(inputs, e, "mpmath") for e in entries]
        for z, where, most in points:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                got = np.ravel(np.asarray(function(z), dtype=np.float64))
            exact = _exact(compiled, z, most)
            error = _relative(got, exact)
            if error > worst.error:
                worst = Measured(error, f"{said} at z = {where}")
    return worst


def _listed(vector) -> str:
    return ", ".join(f"{x:g}" for x in vector)


def _exact(compiled, z, most=MOST_DIGITS):
    """Each entry at z by mpmath, NaN where it is complex or cannot be evaluated; the precision doubled
    until two agree: 1 − tanh²(290) cancels 250 digits before it tells anything."""
    # e^{−2|z|} beside 1 needs 0.87·|z| digits before it shows at all (two zeros would agree).
    # Beyond the saturating scales (z ≈ 1e4 + N(0, 1)) that would be thousands: start lower and double.
    previous, digits = None, 50 + min(int(np.max(np.abs(z))), 200)
    while True:
        values = _at(compiled, z, digits)
        if previous is not None and all(_agree(a, b) for a, b in zip(values, previous, strict=True)):
            return values
        if digits >= most:
            return [v if _agree(v, w) else mpmath.nan for v, w in zip(values, previous, strict=True)]
        previous, digits = values, 2 * digits


def _agree(a, b) -> bool:
    if mpmath.isnan(a) or mpmath.isnan(b):
        return mpmath.isnan(a) and mpmath.isnan(b)
    return abs(a - b) <= 1e-20 * max(abs(a), abs(b)) or a == b


def _at(compiled, z, digits):
    values = []
    with mpmath.workdps(digits):
        point = [mpmath.mpf(float(x)) for x in z]
        for f in compiled:
            try:
                value = f(*point)
                values.append(mpmath.re(value) if mpmath.im(value) == 0 else mpmath.nan)
            except (ZeroDivisionError, ValueError, TypeError, OverflowError, NameError):
                values.append(mpmath.nan)
    return values


def _relative(got, exact) -> float:
    """max |got − exact| / |exact| over the entries whose exact value is a float (0 where both are 0),
    |exact| at least FLOOR times the largest entry: e^{−1300} beside 1 underflows in any form."""
    usable = [(v, float(w)) for v, w in zip(got, exact, strict=True) if _representable(w)]
    top = max((abs(w) for _, w in usable), default=0.0)
    worst = 0.0
    for value, want in usable:
        if not np.isfinite(value):
            return np.inf
        if value != want:
            worst = max(worst, abs(value - want) / max(abs(want), FLOOR * top, TINY))
    return worst


def _representable(want) -> bool:
    return not mpmath.isnan(want) and mpmath.isfinite(want) and abs(want) <= np.finfo(np.float64).max


def candidates(d) -> list:
    """The other proven forms to measure, each with how it was made (IN_Z or ROOTS): the derivative in z,
    and it with the lowering's complements (1 − tanh²u as 4/(e^u + e^{−u})², applied before the code
    generator expands the product around it); the form with its roots as the definition writes them."""
    from derive.codegen.inputs import in_inputs

    plain = in_inputs(d)
    if plain is not None:
        plain = _delta_outside(plain)
    found = [] if plain is None else [(plain, IN_Z)]
    ruled = _complemented(plain or d)
    if ruled is not None:
        found.append((ruled, IN_Z))
    rooted = _roots_as_defined(d)
    if rooted is not None:
        found.append((rooted, ROOTS))
    return found


def _roots_as_defined(d):
    """d with each root in its derivative written as the root the definition takes, or None if none is.

    Rewriting expands a root's radicand: √(n Σ z² − (Σ z)²) for the definition's √(Σ (z − μ)²), a
    difference of nearly equal sums where the entries are near one another (1e4 + N(0, 1)). Where the
    two radicands differ by a positive factor free of z (n², a constant), the definition's is taken back;
    the form is kept only if it is proven equal to the one it replaces.
    """
    from dataclasses import replace

    from derive.engine import matrix, prove

    if d.kind == "scalar":
        inner = _roots_as_defined(d.hessian)
        return None if inner is None else replace(d, hessian=inner)
    from derive.engine.roots import as_defined

    general = as_defined(d.general, d.definition, d.input)
    if general is None or not prove.vanishes(general - d.general):
        return None
    return replace(d, general=general, cases=matrix.cases(general), matrix_form=None)


def _delta_outside(d):
    """d with δ_ij taken out of its Jacobian where it is a factor of every term, written δ_ij·c, c the
    Jacobian at δ = 1 (checked: J − t·c expands to 0 with t for δ): broadcasting wants δ outside."""
    from dataclasses import replace

    from sympy import Dummy, KroneckerDelta, expand

    from derive.engine import matrix

    if d.kind == "scalar":
        inner = _delta_outside(d.hessian)
        return d if inner is d.hessian else replace(d, hessian=inner)
    delta, t = KroneckerDelta(i, j), Dummy("t")
    general = d.general
    if not general.has(delta) or general.xreplace({delta: 1}).has(KroneckerDelta):
        return d
    plain = general.xreplace({delta: 1})
    if isinstance(general, type(delta * plain)) and general == delta * plain:
        return d
    if expand(general.xreplace({delta: t}) - t * plain) != 0:
        return d
    general = delta * plain
    return replace(d, general=general, cases=matrix.cases(general), matrix_form=None)


def _complemented(d):
    """d with complements applied to its derivatives, or None when that changes nothing."""
    from dataclasses import replace

    from derive.codegen.lowering import complements
    from derive.engine import matrix

    general = complements(d.general)
    hessian = None if d.kind == "vector" else _complemented(d.hessian)
    if general == d.general and hessian is None:
        return None
    if d.kind == "scalar":
        return replace(d, general=general, hessian=hessian or d.hessian)
    return replace(d, general=general, cases=matrix.cases(general), matrix_form=None)


def said(first: Measured, chosen: Measured, how: str = IN_Z) -> str:
    """Why another form was emitted: where the form in the outputs lost accuracy, and by how much."""
    other = "the derivative in z" if how == IN_Z else "the roots as defined"
    return (
        f"loses accuracy at {first.where} (relative error {first.error:.1e} against mpmath; "
        f"{chosen.error:.1e} from {other})"
    )


def clearly_better(first: Measured | None, other: Measured | None) -> bool:
    """Whether other's form should replace first's: first inaccurate, other much more accurate."""
    if first is None or other is None or first.error <= ENOUGH:
        return False
    return other.error < BETTER * first.error or (not np.isfinite(first.error) and np.isfinite(other.error))
