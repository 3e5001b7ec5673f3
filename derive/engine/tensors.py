"""Indexed forms with several inputs as SymPy matrix expressions ((s − y) xᵀ, Wᵀ(s − y)), and back."""

from __future__ import annotations

from sympy import (
    Add,
    DiagMatrix,
    HadamardPower,
    HadamardProduct,
    Identity,
    Indexed,
    KroneckerDelta,
    MatrixSymbol,
    Mul,
    OneMatrix,
    Pow,
    Sum,
    Transpose,
)

from derive.engine.differentiate import in_range
from derive.engine.sums import _canonical_sum, free_indices


class Shapes:
    """The dimension of each indexed name (x: (d,), W: (n, d)) and of each free index, for one block."""

    def __init__(self, names: dict, indices: dict):
        self.names = names  # base name -> tuple of dimension symbols
        self.indices = dict(indices)  # index symbol -> dimension symbol

    def symbol(self, name: str):
        dims = self.names[name]
        return MatrixSymbol(name, dims[0], 1) if len(dims) == 1 else MatrixSymbol(name, *dims)

    def with_index(self, index, dim) -> Shapes:
        return Shapes(self.names, {**self.indices, index: dim})


def to_matrix(expr, index: tuple, shapes: Shapes):
    """The matrix expression whose entry at index (a row, or row and column) is expr, or None."""
    try:
        return _convert(expr, tuple(index), shapes)
    except _NoForm:
        return None


class _NoForm(Exception):
    """expr has no shape this conversion knows."""


def _convert(expr, index, shapes):
    free = free_indices(expr) & set(shapes.indices) if expr.free_symbols else set()
    if not free - set(index) == set():
        raise _NoForm
    rows = shapes.indices[index[0]]
    cols = shapes.indices[index[1]] if len(index) == 2 else 1
    if not free:
        return expr * OneMatrix(rows, cols)
    if len(index) == 2 and free != set(index):
        # An entry of one index only: a vector spread along the other, u 𝟏ᵀ or 𝟏 vᵀ.
        (only,) = free
        vec = _convert(expr, (only,), shapes)
        return vec * OneMatrix(1, cols) if only == index[0] else OneMatrix(rows, 1) * Transpose(vec)
    if isinstance(expr, Add):
        return Add(*(_convert(t, index, shapes) for t in Add.make_args(expr)))
    if isinstance(expr, Mul):
        return _product(expr, index, shapes)
    if isinstance(expr, Indexed):
        return _entry(expr, index, shapes)
    if isinstance(expr, Pow) and not expr.exp.free_symbols & free and len(index) == 1:
        return HadamardPower(_convert(expr.base, index, shapes), expr.exp)
    if isinstance(expr, KroneckerDelta) and set(expr.args) == set(index):
        if rows != cols:
            raise _NoForm
        return Identity(rows)
    if isinstance(expr, Sum) and len(expr.limits) == 1:
        return _contraction(expr, index, shapes)
    raise _NoForm


def _entry(expr, index, shapes):
    name = expr.base.name
    if name not in shapes.names or len(expr.indices) != len(shapes.names[name]):
        raise _NoForm
    symbol = shapes.symbol(name)
    if expr.indices == index:
        return symbol
    if len(index) == 2 and expr.indices == index[::-1]:
        return Transpose(symbol)
    raise _NoForm


