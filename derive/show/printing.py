"""SymPy's printers, taught to write products and matrices the way people write them."""

from __future__ import annotations

import re
import sys
import threading
import types
from contextlib import contextmanager
from contextvars import ContextVar

from sympy import Add, Expr, Mul, Pow, S, Sum, Symbol, UnevaluatedExpr, fraction
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm, stringPict
from sympy.printing.str import StrPrinter

_lock = threading.RLock()
# The reader's notation (derive.notation.reader.Notation) while a document, report or module is printed:
# the derivation stays in z, s, n; only its printing says a, S, N.
_notation: ContextVar = ContextVar("notation", default=None)


@contextmanager
def notation(spelling):
    """Print in spelling (a reader.Notation, or None for the canonical names) inside the block."""
    token = _notation.set(spelling)
    try:
        yield
    finally:
        _notation.reset(token)


def _latex_name(name: str, whole: bool = True) -> str | None:
    spelling = _notation.get()
    return None if spelling is None else spelling.latex(name, whole)


def current():
    """The notation printing is in (a derive.notation.reader.Notation), or None for the canonical names."""
    return _notation.get()


def renamed(name: str) -> str:
    """name (z, s12, ∇L) in the reader's notation, in Unicode: a, S12, ∇L."""
    spelling = _notation.get()
    if spelling is None:
        return name
    if name.startswith("∇"):
        return "∇" + renamed(name[1:])
    return spelling.unicode(name) or name


