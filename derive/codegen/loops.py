"""Row programs: a function of one row z as loops over its entries, each Σ an accumulator."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Function, Indexed, IndexedBase, Integer, S, Sum, Symbol, cse, numbered_symbols

from derive.codegen import broadcast, lowering, products, stable
from derive.errors import NotApplicable
from derive.notation.symbols import i, j, n

# Names the kernels use for their own loops and rows; a quantity never takes one of them.
RESERVED = {"i", "j", "n", "row", "rows", "chunk", "chunks", "out", "J", "g", "v", "np", "numba", "math"}


@dataclass(frozen=True)
class Step:
    """One quantity of a row: an entry array (elem), a reduction over i (sum, max), or a row scalar."""

    name: str
    op: str  # elem | sum | max | scalar | out
    value: object  # in i (elem, sum, max, out) or free of i (scalar)


@dataclass(frozen=True)
class Matrix:
    """J's row block: hoisted u_t(i), columns v_t(j), mixed (i, j) terms and the δ part d(i)."""

    rows: tuple  # (name, u_t(i))
    value: object  # J_ij without δ, in the hoisted names, v_t at j and mixed terms
    diagonal: object


@dataclass(frozen=True)
class Loop:
    """One pass over i = 0..n−1: entries computed, then sums accumulated; scalars computed after it."""

    steps: tuple
    after: tuple  # row scalars computable once this loop is done
    stored: frozenset  # elems written to a buffer (a later loop reads them)


@dataclass(frozen=True)
class Program:
    """The row program of one function: scalars before any loop, the loops, the buffers, the result."""

    before: tuple
    loops: tuple
    buffers: tuple
    result: object  # Matrix, or None when the last loop writes out[i]


def program(d, kind: str) -> Program:
    """The row program computing F, J, gᵀJ or J v for one row z (and g or v)."""
    fn = d.function
    z = d.input
    shift = stable.needs_shift(d.definition, z)
    if kind == "jacobian":
        diagonal, rest = products.split(d.general)
        target, matrix = _jacobian_parts(diagonal, rest)
    else:
        target, matrix = [Step("out", "out", broadcast.computed(d, kind))], None
    steps = _definitions(fn, kind, target) + target
    # Parameters given a value (--param T=0.5) take it here too: the derivation already did.
    values = dict(d.spelled.parameters)
    steps = [_replaced(s, values) for s in steps]
    if shift:
        # z − max(z) leaves F (and so its derivatives) unchanged, as stable.needs_shift proved.
        peak = Symbol(f"max_{fn.input}")
        moved = {e: e - peak for s in steps for e in s.value.atoms(Indexed) if e.base == z}
        steps = [Step(peak.name, "max", z[i])] + [_replaced(s, moved) for s in steps]
    taken = RESERVED | _names(steps)
    steps = _sums_lowered(steps, taken)
    steps = [Step(s.name, s.op, _stable(s.value, shift)) for s in steps]
    steps = _shared(steps, taken)
    if matrix is not None:
        # The matrix parts as the steps now read them: shifted, sums as accumulators, shared pieces named.
        used = {s.name: s.value for s in steps if s.op == "use"}
        rows = tuple((name, used[f"_use{t + 2}"]) for t, (name, _) in enumerate(matrix.rows))
        matrix = Matrix(rows, used["_use1"], used["_use0"])
    return _scheduled(steps, matrix)


def _jacobian_parts(diagonal, rest):
    """Entry steps for each column factor v_t, hoisted u_t(i), and the (i, j) value of J without δ."""
    steps, rows, value = [], [], S.Zero
    for t, term in enumerate(products.terms(rest)):
        if term.mixed is not None:
            value += term.mixed
            continue
        u, v = term.u, term.v
        if u.has(i):
            rows.append((f"u{t}", u))
            u = Symbol(f"u{t}")
        if not isinstance(v, Indexed) and v.has(i):
            steps.append(Step(f"v{t}", "elem", v))
            v = IndexedBase(f"v{t}")[i]
        value += u * v.xreplace({i: j})
    # The hoisted and δ parts read entries at i only; they join the steps as outputs so that
    # whatever they need is computed and kept.
    uses = [Step(f"_use{t}", "use", e) for t, e in enumerate([diagonal, value, *(u for _, u in rows)])]
    return steps + uses, Matrix(tuple(rows), value, diagonal)


