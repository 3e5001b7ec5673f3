"""SymPy's NumPy printer taught derive's array nodes: np.exp(z), sums over the last axis, x[..., :, None]."""

from __future__ import annotations

from contextlib import contextmanager

from sympy import Basic, Float, Function, Mul, Pow, Symbol
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE

from derive.codegen.arrays import (
    Col,
    Diagonal,
    Dropped,
    Empty,
    Entry,
    Largest,
    Outer,
    Row,
    Take,
    Total,
    Zeros,
)
from derive.codegen.pystyle import formatted
from derive.errors import NotApplicable
from derive.notation.symbols import n

# Functions NumPy lacks that the standard library's math module has: each becomes a private helper
# applying math.<name> entry by entry, in Python (slower than a ufunc, exact to float64).
HELPED = ("erf", "erfc", "gamma", "lgamma")


def helpers(exprs) -> list[str]:
    """The math functions exprs need as helpers, sorted: ["erf"] for GELU."""
    known = ArrayPrinter().known_functions
    used = {type(f).__name__ for e in exprs for f in e.atoms(Function)}
    return sorted(name for name in used if name in HELPED and known.get(name) == f"math.{name}")


class ArrayPrinter(NumPyPrinter):
    """NumPy code as a person writes it: np.exp, sums over the last axis, x[..., :, None]."""

    def __init__(self, rows=frozenset()):
        super().__init__({"strict": True, "fully_qualified_modules": True})
        self.rows = rows  # the names of arrays of z's shape (z, s, g, v, y): not row scalars such as mu

    def _module_format(self, fqn, register=True):
        module, _, name = fqn.partition(".")
        if module == "math" and name in HELPED:
            # NumPy has no erf: the module defines _erf, math.erf entry by entry (see helpers()).
            return f"_{name}"
        if module != "numpy":
            raise NotApplicable(f"NumPy has no vectorised {fqn.rpartition('.')[2]}; cannot emit NumPy code")
        return f"np.{name}"

    def _print(self, expr, **kwargs):
        # A constant such as log(2) or √2 as a Python float: np.log(2) is a float64 scalar, and NumPy 2
        # lets it make float32 arrays float64; a Python float takes the array's dtype.
        if isinstance(expr, Basic) and expr.is_number and expr.is_real and not expr.is_Rational:
            return repr(float(expr))
        return super()._print(expr, **kwargs)

    def _print_not_supported(self, expr):
        raise NotApplicable(f"NumPy has no vectorised {type(expr).__name__}; cannot emit NumPy code")

    def _as_ordered_terms(self, expr, order=None):
        # z - max_z - np.log(…), not -max_z + z - np.log(…): what is added first, then what is taken away.
        terms = super()._as_ordered_terms(expr, order)
        return sorted(terms, key=lambda t: t.could_extract_minus_sign())

    def _print_Pow(self, expr, rational=False):
        # NumPyPrinter writes x**(-1.0); for float arrays 1/x is the same value, faster and plainer.
        if expr.exp.is_Integer and expr.exp.is_negative:
            return f"1/{self.parenthesize(Pow(expr.base, -expr.exp), PRECEDENCE['Mul'])}"
        if expr.exp.is_Rational and expr.base.free_symbols <= {n}:
            # √n as a Python float: np.sqrt(n) is a float64 scalar, and NumPy 2 lets it make float32 float64.
            base = self.parenthesize(expr.base, PRECEDENCE["Pow"])
            return f"{base}**{self._print(Float(expr.exp, 17))}"
        return super()._print_Pow(expr, rational=rational)

    def _print_Mul(self, expr):
        # SymPy's code printers write (1/2)*z; a person writes z/2.
        coeff, rest = expr.as_coeff_Mul()
        if coeff.is_Rational and not coeff.is_Integer:
            return f"{self.parenthesize(coeff.p * rest, PRECEDENCE['Mul'])}/{coeff.q}"
        return super()._print_Mul(expr)

    def _print_Abs(self, expr):
        return f"np.abs({self._print(expr.args[0])})"

    def _print_Max(self, expr):
        return self._pairwise("np.maximum", expr.args)

    def _print_Min(self, expr):
        return self._pairwise("np.minimum", expr.args)

    def _pairwise(self, ufunc, args):
        code = self._print(args[0])
        for arg in args[1:]:
            code = f"{ufunc}({code}, {self._print(arg)})"
        return code

    def _print_Heaviside(self, expr):
        # A ufunc: it keeps u's dtype (np.select over Python numbers would give float64).
        u, half = (self._print(a) for a in expr.args)
        return f"np.heaviside({u}, {half})"

    def _print_Gate(self, expr):
        # H(u)·v chosen, not multiplied: where H(u) = 0 an overflowing v must not make 0·inf = NaN.
        u, v, half = (self._print(a) for a in expr.args)
        tie = self._print(expr.args[2] * expr.args[1])
        if not half:
            return f"np.where({u} > 0, {v}, 0)"
        return f"np.where({u} > 0, {v}, np.where({u} < 0, 0, {tie}))"

    def _print_Total(self, expr):
        factors = expr.args[0].args if isinstance(expr.args[0], Mul) else ()
        if len(factors) == 2 and all(f.is_Symbol and f.name in self.rows for f in factors):
            # Σ_k a_k b_k of two whole rows as einsum's dot product: no temporary a*b, and one pass
            # (softmax's VJP 10–19% faster than np.sum(g * s, …), benchmarks/NOTES.md).
            a, b = (self._print(f) for f in factors)
            return f'np.einsum("...i,...i->...", {a}, {b})[..., None]'
        return f"np.sum({self._print(expr.args[0])}, axis=-1, keepdims=True)"

    def _print_Largest(self, expr):
        return f"np.max({self._print(expr.args[0])}, axis=-1, keepdims=True)"

    def _print_Dropped(self, expr):
        return f"{self.parenthesize(expr.args[0], PRECEDENCE['Atom'])}[..., 0]"

    def _print_Row(self, expr):
        return f"{self.parenthesize(expr.args[0], PRECEDENCE['Atom'])}[..., :, None]"

    def _print_Col(self, expr):
        return f"{self.parenthesize(expr.args[0], PRECEDENCE['Atom'])}[..., None, :]"

    def _print_Outer(self, expr):
        u, v = (self._print(a) for a in expr.args)
        return f'np.einsum("...i,...j->...ij", {u}, {v})'

    def _print_Diagonal(self, expr):
        return f'np.einsum("...ii->...i", {self._print(expr.args[0])})[...]'

    def _print_Zeros(self, expr):
        return f"np.zeros({self._shape(*expr.args)})"

    def _print_Empty(self, expr):
        return f"np.empty({self._shape(*expr.args)})"

    def _shape(self, like, extra):
        like = self._print(like)
        shape = f"{like}.shape" + (f" + {like}.shape[-1:]" * int(extra))
        return f"{shape}, dtype={like}.dtype"

    def _print_Take(self, expr):
        return f"{self._print(expr.args[0])}[..., {self._print(expr.args[1])}]"

    def _print_Entry(self, expr):
        array, a, b = (self._print(x) for x in expr.args)
        return f"{array}[..., {a}, {b}]"


