"""Several inputs: the derivative with respect to each input, one block each, in index and matrix form."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import product

import mpmath
from sympy import (
    Indexed,
    IndexedBase,
    KroneckerDelta,
    Mul,
    Product,
    Rational,
    Sum,
    Symbol,
    exp,
    log,
    powsimp,
)

from derive.engine import registry
from derive.engine.definition import Definition, _inline, define, solved_for
from derive.engine.differentiate import collapse, direct, partial
from derive.engine.prove import Proof, vanishes
from derive.engine.rewrite import in_terms_of
from derive.engine.summed import in_terms_of_summed
from derive.engine.sums import normalize_sums, renamed_apart, written_out
from derive.engine.tensors import Shapes, entry, to_matrix
from derive.errors import InvalidInput, ProofFailed
from derive.guard.budget import stage
from derive.notation.function import Function
from derive.notation.symbols import DIMENSIONS, dimension, i, j, matrix, u

# The sizes every block is compared at with direct differentiation, entry by entry: each dimension 2 or 3.
INSTANCES = ((2, 3, 2), (3, 2, 3))
MAX_SIZE = 4096
EVERY_ENTRY_UP_TO = 64  # entries of one block at a given size; above, its corners
SAMPLED = (
    6  # entries compared at a size beyond WRITE_OUT_UP_TO: each costs a pass over every entry of the inputs
)
WRITE_OUT_UP_TO = 4  # the largest size at which the definition is written out term by term to be compared
SEED, DIGITS = 20261121, 40  # above it: the seeded point both sides are evaluated at, and to how many digits


@dataclass(frozen=True)
class Block:
    """The derivative with respect to one input: ∂L/∂W_ij (a scalar) or ∂o_i/∂K_ju (a vector function)."""

    input: object  # the Input record
    wrt: object  # the entry differentiated against, e.g. W[i, j]
    index: tuple  # the free indices of the form, the output's i first for a vector function
    raw: object  # as differentiation gives it, in the inputs
    general: object  # in the function's outputs and intermediates, e.g. (s_i − y_i) x_j
    matrix_form: object  # (s − y) xᵀ, or None (a vector function's block with a matrix input)
    proofs: tuple


@dataclass(frozen=True)
class Blocks:
    """Everything derived about a function of several inputs: one block per input asked for."""

    function: Function
    spelled: Definition
    sizes: dict  # dimension name -> size, for the sizes given (others symbolic)
    blocks: tuple
    assumed: tuple  # the assumptions some block depends on, as (expression, value)
    wrt: tuple | None = None  # the inputs asked for, None for every one (then code returns all)

    @property
    def kind(self) -> str:
        """'vector' or 'scalar'."""
        return self.spelled.kind

    @property
    def proofs(self) -> tuple:
        """Every block's proofs, in order."""
        return tuple(p for b in self.blocks for p in b.proofs)

    @property
    def proven(self) -> bool:
        return all(p.holds for p in self.proofs)

    def block(self, name: str) -> Block:
        """The block of the input called name."""
        return next(b for b in self.blocks if b.input.name == name)


def several(function) -> bool:
    """Whether function (a name or a Function) declares several named inputs."""
    fn = registry.get(function) if isinstance(function, str) else function
    return bool(fn.inputs)


def derive_blocks(
    function, sizes: dict | None = None, params: dict | None = None, wrt=None, fetch=None, prove_at=None
) -> Blocks:
    """The derivative of a function of several inputs with respect to each input named in wrt (default:
    every input that is not data), proven for any sizes and, entry by entry, at the sizes given.

    fetch(spelled, inp, _block) and prove_at(spelled, derived, sizes, _at_sizes) may stand in for each
    block's derivation and its proof at the sizes (engine/blockstore.py reads them from the disk)."""
    fetch = fetch or (lambda spelled, inp, derive_it: derive_it(spelled, inp))
    prove_at = prove_at or (lambda spelled, derived, sizes, prove_it: prove_it(spelled, derived, sizes))
    fn = registry.get(function) if isinstance(function, str) else function
    chosen = _chosen(fn, wrt)
    sizes = _checked_sizes(fn, sizes or {})
    stage("defining")
    spelled = define(fn, params or {})
    blocks = tuple(fetch(spelled, inp, _block) for inp in chosen)
    if sizes:
        stage("proving the blocks at the sizes given")
        blocks = tuple(prove_at(spelled, b, sizes, _at_sizes) for b in blocks)
    used = tuple(dict.fromkeys(a for b in blocks for a in spelled.assumptions_used(b.raw_before)))
    asked = None if not wrt else tuple(x.name for x in chosen)
    return Blocks(spelled.function, spelled, sizes, tuple(b.block for b in blocks), used, asked)