def _definitions(fn, kind, target) -> list[Step]:
    """The intermediates and the output F that target uses, in order, as entry arrays or row scalars."""
    named = [(name, body) for name, body in fn.where]
    if kind != "forward":
        named.append((fn.output, fn.definition))
    wanted = _names(target)
    found = []
    for name, body in reversed(named):
        if name in wanted:
            wanted |= _names([Step(name, "", body)])
            found.insert(0, Step(name, "elem" if body.has(i) else "scalar", body))
    return found


def _names(steps) -> set:
    return {e.base.label.name for s in steps for e in s.value.atoms(Indexed)} | {
        x.name for s in steps for x in s.value.free_symbols if isinstance(x, Symbol)
    }


def _replaced(step, mapping):
    return Step(step.name, step.op, step.value.xreplace(mapping))


def _sums_lowered(steps, names) -> list[Step]:
    """Every Σ_k body_k as a sum step over i named after its body, innermost first, each computed once."""
    found = {}
    lowered = []

    def lower(expr):
        if isinstance(expr, Sum):
            if len(expr.limits) != 1 or tuple(expr.limits[0][1:]) != (1, n):
                raise NotApplicable(f"only sums over k = 1..n become loops, not {expr}")
            (k, _, _) = expr.limits[0]
            if expr.function.has(i):
                raise NotApplicable(f"Σ over {k} of a term in i ({expr}) would be a loop per entry")
            body = lower(expr.function).xreplace({k: i})
            if body not in found:
                name = fresh(f"sum_{_nickname(body) or 'x'}", names)
                found[body] = name
                lowered.append(Step(name, "sum", body))
            return Symbol(found[body])
        if not expr.args:
            return expr
        return expr.func(*(lower(a) for a in expr.args))

    for step in steps:
        value = lower(step.value)
        lowered.append(Step(step.name, step.op, value))
    return lowered


def _stable(value, shift):
    """expm1 and log1p where they apply, then log-sum-exp for what the max shift does not cover."""
    value = lowering.lower(value, shifted=shift)
    return value if shift else stable.logsumexp(value)


def _shared(steps, names) -> list[Step]:
    """Subexpressions used more than once computed once: entry ones as elems, others as row scalars."""
    # J's (i, j) value stays whole: a piece of it in j is neither an entry array nor a row scalar.
    pieces = [s for s in steps if not s.value.has(j)]
    found, reduced = cse([s.value for s in pieces], symbols=numbered_symbols("_cse"), order="canonical")
    rename, shared = {}, []
    for temporary, expr in found:
        expr = expr.xreplace(rename)
        name = fresh(_nickname(expr) or "x", names)
        if expr.has(i):
            rename[temporary] = IndexedBase(name)[i]
            shared.append(Step(name, "elem", expr))
        else:
            rename[temporary] = Symbol(name)
            shared.append(Step(name, "scalar", expr))
    values = {id(s): v.xreplace(rename) for s, v in zip(pieces, reduced, strict=True)}
    # Shared pieces first: each only uses pieces found before it.
    return shared + [Step(s.name, s.op, values.get(id(s), s.value)) for s in steps]


