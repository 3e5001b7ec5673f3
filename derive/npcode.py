"""SymPy's NumPy printer taught derive's array nodes, and blocks of statements with common subexpressions."""

from __future__ import annotations

import builtins
import keyword
from dataclasses import dataclass

from sympy import Function, Mul, Pow, Rational, Symbol, cse, numbered_symbols, preorder_traversal
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE

from derive.arrays import Col, Largest, Row, Total
from derive.errors import NotApplicable
from derive.pystyle import formatted
from derive.rewrite import positive_signs

WIDTH = 88  # ruff format's default line length: generated modules are formatted for anyone's checkout
INDENT = 4


class ArrayPrinter(NumPyPrinter):
    """NumPy code as a person writes it: np.exp, sums over the last axis, x[..., :, None]."""

    def __init__(self):
        super().__init__({"strict": True, "fully_qualified_modules": True})

    def _module_format(self, fqn, register=True):
        module, _, name = fqn.partition(".")
        if module != "numpy":
            # e.g. erf prints as math.erf, which works on one float, not on arrays.
            raise NotApplicable(f"NumPy has no vectorised {fqn.rpartition('.')[2]}; cannot emit NumPy code")
        return f"np.{name}"

    def _as_ordered_terms(self, expr, order=None):
        # z - max_z - np.log(…), not -max_z + z - np.log(…): what is added first, then what is taken away.
        terms = super()._as_ordered_terms(expr, order)
        return sorted(terms, key=lambda t: t.could_extract_minus_sign())

    def _print_Pow(self, expr, rational=False):
        # NumPyPrinter writes x**(-1.0); for float arrays 1/x is the same value, faster and plainer.
        if expr.exp.is_Integer and expr.exp.is_negative:
            return f"1/{self.parenthesize(Pow(expr.base, -expr.exp), PRECEDENCE['Mul'])}"
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

    def _print_Total(self, expr):
        return f"np.sum({self._print(expr.args[0])}, axis=-1, keepdims=True)"

    def _print_Largest(self, expr):
        return f"np.max({self._print(expr.args[0])}, axis=-1, keepdims=True)"

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


def code(expr) -> str:
    """expr as one NumPy expression, spaced as ruff formats it."""
    return formatted(ArrayPrinter().doprint(expr))


@dataclass(frozen=True)
class Statement:
    """target op value, e.g. J += np.einsum(…); op "return" has no target."""

    target: object
    op: str
    value: object


@dataclass(frozen=True)
class Line:
    """One printed statement."""

    target: str
    op: str
    value: str

    def __str__(self):
        return f"return {self.value}" if self.op == "return" else f"{self.target} {self.op} {self.value}"


def block(statements, taken) -> list[Line]:
    """The statements printed, shared subexpressions computed once and named, each line within WIDTH."""
    found, reduced = cse([s.value for s in statements], symbols=numbered_symbols("_cse"), order="canonical")
    names = set(taken)
    rename, shared = {}, []
    for temporary, expr in found:
        rename[temporary] = _named(expr.xreplace(rename), names)
        shared.append(Statement(rename[temporary], "=", expr.xreplace(rename)))
    steps, placed = [], set()
    for statement, value in zip(statements, reduced, strict=True):
        value = positive_signs(value.xreplace(rename))  # s1*(g1 - x0), not -s1*(-g1 + x0)
        # Each shared piece goes just before its first use: it may need a quantity computed on the line above.
        needed = _needed(value, shared, placed)
        steps += [s for s in shared if s.target in needed]
        placed |= needed
        op = statement.op
        if op == "+=" and value.could_extract_minus_sign():
            op, value = "-=", -value  # J -= np.exp(s), not J += -np.exp(s)
        steps.append(Statement(statement.target, op, value))
    lines = []
    for step in steps:
        lines += _fitted(step, names)
    return lines


def _needed(value, shared, placed) -> set:
    """The shared pieces value uses, directly or through each other, not placed yet."""
    needed, reach = set(), [value]
    for step in reversed(shared):  # a piece only uses pieces found before it
        if step.target not in placed and any(e.has(step.target) for e in reach):
            needed.add(step.target)
            reach.append(step.value)
    return needed


def _fitted(step: Statement, names: set) -> list[Line]:
    """The step, preceded by named pieces of its value until its line fits."""
    before = []
    value = step.value
    while True:
        line = Line("" if step.op == "return" else code(step.target), step.op, code(value))
        if INDENT + len(str(line)) <= WIDTH:
            return before + [line]
        piece, replacement = _largest_piece(value)
        if piece is None:
            return before + [line]  # one call too long to split: left for the formatter test to flag
        name = _named(piece, names)
        before += _fitted(Statement(name, "=", piece), names)
        value = value.xreplace(replacement(name))


def _largest_piece(expr):
    """The longest part of expr worth a name of its own, and how to put the name in its place."""
    pieces = []
    for e in preorder_traversal(expr):
        if (e.is_Add or e.is_Mul) and len(e.args) > 2:
            # Half of a long sum or product: a + b + c + d becomes x0 + c + d.
            half, rest = e.args[: len(e.args) // 2], e.args[len(e.args) // 2 :]
            pieces.append((e.func(*half), lambda name, e=e, rest=rest: {e: e.func(name, *rest)}))
        if e is not expr and e.args and not isinstance(e, (Row, Col)) and not e.is_Number:
            pieces.append((e, lambda name, e=e: {e: name}))
    return max(pieces, key=lambda p: (len(code(p[0])), str(p[0])), default=(None, None))


_RESERVED = set(keyword.kwlist) | set(dir(builtins)) | {"np", "z", "s", "g", "v", "J", "gJ", "Jv", "n", "N"}


def _named(expr, names: set) -> Symbol:
    """A temporary named after what it holds (exp_z, sum_exp_z, s_i), else x0, x1, …."""
    name = _nickname(expr)
    if name is None or name in names or name in _RESERVED or len(name) > 20:
        name = next(f"x{k}" for k in range(len(names) + 1) if f"x{k}" not in names)
    names.add(name)
    return Symbol(name, real=True)


def _nickname(expr) -> str | None:
    if isinstance(expr, Symbol):
        return expr.name
    if expr.is_Add and len(expr.args) == 2:  # z − max(z)
        for x, peak in (expr.args, reversed(expr.args)):
            if isinstance(x, Symbol) and -peak == Largest(x):
                return f"shifted_{x.name}"
    inner = [_nickname(a) for a in expr.args]
    if None in inner:
        return None
    if isinstance(expr, Row | Col):
        return f"{inner[0]}_{'i' if isinstance(expr, Row) else 'j'}"
    if isinstance(expr, Total | Largest):
        return f"{'sum' if isinstance(expr, Total) else 'max'}_{inner[0]}"
    if isinstance(expr, Pow) and expr.exp == Rational(1, 2):
        return f"sqrt_{inner[0]}"
    if isinstance(expr, Pow) and expr.exp.is_Integer and expr.exp > 0:
        return f"{inner[0]}{expr.exp}"
    if isinstance(expr, Function) and len(expr.args) == 1:
        return f"{type(expr).__name__.lower()}_{inner[0]}"
    if isinstance(expr, Mul) and len(expr.args) == 2:
        return "_".join(inner)
    return None
