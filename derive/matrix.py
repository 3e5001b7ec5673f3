"""From the δ_ij form to cases, the matrix form diag(a) + Σ c u vᵀ, and the explicit n×n matrix."""

from __future__ import annotations

from sympy import (
    Add,
    Eq,
    HadamardPower,
    HadamardProduct,
    Identity,
    ImmutableMatrix,
    Indexed,
    KroneckerDelta,
    MatrixSymbol,
    Mul,
    Ne,
    OneMatrix,
    Pow,
    Sum,
    Symbol,
    ZeroMatrix,
    collect,
    expand,
    factor_terms,
)
from sympy.matrices.expressions import DiagMatrix

from derive.rewrite import positive_signs, tidy
from derive.symbols import i, j, n


def cases(general):
    """The general form split into the cases i = j and i ≠ j."""
    same = positive_signs(general.xreplace({j: i}))
    other = positive_signs(_without_delta(general))
    return ((Eq(i, j), same), (Ne(i, j), other))


def _without_delta(expr):
    return (
        tidy(expr.replace(lambda e: isinstance(e, KroneckerDelta), lambda e: 0))
        if expr.has(KroneckerDelta)
        else expr
    )


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
    from derive.symbols import vector

    return vector(element.parent.name)[element.i]


class Explicit:
    """The n×n Jacobian for a concrete n, instantiated from the general form entry by entry."""

    def __init__(self, general, size: int):
        self.size = size
        self.diagonal = positive_signs(general.xreplace({j: i}))
        self.off = positive_signs(_without_delta(general))
        self.bases = sorted({a.base for a in general.atoms(Indexed) if a.indices[0] in (i, j)}, key=str)

    def _at(self, index, value):
        subs = {b[index]: Symbol(f"{b.name}{value}") for b in self.bases}
        subs[index] = value
        return subs

    def entry(self, a: int, b: int):
        """J[a, b] with 1-based a, b."""
        if a == b:
            return self._concrete(self.diagonal.xreplace(self._at(i, a)))
        return self._concrete(self.off.xreplace({**self._at(i, a), **self._at(j, b)}))

    def _concrete(self, expr):
        return expr.xreplace({n: self.size}) if expr.has(Sum) or expr.has(n) else expr

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
        size = self.size
        return ImmutableMatrix(
            size, size, [self.entry(a, b) for a in range(1, size + 1) for b in range(1, size + 1)]
        )


class ExplicitVector:
    """The gradient of a scalar for a concrete n, instantiated from the general form entry by entry."""

    def __init__(self, general, size: int):
        self.size = size
        self.general = positive_signs(general)
        self.bases = sorted({a.base for a in general.atoms(Indexed) if a.indices[0] == i}, key=str)

    def entry(self, a: int):
        """g[a], 1-based."""
        subs = {b[i]: Symbol(f"{b.name}{a}") for b in self.bases}
        subs[i] = a
        value = self.general.xreplace(subs)
        return value.xreplace({n: self.size}) if value.has(n) else value

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