def _product(expr, index, shapes):
    scale, parts = expr.as_independent(*index, as_Add=False)
    groups = {}
    for factor in Mul.make_args(parts):
        key = frozenset(free_indices(factor) & set(index))
        groups.setdefault(key, []).append(factor)
    if len(index) == 1:
        vecs = [_convert(f, index, shapes) for f in groups.get(frozenset(index), [])]
        body = vecs[0] if len(vecs) == 1 else HadamardProduct(*vecs)
        return body if scale == 1 else scale * body
    row, col = index
    u = _vector(groups.get(frozenset({row}), []), row, shapes)
    v = _vector(groups.get(frozenset({col}), []), col, shapes)
    both = groups.get(frozenset(index), [])
    if not both:
        rows = u if u is not None else OneMatrix(shapes.indices[row], 1)
        cols = v if v is not None else OneMatrix(shapes.indices[col], 1)
        return scale * rows * Transpose(cols)
    if len(both) > 1:
        raise _NoForm
    inner = _convert(both[0], index, shapes)
    if isinstance(inner, Identity):  # δ_ij u_i v_j is diag(u ⊙ v)
        present = [w for w in (u, v) if w is not None]
        if not present:
            return scale * inner
        return scale * DiagMatrix(present[0] if len(present) == 1 else HadamardProduct(*present))
    left = [DiagMatrix(u)] if u is not None else []
    right = [DiagMatrix(v)] if v is not None else []
    return scale * Mul(*left, inner, *right) if (left or right) else scale * inner


def _vector(factors, index, shapes):
    return _convert(Mul(*factors), (index,), shapes) if factors else None


def _contraction(expr, index, shapes):
    """Σ_k A_rk c_k B_kc as A diag(c) B (and the cases with fewer factors)."""
    bound, low, high = expr.limits[0]
    if low != 1:
        raise _NoForm
    shapes = shapes.with_index(bound, high)
    scale, body = expr.function.as_independent(bound, as_Add=False)
    groups = {}
    for factor in Mul.make_args(body):
        key = frozenset(free_indices(factor) & set(index))
        groups.setdefault(key, []).append(factor)
    if any(len(key) > 1 for key in groups):
        raise _NoForm
    middle = groups.get(frozenset(), [])
    c = _convert(Mul(*middle), (bound,), shapes) if middle else None
    outer = [
        _convert(Mul(*groups[frozenset({x})]), (x, bound), shapes) for x in index if frozenset({x}) in groups
    ]
    present = [x for x in index if frozenset({x}) in groups]
    if len(index) == 1:
        if not present:
            raise _NoForm
        (left,) = outer
        return _scaled(scale, left * (c if c is not None else OneMatrix(high, 1)))
    if len(present) != 2:
        raise _NoForm
    left, right = outer
    mid = [DiagMatrix(c)] if c is not None else []
    return _scaled(scale, Mul(left, *mid, Transpose(right)))


def _scaled(scale, matrix_expr):
    return matrix_expr if scale == 1 else scale * matrix_expr


def entry(matrix_expr, index: tuple, shapes: Shapes):
    """The entry of a matrix expression at index, in indexed form, as SymPy's own semantics give it."""
    # SymPy counts from 0: ask for the entry at i − 1 (and j − 1), then count every index from 1 again.
    at = tuple(x - 1 for x in index) + ((0,) if len(index) == 1 else ())
    element = matrix_expr[at].doit()
    # Each sum's index renamed to one of ours (k, l, …), so that 1 ≤ k ≤ n decides its range conditions.
    element = element.replace(
        lambda e: isinstance(e, Sum) and len(e.limits) == 1,
        lambda e: _canonical_sum(
            e.function.xreplace({e.limits[0][0]: e.limits[0][0] - 1}),
            e.limits[0][0],
            e.limits[0][1] + 1,
            e.limits[0][2] + 1,
        ),
    )
    element = element.replace(lambda e: isinstance(e, KroneckerDelta), _delta)
    element = element.replace(lambda e: e.func.__name__ == "MatrixElement", _as_indexed)
    return in_range(element)


def _delta(e):
    """δ_{i−1, j−1} (SymPy's range dropped) as δ_ij: both sides shifted back by the first's constant."""
    a, b = e.args[:2]
    shift = a.as_coeff_Add()[0]
    return KroneckerDelta(a - shift, b - shift)


def _as_indexed(element):
    from derive.notation.symbols import vector

    parent = element.parent
    if parent.func.__name__ == "OneMatrix":
        return 1
    if not isinstance(parent, MatrixSymbol):
        raise _NoForm
    if parent.shape[1] == 1:
        return vector(parent.name)[element.i + 1]
    return vector(parent.name)[element.i + 1, element.j + 1]
