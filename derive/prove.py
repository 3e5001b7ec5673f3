"""Proofs that each derived form equals what it claims, checked symbolically."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Indexed, Symbol, cancel, expand, simplify
from sympy.concrete.expr_with_intlimits import ExprWithIntLimits

from derive.differentiate import partial
from derive.matrix import entries
from derive.rewrite import Hidden, normalize_sums
from derive.symbols import i, j, n

INSTANCES = (2, 3, 4, 5, 6)


@dataclass(frozen=True)
class Proof:
    """One proven claim: what was compared, how, and over how many cases."""

    claim: str  # general | cases | matrix | instances | explicit
    holds: bool
    method: str
    cases: int = 1
    detail: str = ""


def vanishes(expr) -> bool:
    """Whether expr is identically zero, with each sum treated as one quantity."""
    hidden = Hidden()
    work = hidden.hide(normalize_sums(expr))
    for step in (expand, cancel, simplify):
        work = step(work)
        if work == 0:
            return True
    return False


def back_to_inputs(expr, definitions):
    """expr with every output s_m replaced by its definition at m."""
    return expr.replace(
        lambda e: isinstance(e, Indexed) and e.base in definitions,
        lambda e: definitions[e.base].xreplace({i: e.indices[0]}),
    )


def general(raw, form, definitions) -> Proof:
    """The rewritten form, with the definition substituted back, equals the raw derivative."""
    holds = vanishes(back_to_inputs(form, definitions) - raw)
    return Proof("general", holds, "substitute the definition back, cancel")


def cases(form, split) -> Proof:
    """Each case agrees with the general form under its condition."""
    (_, same), (_, other) = split
    holds = vanishes(form.xreplace({j: i}) - same) and vanishes(
        form.subs({j: i + 1}) - other.subs({j: i + 1})
    )
    return Proof("cases", holds, "set j = i, and j = i + 1 (any j ≠ i)", cases=2)


def matrix(form, matrix_form) -> Proof:
    """The matrix form's (i, j) entry, as SymPy reads it, equals the general form."""
    if matrix_form is None:
        return Proof("matrix", True, "no matrix form: nothing to prove", cases=0)
    return Proof(
        "matrix", vanishes(entries(matrix_form) - form), "SymPy's entry (i, j) of the matrix expression"
    )


def instances(table_at, definitions, z) -> Proof:
    """The general form at n = 2..6 equals the Jacobian differentiated directly at that n."""
    count = 0
    for size in INSTANCES:
        table = table_at(size)
        picks = [(a, b) for a in range(1, size + 1) for b in range(1, size + 1)]
        failed = _compare(table, picks, definitions, z, size)
        count += len(picks)
        if failed:
            return Proof("instances", False, "direct Jacobian", count, f"n = {size}, entry {failed}")
    return Proof("instances", True, "Jacobian of the definition differentiated directly", count)


def explicit(table, definitions, z) -> Proof:
    """Corner and middle entries of the n×n matrix equal direct differentiation at that n."""
    size = table.size
    corners = {(1, 1), (1, 2), (2, 1), (size, size), (size, 1), (size // 2 + 1, size // 2 + 1)}
    picks = sorted((a, b) for a, b in corners if a <= size and b <= size)
    # At large n the sums stay written as Σ_{k=1}^{n}: differentiating them still collapses δ_kb exactly.
    failed = _compare(table, picks, definitions, z, size, expand_sums=size in INSTANCES)
    method = f"direct differentiation at n = {size}"
    return Proof("explicit", not failed, method, len(picks), f"entry {failed}" if failed else "")


def _compare(table, picks, definitions, z, size, expand_sums=True):
    """The first (a, b) where the table differs from ∂s_a/∂z_b at this size, or None."""
    used = sorted({a for pick in picks for a in pick})
    if expand_sums:
        # Written out, z_1…z_n are just n variables: renamed to plain symbols (with z's assumptions),
        # SymPy builds, differentiates and compares them several times faster than z[k].
        inputs = {a: Symbol(f"{z.name}{a}", **z[a].assumptions0) for a in range(1, size + 1)}
        renamed = {z[a]: symbol for a, symbol in inputs.items()}
        written = {}  # every s_a shares the same sums: write each out once

        def concrete(e):
            return _written_out(e, written).xreplace(renamed)
    else:
        inputs = {a: z[a] for a in used}

        def concrete(e):
            return e

    values = {Symbol(f"{z.name}{a}"): inputs[a] for a in used}
    for base, body in definitions.items():
        values.update({Symbol(f"{base.name}{a}"): concrete(body.xreplace({i: a, n: size})) for a in used})
    output = next(iter(definitions))
    for a, b in picks:
        direct = partial(values[Symbol(f"{output.name}{a}")], inputs[b])
        if not vanishes(concrete(table.entry(a, b).xreplace(values)) - direct):
            return (a, b)
    return None


def _written_out(expr, written: dict):
    """expr with every sum and product over a concrete range written out term by term."""
    if not expr.has(ExprWithIntLimits):
        return expr

    def write(e):
        if e not in written:
            written[e] = e.doit()
        return written[e]

    return expr.replace(lambda e: isinstance(e, ExprWithIntLimits), write)
