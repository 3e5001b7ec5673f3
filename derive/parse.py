"""Safe parser for user-defined functions: text -> SymPy expression, via an allow-list over Python's ast.

Syntax:
  z[i]            the i-th input; i is the output index
  sum(expr, k)    Σ_{k=1}^{n} expr; inside it z[k] is the summed input (indices k, l, m, p, q;
                  j is reserved for the derivative's input index)
  n               the dimension
  T, alpha, ...   any other name is a positive parameter (letters/digits/_, at most 16 chars)
  2, 0.5, 1e-3    numbers are exact (0.5 is 1/2)
  + - * / ** ( )  arithmetic; `^` is accepted as a synonym of `**`
  functions       abs, cos, erf, exp, log, max, min, sigmoid, sin, softplus, sqrt, sum, tanh
Example: exp(z[i]/T) / sum(exp(z[k]/T), k)

Limits: 2000 characters, 40 open brackets, 400 syntax nodes, nesting 100, numeric exponents |e| <= 64,
literals of at most 30 digits, 12 max/min arguments in all. No user text ever reaches eval, exec,
compile-with-exec, sympify or parse_expr.
"""

from __future__ import annotations

import ast
import operator
import re
import warnings
from dataclasses import dataclass

import sympy
from sympy import (
    Abs,
    Integer,
    KroneckerDelta,
    Max,
    Min,
    Rational,
    S,
    Symbol,
    cos,
    erf,
    exp,
    log,
    sin,
    sqrt,
    tanh,
)

from derive.guard.text import first_unsafe
from derive.notation.symbols import INDICES, dimension, i, matrix, n, parameter, total, z

MAX_LENGTH = 2000  # characters, checked before anything else
MAX_BRACKETS = 40  # unclosed ( [ { on the raw text, checked before ast.parse (which recurses)
MAX_NODES = 400  # AST nodes
MAX_DEPTH = 100  # AST nesting (also bounds our own recursion)
MAX_DIGITS = 30  # digits of an integer literal, and the power of ten of a decimal
MAX_EXPONENT = 64  # |numeric exponent|, and its denominator
MAX_BITS = 400  # size of any number built from literals
MAX_MINMAX_ARGS = 12  # total arguments of max/min: SymPy compares them pairwise, which is slow

SYNTAX_HELP = """\
z[i] is the i-th input and i the output index; sum(expr, k) is the sum over k = 1..n, inside which
z[k] is the summed input (summation indices: k, l, m, p, q; j is reserved); n is the dimension;
any other name (e.g. T, alpha, eps) is a positive parameter. Numbers are exact (0.5 = 1/2).
Operators: + - * / ** and parentheses; `^` is accepted as a synonym of `**`.
Functions: abs, cos, erf, exp, log, max, min, sigmoid, sin, softplus, sqrt, sum, tanh.
Example: "exp(z[i]) / sum(exp(z[k]), k)"."""

# name -> (min args, max args, builder); sum is handled separately because it binds an index.
FUNCTIONS = {
    "exp": (1, 1, exp),
    "log": (1, 1, log),
    "sqrt": (1, 1, sqrt),
    "tanh": (1, 1, tanh),
    "sigmoid": (1, 1, lambda x: 1 / (1 + exp(-x))),
    "softplus": (1, 1, lambda x: log(1 + exp(x))),
    "abs": (1, 1, Abs),
    "sin": (1, 1, sin),
    "cos": (1, 1, cos),
    "erf": (1, 1, erf),
    "max": (2, MAX_MINMAX_ARGS, Max),
    "min": (2, MAX_MINMAX_ARGS, Min),
    "sum": (2, 3, None),
}
ALLOWED = ", ".join(sorted(FUNCTIONS))
SUM_INDICES = {s.name: s for s in INDICES if s.name in "klmpq"}
OPERATORS = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
    ast.Pow: ("**", operator.pow),
}  # `^` is rewritten to `**`
RESERVED = {
    "j": "'j' is reserved for the derivative's input index; sum over one of k, l, m, p, q",
    "y": "'y' is reserved for targets; choose another parameter name",
}
FORBIDDEN = {  # node type -> why, for the common mistakes and attacks; any other type is refused too
    ast.Attribute: "attribute access is not allowed",
    ast.Lambda: "lambda is not allowed",
    **dict.fromkeys(
        (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp), "comprehensions are not allowed"
    ),
    **dict.fromkeys(
        (ast.List, ast.Tuple, ast.Dict, ast.Set), "lists, tuples, dicts and sets are not allowed"
    ),
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and'/'or' are not allowed",
    ast.IfExp: "conditional expressions are not allowed",
    ast.NamedExpr: "':=' is not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.Starred: "starred arguments are not allowed",
    ast.Slice: "slices are not allowed",
}
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,15}")
DECIMAL = re.compile(r"(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?")
UNDEFINED = (S.ComplexInfinity, S.NaN, S.Infinity, S.NegativeInfinity, S.ImaginaryUnit)