def _scheduled(steps, matrix) -> Program:
    """Each step placed in the earliest loop where what it reads is ready; same-loop steps fused.

    A loop only fills arrays: a reduction runs on a whole array after the loop that filled it, so that
    no loop carries a dependence from one entry to the next (and LLVM can vectorise it).
    """
    steps = _terms_named(steps)
    elems = {s.name for s in steps if s.op == "elem"}
    scalars = {s.name for s in steps if s.op in ("sum", "max", "scalar")}
    ready, loop_of = {}, {}  # scalar → loop after which it is ready (0: before any); elem → its loop
    order = _ordered(steps, elems | scalars)
    for s in order:
        after = max((ready[x] for x in _scalars_in(s.value, scalars)), default=0)
        if s.op in ("sum", "max"):
            ready[s.name] = max([after] + [loop_of[x] for x in _elems_in(s.value, elems)])
        elif s.op == "scalar":
            ready[s.name] = after
        else:
            loop_of[s.name] = max([after + 1] + [loop_of[x] for x in _elems_in(s.value, elems)])
    last = max(loop_of.values(), default=0)
    stored = set()
    for s in order:
        for x in _elems_in(s.value, elems):
            if s.op in ("use", "sum", "max") or loop_of[s.name] > loop_of[x]:
                stored.add(x)
    loops = []
    for number in range(1, last + 1):
        body = [s for s in order if s.op in ("elem", "out") and loop_of[s.name] == number]
        body = [s for s in body if s.op != "elem" or _used(s.name, order)]
        after = [s for s in order if s.name in ready and ready[s.name] == number]
        loops.append(Loop(tuple(body), tuple(after), frozenset(stored)))
    before = tuple(s for s in order if s.name in ready and ready[s.name] == 0)
    buffers = tuple(s.name for s in order if s.name in stored)
    return Program(before, tuple(loops), buffers, matrix)


def _terms_named(steps) -> list[Step]:
    """Each reduction over an array: Σ g_i s_i becomes the entry array g_s, then Σ over g_s."""
    found, names = [], {s.name for s in steps} | RESERVED
    for s in steps:
        if s.op in ("sum", "max") and not isinstance(s.value, Indexed):
            terms = fresh(_nickname(s.value) or "terms", names)
            found.append(Step(terms, "elem", s.value))
            s = Step(s.name, s.op, IndexedBase(terms)[i])
        found.append(s)
    return found


def _ordered(steps, names) -> list[Step]:
    """Steps in an order where each comes after the steps it reads (the given order, where it allows)."""
    by_name = {s.name: s for s in steps}
    done, order = set(), []

    def visit(s):
        if s.name in done:
            return
        done.add(s.name)
        for x in sorted(_scalars_in(s.value, names) | _elems_in(s.value, names)):
            if x in by_name and x != s.name:
                visit(by_name[x])
        order.append(s)

    for s in steps:
        visit(s)
    return order


def _used(name, steps) -> bool:
    return any(name in _elems_in(s.value, {name}) for s in steps)


def _scalars_in(expr, scalars) -> set:
    return {x.name for x in expr.free_symbols if isinstance(x, Symbol) and x.name in scalars}


def _elems_in(expr, elems) -> set:
    return {e.base.label.name for e in expr.atoms(Indexed) if e.base.label.name in elems}


def fresh(name, names) -> str:
    """name, or name with a number, not in names; added to them."""
    found = name
    if found in names:
        found = next(f"{name}{c}" for c in range(2, 10**6) if f"{name}{c}" not in names)
    names.add(found)
    return found


def _nickname(expr) -> str | None:
    """A name from what expr holds: z for z_i, exp_z for exp(z_i − m), g_s for g_i s_i."""
    if isinstance(expr, Indexed):
        return expr.base.label.name
    if isinstance(expr, Symbol) or isinstance(expr, Integer):
        return None
    bases = sorted({e.base.label.name for e in expr.atoms(Indexed)})
    if isinstance(expr, Function) and len(bases) == 1:
        return f"{type(expr).__name__.lower()}_{bases[0]}"
    if expr.is_Mul and all(isinstance(a, Indexed) for a in expr.args):
        return "_".join(a.base.label.name for a in expr.args)
    return None
