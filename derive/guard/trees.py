"""SymPy objects as plain JSON trees and back, never through eval: allow-listed classes, literal leaves."""

from __future__ import annotations

import re

import sympy
from sympy.core.assumptions import _assume_defined
from sympy.core.symbol import Str
from sympy.matrices.expressions import DiagMatrix

MAX_NODES = 200_000  # in one tree
MAX_DEPTH = 200
MAX_INT = 10**30
MAX_EXPONENT = 4096  # a numeric power is computed when built: 10**(10**29) never is

# The classes derivations are made of, rebuilt as cls(*args) (SymPy's invariant expr.func(*expr.args) ==
# expr). Nothing else is constructed: a class that would parse a string (Poly, sympify) is not here.
_CLASSES = {
    cls.__name__: cls
    for cls in (
        sympy.Add,
        sympy.Mul,
        sympy.Pow,
        sympy.Tuple,
        sympy.Indexed,
        sympy.IndexedBase,
        sympy.Sum,
        sympy.Product,
        sympy.KroneckerDelta,
        sympy.Piecewise,
        sympy.functions.elementary.piecewise.ExprCondPair,
        sympy.Heaviside,
        sympy.sign,
        sympy.Abs,
        sympy.Max,
        sympy.Min,
        sympy.exp,
        sympy.log,
        sympy.sin,
        sympy.cos,
        sympy.tan,
        sympy.sinh,
        sympy.cosh,
        sympy.tanh,
        sympy.erf,
        sympy.erfc,
        sympy.Equality,
        sympy.Unequality,
        sympy.StrictLessThan,
        sympy.LessThan,
        sympy.StrictGreaterThan,
        sympy.GreaterThan,
        sympy.And,
        sympy.Or,
        sympy.Not,
        sympy.MatAdd,
        sympy.MatMul,
        sympy.MatPow,
        sympy.MatrixSymbol,
        sympy.Transpose,
        sympy.Identity,
        sympy.OneMatrix,
        sympy.ZeroMatrix,
        sympy.HadamardProduct,
        sympy.HadamardPower,
        DiagMatrix,
        sympy.UnevaluatedExpr,
        sympy.Derivative,
        sympy.ImmutableDenseMatrix,
    )
}
# Built with evaluate=False when a tree is read as written: a write-up keeps unevaluated products
# (2 · (a/b) · (c/d)) that evaluating would merge.
_UNEVALUATED = frozenset(("Add", "Mul", "Pow"))
_CONSTANTS = {
    "pi": sympy.pi,
    "E": sympy.E,
    "I": sympy.I,
    "oo": sympy.oo,
    "-oo": -sympy.oo,
    "zoo": sympy.zoo,
    "nan": sympy.nan,
    "true": sympy.true,
    "false": sympy.false,
}
# A Symbol's or a matrix's name; a LaTeX command (\\cdots, the elided entries of a matrix) too.
_NAME = re.compile(r"\\?[A-Za-z_][A-Za-z0-9_]{0,40}")
_ASSUMPTIONS = frozenset(_assume_defined)


class Unreadable(ValueError):
    """A tree that is not one this module writes, or an object it does not write."""


def write(obj):
    """obj (a SymPy object, a tuple of them, an int, a bool or None) as a JSON-ready tree."""
    if obj is None or type(obj) is bool:
        return obj
    if type(obj) is int:
        return ["int", obj]
    if isinstance(obj, tuple):
        return ["tuple", *map(write, obj)]
    for name, value in _CONSTANTS.items():
        if obj is value:
            return [name]
    if isinstance(obj, sympy.Integer):
        return ["Integer", int(obj)]
    if isinstance(obj, sympy.Rational):
        return ["Rational", int(obj.p), int(obj.q)]
    if type(obj) is sympy.Float:
        # its exact binary value and precision, as integers: never a decimal string to parse
        return ["Float", *map(int, obj._mpf_), int(obj._prec)]
    if type(obj) is sympy.Symbol:
        return ["Symbol", obj.name, dict(obj._assumptions_orig)]
    if type(obj) is Str:
        return ["Str", obj.name]
    name = type(obj).__name__
    if _CLASSES.get(name) is not type(obj):
        raise Unreadable(f"not a kind of object stored: {name}")
    return [name, *map(write, obj.args)]


