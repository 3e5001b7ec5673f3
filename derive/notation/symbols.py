"""The symbols every definition is written in: the dimension n, indices, and indexed vectors."""

from sympy import Indexed, IndexedBase, Sum, Symbol

n = Symbol("n", integer=True, positive=True)
# Further dimensions a definition with several inputs indexes over (W ∈ ℝⁿˣᵈ, V ∈ ℝⁿˣʰ).
d, h = (Symbol(name, integer=True, positive=True) for name in "dh")
DIMENSIONS = (n, d, h)

# i is the output index and j the input index of ∂s_i/∂z_j; k, l, m, p, q are summation indices.
i, j, k, l, m, p, q = (Symbol(name, integer=True, positive=True) for name in "ijklmpq")
# u is the second index of a matrix input's entry in a Jacobian block, ∂o_i/∂K_ju.
u = Symbol("u", integer=True, positive=True)
INDICES = (i, j, k, l, m, p, q, u)

z = IndexedBase("z", real=True)
y = IndexedBase("y", real=True)


def vector(name: str) -> IndexedBase:
    """An indexed vector of real entries, e.g. vector('s')[i]."""
    return IndexedBase(name, real=True)


def matrix(name: str) -> IndexedBase:
    """An indexed matrix of real entries, e.g. matrix('W')[i, k]."""
    return IndexedBase(name, real=True)


def dimension(name: str) -> Symbol:
    """The dimension called name: n, d, h, or another a definition indexes over."""
    return Symbol(name, integer=True, positive=True)


def total(expr, index: Symbol, dim: Symbol = n):
    """Σ_{index=1}^{dim} expr (dim is n unless given)."""
    return Sum(expr, (index, 1, dim))


def parameter(name: str) -> Symbol:
    """A named real parameter of a definition, kept symbolic (e.g. a temperature T)."""
    return Symbol(name, positive=True)


def parameters_in(expr) -> set[str]:
    """Names of the plain symbols in expr that are neither indices, n, nor vector labels."""
    labels = {a.base.label for a in expr.atoms(Indexed)}
    return {
        s.name for s in expr.atoms(Symbol) if s not in labels and s not in INDICES and s not in DIMENSIONS
    }


__all__ = [
    "n",
    "d",
    "h",
    "DIMENSIONS",
    "u",
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
    "matrix",
    "dimension",
    "total",
    "parameter",
    "parameters_in",
]