@dataclass(frozen=True)
class _Derived:
    block: Block
    raw_before: object  # the derivative before the assumptions were applied


def _chosen(fn: Function, wrt) -> tuple:
    inputs = fn.declared_inputs
    if not wrt:
        return tuple(x for x in inputs if not x.data)
    names = {x.name: x for x in inputs}
    for name in wrt:
        if name not in names or names[name].data:
            allowed = ", ".join(x.name for x in inputs if not x.data)
            what = "data (a target), not differentiated," if name in names else "no input"
            raise InvalidInput(f"--wrt {name} is {what} of '{fn.name}'; its inputs: {allowed}")
    return tuple(names[name] for name in dict.fromkeys(wrt))


def _checked_sizes(fn: Function, sizes: dict) -> dict:
    known = sorted({dim for x in fn.declared_inputs for dim in x.dims} | {fn.dim})
    checked = {}
    for name, value in sizes.items():
        if name not in known:
            raise InvalidInput(f"'{fn.name}' has no dimension '{name}'; its dimensions: {', '.join(known)}")
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIZE:
            raise InvalidInput(f"dimension {name} must be a whole number from 1 to {MAX_SIZE}, got {value!r}")
        checked[name] = value
    return checked


def _indices(spelled: Definition, inp) -> tuple:
    """The entry's indices: (i,) or (i, j) for a scalar's gradient; (j,) or (j, u) after a vector's i."""
    return ((i, j) if spelled.kind == "scalar" else (j, u))[: len(inp.dims)]


def shapes_of(spelled: Definition) -> dict:
    """Each indexed name's dimensions: the inputs as declared, the output and vector intermediates as
    the dimension their index i ranges over (found where i indexes an input)."""
    fn = spelled.function
    names = {x.name: tuple(dimension(dim) for dim in x.dims) for x in fn.declared_inputs}
    for a in sorted(spelled.expanded.atoms(Indexed), key=str):  # data vectors not declared (y) run over n
        names.setdefault(a.base.name, (dimension(fn.dim),) * len(a.indices))
    for key, body in spelled.rewrites:
        if isinstance(key, IndexedBase):
            names[key.name] = (_dimension_of_i(body, names) or dimension(fn.dim),)
    return names


def _dimension_of_i(body, names):
    for a in sorted(body.atoms(Indexed), key=str):
        if a.base.name in names and i in a.indices:
            return names[a.base.name][a.indices.index(i)]
    return None


def _block(spelled: Definition, inp) -> _Derived:
    base = matrix(inp.name)
    index = _indices(spelled, inp)
    wrt = base[index]
    inputs = tuple(matrix(x.name) for x in spelled.function.declared_inputs)
    stage(f"differentiating with respect to {inp.name}")
    # e^{−u} e^{u} of a u with sums in it is left as a product by SymPy: combined, it is 1.
    before = _exp_combined(collapse(_exp_combined(partial(spelled.expanded, wrt))))
    raw = spelled.assume(before)
    stage(f"simplifying the derivative with respect to {inp.name}")
    free = (i, *index) if spelled.kind == "vector" else index
    # Nested sums named from the outside in, here and in the definitions, so that the same sum is
    # recognised wherever it stands.
    rewrites = tuple((key, renamed_apart(body)) for key, body in spelled.rewrites)
    rewritten = in_terms_of(renamed_apart(raw), rewrites, inputs)
    rewritten = in_terms_of_summed(rewritten, rewrites, inputs)
    names = shapes_of(spelled)
    dims = {x: names[inp.name][p] for p, x in enumerate(index)}
    if spelled.kind == "vector":
        dims[i] = dimension(spelled.function.dim)
    shapes = Shapes(names, dims)
    stage(f"proving the derivative with respect to {inp.name}")
    for general in dict.fromkeys((rewritten, raw)):
        difference = renamed_apart(spelled.assume(to_inputs(spelled, general) - raw))
        first = Proof("general", vanishes(difference), _SUBSTITUTE)
        if first.holds:
            break
    form = to_matrix(general, free, shapes) if len(free) <= 2 else None
    if form is not None:
        second = Proof("matrix", vanishes(entry(form, free, shapes) - general), _MATRIX)
        if not second.holds:
            form, second = None, Proof("matrix", True, "no matrix form: nothing to prove", cases=0)
    else:
        second = Proof("matrix", True, "no matrix form: nothing to prove", cases=0)
    third = instances(spelled, inp, wrt, free, general)
    block = Block(inp, wrt, free, raw, general, form, tuple(_require(p) for p in (first, second, third)))
    return _Derived(block, before)


