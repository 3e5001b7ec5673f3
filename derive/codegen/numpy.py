"""The NumPy target: a derivation as a standalone NumPy module, broadcast over rows or entry by entry.

A vector function gets F, its Jacobian, VJP and JVP; a scalar L gets L, its gradient, Hessian and HVP, the
gradient's emitted exactly as a vector function's forward, Jacobian and JVP (the Hessian is symmetric).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

from sympy import (
    Abs,
    Heaviside,
    IndexedBase,
    Max,
    Min,
    Piecewise,
    S,
    Sum,
    arg,
    ceiling,
    conjugate,
    floor,
    im,
    re,
    sign,
)

from derive.codegen import broadcast, entries, npcode, stable
from derive.codegen.arrays import Empty, Largest, Zeros, array
from derive.codegen.module import AS_VECTOR, KINDS, RESERVED, _names, gradient_view, module_facts
from derive.codegen.npcode import code
from derive.codegen.statements import block
from derive.errors import NotApplicable
from derive.notation.symbols import n
from derive.show.docprint import formula
from derive.show.templating import render_template

_NOT_ANALYTIC = (Abs, Max, Min, Piecewise, Heaviside, sign, re, im, floor, ceiling, conjugate, arg)

# The largest n up to which writing every entry out (SymPy's cse over the explicit matrix) ran faster
# than broadcasting the general form, per generated function; above it, and without n, derive broadcasts.
# Measured once with `PYTHONPATH=. python benchmarks/codegen_routes.py`: softmax, float64, batch 4096
# (where runtime matters; at batch 1 both take microseconds and broadcasting wins from n = 3), the
# fastest of 41 alternating runs, n = 1..8, on a 2-core x86-64 with NumPy 2.4. Short rows are where
# entries win: NumPy reduces a last axis of length 4 slowly, and einsum pays per tiny matrix.
EXPLICIT_UP_TO = {"forward": 8, "jacobian": 5, "vjp": 7, "jvp": 7}


@dataclass(frozen=True)
class Routine:
    """One generated function, as facts for the template."""

    kind: str  # forward | jacobian | vjp | jvp
    name: str
    route: str  # broadcast | explicit
    formula: str  # what it returns, printed on one line
    uses_output: bool  # computes s = F(z) first
    shifted: bool  # computes with z − max(z)
    prologue_shift: bool  # … by replacing z on its first line (entries), not inside expressions
    uses_size: bool  # needs n = z.shape[-1]
    lines: tuple
    helpers: tuple  # math functions NumPy lacks, defined in the module: ("erf",)


ROUTES = ("broadcast", "explicit")


def generate(d, route: str | None = None) -> str:
    """Source of a standalone NumPy module: F, its Jacobian, VJP and JVP (for a scalar L: L, its gradient,
    Hessian and HVP); route forces broadcasting or the explicit entries where both apply."""
    if route not in (None, *ROUTES):
        raise NotApplicable(f"unknown route '{route}'; known: {', '.join(ROUTES)}")
    source = _source(d, route)
    if not getattr(d, "kind", None):  # a bare view, not a Derivation: nothing to probe
        return source
    _, found, source = probed(d, route, source)
    return source if found else _accurate(d, route, source)


def probed(d, route=None, source=None):
    """(the derivation to emit, the overflow that chose it or None, its NumPy module's source).

    The module is probed where exp overflows; where the form in the outputs does and the derivative in z
    (proven equal) would not, that derivative is emitted instead, and the module's docstring says so.
    Where both overflow, NotApplicable in one line naming the part. The Numba target shares the verdict.
    """
    from derive.codegen.inputs import in_inputs
    from derive.codegen.probe import Overflow, probe

    source = source if source is not None else _source(d, route)
    try:
        probe(d, source)
    except Overflow as overflow:
        plain = in_inputs(d)
        if plain is None:
            raise
        try:
            source = _source(plain, route, overflow.found)
        except NotApplicable:  # the form in z cannot be emitted either: the overflow is the reason to give
            raise overflow from None
        try:
            probe(plain, source)
        except Overflow as again:
            raise NotApplicable(f"{again} (in the outputs' form or in z)") from None
        return plain, overflow.found, source
    return d, None, source


def _accurate(d, route, source) -> str:
    """source, or the module from a proven form in z where the form in the outputs measurably cancels."""
    from derive.codegen import accuracy
    from derive.codegen.probe import probe

    first = accuracy.measure(d, source)
    if first is None or first.error <= accuracy.ENOUGH:
        return source
    best = None
    for other, how in accuracy.candidates(d):
        try:
            text = _source(other, route, "cancels", how)
            probe(other, text)
        except NotApplicable:  # it overflows, or cannot be emitted: no candidate
            continue
        measured = accuracy.measure(other, text)
        if accuracy.clearly_better(first, measured) and (best is None or measured.error < best[1].error):
            best = (other, measured, how)
    if best is None:
        return source
    return _source(best[0], route, accuracy.said(first, best[1], best[2]), best[2])


def _source(d, route, fallback=None, how="in z") -> str:
    """The module's source; fallback says why the derivatives are written in another form (None when they
    are not), how which form: "in z" (as differentiation gives it) or "roots" (roots as defined)."""
    if getattr(d, "kind", "vector") == "scalar":
        return _scalar(d, route, fallback, how)
    return _vector(d, route, fallback, how)


def _vector(d, route, fallback=None, how="in z") -> str:
    """Source of a module computing F, its Jacobian, VJP and JVP."""
    names = _names(d)
    shift = stable.needs_shift(d.definition, d.input)
    routines = [_routine(d, kind, names, shift, route) for kind in KINDS]
    return render_template(
        "numpy_module.py.j2",
        **module_facts(d, routines, d.function.where),
        explicit_up_to=EXPLICIT_UP_TO,
        coupled=d.definition.has(Sum) or shift,
        shift=code(array(names["input"]) - Largest(array(names["input"]))) if shift else None,
        names=names,
        fallback=fallback,
        how=how,
    )


def _scalar(d, route, fallback=None, how="in z") -> str:
    """Source of a module computing L, its gradient, Hessian and HVP."""
    names = _names(d, data=True)
    view = gradient_view(d)
    grad_names = {**_names(view, data=True, reserved=RESERVED - {"g"}), "data": names["data"]}
    value = _routine(d, "value", names, stable.needs_shift(d.definition, d.input), route)
    shift = stable.needs_shift(view.definition, view.input)
    routines = [value] + [
        replace(_routine(view, kind, grad_names, shift, route), name=f"{names['function']}_{suffix}")
        for suffix, kind in AS_VECTOR.items()
    ]
    where = [(name, body) for name, body in view.function.where]
    if d.hessian.spelled.recognized:  # ∇ logsumexp = s, softmax: say what s is
        where.append((view.function.output, view.function.definition))
    where = [(n, b) for n, b in d.function.where if (n, b) not in where] + where
    assumed = dict.fromkeys((*d.assumed, *d.hessian.assumed))
    return render_template(
        "numpy_scalar.py.j2",
        **module_facts(d, routines, where),
        explicit_up_to=EXPLICIT_UP_TO,
        assumed=[f"{formula(lhs)} = {formula(rhs)}" for lhs, rhs in assumed],
        names=names,
        gradient=grad_names,
        fallback=fallback,
        how=how,
    )


def holomorphic(d) -> bool:
    """Whether the generated F is analytic in z, so that the complex step gives its derivative."""
    scalar = d.kind == "scalar"
    names = _names(d, data=scalar)
    shift = stable.needs_shift(d.definition, d.input)
    z = array(names["input"])
    statements = broadcast.value(d) if scalar else broadcast.statements(d, "forward", names)
    values = [stable.final(s, d.n, shift, z).value for s in statements]
    # Helpers run math.erf, which takes real numbers only.
    return not any(v.has(*_NOT_ANALYTIC) for v in values) and not npcode.helpers(values)


def _routine(d, kind, names, shift, route) -> Routine:
    up_to = EXPLICIT_UP_TO.get(kind, 0)  # a scalar's value is one sum: always broadcast
    explicit = kind != "value" and (
        route == "explicit" or (route is None and d.n is not None and d.n <= up_to)
    )
    if explicit and d.n is not None and not d.function.where:
        statements, chosen = entries.statements(d, kind, names), "explicit"
    elif kind == "value":
        statements, chosen = broadcast.value(d), "broadcast"
    else:
        statements, chosen = broadcast.statements(d, kind, names), "broadcast"
    # Broadcasting takes z − max(z) inside its expressions: a shifted copy of z kept alive beside the
    # results costs NumPy a fresh allocation (page faults) per call; entries unpack it once, as z.
    z = array(names["input"])
    statements = [stable.final(s, d.n, shift, z if chosen == "broadcast" else None) for s in statements]
    taken = {names["function"], names["input"], names["output"], *names["params"], *names["data"]}
    taken |= set(_suffixed(names))
    vectors = {k.label.name for k, _ in d.spelled.intermediates if isinstance(k, IndexedBase)}
    rows = frozenset({names["input"], names["output"], *names["data"], *vectors, "g", "v"})
    if chosen == "broadcast":
        printer = npcode.InPlace(rows, {"n", *names["params"]})
    else:  # entries are columns z[..., k] of a batch: no temporary of z's shape to write into
        printer = partial(npcode.code, rows=rows)
    lines = block(statements, taken, printer=printer)
    values = [s.value for s in statements] + [s.target for s in statements if s.target is not None]
    # Zeros(z, …) borrows only z's shape and dtype: it is not a use of z's values.
    values = [v.replace(lambda e: isinstance(e, (Zeros, Empty)), lambda e: S.Zero) for v in values]
    uses = set().union(*(v.free_symbols for v in values))
    return Routine(
        kind=kind,
        name=names["function"] if kind == "value" else _suffixed(names)[KINDS.index(kind)],
        route=chosen,
        formula=formula(broadcast.computed(d, kind)),
        uses_output=kind not in ("forward", "value") and array(names["output"]) in uses,
        shifted=shift and z in uses,
        prologue_shift=shift and chosen == "explicit" and z in uses,
        uses_size=n in uses,
        lines=tuple(str(line) for line in lines),
        helpers=tuple(npcode.helpers(values)),
    )


def _suffixed(names):
    base = names["function"]
    return [base, f"{base}_jacobian", f"{base}_vjp", f"{base}_jvp"]
