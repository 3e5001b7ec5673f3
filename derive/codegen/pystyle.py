"""Python expressions spaced the way `ruff format` spaces them, so generated code is already formatted."""

from __future__ import annotations

import ast
import json

# Binding strength of each node, as in Python's grammar (higher binds tighter).
_OR, _AND, _NOT, _COMPARE, _BITOR, _BITXOR, _BITAND, _SHIFT, _ARITH, _TERM, _FACTOR, _POWER, _ATOM = range(13)

_BINARY = {
    ast.Add: ("+", _ARITH),
    ast.Sub: ("-", _ARITH),
    ast.Mult: ("*", _TERM),
    ast.Div: ("/", _TERM),
    ast.FloorDiv: ("//", _TERM),
    ast.Mod: ("%", _TERM),
    ast.MatMult: ("@", _TERM),
    ast.Pow: ("**", _POWER),
    ast.BitOr: ("|", _BITOR),
    ast.BitXor: ("^", _BITXOR),
    ast.BitAnd: ("&", _BITAND),
    ast.LShift: ("<<", _SHIFT),
    ast.RShift: (">>", _SHIFT),
}
_IFEXP = -1  # a if c else b binds loosest of all
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~", ast.Not: "not "}
_COMPARISON = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}


def formatted(source: str) -> str:
    """One expression (or `target = value` statement's value) re-spaced as ruff formats it."""
    return _code(ast.parse(source, mode="eval").body)


def _strength(node) -> int:
    if isinstance(node, ast.IfExp):
        return _IFEXP
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)][1]
    if isinstance(node, ast.UnaryOp):
        return _NOT if isinstance(node.op, ast.Not) else _FACTOR
    if isinstance(node, ast.BoolOp):
        return _AND if isinstance(node.op, ast.And) else _OR
    if isinstance(node, ast.Compare):
        return _COMPARE
    return _ATOM


def _wrapped(node, parens: bool) -> str:
    return f"({_code(node)})" if parens else _code(node)


def _simple(node) -> bool:
    """ruff hugs ** only between names, numbers and attribute chains, optionally negated."""
    if isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.Not):
        return _simple(node.operand)
    if isinstance(node, ast.Attribute):
        return _simple(node.value)
    return isinstance(node, ast.Name) or (
        isinstance(node, ast.Constant) and isinstance(node.value, (int, float, complex))
    )


def _binary(node: ast.BinOp) -> str:
    symbol, strength = _BINARY[type(node.op)]
    if isinstance(node.op, ast.Pow):
        # Right-associative, and the exponent may carry a unary sign without parentheses: x**-2.
        left_parens = _strength(node.left) <= _POWER
        right_parens = _strength(node.right) < _FACTOR
        hug = _simple(node.left) and not left_parens and _simple(node.right) and not right_parens
        left, right = _wrapped(node.left, left_parens), _wrapped(node.right, right_parens)
        return f"{left}**{right}" if hug else f"{left} ** {right}"
    left = _wrapped(node.left, _strength(node.left) < strength)
    right = _wrapped(node.right, _strength(node.right) <= strength)
    return f"{left} {symbol} {right}"


def _unary(node: ast.UnaryOp) -> str:
    operand = node.operand
    # ruff writes -(x**2), not -x**2: the parentheses say what the minus applies to.
    parens = _strength(operand) < _strength(node) or (
        isinstance(operand, ast.BinOp) and isinstance(operand.op, ast.Pow)
    )
    return _UNARY[type(node.op)] + _wrapped(operand, parens)


def _constant(value) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is Ellipsis:
        return "..."
    return repr(value)


def _slice(node) -> str:
    if isinstance(node, ast.Slice):
        parts = [node.lower, node.upper] + ([node.step] if node.step else [])
        return ":".join("" if p is None else _code(p) for p in parts)
    return _code(node)


def _code(node) -> str:
    if isinstance(node, ast.BinOp):
        return _binary(node)
    if isinstance(node, ast.UnaryOp):
        return _unary(node)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant):
        return _constant(node.value)
    if isinstance(node, ast.Attribute):
        return f"{_wrapped(node.value, _strength(node.value) < _ATOM)}.{node.attr}"
    if isinstance(node, ast.Call):
        args = [_code(a) for a in node.args] + [f"{k.arg}={_code(k.value)}" for k in node.keywords]
        return f"{_wrapped(node.func, _strength(node.func) < _ATOM)}({', '.join(args)})"
    if isinstance(node, ast.Subscript):
        index = node.slice
        items = index.elts if isinstance(index, ast.Tuple) else [index]
        inside = ", ".join(_slice(item) for item in items)
        return f"{_wrapped(node.value, _strength(node.value) < _ATOM)}[{inside}]"
    if isinstance(node, ast.Tuple):
        items = [_code(e) for e in node.elts]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(node, ast.List):
        return f"[{', '.join(_code(e) for e in node.elts)}]"
    if isinstance(node, ast.Compare):
        parts = [_wrapped(node.left, _strength(node.left) <= _COMPARE)]
        for op, right in zip(node.ops, node.comparators, strict=True):
            parts += [_COMPARISON[type(op)], _wrapped(right, _strength(right) <= _COMPARE)]
        return " ".join(parts)
    if isinstance(node, ast.BoolOp):
        word = " and " if isinstance(node.op, ast.And) else " or "
        return word.join(_wrapped(v, _strength(v) <= _strength(node)) for v in node.values)
    if isinstance(node, ast.IfExp):
        parts = (node.body, node.test, node.orelse)
        body, test, orelse = (_wrapped(v, _strength(v) <= _IFEXP) for v in parts)
        return f"{body} if {test} else {orelse}"
    raise ValueError(f"cannot format {ast.dump(node)}")
