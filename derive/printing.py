"""SymPy's printers, taught to write products and matrices the way people write them."""

from __future__ import annotations

import re
import sys
import threading
import types
from contextlib import contextmanager

from sympy import Add, Mul, Pow, S, Symbol
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm, stringPict
from sympy.printing.str import StrPrinter

_lock = threading.RLock()


def _rank(factor) -> int:
    """Where a factor goes in a product: numbers, δ, plain quantities, functions, then sums."""
    if factor.is_Number:
        return 0
    if factor.func.__name__ == "KroneckerDelta":
        return 1
    base = factor.base if isinstance(factor, Pow) else factor
    if isinstance(base, Add):
        return 4
    if base.is_Atom or base.func.__name__ in ("Indexed", "MatrixSymbol", "MatrixElement"):
        return 2
    return 3


def _natural(factor) -> tuple:
    """s3 before s12: names compared with their numbers as numbers."""
    if not factor.is_Symbol:
        return ()
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.findall(r"\d+|\D+", factor.name)
    )


@contextmanager
def _person_order():
    # SymPy's printers take factors from Mul.as_ordered_factors, which sorts s_i after (δ_ij − s_j);
    # reordering there, only while printing, gives s_i(δ_ij − s_j) in every printer at once.
    with _lock:
        original = Mul.as_ordered_factors

        def ordered(self, order=None):
            return sorted(original(self, order), key=lambda f: (_rank(f), _natural(f)))

        Mul.as_ordered_factors = ordered
        try:
            yield
        finally:
            Mul.as_ordered_factors = original


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


class Latex(LatexPrinter):
    """LaTeX as the notes typeset it: s_{i}, diag(s), s s^⊤, 𝟏."""

    def _print_Indexed(self, expr):
        indices = ",".join(self._print(x) for x in expr.indices)
        return f"{self._print(expr.base.label)}_{{{indices}}}"

    def _print_KroneckerDelta(self, expr, exp=None):
        a, b = (self._print(x) for x in expr.args[:2])
        tex = f"\\delta_{{{a}{b}}}" if len(a) == len(b) == 1 else f"\\delta_{{{a},{b}}}"
        return f"{tex}^{{{exp}}}" if exp else tex

    def _print_DiagMatrix(self, expr):
        return f"\\operatorname{{diag}}\\left({self._print(expr.args[0])}\\right)"

    def _print_Transpose(self, expr):
        return f"{self.parenthesize(expr.args[0], PRECEDENCE['Pow'])}^{{\\top}}"

    def _print_OneMatrix(self, expr):
        return "\\mathbf{1}"

    def _print_Identity(self, expr):
        return "I"

    def _as_ordered_terms(self, expr, order=None):
        terms = super()._as_ordered_terms(expr, order)
        return _positive_first(terms) if expr.is_Matrix else terms


class Pretty(PrettyPrinter):
    """Unicode for the terminal: diag(s) − s⋅sᵀ."""

    def _print_DiagMatrix(self, expr):
        inner = self._print(expr.args[0])
        return prettyForm(*prettyForm(*inner.parens()).left("diag"))

    def _print_Indexed(self, expr):
        label = expr.base.label.name + "_" + "".join(str(x) for x in expr.indices)
        return self._print(Symbol(label))

    def _print_KroneckerDelta(self, expr):
        return self._print(Symbol("δ_" + "".join(str(x) for x in expr.args[:2])))

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
            return ("-" if head is S.NegativeOne else "") + "*".join(
                f.name for f in factors.as_ordered_factors()
            )
        return super()._print_Mul(expr)


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