class ParseError(ValueError):
    """A rejected definition, with the column (0-based) of the offending part."""

    def __init__(self, message: str, text: str = "", column: int | None = None, end: int | None = None):
        self.message = " ".join(str(message).split())  # always one line
        self.text, self.column, self.end = text, column, end
        where = (
            "" if column is None or f"at column {column + 1}" in self.message else f" at column {column + 1}"
        )
        super().__init__(self.message + where)

    def pointer(self) -> str:
        """The text (or a 70-char window of it) and a line of ^~~~ under the offending part."""
        shown = "".join(c if c.isprintable() and c.isascii() else " " for c in self.text)
        col = 0 if self.column is None else min(self.column, len(shown))
        end = len(shown) if self.column is None else max(col + 1, min(self.end or col + 1, len(shown)))
        start = max(0, min(col - 35, len(shown) - 70))
        width = max(1, min(end, start + 70) - col)
        return shown[start : start + 70] + "\n" + " " * (col - start) + "^" + "~" * (width - 1)


@dataclass(frozen=True)
class Vocabulary:
    """The names a text may use: vectors to subscript, named scalars, free indices, and whether
    other names are parameters (a definition) or errors (a claim, which names only what exists)."""

    vectors: dict  # name -> IndexedBase, e.g. {"z": z, "s": s, "y": y}
    scalars: dict = None  # name -> Symbol, e.g. {"mu": mu, "T": T}
    indices: dict = None  # free index name -> Symbol, e.g. {"i": i, "j": j}
    new_parameters: bool = True  # any other name is a positive parameter
    delta: bool = False  # delta(i, j), Kronecker's δ, is allowed
    inputs: bool = False  # any other subscripted name is an input (W[i, k], x[k]); y[k] a target

    def subscriptable(self) -> str:
        return ", ".join(f"{name}[...]" for name in sorted(self.vectors))


DEFINITION = Vocabulary({"z": z}, {}, {"i": i}, inputs=True)


@dataclass(frozen=True)
class Parsed:
    """A parsed definition: expression in z[i], bound Sums, n and parameters."""

    expr: sympy.Expr
    parameters: tuple[Symbol, ...]
    text: str
    # (name, dimension names, whether a target) of each indexed name, in order of appearance; empty
    # when the text uses the one input z over n alone.
    inputs: tuple = ()


def parse(text: str) -> Parsed:
    """Parse a user definition such as 'exp(z[i]) / sum(exp(z[k]), k)'."""
    expr, builder = read(text, DEFINITION)
    inputs = builder.inputs()
    if not any(expr.has(matrix(name)) for name, _, target in inputs if not target):
        raise ParseError(
            "the expression does not depend on the input z; use z[i] or sum(..., k)", text, 0, len(text)
        )
    names = {s for s in expr.free_symbols if isinstance(s, Symbol) and s.name in builder.parameters}
    # z over n, with or without a target y over n, is the one input z of every registered function.
    one_input = {x: dims for x, dims, _ in inputs} in ({"z": ("n",)}, {"z": ("n",), "y": ("n",)})
    return Parsed(expr, tuple(sorted(names, key=lambda s: s.name)), text, () if one_input else inputs)


