"""Row programs: a function of one row z as loops over its entries, each Σ an accumulator."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import (
    Function,
    Indexed,
    IndexedBase,
    Integer,
    Mul,
    Pow,
    S,
    Sum,
    Symbol,
    cse,
    expand_log,
    log,
    numbered_symbols,
)

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
    in_out: str | None = None  # the buffer kept in the output row until the last loop overwrites it


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
    steps = _logs_opened([_replaced(s, values) for s in steps])
    if shift:
        # z − max(z) leaves F (and so its derivatives) unchanged, as stable.needs_shift proved.
        peak = Symbol(f"max_{fn.input}")
        moved = {e: e - peak for s in steps for e in s.value.atoms(Indexed) if e.base == z}
        steps = [Step(peak.name, "max", z[i])] + [_replaced(s, moved) for s in steps]
    taken = RESERVED | _names(steps)
    steps = _sums_lowered(steps, taken)
    steps = [Step(s.name, s.op, _stable(s.value, shift)) for s in steps]
    steps = _reciprocals(_shared(steps, taken), taken)
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


def _logs_opened(steps) -> list[Step]:
    """log x_i of a computed x as the log of x's definition, opened where SymPy proves the factors
    positive: log(e^a/Σ e^b) = a − log Σ e^b, where the log of the quotient would be log 0 = −inf once
    e^a underflows."""
    defined = {s.name: s.value for s in steps if s.op == "elem"}

    def named(e):
        return isinstance(e, log) and isinstance(e.args[0], Indexed) and e.args[0].indices == (i,)

    def opened(e):
        return expand_log(log(defined[e.args[0].base.label.name]))

    def known(e):
        return named(e) and e.args[0].base.label.name in defined

    return [Step(s.name, s.op, s.value.replace(known, opened)) for s in steps]


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


def _reciprocals(steps, names) -> list[Step]:
    """Each entry's division by a row scalar as a product with its reciprocal, taken once per row.

    A division costs several multiplications and does not pipeline: 1/Σ once per row and a product per
    entry measured 16% faster at n = 1000 (BENCHMARKS.md, numbaexp), at the cost of one more rounding.
    """
    found = {}

    def hoisted(power):
        if power not in found:
            name = fresh(f"inv_{_nickname(power.base) or power.base}", names)
            found[power] = Symbol(name)
        return found[power]

    def divides(e):
        return isinstance(e, Pow) and e.exp.is_Number and e.exp < 0 and e.base.free_symbols and not e.has(i)

    entries = []
    for s in steps:
        if s.op in ("elem", "out"):
            s = Step(s.name, s.op, s.value.replace(divides, hoisted))
        entries.append(s)
    return [Step(name.name, "scalar", power) for power, name in found.items()] + entries


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

    A loop only fills arrays: a reduction runs on whole arrays after the loop that filled them, so that
    no loop carries a dependence from one entry to the next (and LLVM can vectorise it).
    """
    if matrix is None:
        steps = _recomputed(steps)
    steps = _terms_named(_factored(steps))
    elems = {s.name for s in steps if s.op == "elem"}
    scalars = {s.name for s in steps if s.op in ("sum", "max", "scalar")}
    order = _ordered(steps, elems | scalars)
    ready, loop_of = _placed(order, elems, scalars)
    last = max(loop_of.values(), default=0)
    stored = _stored(order, elems, loop_of)
    loops = []
    for number in range(1, last + 1):
        body = [s for s in order if s.op in ("elem", "out") and loop_of[s.name] == number]
        body = [s for s in body if s.op != "elem" or _used(s.name, order)]
        after = [s for s in order if s.name in ready and ready[s.name] == number]
        loops.append(Loop(tuple(body), tuple(after), frozenset(stored)))
    before = tuple(s for s in order if s.name in ready and ready[s.name] == 0)
    buffers = tuple(s.name for s in order if s.name in stored)
    # Every buffer is read at entry i only, and the last loop reads entry i before it writes out[i]: so
    # one buffer can live in the output row, which the row's result overwrites entry by entry.
    in_out = buffers[0] if buffers and matrix is None else None
    return Program(before, tuple(loops), buffers, matrix, in_out)


