"""Formulas on one line for docstrings and reports: s_i*(δ_ij - s_j), Σ_k exp(z_k)."""

from __future__ import annotations

from sympy import Sum
from sympy.printing.precedence import PRECEDENCE

from derive.show.printing import Str, _person_order, renamed


class OneLine(Str):
    """SymPy's string printer with subscripts for indices, δ_ij and Σ_k."""

    printmethod = "_derive_one_line"  # not Indexed's own _sympystr, which writes z[i]

    def _as_ordered_terms(self, expr, order=None):
        # z_i - mu_i, not -mu_i + z_i: what is added first, then what is taken away.
        return sorted(super()._as_ordered_terms(expr, order), key=lambda t: t.could_extract_minus_sign())

    def _print_Indexed(self, expr):
        return f"{renamed(expr.base.label.name)}_{''.join(renamed(str(x)) for x in expr.indices)}"

    def _print_KroneckerDelta(self, expr):
        return "δ_" + "".join(str(x) for x in expr.args[:2])

    def parenthesize(self, item, level, strict=False):
        # (Σ_k z_k)**2, not Σ_k z_k**2, which reads as Σ_k (z_k**2): SymPy ranks a Sum as an atom.
        if isinstance(item, Sum) and level >= PRECEDENCE["Pow"]:
            return f"({self._print(item)})"
        return super().parenthesize(item, level, strict)

    def _print_Sum(self, expr):
        indices = "".join(renamed(str(limit[0])) for limit in expr.limits)
        body = self.parenthesize(expr.function, PRECEDENCE["Mul"], strict=True)  # Σ_k (a + b), Σ_k a*b
        return f"Σ_{indices} {body}"


def formula(expr) -> str:
    """expr on one line, factors in reading order."""
    with _person_order():
        return OneLine({"order": None}).doprint(expr)