def _exp_combined(expr):
    """Sums normalised and every product's exponentials combined: e^{−u} e^{u} is 1, and the
    Π_m e^{W_km x_m} SymPy's doit makes of e^{Σ_m W_km x_m} is that exponential again."""
    expr = expr.replace(
        lambda e: isinstance(e, Product) and isinstance(e.function, exp),
        lambda e: exp(Sum(e.function.args[0], *e.limits)),
    )
    expr = normalize_sums(expr)
    return expr.replace(lambda e: isinstance(e, Mul) and e.has(exp), lambda e: powsimp(e, combine="exp"))


_SUBSTITUTE = "substitute the definitions back, cancel"
_MATRIX = "SymPy's entry of the matrix expression"


def to_inputs(spelled: Definition, expr):
    """expr with the output and every intermediate replaced by its body in the inputs."""
    return _inline(expr, spelled.rewrites)


def instances(spelled, inp, wrt, free, general) -> Proof:
    """The block at small sizes (each dimension 2 or 3) equals direct differentiation, entry by entry."""
    count = 0
    for values in INSTANCES:
        sizes = dict(zip(DIMENSIONS, values, strict=True))
        failed, checked = _compare(spelled, wrt, free, general, sizes, None)
        count += checked
        if failed:
            shown = ", ".join(f"{k} = {v}" for k, v in sizes.items())
            return Proof("instances", False, "direct differentiation", count, f"{shown}, entry {failed}")
    return Proof("instances", True, "the definition differentiated directly, every dimension 2 or 3", count)


def _at_sizes(spelled, derived: _Derived, given: dict) -> _Derived:
    block = derived.block
    sizes = {dim: given.get(dim.name, 2) for dim in DIMENSIONS}
    failed, checked = _compare(spelled, block.wrt, block.index, block.general, sizes, EVERY_ENTRY_UP_TO)
    shown = ", ".join(f"{k} = {v}" for k, v in sizes.items())
    how = (
        ""
        if max(sizes.values()) <= WRITE_OUT_UP_TO
        else f", both at a seeded rational point to {DIGITS} digits"
    )
    proof = _require(
        Proof(
            "explicit",
            not failed,
            f"direct differentiation at {shown}{how}",
            checked,
            f"entry {failed}" if failed else "",
        )
    )
    return _Derived(Block(**{**block.__dict__, "proofs": block.proofs + (proof,)}), derived.raw_before)


