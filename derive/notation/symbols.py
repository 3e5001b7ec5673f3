"""The symbols every definition is written in: the dimension n, indices, and indexed vectors."""

from sympy import Indexed, IndexedBase, Sum, Symbol

n = Symbol("n", integer=True, positive=True)

# i is the output index and j the input index of ∂s_i/∂z_j; k, l, m, p, q are summation indices.
i, j, k, l, m, p, q = (Symbol(name, integer=True, positive=True) for name in "ijklmpq")
INDICES = (i, j, k, l, m, p, q)

z = IndexedBase("z", real=True)
y = IndexedBase("y", real=True)


def vector(name: str) -> IndexedBase:
    """An indexed vector of real entries, e.g. vector('s')[i]."""
    return IndexedBase(name, real=True)


def total(expr, index: Symbol):
    """Σ_{index=1}^{n} expr."""
    return Sum(expr, (index, 1, n))


def parameter(name: str) -> Symbol:
    """A named real parameter of a definition, kept symbolic (e.g. a temperature T)."""
    return Symbol(name, positive=True)


def parameters_in(expr) -> set[str]:
    """Names of the plain symbols in expr that are neither indices, n, nor vector labels."""
    labels = {a.base.label for a in expr.atoms(Indexed)}
    return {s.name for s in expr.atoms(Symbol) if s not in labels and s not in INDICES and s != n}


__all__ = [
    "n",
    "i",
    "j",
    "k",
    "l",
    "m",
    "p",
    "q",
    "INDICES",
    "z",
    "y",
    "vector",
    "total",
    "parameter",
    "parameters_in",
]