def read(tree, as_written: bool = False, memo: dict | None = None):
    """The object write(obj) gave tree for, rebuilt; Unreadable for any other tree, or one that does not
    rebuild to itself (written again, it must give the same tree). as_written: sums, products and powers
    are not evaluated (rebuilt with their arguments as stored). memo: a dict shared by the reads of one
    entry, so that a subtree met again is built once."""
    count = [0, as_written, {} if memo is None else memo]
    try:
        obj = _build(tree, 0, count)
        same = write(obj) == tree
    except Unreadable:
        raise
    except (RecursionError, MemoryError, TypeError, ValueError, AttributeError, KeyError) as error:
        raise Unreadable(f"not buildable: {type(error).__name__}") from None
    if not same:
        raise Unreadable("does not rebuild as written")
    return obj


def _build(tree, depth: int, count: list):
    count[0] += 1
    if depth > MAX_DEPTH or count[0] > MAX_NODES:
        raise Unreadable("too large")
    if tree is None or type(tree) is bool:
        return tree
    if type(tree) is not list or not tree or type(tree[0]) is not str:
        raise Unreadable("not a tree")
    kind, *rest = tree
    if kind in _CONSTANTS and not rest:
        return _CONSTANTS[kind]
    if kind in ("int", "Integer", "Rational"):
        if not rest or not all(type(v) is int and abs(v) <= MAX_INT for v in rest) or len(rest) > 2:
            raise Unreadable("not a number")
        if kind == "int":
            return rest[0]
        return sympy.Integer(rest[0]) if kind == "Integer" else sympy.Rational(*rest)
    if kind == "Float":
        if len(rest) != 5 or not all(type(v) is int for v in rest):
            raise Unreadable("not a number")
        sign, mantissa, exponent, bits, precision = rest
        if sign not in (0, 1) or not 0 <= mantissa < 2**4096 or bits != mantissa.bit_length():
            raise Unreadable("not a number")
        if abs(exponent) > 10**6 or not 0 < precision <= 4096:
            raise Unreadable("not a number")
        return sympy.Float._new((sign, mantissa, exponent, bits), precision)
    if kind in ("Symbol", "Str"):
        label, *facts = rest
        if type(label) is not str or not _NAME.fullmatch(label):
            raise Unreadable("not a name")
        if kind == "Str":
            return Str(label)
        (facts,) = facts
        if type(facts) is not dict or not all(
            k in _ASSUMPTIONS and type(v) is bool for k, v in facts.items()
        ):
            raise Unreadable("not assumptions")
        return sympy.Symbol(label, **facts)
    args = [_build(a, depth + 1, count) for a in rest]
    # A node of the same class over the very same arguments was built before (SymPy objects are immutable,
    # so it may be shared): construction is most of reading, and trees repeat their subtrees. The
    # arguments are kept with it, so that no id in a key is reused while the memo lives.
    key = (count[1], kind, *map(id, args))
    if key not in count[2]:
        count[2][key] = (_construct(kind, args, count[1]), args)
    return count[2][key][0]


def _construct(kind: str, args: list, as_written: bool):
    if kind == "tuple":
        return tuple(args)
    if kind not in _CLASSES:
        raise Unreadable(f"not an allowed class: {kind[:40]}")
    if kind == "Pow" and len(args) == 2 and args[1].is_Number and abs(args[1]) > MAX_EXPONENT:
        raise Unreadable("an exponent too large")
    if as_written and kind in _UNEVALUATED:
        return _CLASSES[kind](*args, evaluate=False)
    return _CLASSES[kind](*args)


__all__ = ["read", "write", "Unreadable"]