class InPlace:
    """NumPy code line by line, where a line's outermost × or + consumes a full-size temporary that nothing
    reads afterwards, written into it: np.divide(e, np.sum(e, …), out=e) allocates no new array (a fresh
    array of a large batch costs page faults; softmax's forward measured 5–13% faster in float64). Not
    where the other operand is itself a fresh full-size temporary: NumPy reuses that one already."""

    def __init__(self, rows=frozenset(), scalars=frozenset()):
        self.printer = ArrayPrinter(rows)
        self.sizes = {**{name: "scalar" for name in scalars}, **{name: "full" for name in rows}}
        self.made = set()  # full-size temporaries this body made: fresh arrays of its own
        self.later = set()

    def read_later(self, symbols):
        """The symbols later statements read."""
        self.later = {s.name for s in symbols}

    @contextmanager
    def hold(self, expr):
        """While lines before expr's are printed, what expr reads is read later too."""
        later = self.later
        self.later = later | {s.name for s in expr.free_symbols}
        yield
        self.later = later

    def bind(self, target, value):
        """target = value is computed: note its size, and whether it is a fresh array of its own."""
        if not isinstance(target, Symbol):
            return
        size = self._size(value)
        self.sizes[target.name] = size
        # A name for another array (an alias) or a view of one is not the line's own memory.
        if size == "full" and not isinstance(value, (Symbol, Dropped, Take, Diagonal)):
            self.made.add(target.name)

    def __call__(self, expr) -> str:
        return formatted(self._in_place(expr) or self.printer.doprint(expr))

    def _in_place(self, expr) -> str | None:
        if not (expr.is_Mul or expr.is_Add) or self._size(expr) != "full":
            return None
        free = [a for a in expr.args if isinstance(a, Symbol) and a.name in self.made - self.later]
        if not free:
            return None
        x = min(free, key=str)
        rest = expr.func(*(a for a in expr.args if a is not x))
        if self._size(rest) == "full" and not isinstance(-rest if expr.is_Add else rest, Symbol):
            return None  # rest is a fresh temporary of z's shape, which NumPy already reuses for the result
        p = self.printer.doprint
        if expr.is_Add:
            if rest.could_extract_minus_sign():
                return f"np.subtract({x}, {p(-rest)}, out={x})"
            return f"np.add({x}, {p(rest)}, out={x})"
        if isinstance(rest, Pow) and rest.exp == -1:
            return f"np.divide({x}, {p(rest.base)}, out={x})"
        return f"np.multiply({x}, {p(rest)}, out={x})"

    def _size(self, expr) -> str:
        """ "scalar" (a number), "row" (shape (..., 1)), "full" (shape (..., n)) or "other"."""
        if expr.is_Number:
            return "scalar"
        if isinstance(expr, (Total, Largest)):
            return "row"
        if isinstance(expr, Symbol):
            return self.sizes.get(expr.name, "other")
        if isinstance(expr, (Row, Col, Outer, Zeros, Empty, Take, Entry, Dropped)):
            return "other"
        sizes = {self._size(a) for a in expr.args}
        if "other" in sizes or not sizes:
            return "other"
        return "full" if "full" in sizes else ("row" if "row" in sizes else "scalar")


def code(expr, rows=frozenset()) -> str:
    """expr as one NumPy expression, spaced as ruff formats it; rows names the arrays of z's shape."""
    return formatted(ArrayPrinter(rows).doprint(expr))