_SUBSCRIPTS = {
    **{c: chr(0x2080 + int(c)) for c in "0123456789"},
    **dict(zip("aehijklmnoprstuvx", "ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True)),
}


def _rank(factor) -> int:
    """Where a factor goes in a product: numbers, δ, plain quantities, functions, then sums."""
    if factor.is_Number:
        return 0
    if factor.func.__name__ == "KroneckerDelta":
        return 1
    if factor.func.__name__ == "UnevaluatedExpr":
        # a fraction kept apart ranks by its numerator: e^{z_i}/Σ before (Σ − e^{z_i})/Σ
        return _rank(fraction(factor.args[0])[0])
    base = factor.base if isinstance(factor, Pow) else factor
    if isinstance(base, Add):
        return 4
    if factor.func.__name__ == "Derivative":
        return 5  # the factor a rule leaves to work out comes last: e^{z_i} ∂z_i/∂z_j
    if base.is_Atom or base.func.__name__ in ("Indexed", "MatrixSymbol", "MatrixElement"):
        return 2
    return 3


def _natural(factor) -> tuple:
    """s3 before s12, s_2 before s_1024: names compared with their numbers as numbers."""
    if factor.func.__name__ == "UnevaluatedExpr":
        name = str(factor.args[0])  # fractions kept apart: e^{z_1}/Σ before e^{z_2}/Σ
    elif factor.is_Symbol:
        name = factor.name
    elif factor.func.__name__ in ("Indexed", "exp"):
        name = str(factor)  # s_2 before s_1024, e^{z_2} before e^{z_1024}
    else:
        return ((2,),)  # no name to compare: after the named ones, in SymPy's order
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.findall(r"\d+|\D+", name))


@contextmanager
def _person_order():
    # SymPy's printers take factors from Mul.as_ordered_factors, which sorts s_i after (δ_ij − s_j);
    # reordering there, only while printing, gives s_i(δ_ij − s_j) in every printer at once.
    # SymPy's sort keys (cached for the process) read as_ordered_factors too: computed in SymPy's order
    # while printing, so that what is printed later never depends on what was printed first.
    with _lock:
        original, original_key = Mul.as_ordered_factors, Expr.sort_key
        keying = []

        def ordered(self, order=None):
            factors = original(self, order)
            return factors if keying else sorted(factors, key=lambda f: (_rank(f), _natural(f)))

        def sort_key(self, order=None):
            keying.append(True)
            try:
                return original_key(self, order)
            finally:
                keying.pop()

        Mul.as_ordered_factors, Expr.sort_key = ordered, sort_key
        try:
            yield
        finally:
            Mul.as_ordered_factors, Expr.sort_key = original, original_key


def _is_quotient(expr) -> bool:
    """Whether expr prints as one positive fraction."""
    return fraction(expr)[1] != 1 and not expr.could_extract_minus_sign()


@contextmanager
def _no_units():
    # SymPy's pretty printer imports sympy.physics.units on every product, only to print physical
    # quantities last; the first import costs a tenth of a second and derive prints none. While it
    # prints, a stand-in whose Quantity nothing is an instance of answers the import instead.
    if "sympy.physics.units" in sys.modules:
        yield
        return
    stand_in = types.ModuleType("sympy.physics.units")
    stand_in.Quantity = type("Quantity", (), {})
    sys.modules["sympy.physics.units"] = stand_in
    try:
        yield
    finally:
        if sys.modules.get("sympy.physics.units") is stand_in:
            del sys.modules["sympy.physics.units"]


def _positive_first(terms):
    return sorted(terms, key=lambda t: t.could_extract_minus_sign())


def _signed_sum(term):
    """Σ_k −u_k as −Σ_k u_k, its sign in front of the Σ where people write it, not "+ Σ −"."""
    if isinstance(term, Sum) and term.function.could_extract_minus_sign():
        return Mul(S.NegativeOne, Sum(-term.function, *term.limits), evaluate=False)
    return term


class Latex(LatexPrinter):
    """LaTeX as the notes typeset it: s_{i}, diag(s), s s^⊤, 𝟏."""

    def _print_Indexed(self, expr):
        indices = ",".join(self._print(x) for x in expr.indices)
        label = expr.base.label
        base = _latex_name(label.name, whole=False) or super()._print_Symbol(label)  # an entry: never bold
        return f"{base}_{{{indices}}}"

    def _print_Symbol(self, expr, style="plain"):
        return _latex_name(expr.name) or super()._print_Symbol(expr, style=style)

    def _print_KroneckerDelta(self, expr, exp=None):
        a, b = (self._print(x) for x in expr.args[:2])
        tex = f"\\delta_{{{a}{b}}}" if len(a) == len(b) == 1 else f"\\delta_{{{a},{b}}}"
        return f"{tex}^{{{exp}}}" if exp else tex

    def _print_DiagMatrix(self, expr):
        return f"\\operatorname{{diag}}\\left({self._print(expr.args[0])}\\right)"

    def _print_Transpose(self, expr):
        return f"{self.parenthesize(expr.args[0], PRECEDENCE['Pow'])}^{{\\top}}"

    def _print_OneMatrix(self, expr):
        # The n×n matrix of ones is written as the outer product it came from: 𝟏𝟏ᵀ.
        return "\\mathbf{1}" if expr.shape[1] == 1 else "\\mathbf{1} \\mathbf{1}^{\\top}"

    def _print_Identity(self, expr):
        return "I"

    def _as_ordered_terms(self, expr, order=None):
        # Σ − e^{z_i}, not −e^{z_i} + Σ: a sum starts with a positive term when it has one.
        return _positive_first([_signed_sum(t) for t in super()._as_ordered_terms(expr, order)])

    def _print_Derivative(self, expr):
        # Every variable is an entry of a vector, so ∂, and ∂s_i/∂z_j rather than ∂/∂z_j s_i.
        below = " ".join(
            f"\\partial {self._print(v)}" + (f"^{{{count}}}" if count > 1 else "")
            for v, count in expr.variable_count
        )
        order = sum(count for _, count in expr.variable_count)
        top = "\\partial" if order == 1 else f"\\partial^{{{order}}}"
        body = expr.expr
        if body.is_Symbol or body.func.__name__ == "Indexed":
            return f"\\frac{{{top} {self._print(body)}}}{{{below}}}"
        inner = self._print(body)
        if body.is_Add or body.is_Mul or (body.is_Pow and body.exp.is_negative):
            inner = f"\\left({inner}\\right)"
        return f"\\frac{{{top}}}{{{below}}} {inner}"

    def _print_Piecewise(self, expr):
        # The notes' cases: "s_i(1 − s_i), i = j", with the condition in math, not "for" in English.
        rows, before = [], []
        for e, c in expr.args:
            if c == True and len(before) == 1:  # noqa: E712 — SymPy's true; "otherwise" is one condition's negation
                c = before[0].negated
            value = self._print(e)
            # a fraction in a case reads at full size, as in a display
            style = "\\displaystyle " if "\\frac" in value else ""
            rows.append(f"{style}{value}, & {self._print(c)}")
            before.append(c)
        return "\\begin{cases} " + " \\\\ ".join(rows) + " \\end{cases}"

    def _print_Mul(self, expr):
        # (1/g) ∂g/∂z_j, not a derivative stacked inside a numerator.
        factors = Mul.make_args(expr)
        derivatives = [f for f in factors if f.func.__name__ == "Derivative"]
        if not derivatives or fraction(expr)[1] == 1:
            return super()._print_Mul(expr)
        rest = Mul(*(f for f in factors if f not in derivatives))
        head = self.parenthesize(rest, PRECEDENCE["Mul"], strict=True) if rest.is_Add else self._print(rest)
        return " ".join([head, *(self._print(f) for f in derivatives)])

    def _print_MatrixBase(self, expr):
        tex = super()._print_MatrixBase(expr)
        # rows of fractions need air between them, or their bars and indices touch
        return tex.replace("\\\\", "\\\\[1ex]") if "\\frac" in tex else tex

    def _print_UnevaluatedExpr(self, expr):
        return self._print(expr.args[0])

    def _needs_mul_brackets(self, expr, first=False, last=False) -> bool:
        # A kept-apart positive fraction, e^{z_i}/Σ · (Σ − e^{z_i})/Σ, is delimited by its bar.
        if isinstance(expr, UnevaluatedExpr) and _is_quotient(expr.args[0]):
            return False
        return super()._needs_mul_brackets(expr, first=first, last=last)


class Pretty(PrettyPrinter):
    """Unicode for the terminal: diag(s) − s⋅sᵀ."""

    def _print_DiagMatrix(self, expr):
        inner = self._print(expr.args[0])
        return prettyForm(*prettyForm(*inner.parens()).left("diag"))

    def _print_Indexed(self, expr):
        return self._subscripted(expr.base.label.name, [renamed(str(x)) for x in expr.indices])

    def _print_Symbol(self, e, bold_name=False):
        return super()._print_Symbol(Symbol(renamed(e.name)) if _notation.get() else e, bold_name)

    def _print_KroneckerDelta(self, expr):
        return self._subscripted("δ", expr.args[:2])

    def _subscripted(self, name, indices):
        # Every index as a Unicode subscript, δᵢⱼ and sⱼ as sᵢ (SymPy has no ⱼ, and writes s_j); an
        # index with no subscript form (z[i + 1]) keeps the underscore.
        index = "".join(str(x) for x in indices)
        lowered = [_SUBSCRIPTS.get(c) for c in index]
        if None in lowered:
            return self._print(Symbol(f"{name}_{index}"))
        return prettyForm(*self._print(Symbol(name)).right("".join(lowered)))

    def _print_Derivative(self, deriv):
        # ∂ always: SymPy writes d for a scalar of one variable (dL/dzᵢ), where L depends on all of z.
        symbol = "∂"
        parts, total = [], 0
        for var, count in reversed(deriv.variable_count):
            part = prettyForm(*self._print(var).left(symbol))
            if count != 1:
                part = part ** prettyForm(str(count))
            parts.append(part)
            total += count
        below = parts[0]
        for part in parts[1:]:
            below = prettyForm(*prettyForm(*below.right(" ")).right(part))
        top = prettyForm(symbol) if total == 1 else prettyForm(symbol) ** prettyForm(str(total))
        form = prettyForm(*top.below(stringPict.LINE, below))
        form.baseline += 1
        inner = prettyForm(*self._print(deriv.expr).parens())
        inner.binding = prettyForm.FUNC
        form = prettyForm(*stringPict.next(form, inner))
        form.binding = prettyForm.MUL
        return form

    def _print_Max(self, expr):
        return self._print_Function(expr, func_name="max")

    def _print_Min(self, expr):
        return self._print_Function(expr, func_name="min")

    def _print_MatAdd(self, expr):
        result = None
        for term in _positive_first(expr.args):
            negative = result is not None and term.could_extract_minus_sign()
            form = self._print(-term if negative else term)
            if result is None:
                result = form
            else:
                result = prettyForm(*stringPict.next(result, " - " if negative else " + ", form))
        return result


class Str(StrPrinter):
    """SymPy syntax, with products in reading order."""

    def _print_Mul(self, expr):
        # ±s1*s2, most of an explicit Jacobian: the names in reading order, exactly as StrPrinter writes
        # them, without its general case (which takes two thirds of the time of a JSON document).
        head, *rest = expr.args
        if (head is S.NegativeOne or type(head) is Symbol) and all(type(f) is Symbol for f in rest):
            factors = expr.as_coeff_Mul()[1] if head is S.NegativeOne else expr
            names = [f.name for f in factors.as_ordered_factors()]
            if _notation.get() is not None:
                names = [renamed(name) for name in names]
            return ("-" if head is S.NegativeOne else "") + "*".join(names)
        return super()._print_Mul(expr)

    def _print_Symbol(self, expr):
        return renamed(expr.name)

    _print_MatrixSymbol = _print_Symbol


def latex(expr, **settings) -> str:
    """LaTeX for expr."""
    with _person_order():
        return Latex(settings).doprint(expr)


def pretty(expr, **settings) -> str:
    """Unicode art for expr."""
    with _person_order(), _no_units():
        return Pretty({"use_unicode": True, "wrap_line": False, **settings}).doprint(expr)


def text(expr) -> str:
    """SymPy syntax for expr: it parses back with sympify."""
    with _person_order():
        return Str({"order": None}).doprint(expr)


def texts(exprs) -> list[str]:
    """text() of each of exprs, printed by one printer."""
    with _person_order():
        printer = Str({"order": None})
        return [printer.doprint(e) for e in exprs]


def pretty_equation(lhs, rhs, **settings) -> str:
    """Unicode art for lhs = rhs, either side any expression or matrix, baselines aligned."""
    with _person_order(), _no_units():
        printer = Pretty({"use_unicode": True, "wrap_line": False, **settings})
        left, right = printer._print(lhs), printer._print(rhs)
        return prettyForm(*stringPict.next(left, " = ", right)).render(wrap_line=False)


def latex_equation(lhs, rhs, **settings) -> str:
    """LaTeX for lhs = rhs."""
    return f"{latex(lhs, **settings)} = {latex(rhs, **settings)}"