def read(text: str, vocabulary: Vocabulary):
    """The SymPy expression of text over vocabulary's names, and the builder (its parameters)."""
    if not isinstance(text, str):
        raise ParseError("the definition must be a string", "", None)
    if len(text) > MAX_LENGTH:  # before any other work
        raise ParseError(
            f"expression too long: {len(text)} characters, at most {MAX_LENGTH}", text, MAX_LENGTH
        )
    unsafe = first_unsafe(text)  # line breaks, other controls and '#': refused outright, never skipped
    if unsafe:
        raise ParseError(unsafe[1], text, unsafe[0])
    bad = re.search(r"[^ -~]", text)  # non-ASCII is never part of a definition
    if bad:
        raise ParseError(f"unexpected character {bad[0]!r}; use plain ASCII text", text, bad.start())
    if not text.strip():
        raise ParseError("empty expression", text, 0)
    _check_brackets(text)
    builder = _Builder(text, vocabulary)
    try:
        with warnings.catch_warnings():  # e.g. invalid escapes in strings, which are rejected anyway
            warnings.simplefilter("ignore")
            tree = ast.parse(builder.source, mode="eval")
    except SyntaxError as e:  # an error at the end of the text comes with no offset or on "line 2"
        at_end = not e.offset or (e.lineno or 1) > 1
        column = builder.column(len(builder.source) if at_end else e.offset - 1)
        raise ParseError(f"syntax error: {e.msg}", text, column) from None
    except (RecursionError, MemoryError, ValueError):
        raise ParseError("expression too complex to parse", text, 0) from None
    builder.check_size(tree.body)
    builder.declare_dimensions(tree.body)
    try:
        expr = builder.build(tree.body, frozenset())
    except RecursionError:
        raise ParseError("expression too deeply nested", text, 0) from None
    return builder.sized(expr), builder


def _folded_power(value) -> bool:
    """Whether value holds a power whose numeric exponent is above the cap, however SymPy arrived at it."""
    return any(
        isinstance(p.exp, Rational) and (abs(p.exp.p) > MAX_EXPONENT or p.exp.q > MAX_EXPONENT)
        for p in value.atoms(sympy.Pow)
    )


def _check_brackets(text: str) -> None:
    """Balanced ( [ { with bounded depth, checked on the raw text so ast.parse cannot recurse deeply."""
    pairs, opened = {")": "(", "]": "[", "}": "{"}, []
    for col, c in enumerate(text):
        if c in "([{":
            opened.append(col)
            if len(opened) > MAX_BRACKETS:
                raise ParseError(f"too deeply nested: more than {MAX_BRACKETS} open brackets", text, col)
        elif c in pairs:
            if not opened:
                raise ParseError(
                    f"unbalanced brackets: {c!r} has no matching {pairs[c]!r}; remove it", text, col
                )
            if text[opened[-1]] != pairs[c]:
                raise ParseError(
                    f"unbalanced brackets: {c!r} does not match {text[opened[-1]]!r} "
                    f"at column {opened[-1] + 1}",
                    text,
                    col,
                )
            opened.pop()
    if opened:
        raise ParseError(
            f"unbalanced brackets: {text[opened[-1]]!r} at column {opened[-1] + 1} is never closed",
            text,
            opened[-1],
        )


