"""From the δ_ij form to cases, the matrix form diag(a) + Σ c u vᵀ, and the explicit n×n matrix."""

from __future__ import annotations

from functools import cache

from sympy import (
    Add,
    Dummy,
    Eq,
    HadamardPower,
    HadamardProduct,
    Identity,
    ImmutableMatrix,
    Indexed,
    Integer,
    KroneckerDelta,
    MatrixSymbol,
    Mul,
    Ne,
    OneMatrix,
    Pow,
    Product,
    S,
    Sum,
    Symbol,
    ZeroMatrix,
    collect,
    expand,
    factor_terms,
)
from sympy.core.mul import _unevaluated_Mul
from sympy.matrices.expressions import DiagMatrix

from derive.engine.rewrite import Hidden, positive_signs, tidy
from derive.notation.symbols import i, j, n


def cases(general):
    """The general form split into the cases i = j and i ≠ j."""
    same = positive_signs(general.xreplace({j: i}))
    other = positive_signs(_without_delta(general))
    return ((Eq(i, j), same), (Ne(i, j), other))


def _without_delta(expr):
    if not expr.has(KroneckerDelta):
        return expr
    # S.Zero, not 0: where δ is the whole entry (the identity) the plain part is SymPy's zero, not an int.
    plain = expr.replace(lambda e: isinstance(e, KroneckerDelta), lambda e: S.Zero)
    # Sums as symbols: cancel expands a sum's body (Σ_l (z_l − μ)² into Σ z² − 2μΣ z + nμ², which cancels
    # in floating point where the entries are near one another).
    hidden = Hidden()
    tidied = hidden.reveal(tidy(hidden.hide(plain)))
    # Simplifying may turn exp(−Σ_k z_k) into a Product of exp(z_k), which no proof can compare: keep plain.
    return plain if tidied.has(Product) and not expr.has(Product) else tidied


def matrix_form(general):
    """diag(a) + Σ c u vᵀ equal to the general form, or None when it has no such shape."""
    # A factor common to every entry (1/T, 1/‖z‖) stays outside: (1/T)(diag(s) − s sᵀ).
    scale, core = factor_terms(general).as_independent(i, j, as_Add=False)
    form = _shape(core)
    return None if form is None else (form if scale == 1 else scale * form)


def _shape(general):
    delta = KroneckerDelta(i, j)
    parts = collect(expand(general), [delta], evaluate=False)
    if set(parts) - {delta, 1}:
        return None
    terms = []
    if delta in parts:
        diagonal = tidy(parts[delta].xreplace({j: i}))
        vec = as_vector(diagonal, i)
        if vec is None:
            return None
        terms.append(diagonal * Identity(n) if vec == "scalar" else DiagMatrix(vec))
    for term in Add.make_args(tidy(parts.get(1, 0))):
        outer = _outer(term)
        if outer is None:
            return None
        terms.append(outer)
    terms = [t for t in terms if t != 0]
    if not terms:
        return ZeroMatrix(n, n)
    return terms[0] if len(terms) == 1 else Add(*terms)  # MatAdd through Add's dispatch


def _outer(term):
    """c u vᵀ for a term c·u(i)·v(j), or None when i and j do not separate."""
    if term == 0:
        return 0
    left, right, scale = [], [], []
    for factor in Mul.make_args(term):
        has = factor.has(i), factor.has(j)
        if has == (True, True):
            return None
        (left if has[0] else right if has[1] else scale).append(factor)
    u = _vector_or_ones(Mul(*left), i)
    v = _vector_or_ones(Mul(*right), j)
    if u is None or v is None:
        return None
    return Mul(*scale) * u * v.T


def _vector_or_ones(expr, index):
    vec = as_vector(expr, index)
    if vec == "scalar":
        return OneMatrix(n, 1) if expr == 1 else None
    return vec


def as_vector(expr, index):
    """The n-vector whose index-th entry is expr, "scalar" if expr does not depend on index, else None."""
    if not expr.has(index):
        return "scalar"
    if isinstance(expr, Indexed) and expr.indices == (index,):
        return MatrixSymbol(expr.base.name, n, 1)
    if isinstance(expr, Mul):
        scale, parts = expr.as_independent(index, as_Add=False)
        vecs = [as_vector(f, index) for f in Mul.make_args(parts)]
        if any(v is None or v == "scalar" for v in vecs):
            return None
        body = vecs[0] if len(vecs) == 1 else HadamardProduct(*vecs, evaluate=False)
        return body if scale == 1 else scale * body
    if isinstance(expr, Add):
        vecs = []
        for term in Add.make_args(expr):
            vec = as_vector(term, index)
            if vec is None:
                return None
            vecs.append(term * OneMatrix(n, 1) if vec == "scalar" else vec)
        return Add(*vecs)
    if isinstance(expr, Pow) and not expr.exp.has(index):
        base = as_vector(expr.base, index)
        return None if base in (None, "scalar") else HadamardPower(base, expr.exp)
    return None


def entries(matrix_expr):
    """The (i, j) entry of a matrix expression, in indexed form, as SymPy's own semantics give it."""
    element = matrix_expr[i, j].doit()
    # Identity's entries come back as δ restricted to 0 ≤ i ≤ n − 1 (SymPy counts from 0): drop the range.
    element = element.replace(lambda e: isinstance(e, KroneckerDelta), lambda e: KroneckerDelta(*e.args[:2]))
    element = element.replace(
        lambda e: e.func.__name__ == "MatrixElement",
        lambda e: e.args[0].args[0] if e.args[0].func.__name__ == "OneMatrix" else _as_indexed(e),
    )
    return element


def _as_indexed(element):
    from derive.notation.symbols import vector

    return vector(element.parent.name)[element.i]