def _compare(spelled, wrt, free, general, sizes, cap):
    """The first entry where the form differs from direct differentiation at these sizes, and the count."""
    ranges = _ranges(spelled, wrt, free, sizes)
    picks = list(product(*ranges))
    # Small sizes are written out term by term and compared symbolically; at larger ones (n = d = 16 is
    # thousands of terms) the sums stay sums, each side is differentiated exactly, and the two are compared
    # at a seeded point of exact rationals, evaluated to 40 digits.
    small = max(sizes.values()) <= WRITE_OUT_UP_TO
    if cap is not None and not small:
        cap = min(cap, SAMPLED)
    if cap is not None and len(picks) > cap:
        # the corners, the middle, and seeded others: an entry-dependent slip shows at one of them
        rng = random.Random(SEED)
        chosen = {tuple(r[0] for r in ranges), tuple(r[-1] for r in ranges), picks[len(picks) // 2]}
        while len(chosen) < cap:
            chosen.add(tuple(rng.choice(r) for r in ranges))
        picks = sorted(chosen)
    body = to_inputs(spelled, general)
    fixes = _fixes(spelled, sizes) if small else None
    point = None if small else _prepared(spelled, tuple(sorted(sizes.items(), key=str)))
    outputs, written = {}, {}  # the output at each row, and every sum, written out once
    memos = {}  # by entry: the derivatives of the subexpressions the rows share
    for pick in picks:
        at = dict(zip(free, pick, strict=True))
        row = at.get(i) if spelled.kind == "vector" else None
        if row not in outputs:
            value = spelled.expanded.xreplace({i: row} if row else {})
            outputs[row] = _written(value, sizes, written) if small else value.xreplace(sizes)
        entry_wrt = wrt.base[tuple(at[x] for x in wrt.indices)]
        # At a point, a sum over δ is summed term by term: collapsing it symbolically first (Sum.doit)
        # cost more than the evaluation it saved.
        differentiated = direct(outputs[row], entry_wrt, memos.setdefault(entry_wrt, {}), collapsed=small)
        if small:
            same = vanishes(fixes(_written(body.xreplace(at), sizes, written)) - fixes(differentiated))
        else:
            at_point = _at_point(body.xreplace(at).xreplace(sizes), point)
            same = _agree(at_point, _at_point(differentiated, point))
        if not same:
            return pick, len(picks)
    return None, len(picks)


def _point(spelled, sizes) -> dict:
    """Every input entry at a seeded rational in [-1, 1] (a target a positive vector summing to 1), by
    (name, indices): building an Indexed for each of thousands of entries was most of the time."""
    rng = random.Random(SEED)
    values = {}
    for x in spelled.function.declared_inputs:
        shape = [sizes[dimension(dim)] for dim in x.dims]
        entries = list(product(*(range(1, s + 1) for s in shape)))
        drawn = [Rational(rng.randint(-1000, 1000), 1000) for _ in entries]
        if x.data:
            drawn = [Rational(rng.randint(1, 1000), 1000) for _ in entries]
            total = sum(drawn)  # once, not once per entry: n² additions of rationals at n = 64
            drawn = [v / total for v in drawn]
        values.update({(x.name, e): v for e, v in zip(entries, drawn, strict=True)})
    for name in spelled.function.parameter_names:  # a parameter left symbolic: a seeded positive value
        values[Symbol(name, positive=True)] = Rational(rng.randint(1, 1000), 1000)
    drawn_for = {x.name for x in spelled.function.declared_inputs}
    for a in sorted(spelled.expanded.atoms(Indexed), key=str):  # a target not declared (y over n)
        if a.base.name not in drawn_for and len(a.indices) == 1:
            drawn_for.add(a.base.name)
            size = sizes[dimension(spelled.function.dim)]
            drawn = [Rational(rng.randint(1, 1000), 1000) for _ in range(size)]
            total = sum(drawn)
            values.update({(a.base.name, (k + 1,)): v / total for k, v in enumerate(drawn)})
    return values


def _at_point(expr, point):
    """expr's value at the point (a _Point), to DIGITS digits: sums looped over, not written out."""
    with mpmath.workdps(DIGITS):
        return _value(expr, point, {}, point.seen)


@lru_cache(maxsize=4)  # its seen values grow with the sums evaluated: the last few sizes only
def _prepared(spelled, sizes: tuple) -> _Point:
    """The point's values at these sizes ((dimension, size) pairs), at DIGITS digits; one for every
    block, which share what they compute there (the same sums)."""
    values = _point(spelled, dict(sizes))
    with mpmath.workdps(DIGITS):
        return _Point({x: mpmath.mpf(v.p) / v.q for x, v in values.items()}, {}, {})


_CALLS = {exp: mpmath.exp, log: mpmath.log, KroneckerDelta: lambda a, b: mpmath.mpf(a == b)}


@dataclass(frozen=True)
class _Point:
    numbers: dict  # Symbol or (name, indices) -> mpf
    free: dict  # expr -> its free symbols
    seen: dict  # (expr, its indices' values) -> value: a sum both sides share is computed once


def _entry_key(x):
    return (x.base.name, tuple(int(v) for v in x.indices)) if isinstance(x, Indexed) else x


def _value(expr, point, bound, seen):
    """expr at the point, with the summation indices at bound; seen holds what was computed, by the values
    of the indices it depends on (Σ_m e^{z_m} inside Σ_k is computed once, not n times)."""
    if expr in bound:
        return bound[expr]
    key = (expr, tuple(bound[x] for x in _symbols(expr, point.free) if x in bound))
    if key not in seen:
        seen[key] = _computed(expr, point, bound, seen)
    return seen[key]


def _symbols(expr, known) -> tuple:
    """The symbols free in expr, sorted by name, each node's found once from its arguments' (known):
    free_symbols walks the whole subtree again at every node."""
    got = known.get(expr)
    if got is None:
        if isinstance(expr, Symbol):
            found = {expr}
        elif isinstance(expr, Sum):
            found = set(_symbols(expr.function, known))
            for index, *bounds in expr.limits:
                found.discard(index)
                found.update(*(_symbols(b, known) for b in bounds))
        else:
            found = set().union(*(_symbols(a, known) for a in expr.args)) if expr.args else set()
        got = known[expr] = tuple(sorted(found, key=str))
    return got


def _computed(expr, point, bound, seen):
    if isinstance(expr, Symbol):
        return point.numbers[expr]
    if expr.is_Number:
        return mpmath.mpf(expr.p) / expr.q if expr.is_Rational else mpmath.mpf(str(expr))
    if isinstance(expr, Indexed):
        at = tuple(int(_value(x, point, bound, seen)) for x in expr.indices)
        return point.numbers[(expr.base.name, at)]
    if isinstance(expr, Sum):
        (index, low, high), *more = expr.limits
        total = mpmath.mpf(0)
        inner = Sum(expr.function, *more) if more else expr.function
        for at in range(int(_value(low, point, bound, seen)), int(_value(high, point, bound, seen)) + 1):
            total += _value(inner, point, {**bound, index: at}, seen)
        return total
    if expr.is_Mul and expr.has(KroneckerDelta):
        # δ factors first: a term of a sum over δ that is 0 is not evaluated further (what collapsing
        # the sum symbolically would have dropped)
        product = mpmath.mpf(1)
        for a in sorted(expr.args, key=lambda a: not isinstance(a, KroneckerDelta)):
            product *= _value(a, point, bound, seen)
            if not product:
                return product
        return product
    args = [_value(a, point, bound, seen) for a in expr.args]
    if expr.is_Add:
        return mpmath.fsum(args)
    if expr.is_Mul:
        return mpmath.fprod(args)
    if expr.is_Pow:
        return args[0] ** args[1]
    if type(expr) in _CALLS:
        return _CALLS[type(expr)](*args)
    raise ProofFailed(f"proof failed: cannot evaluate {type(expr).__name__} at a point")


def _agree(a, b) -> bool:
    return bool(abs(a - b) <= mpmath.mpf(10) ** (10 - DIGITS) * max(1, abs(b)))


def _ranges(spelled, wrt, free, sizes):
    names = shapes_of(spelled)
    dims = {x: names[wrt.base.name][p] for p, x in enumerate(wrt.indices)}
    if spelled.kind == "vector":
        dims[i] = dimension(spelled.function.dim)
    return [range(1, sizes[dims[x]] + 1) for x in free]


def _written(expr, sizes, written=None):
    """expr at these sizes, its sums written out term by term (written: the sums already written)."""
    return written_out(expr.xreplace(sizes), written)


def _fixes(spelled, sizes):
    """Each assumption solved for its last variable at these sizes (y_n = 1 − Σ_{k<n} y_k)."""
    fixes = {}
    for lhs, rhs in spelled.assumptions:
        concrete = _written(lhs, sizes)
        last = max(concrete.atoms(Indexed), key=lambda a: (str(a.base), a.indices))
        fixes[last] = solved_for(concrete - rhs, last)
    return lambda e: e.xreplace(fixes)


def _require(proof: Proof) -> Proof:
    if not proof.holds:
        raise ProofFailed(f"proof failed: {proof.claim} ({proof.method}; {proof.detail})")
    return proof


@cache
def _cached(function, sizes, params, wrt):
    return derive_blocks(function, dict(sizes), dict(params), wrt)
