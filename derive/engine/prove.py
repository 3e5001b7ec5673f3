"""Proofs that each derived form equals what it claims, checked symbolically."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sympy import (
    Derivative,
    Dummy,
    Indexed,
    Integer,
    Pow,
    Rational,
    Sum,
    Symbol,
    cancel,
    expand,
    expand_log,
    fraction,
    reduced,
    simplify,
    together,
)
from sympy.concrete.expr_with_limits import ExprWithLimits
from sympy.polys.polyerrors import CoercionFailed, PolynomialError
from sympy.polys.polytools import parallel_poly_from_expr

from derive.engine.differentiate import direct
from derive.engine.matrix import entries
from derive.engine.rewrite import Hidden
from derive.engine.ringzero import zero_over_one_denominator
from derive.engine.sums import normalize_sums, renamed_apart, written_out
from derive.errors import DeriveError
from derive.notation.symbols import DIMENSIONS, i, j, n

INSTANCES = (2, 3, 4, 5, 6)
# Up to this n the explicit matrix is compared with direct differentiation entry by entry, all n² of
# them; above it, at the corners and the middle of the diagonal.
EVERY_ENTRY_UP_TO = 8
SEED, DIGITS = 20261126, 30  # the point at which a difference is screened for a certain nonzero value


@dataclass(frozen=True)
class Proof:
    """One proven claim: what was compared, how, and over how many cases."""

    claim: str  # general | cases | matrix | instances | explicit
    holds: bool
    method: str
    cases: int = 1
    detail: str = ""
    every: bool = False  # whether the cases are every entry there is, not a sample of them


def vanishes(expr) -> bool:
    """Whether expr is identically zero, with each sum treated as one quantity."""
    if _vanishes(expr):
        return True
    # Sums whose bodies hold log(e^{z_k}/S) compare only once the log is split (z_k − log S, valid for
    # real z and positive S: expand_log with force=False splits nothing else), then split over terms.
    logs_split = expand_log(expr, force=False)
    return logs_split != expr and _vanishes(logs_split)


def _vanishes(expr) -> bool:
    work = expr
    if expr.has(Sum):  # (the n = 2..6 comparisons have none: written out)
        hidden = Hidden()
        work = normalize_sums(expr)
        if any(s.function.has(Sum) for s in work.atoms(Sum)):
            # Nested sums, named from the outside in, compare equal however they were named.
            work = renamed_apart(work)
        work = _merged(hidden, hidden.hide(work))
    # In a polynomial ring first: it takes each root's radicand as one quantity by itself, and decides
    # most comparisons 3-7 times faster than the expression-tree routes below.
    if _ring_zero(work):
        return True
    # Over one denominator, a zero numerator is zero: expanding it decides the usual case several times
    # faster than cancel, which also factors (layer norm's steps at n = 64: 0.6 s against 3.9 s). First
    # with each radicand one symbol, as each sum is: the root is a generator either way, and its radicand
    # need not be multiplied out (layer norm's n = 2..6 proof: 0.44 s against 1.7 s).
    radicands = _radicands_hidden(work)
    if radicands is not None and _quickly_zero(radicands):
        return True
    if _quickly_zero(work, ring=False):
        return True
    # What one denominator leaves is mostly not zero (a candidate that is not the function, a form that
    # does not hold): one certain nonzero value says so at once, where the routes below would take
    # simplify's seconds to fail. Every True still comes from them.
    if nonzero_somewhere(work):
        return False
    # Roots of sums (standardisation's √(Σ_l (z_l − μ)²/n + ε), written out at n = 2..6) are as many
    # spellings of one quantity: each becomes one symbol t with t^d = P, far faster than simplify
    # (standardise at n = 2..6: >300 CPU s → 9 s). Tried second: where each root is spelled one way
    # (layer norm's n = 2..6 proof), one denominator decides, and the polynomial ring would cost ten
    # times as much (layer norm: 13 of 15 s).
    if _roots_cancel(work):
        return True
    # cancel (polynomial arithmetic over the generators) decides most cases fastest; expand and
    # simplify are the fallbacks for radicals and functions it treats as unrelated generators.
    for step in (cancel, expand):
        work = step(work)
        if work == 0:
            return True
    return simplify(work) == 0


def nonzero_somewhere(expr) -> bool:
    """Whether expr is certainly not identically 0: at a seeded point, each symbol a value its assumptions
    allow (integers distinct and positive, sizes above indices, the rest rationals: all positive, then of
    either sign), evalf certifies a real nonzero value.

    A False says nothing. A True means no sound symbolic route could show expr is 0, so it is only ever
    used to stop trying sooner.
    """
    if expr.has(ExprWithLimits, Derivative):
        return False
    # Indices from 2 on, each distinct, then the sizes (n, d, h) above them: 1 ≤ index ≤ size, the ranges
    # the engine's forms were resolved in.
    integers = sorted((a for a in expr.free_symbols if a.is_integer), key=lambda a: (a in DIMENSIONS, str(a)))
    indices = {a: Integer(k) for k, a in enumerate(integers, start=2)}
    if not all(_allowed(a, v) for a, v in indices.items()):
        return False
    work = expr.xreplace(indices)
    labels = {a.base.label for a in work.atoms(Indexed)}
    atoms = sorted(work.free_symbols - labels, key=str)  # z_2 and y_3 with the indices set; not z itself
    rng = random.Random(SEED)
    # Positive values first: a root or a log of a sum not known to be positive is real there.
    for signs in (False, True):
        point = {}
        for a in atoms:
            value = Rational(rng.randint(1, 97), rng.randint(1, 13))
            point[a] = -value if signs and not a.is_nonnegative and rng.random() < 0.5 else value
        if not all(_allowed(a, v) for a, v in point.items()):
            continue
        at = work.xreplace(point)
        if at.free_symbols:
            return False
        try:
            value = at.evalf(DIGITS, strict=True)
        except DeriveError:
            raise  # a claim's deadline expiring inside evalf (claims/deadline.py): not evalf's failure
        except Exception:  # noqa: BLE001 — PrecisionExhausted, or a function evalf cannot evaluate
            continue
        if value.is_Float and value.is_finite and value.is_zero is False:
            return True
    return False


def _allowed(atom, value) -> bool:
    """Whether value has every property atom is assumed to have (positive, real, integer, …)."""
    facts = atom.assumptions0 if isinstance(atom, (Symbol, Indexed)) else {}
    return all(getattr(value, f"is_{name}") == holds for name, holds in facts.items() if holds is not None)


def _radicands_hidden(expr):
    """expr with each sum under a root, √P, P^{3/2}, P wherever it stands, as one symbol; None if none.

    A polynomial identity in the symbol holds for the radicand it stands for. None too where two
    radicands are spellings of one polynomial (a multiple of it, expanded or not: standardisation's),
    which as two symbols would not cancel: the roots route's case.
    """
    radicands = {
        p.base for p in expr.atoms(Pow) if p.base.is_Add and p.exp.is_Rational and not p.exp.is_Integer
    }
    if not radicands:
        return None
    if len(radicands) > 1:
        primitive = {expand(base).as_content_primitive()[1] for base in radicands}
        if len(primitive) < len(radicands):
            return None
    # In any order (sorting by str cost more than the comparison saved): the symbols are only compared.
    return expr.xreplace({base: Dummy() for base in radicands})


def _roots_cancel(expr) -> bool | None:
    """Whether expr is 0 with each root P^(p/d) of a polynomial P as t^p, reduced by t^d = P (None: no root).

    A root's radicand is expanded and split into a positive rational content c and a primitive part P,
    so (cP)^(p/d) = c^(p/d) t^p for every spelling of cP (valid for c > 0 on the principal branch). A
    numerator over one denominator that vanishes modulo each t^d − P vanishes wherever t is the root.
    A False says nothing: other relations between roots (√(PQ) = √P √Q) are left to simplify.
    """
    roots, replaced = {}, {}
    for power in expr.atoms(Pow):
        exponent, base = power.exp, power.base
        if not exponent.is_Rational or exponent.is_Integer or base.is_number:
            continue
        if any(p.exp.is_Rational and not p.exp.is_Integer for p in base.atoms(Pow)):
            continue  # a root inside a root: the inner one is replaced, the outer one left as it is
        content, primitive = expand(base).as_content_primitive()
        if not (content.is_Rational and content.is_positive):
            continue
        d = exponent.q
        if (primitive, d) not in roots:
            roots[primitive, d] = Dummy(f"t{len(roots)}")
        replaced[power] = content**exponent * roots[primitive, d] ** exponent.p
    if not replaced:
        return None
    numerator = fraction(together(expr.xreplace(replaced)))[0]
    if numerator.is_number:
        return numerator == 0
    ts = list(roots.values())
    relations = [t**d - primitive for (primitive, d), t in roots.items()]
    try:
        # Polynomial arithmetic (ZZ[t, z…]) rather than expanding expressions: several times faster at
        # n = 6. With the roots first in lex order, each relation's leading term is its t^d.
        polys, options = parallel_poly_from_expr([numerator, *relations])
        gens = ts + [g for g in options.gens if g not in ts]
        _, remainder = reduced(polys[0].reorder(*gens), [p.reorder(*gens) for p in polys[1:]], order="lex")
    except PolynomialError:  # a radicand that is no polynomial in its generators (1/z): not this route
        return False
    return remainder == 0


def _merged(hidden: Hidden, work):
    """work with the symbols of equal sums made one: Σ_k 1/(1 + e^{−z_k}) and Σ_k e^{z_k}/(e^{z_k} + 1).

    Tidying a form may rewrite a sum's body; hidden as two unrelated symbols, the two spellings of one
    sum would leave a true identity unproven. Bodies are compared over the same range.
    """
    sums = list(hidden.by_sum)
    same = {}
    for a, first in enumerate(sums):
        if hidden.by_sum[first] in same:
            continue
        for second in sums[a + 1 :]:
            if hidden.by_sum[second] in same or not _same_range(first, second):
                continue
            (k, *_), (m, *_) = first.limits[0], second.limits[0]
            body = second.function.xreplace({m: k})
            if _quickly_zero(first.function - body):
                same[hidden.by_sum[second]] = hidden.by_sum[first]
    return work.xreplace(same) if same else work


def _quickly_zero(expr, ring: bool = True) -> bool:
    """Whether expr is 0 over one denominator after expanding: no simplify, for every pair of sums."""
    # In a polynomial ring first (3-7 times faster on the n = 2..6 comparisons); together and expand on
    # expression trees where it says nothing, for the relations between atoms it does not know.
    if ring and _ring_zero(expr):
        return True
    return expand(fraction(together(expr))[0]) == 0


def _ring_zero(expr) -> bool:
    try:
        return zero_over_one_denominator(expr)
    except (CoercionFailed, PolynomialError):  # an atom QQ[…] cannot hold: the expression-tree routes
        return False


def _same_range(first, second) -> bool:
    """Whether two sums run over one range: a single index each, with the same bounds."""
    if len(first.limits) != 1 or len(second.limits) != 1:
        return False
    return tuple(first.limits[0][1:]) == tuple(second.limits[0][1:])


def back_to_inputs(expr, substitutions):
    """expr with every output s_m (or scalar intermediate) replaced by its definition."""
    scalars = {k: v for k, v in substitutions.items() if isinstance(k, Symbol)}
    expr = expr.xreplace(scalars)
    return expr.replace(
        lambda e: isinstance(e, Indexed) and e.base in substitutions,
        lambda e: substitutions[e.base].xreplace({i: e.indices[0]}),
    )


def general(raw, form, spelled) -> Proof:
    """The rewritten form, with the definition substituted back, equals the raw derivative."""
    holds = vanishes(spelled.assume(back_to_inputs(form, spelled.substitutions) - raw))
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


def instances(table_at, spelled, names=None) -> Proof:
    """The general form at n = 2..6 equals the derivative of the definition taken directly at that n."""
    count = 0
    for size in INSTANCES:
        table = table_at(size)
        picks = list(table.positions())
        failed = _compare(table, picks, spelled, size, names=names)
        count += len(picks)
        if failed:
            return Proof("instances", False, "direct differentiation", count, f"n = {size}, entry {failed}")
    return Proof("instances", True, "the definition differentiated directly at n = 2..6", count)


def explicit(table, spelled, size, names=None) -> Proof:
    """The explicit matrix equals direct differentiation at that n: every entry up to n = 8, else samples."""
    picks = list(table.positions()) if size <= EVERY_ENTRY_UP_TO else table.samples()
    # At large n the sums stay written as Σ_{k=1}^{n}: differentiating them still collapses δ_kb exactly.
    failed = _compare(table, picks, spelled, size, expand_sums=size <= EVERY_ENTRY_UP_TO, names=names)
    method = f"direct differentiation at n = {size}"
    every = size <= EVERY_ENTRY_UP_TO
    return Proof("explicit", not failed, method, len(picks), f"entry {failed}" if failed else "", every)


def _compare(table, picks, spelled, size, expand_sums=True, names=None):
    """The first position where the table differs from direct differentiation at this size, or None.

    names is the Definition whose outputs and intermediates the table is written in (spelled by default).
    """
    z = spelled.input
    used = sorted({a for pick in picks for a in pick})
    if expand_sums:
        # Written out, z_1…z_n are just n variables: renamed to plain symbols (with z's assumptions),
        # SymPy builds, differentiates and compares them several times faster than z[k].
        inputs = {a: Symbol(f"{z.name}{a}", **z[a].assumptions0) for a in range(1, size + 1)}
        renamed = {z[a]: symbol for a, symbol in inputs.items()}
        written = {}  # every s_a shares the same sums: write each out once

        def concrete(e):
            return written_out(e, written).xreplace(renamed)
    else:
        inputs = {a: z[a] for a in used}

        def concrete(e):
            return e

    # Data vectors (y) become their entries, inputs the symbols above, outputs and intermediates
    # their definitions.
    values = {Symbol(f"{b.name}{a}"): b[a] for b in table.bases for a in used}
    values.update({Symbol(f"{z.name}{a}"): inputs[a] for a in used})
    for key, body in (names or spelled).rewrites:
        if isinstance(key, Symbol):
            values[key] = concrete(body.xreplace({n: size}))
        else:
            values.update({Symbol(f"{key.name}{a}"): concrete(body.xreplace({i: a, n: size})) for a in used})
    outputs = {}  # the output at each row, written out once
    memos = {}  # by input: the derivatives of the subexpressions the rows share (every s_a's sums)
    for pick in picks:
        *row, b = pick
        if tuple(row) not in outputs:
            value = spelled.expanded.xreplace({i: row[0]} if row else {})
            outputs[tuple(row)] = concrete(value.xreplace({n: size}))
        differentiated = direct(outputs[tuple(row)], inputs[b], memos.setdefault(b, {}))
        direct_value = spelled.assume_at(differentiated, size)
        derived = spelled.assume_at(concrete(table.entry(*pick).xreplace(values)), size)
        if not vanishes(derived - direct_value):
            return pick
    return None