class Explicit:
    """The n×n Jacobian for a concrete n, instantiated from the general form entry by entry."""

    def __init__(self, general, size: int):
        self.size = size
        self._diagonal, self._off, self._slots, self._symmetric = _templates(general)
        self._sized = any(t.has(Sum) or t.has(n) for t in (self._diagonal, self._off))
        self._rows = {}

    @property
    def bases(self) -> list:
        """The indexed vectors the entries are written in (s, and data such as y)."""
        from derive.notation.symbols import vector

        return [vector(name) for _, name in self._slots[i]]

    def _at(self, index, value):
        subs = {slot: Symbol(f"{name}{value}") for slot, name in self._slots[index]}
        subs[index] = Integer(value)
        return subs

    def _row(self, a):
        # The off-diagonal entry with i = a, shared by the n − 1 entries of row a; and, when it is a
        # product with each s_j a factor of its own, its free symbols (see entry).
        if a not in self._rows:
            row = self._off.xreplace(self._at(i, a))
            plain = not self._sized and _plain_product(row, [slot for slot, _ in self._slots[j]])
            self._rows[a] = (row, row.free_symbols if plain else None)
        return self._rows[a]

    def entry(self, a: int, b: int):
        """J[a, b] with 1-based a, b."""
        if a == b:
            return self._concrete(self._diagonal.xreplace(self._at(i, a)))
        row, free = self._row(a)
        if free is not None:
            # −s_a·s_j with s_b for s_j: new symbols combine with no factor, so SymPy's product would
            # only sort the factors; sorting them directly gives the same object ten times faster.
            values = {slot: Symbol(f"{name}{b}") for slot, name in self._slots[j]}
            new = set(values.values())
            if len(new) == len(values) and not new & free:
                return _unevaluated_Mul(*(values.get(f, f) for f in row.args))
        return self._concrete(row.xreplace(self._at(j, b)))

    def _concrete(self, expr):
        # Integer, not int: xreplace does not sympify, and a bare n (n·z_i) would become a Python int.
        return expr.xreplace({n: Integer(self.size)}) if self._sized else expr

    def positions(self):
        """Every (a, b), row by row."""
        return ((a, b) for a in range(1, self.size + 1) for b in range(1, self.size + 1))

    def samples(self):
        """Corners and the middle of the diagonal: where a proof at large n looks."""
        size = self.size
        corners = {(1, 1), (1, 2), (2, 1), (size, size), (size, 1), (size // 2 + 1, size // 2 + 1)}
        return sorted((a, b) for a, b in corners if a <= size and b <= size)

    def matrix(self) -> ImmutableMatrix:
        """The whole matrix."""
        size, rows = self.size, []
        for a in range(1, size + 1):
            # Below the diagonal of a symmetric matrix, J[a, b] is J[b, a], already built.
            mirrored = [rows[b - 1][a - 1] for b in range(1, a)] if self._symmetric else []
            rows.append(mirrored + [self.entry(a, b) for b in range(len(mirrored) + 1, size + 1)])
        return ImmutableMatrix(rows)


class ExplicitVector:
    """The gradient of a scalar for a concrete n, instantiated from the general form entry by entry."""

    def __init__(self, general, size: int):
        self.size = size
        self.general = positive_signs(general)
        self.bases = sorted({a.base for a in general.atoms(Indexed) if a.indices[0] == i}, key=str)

    def entry(self, a: int):
        """g[a], 1-based."""
        subs = {b[i]: Symbol(f"{b.name}{a}") for b in self.bases}
        subs[i] = Integer(a)
        value = self.general.xreplace(subs)
        return value.xreplace({n: Integer(self.size)}) if value.has(n) else value

    def positions(self):
        """Every (a,)."""
        return ((a,) for a in range(1, self.size + 1))

    def samples(self):
        """First, middle and last."""
        return sorted({(1,), (self.size // 2 + 1,), (self.size,)})

    def matrix(self) -> ImmutableMatrix:
        """The gradient as an n×1 matrix."""
        return ImmutableMatrix(self.size, 1, [self.entry(a) for a in range(1, self.size + 1)])


def as_vector_form(gradient):
    """The gradient as a vector expression (s − y), or None."""
    vec = as_vector(gradient, i)
    if vec == "scalar":
        return gradient * OneMatrix(n, 1)
    return vec


def _plain_product(expr, slots) -> bool:
    """Whether expr is a product in which each slot, if present, is a factor of its own."""
    if not (isinstance(expr, Mul) and expr.is_commutative) or expr.has(j):
        return False
    return not any(f.has(*slots) for f in expr.args if f not in slots)


@cache
def _templates(general):
    """The diagonal and off-diagonal entries with s_i, s_j as plain slots, the slots, and whether the
    off-diagonal entry is symmetric in i and j."""
    # Instantiating n² entries is mostly xreplace: plain symbols hash and compare far faster than s[i].
    bases = sorted({a.base for a in general.atoms(Indexed) if a.indices[0] in (i, j)}, key=str)
    slots = {index: [(Dummy(f"{b.name}_{index}"), b.name) for b in bases] for index in (i, j)}
    to_slots = {b[index]: slot for index in (i, j) for b, (slot, _) in zip(bases, slots[index], strict=True)}
    diagonal = positive_signs(general.xreplace({j: i})).xreplace(to_slots)
    off = positive_signs(_without_delta(general)).xreplace(to_slots)
    pairs = [(i, j)] + [(x, y) for (x, _), (y, _) in zip(slots[i], slots[j], strict=True)]
    swap = {**dict(pairs), **{y: x for x, y in pairs}}
    return diagonal, off, slots, off.xreplace(swap) == off