def _placed(order, elems, scalars):
    """scalar → the loop after which it is ready (0: before any loop); elem or out → its loop."""
    ready, loop_of = {}, {}
    for s in order:
        after = max((ready[x] for x in _scalars_in(s.value, scalars)), default=0)
        if s.op in ("sum", "max"):
            ready[s.name] = max([after] + [loop_of[x] for x in _elems_in(s.value, elems)])
        elif s.op == "scalar":
            ready[s.name] = after
        else:
            loop_of[s.name] = max([after + 1] + [loop_of[x] for x in _elems_in(s.value, elems)])
    return ready, loop_of


def _stored(order, elems, loop_of) -> set:
    """The entry arrays kept in a buffer: read by a reduction, or by a later loop."""
    stored = set()
    for s in order:
        for x in _elems_in(s.value, elems):
            if s.op in ("use", "sum", "max") or loop_of[s.name] > loop_of[x]:
                stored.add(x)
    return stored


def _recomputed(steps) -> list[Step]:
    """Steps with each stored entry array that is plain arithmetic recomputed where it is read.

    +, −, × and ÷ of entries already at hand cost about what a buffer's store and load cost, and save a
    pass over the row; an array made by exp, log, a root or any other call stays in its buffer. An array
    reading two computed arrays stays too: recomputing it would keep both in buffers instead of one.
    """
    for _ in range(len(steps)):
        trial = _terms_named(_factored(steps))
        elems = {s.name for s in trial if s.op == "elem"}
        scalars = {s.name for s in trial if s.op in ("sum", "max", "scalar")}
        order = _ordered(trial, elems | scalars)
        _, loop_of = _placed(order, elems, scalars)
        stored = _stored(order, elems, loop_of)
        computed = {s.name for s in steps if s.op == "elem"}
        cheap = [
            s
            for s in steps
            if s.name in stored and _arithmetic(s.value) and len(_elems_in(s.value, computed)) <= 1
        ]
        if not cheap:
            return steps
        s = cheap[0]
        steps = [t for t in steps if t is not s]
        entry = {e: s.value for t in steps for e in t.value.atoms(Indexed) if e.base.label.name == s.name}
        steps = [_replaced(t, entry) for t in steps]
    return steps


def _arithmetic(expr) -> bool:
    """Whether expr is +, −, × and integer powers of entries and scalars: no call to any function."""
    if isinstance(expr, Function):
        return False
    if isinstance(expr, Pow) and not expr.exp.is_Integer:
        return False
    return all(_arithmetic(a) for a in expr.args if not isinstance(a, Indexed))


def _factored(steps) -> list[Step]:
    """Σ_i c·t_i as c·Σ_i t_i: a factor free of i leaves the sum, so the sum may read arrays directly."""
    found, names = [], {s.name for s in steps} | RESERVED
    for s in steps:
        if s.op == "sum" and isinstance(s.value, Mul):
            outer = [a for a in s.value.args if not a.has(i)]
            if outer:
                inner = Mul(*(a for a in s.value.args if a.has(i)))
                total = fresh(f"sum_{_nickname(inner) or 'terms'}", names)
                found.append(Step(total, "sum", inner))
                s = Step(s.name, "scalar", Mul(*outer) * Symbol(total))
        found.append(s)
    return found


def _terms_named(steps) -> list[Step]:
    """Each reduction reads whole arrays: Σ (z_i − μ)² becomes the entry array terms, then Σ over it; one
    array (Σ s_i) and a dot product of two (Σ g_i s_i, Σ s_i²) are read as they are."""
    found, names = [], {s.name for s in steps} | RESERVED
    for s in steps:
        if s.op in ("sum", "max") and not (isinstance(s.value, Indexed) or s.op == "sum" and dot(s.value)):
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


def dot(expr):
    """The two arrays of a dot product a_i b_i (or a_i²), else None."""
    if isinstance(expr, Pow) and expr.exp == 2 and isinstance(expr.base, Indexed):
        return expr.base, expr.base
    if isinstance(expr, Mul) and len(expr.args) == 2 and all(isinstance(a, Indexed) for a in expr.args):
        return expr.args
    return None
