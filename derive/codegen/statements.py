"""Statements of generated code: shared subexpressions computed once and named, every line within width."""

from __future__ import annotations

import builtins
import keyword
from contextlib import nullcontext
from dataclasses import dataclass

from sympy import Function, Mul, Pow, Rational, Symbol, cse, numbered_symbols, preorder_traversal

from derive.codegen.arrays import Col, Largest, Row, Total
from derive.codegen.npcode import code
from derive.engine.rewrite import positive_signs

WIDTH = 88  # ruff format's default line length: generated modules are formatted for anyone's checkout
INDENT = 4


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


def block(statements, taken, printer=code) -> list[Line]:
    """The statements printed (by printer: NumPy's by default), shared pieces named, lines within WIDTH."""
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
    for k, step in enumerate(steps):
        if hasattr(printer, "read_later"):
            # What later steps read: a printer may reuse a temporary's memory only if nothing does.
            later = [e for s in steps[k + 1 :] for e in (s.value, s.target) if e is not None]
            printer.read_later(set().union(*(e.free_symbols for e in later)))
        lines += _fitted(step, names, printer)
    return lines


def _needed(value, shared, placed) -> set:
    """The shared pieces value uses, directly or through each other, not placed yet."""
    needed, reach = set(), [value]
    for step in reversed(shared):  # a piece only uses pieces found before it
        if step.target not in placed and any(e.has(step.target) for e in reach):
            needed.add(step.target)
            reach.append(step.value)
    return needed


def _fitted(step: Statement, names: set, printer=code) -> list[Line]:
    """The step, preceded by named pieces of its value until its line fits."""
    before = []
    value = step.value
    while True:
        if hasattr(printer, "bind"):
            # What the target holds (a number, one per vector, a full array), told again after the pieces.
            printer.bind(step.target, step.value)
        line = Line("" if step.op == "return" else printer(step.target), step.op, printer(value))
        if INDENT + len(str(line)) <= WIDTH:
            return before + [line]
        piece, replacement = _largest_piece(value, printer)
        if piece is None:
            return before + [line]  # one call too long to split: left for the formatter test to flag
        name = _named(piece, names)
        rest = value.xreplace(replacement(name))
        if hasattr(printer, "read_later"):
            # The rest of this line is read after the piece: the piece must not update what it reads.
            later = printer.later
            target = step.target.free_symbols if step.target is not None else set()
            printer.read_later({Symbol(n) for n in later} | rest.free_symbols | target)
            before += _fitted(Statement(name, "=", piece), names, printer)
            printer.read_later({Symbol(n) for n in later})
        else:
            # The rest of this line reads after the piece's line: a printer writing in place must know.
            with printer.hold(value) if hasattr(printer, "hold") else nullcontext():
                before += _fitted(Statement(name, "=", piece), names, printer)
        value = rest


def _largest_piece(expr, printer=code):
    """The longest part of expr worth a name of its own, and how to put the name in its place."""
    pieces = []
    for e in preorder_traversal(expr):
        if (e.is_Add or e.is_Mul) and len(e.args) > 2:
            # Half of a long sum or product: a + b + c + d becomes x0 + c + d.
            half, rest = e.args[: len(e.args) // 2], e.args[len(e.args) // 2 :]
            pieces.append((e.func(*half), lambda name, e=e, rest=rest: {e: e.func(name, *rest)}))
        if e is not expr and e.args and not isinstance(e, (Row, Col)) and not e.is_Number:
            pieces.append((e, lambda name, e=e: {e: name}))
    return max(pieces, key=lambda p: (len(printer(p[0])), str(p[0])), default=(None, None))


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
