"""Where a definition is real: the part that needs positive inputs (a log or root of an input), if any."""

from __future__ import annotations

from sympy import Dummy, Pow, Sum, log

from derive.show.printing import text


def restricted(definition) -> str | None:
    """The first log or root whose argument may be negative for real z (log(z[i])), as text; else None.

    The numeric check then samples z > 0 and says so: outside that domain the function is not real.
    """
    for part in _preorder(_hidden(definition)):
        if isinstance(part, log) and not part.args[0].is_positive:
            return _shown(part)
        if isinstance(part, Pow) and not part.exp.is_integer and not part.base.is_nonnegative:
            return _shown(part)
    return None


def _hidden(expr):
    """Each sum as one symbol that keeps its sign: Σ_k z_k² is nonnegative, Σ_k e^{z_k} positive."""
    if isinstance(expr, Sum):
        body = expr.function
        return Dummy(f"({text(expr)})", positive=body.is_positive, nonnegative=body.is_nonnegative, real=True)
    if not expr.args:
        return expr
    return expr.func(*(_hidden(a) for a in expr.args))


def _preorder(expr):
    yield expr
    for arg in expr.args:
        yield from _preorder(arg)


def _shown(part) -> str:
    return text(part).replace("_", "")