class _Builder:
    """Builds SymPy from allowed AST nodes only; everything else raises ParseError at its node."""

    def __init__(self, text: str, vocabulary: Vocabulary = DEFINITION):
        self.text, self.parameters, self.source, self.origin = text, set(), "", []
        self.vocabulary = vocabulary
        self.sizes = Sizes(self) if vocabulary.inputs else None
        self.scalars, self.indices = vocabulary.scalars or {}, {"n": n, **(vocabulary.indices or {})}
        for col, c in enumerate(text):  # `^` -> `**` for Python's power precedence
            piece = "**" if c == "^" else c
            if piece != " " or self.source:  # drop leading whitespace, which ast.parse takes as an indent
                self.source += piece
                self.origin += [col] * len(piece)
        self.origin.append(len(text))

    def declare_dimensions(self, root) -> None:
        """The names given as dimensions, sum(..., k, d), anywhere: there a bare d is that dimension."""
        if self.sizes is None:
            return
        for node in ast.walk(root):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "sum" and len(node.args) == 3:
                named = node.args[2]
                if (
                    isinstance(named, ast.Name)
                    and NAME.fullmatch(named.id)
                    and named.id not in RESERVED_NAMES
                ):
                    self.indices.setdefault(named.id, dimension(named.id))

    def sized(self, expr):
        """expr with each sum's range resolved to the dimension its index ranges over (n by default)."""
        return expr if self.sizes is None else self.sizes.resolved(expr)

    def inputs(self) -> tuple:
        """(name, dimension names, target) of each indexed name, in order of appearance."""
        return () if self.sizes is None else self.sizes.inputs()

    def column(self, offset: int) -> int:
        """The column in the user's text of an offset into the parsed source."""
        return self.origin[max(0, min(offset, len(self.origin) - 1))]

    def fail(self, message: str, node: ast.AST):
        raise ParseError(message, self.text, self.column(node.col_offset), self.column(node.end_col_offset))

    def check_size(self, root: ast.AST) -> None:
        """Bound node count, depth and max/min arguments iteratively, before building anything."""
        stack, count, minmax = [(root, 1)], 0, 0
        while stack:
            node, depth = stack.pop()
            if isinstance(node, ast.expr_context):
                continue
            count += 1
            if count > MAX_NODES:
                self.fail(f"expression too large: more than {MAX_NODES} parts", root)
            if depth > MAX_DEPTH:
                self.fail(f"expression too deeply nested: more than {MAX_DEPTH} levels", node)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("max", "min"):
                minmax += len(node.args)
                if minmax > MAX_MINMAX_ARGS:
                    self.fail(f"too many max/min arguments: at most {MAX_MINMAX_ARGS} in total", node)
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))

    def build(self, node: ast.AST, bound: frozenset) -> sympy.Expr:
        """The SymPy value of node, where bound holds the summation indices in scope."""
        method = getattr(self, "_" + type(node).__name__, None)  # the allow-list: _Constant, _Name, ... below
        if method is None:
            self.fail(FORBIDDEN.get(type(node), f"{type(node).__name__} is not allowed"), node)
        try:
            value = method(node, bound)
        except ParseError:
            raise
        except Exception as e:  # SymPy refusing an allowed but odd combination: still the user's input
            self.fail(f"cannot build this: {type(e).__name__}: {str(e)[:200]}", node)
        if isinstance(value, Rational) and max(value.p.bit_length(), value.q.bit_length()) > MAX_BITS:
            self.fail("number too large", node)
        if _folded_power(value):  # SymPy folds (z**64)**64 to z**4096, exp(1e29*log(z)) to z**(10**29)
            self.fail(f"exponent too large once simplified: at most {MAX_EXPONENT} in absolute value", node)
        if value.has(*UNDEFINED):  # e.g. 1/0, log(0), sqrt(-1)
            self.fail("undefined or non-real value (division by zero, log(0), sqrt(-1)?)", node)
        return value

    def _Constant(self, node, bound):
        value, digits = node.value, self.source[node.col_offset : node.end_col_offset]
        if isinstance(value, (str, bytes)):
            self.fail("strings are not allowed", node)
        if isinstance(value, complex):
            self.fail("complex numbers are not allowed", node)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            self.fail(f"{digits!r} is not allowed", node)
        match = DECIMAL.fullmatch(digits)
        if not match or not (match[1] or match[2]):
            self.fail(f"only plain decimal numbers are allowed, not {digits!r}", node)
        whole, frac, power = match[1], match[2], match[3] or "0"
        if len((whole + frac).lstrip("0")) > MAX_DIGITS or abs(int(power)) > MAX_DIGITS:
            self.fail(f"number too large: at most {MAX_DIGITS} digits and powers of ten", node)
        scale = int(power) - len(frac)  # exact: mantissa * 10**scale, never via float
        mantissa = int(whole + frac)
        return Integer(mantissa * 10**scale) if scale >= 0 else Rational(mantissa, 10**-scale)

    def _Name(self, node, bound):
        name = node.id
        if name in self.indices:
            return self.indices[name]
        if name in self.scalars:
            return self.scalars[name]
        if name in RESERVED and name not in self.vocabulary.vectors:
            self.fail(RESERVED[name], node)
        if name in SUM_INDICES:
            if name not in bound:
                self.fail(f"index '{name}' is not bound by a sum; write sum(..., {name})", node)
            return SUM_INDICES[name]
        if name in self.vocabulary.vectors or (self.sizes is not None and name in self.sizes.arity):
            self.fail(f"'{name}' must be subscripted, e.g. {name}[i]", node)
        if name in FUNCTIONS or (name == "delta" and self.vocabulary.delta):
            self.fail(f"function '{name}' must be called, e.g. {name}(z[i])", node)
        if not self.vocabulary.new_parameters:
            known = [*self.vocabulary.vectors, *self.scalars, *self.indices]
            self.fail(f"unknown name '{name}'; known here: {', '.join(sorted(known, key=str.lower))}", node)
        if not NAME.fullmatch(name):
            self.fail(
                f"unknown name '{name}'" + ("; at most 16 characters" if name[0].isalpha() else ""), node
            )
        self.parameters.add(name)
        return parameter(name)

    def _Subscript(self, node, bound):
        vectors = self.vocabulary.vectors
        named = node.value.id if isinstance(node.value, ast.Name) else None
        if self.sizes is not None and named is not None and named not in vectors:
            return self.sizes.entry(node, named, bound)
        if not (isinstance(node.value, ast.Name) and node.value.id in vectors):
            if vectors.keys() == {"z"}:
                self.fail("only the input z can be subscripted, e.g. z[i]", node)
            self.fail(f"only {self.vocabulary.subscriptable()} can be subscripted", node)
        index, name = node.slice, node.value.id
        free = " or ".join(sorted(set(self.indices) - {"n"}))
        if not (isinstance(index, ast.Name) and index.id in {*self.indices, *SUM_INDICES, *RESERVED}):
            self.fail(f"{name} must be indexed by {free} or a summation index, e.g. {name}[k]", index)
        if index.id == "n" or index.id in self.sizes_named():
            self.fail(f"{name} must be indexed by {free} or a summation index, e.g. {name}[k]", index)
        entry = vectors[name][self.build(index, bound)]
        if self.sizes is not None:
            self.sizes.used(node, name, entry.indices)
        return entry

    def sizes_named(self) -> set:
        return {name for name, value in self.indices.items() if value != n and name != "i"} - {"j"}

    def _UnaryOp(self, node, bound):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            self.fail("only unary - and + are allowed", node)
        operand = self.build(node.operand, bound)
        return -operand if isinstance(node.op, ast.USub) else operand

    def _BinOp(self, node, bound):
        if type(node.op) not in OPERATORS:
            self.fail(f"operator not allowed; use one of {' '.join(s for s, _ in OPERATORS.values())}", node)
        left, right = self.build(node.left, bound), self.build(node.right, bound)
        too_big = isinstance(right, Rational) and (abs(right) > MAX_EXPONENT or right.q > MAX_EXPONENT)
        if isinstance(node.op, ast.Pow) and too_big:  # the only operation whose cost grows with a literal
            self.fail(f"exponent too large: at most {MAX_EXPONENT} in absolute value", node.right)
        if isinstance(node.op, ast.Div) and right == 0:
            self.fail("division by zero", node)
        return OPERATORS[type(node.op)][1](left, right)

    def _Call(self, node, bound):
        if not isinstance(node.func, ast.Name):
            self.fail(FORBIDDEN.get(type(node.func), "only named functions can be called"), node.func)
        name = node.func.id
        if name == "delta" and self.vocabulary.delta:
            return self._delta(node, bound)
        if name not in FUNCTIONS:
            allowed = ", ".join(sorted([*FUNCTIONS, "delta"])) if self.vocabulary.delta else ALLOWED
            self.fail(f"unknown function '{name}'; allowed: {allowed}", node.func)
        if node.keywords:
            self.fail("keyword arguments are not allowed", node.keywords[0])
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            self.fail("starred arguments are not allowed", node)
        low, high, builder = FUNCTIONS[name]
        if not low <= len(node.args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            self.fail(f"{name}() takes {wanted} arguments, got {len(node.args)}", node)
        if name == "sum":
            return self._sum(node, bound)
        return builder(*(self.build(arg, bound) for arg in node.args))

    def _delta(self, node, bound):
        free = set(self.indices) - {"n"}
        if node.keywords or len(node.args) != 2:
            self.fail("delta takes two indices: delta(i, j)", node)
        for arg in node.args:
            if not (isinstance(arg, ast.Name) and arg.id in free):
                self.fail(f"delta takes the free indices {' and '.join(sorted(free))}: delta(i, j)", arg)
        return KroneckerDelta(*(self.indices[arg.id] for arg in node.args))

    def _sum(self, node, bound):
        body, index, *size = node.args
        name = getattr(index, "id", None)
        if size and self.sizes is None:
            self.fail("sum takes two arguments here: sum(expr, k)", node)
        if name in RESERVED:
            self.fail(RESERVED[name], index)
        if name == "i":
            self.fail("'i' is the output index and cannot be summed over; use one of k, l, m, p, q", index)
        if name not in SUM_INDICES:
            self.fail("the second argument of sum must be an index: one of k, l, m, p, q", index)
        if name in bound:
            self.fail(f"index '{name}' is already bound by an enclosing sum; use another index", index)
        if self.sizes is None:
            return total(self.build(body, bound | {name}), SUM_INDICES[name])
        return self.sizes.total(node, body, SUM_INDICES[name], size[0] if size else None, bound | {name})


RESERVED_NAMES = {"i", "j", "n", "delta", *SUM_INDICES, *FUNCTIONS}
MAX_AXES = 2  # vectors and matrices


class Sizes:
    """Which dimension each index ranges over: the output index i over n, a summed index over what its
    sum names (sum(..., k, d)) or, unnamed, over what the entries it indexes range over (n by default)."""

    def __init__(self, builder: _Builder):
        self.builder = builder
        self.parent, self.named, self.scope = {}, {}, {}
        self.arity, self.order, self.placeholders = {}, [], {}
        self.named[("out",)] = ("n", "the output index i")

    def _find(self, key):
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def _unite(self, a, b, node, place: str):
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            return
        first, second = self.named.get(ra), self.named.get(rb)
        if first and second and first[0] != second[0]:
            self.builder.fail(
                f"{place} ranges over {first[0]} ({first[1]}) and over {second[0]} ({second[1]})", node
            )
        self.parent[ra] = rb
        if first and not second:
            self.named[rb] = first

    def _place(self, node, what: str) -> str:
        return f"{what} at column {self.builder.column(node.col_offset) + 1}"

    def entry(self, node, name: str, bound):
        """The entry name[index, …] of an input (or the target y), its indices checked and recorded."""
        fail = self.builder.fail
        if name in RESERVED_NAMES or name in self.builder.indices or not NAME.fullmatch(name):
            fail(f"'{name}' cannot be subscripted; an input is a name such as W, x or gamma", node)
        if name in self.builder.parameters:
            fail(f"'{name}' is used both as a parameter and, here, as an input", node)
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if not 1 <= len(parts) <= MAX_AXES:
            fail(f"{name} takes one index (a vector) or two (a matrix), e.g. {name}[i, k]", node.slice)
        indices = []
        for part in parts:
            word = getattr(part, "id", None)
            if word in RESERVED and word not in ("y",):
                fail(RESERVED[word], part)
            if word != "i" and word not in bound:
                hint = "is not bound by a sum" if word in SUM_INDICES else "is no index"
                fail(f"{name} must be indexed by i or a summation index; '{word or '?'}' {hint}", part)
            indices.append(i if word == "i" else SUM_INDICES[word])
        if len(set(indices)) != len(indices):
            fail(f"{name} is indexed twice by the same index; a diagonal is not supported", node.slice)
        self.used(node, name, tuple(indices))
        return matrix(name)[tuple(indices)]

    def used(self, node, name: str, indices: tuple) -> None:
        """Record name[indices] at node: its number of indices, and the dimension each ranges over."""
        place = self._place(node, f"{name}[{', '.join(map(str, indices))}]")
        if name not in self.arity:
            self.arity[name] = (len(indices), place)
            self.order.append(name)
        elif self.arity[name][0] != len(indices):
            count, before = self.arity[name]
            self.builder.fail(f"{name} has {count} indices ({before}) and {len(indices)} ({place})", node)
        for axis, index in enumerate(indices):
            scope = ("out",) if index == i else self.scope.get(index.name)
            if scope is not None:
                self._unite(("slot", name, axis), scope, node, f"{place}: its index {index}")

    def total(self, node, body, index, size, bound):
        """Σ over index of body, ranging over a placeholder resolved once every use of index is known."""
        key = ("sum", len(self.placeholders))
        self.placeholders[key] = sympy.Dummy(f"size{len(self.placeholders)}", integer=True, positive=True)
        if size is not None:
            word = getattr(size, "id", None)
            if word is None or word in RESERVED_NAMES - {"n"} or not NAME.fullmatch(word):
                self.builder.fail("the third argument of sum must be a dimension's name, e.g. d", size)
            self.named[self._find(key)] = (word, self._place(node, f"sum(..., {index}, {word})"))
        self.scope[index.name] = key
        try:
            value = self.builder.build(body, bound)
        finally:
            del self.scope[index.name]
        return sympy.Sum(value, (index, 1, self.placeholders[key]))

    def _dimension(self, key) -> str:
        return self.named.get(self._find(key), ("n",))[0]

    def resolved(self, expr):
        """expr with each sum over its dimension."""
        return expr.xreplace({p: dimension(self._dimension(key)) for key, p in self.placeholders.items()})

    def inputs(self) -> tuple:
        """(name, dimension names, whether it is the target y) of each indexed name, in order."""
        return tuple(
            (name, tuple(self._dimension(("slot", name, a)) for a in range(self.arity[name][0])), name == "y")
            for name in self.order
        )
