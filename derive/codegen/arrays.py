"""Indexed formulas lowered to NumPy arrays: z_i becomes the array z, Σ_k a sum over the last axis."""

from __future__ import annotations

from sympy import Function, Indexed, KroneckerDelta, Sum, Symbol

from derive.errors import NotApplicable
from derive.notation.symbols import n


class Total(Function):
    """Σ over the last axis, kept as a column of shape (..., 1)."""

    nargs = 1


class Largest(Function):
    """The largest entry along the last axis, kept as a column of shape (..., 1)."""

    nargs = 1


class Dropped(Function):
    """A column (..., 1) as the values (...): a scalar per vector of the batch."""

    nargs = 1


class Row(Function):
    """x_i in an (i, j) expression: x[..., :, None]."""

    nargs = 1


class Col(Function):
    """x_j in an (i, j) expression: x[..., None, :]."""

    nargs = 1


class Outer(Function):
    """u_i v_j for every i, j: the batched outer product, shape (..., n, n)."""

    nargs = 2


class Diagonal(Function):
    """A writable view of the diagonal of each n×n matrix in J."""

    nargs = 1


class Zeros(Function):
    """Zeros(z, k): zeros shaped like z with k more axes of length n, in z's dtype."""

    nargs = 2


class Take(Function):
    """The a-th entry of each row, x[..., a] (0-based)."""

    nargs = 2


class Entry(Function):
    """Entry (a, b) of each matrix, J[..., a, b] (0-based)."""

    nargs = 3


class Empty(Function):
    """Like Zeros, uninitialised: every entry is about to be written."""

    nargs = 2


def array(name: str) -> Symbol:
    """The array standing for the vector called name."""
    return Symbol(name, real=True)


def lower(expr, axes: dict):
    """expr with every x[index] replaced by its array: axes maps each free index to None, Row or Col."""
    if isinstance(expr, Indexed):
        index = expr.indices[0]
        if len(expr.indices) != 1 or index not in axes:
            raise NotApplicable(f"cannot lower {expr} to arrays: its index is neither free nor summed")
        wrap = axes[index]
        return array(expr.base.label.name) if wrap is None else wrap(array(expr.base.label.name))
    if isinstance(expr, Sum):
        return _total(expr, axes)
    if isinstance(expr, KroneckerDelta):
        raise NotApplicable(f"δ inside a function ({expr}) has no broadcasting form")
    if not expr.args:
        return expr
    return expr.func(*(lower(a, axes) for a in expr.args))


def _total(expr, axes):
    if len(expr.limits) != 1 or tuple(expr.limits[0][1:]) != (1, n):
        raise NotApplicable(f"only sums over k = 1..n lower to NumPy, not {expr}")
    index = expr.limits[0][0]
    # A sum's body may use only its own index (and sums nested in it): Σ_k a_k b_i would not be one column.
    column = Total(lower(expr.function, {index: None}))
    wraps = {w for w in axes.values() if w is not None}
    return Row(column) if wraps else column
