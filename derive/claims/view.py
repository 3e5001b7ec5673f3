"""A claim's verdict for a terminal, as JSON, or as a LaTeX or Markdown fragment; prose in the templates."""

from __future__ import annotations

import json

from sympy import Derivative, Pow, Symbol

from derive.claims.claim import ASSUMED, FAILS, HOLDS
from derive.errors import InvalidInput
from derive.notation.symbols import i, j, vector
from derive.show.docprint import OneLine
from derive.show.printing import latex, latex_equation, pretty, pretty_equation, text
from derive.show.templating import render_template

FORMATS = ("text", "json", "latex", "markdown")
LANGUAGES = ("en", "zh")
DIGITS = 6  # significant digits of the counterexample's decimals


def render(v, fmt: str = "text", lang: str = "en") -> str:
    """The verdict v in fmt (text, json, latex, markdown); lang for the fragments' prose."""
    if fmt == "json":
        return to_json(v)
    if fmt == "text":
        return render_template("claim.txt.j2", **_facts(v, pretty_equation, pretty, _value))
    if fmt in ("latex", "markdown"):
        if lang not in LANGUAGES:
            raise InvalidInput(f"unknown language '{lang}'; known: {', '.join(LANGUAGES)}")
        from derive.writeup.document import escape, label

        facts = _facts(v, latex_equation, latex, latex)
        return render_template(
            "claim.j2",
            syntax="latex",
            fmt=fmt,
            dialect=f"dialect/{fmt}.j2",
            prose=f"prose/claim_{lang}.j2",
            named=label(v.function, fmt, lang),
            # In Markdown the text goes in a code span as it is (a claim that parsed holds no backtick).
            typed=" ".join(v.text.split()) if fmt == "markdown" else escape(" ".join(v.text.split()), fmt),
            **facts,
        )
    raise InvalidInput(f"unknown format '{fmt}'; known: {', '.join(FORMATS)}")


def to_json(v) -> str:
    """The verdict as one JSON object, formulas in SymPy syntax over the names the claim may use."""
    record = {
        "function": v.function.name,
        "claim": v.text,
        "of": v.what,
        "free_index": v.free or None,
        "parsed": text(_as_written(v, v.claim)),
        "derived": text(_as_written(v, v.truth)),
        "verdict": v.status,
        "holds": v.status == HOLDS,
        "how": v.method,
        "assumptions": [f"{text(lhs)} = {text(rhs)}" for lhs, rhs in v.assumptions],
        "difference": None if v.difference is None else text(_as_written(v, v.difference)),
        "cases": {"i == j": text(v.cases[0][1]), "i != j": text(v.cases[1][1])} if v.cases else None,
        "differs_when": [{"same": "i == j", "other": "i != j"}[c] for c in v.differs],
        "example": None if v.example is None else _example_json(v.example),
    }
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def _example_json(ex) -> dict:
    return {
        "n": ex.size,
        "inputs": {name: [text(x) for x in values] for name, values in ex.inputs.items()},
        "parameters": {name: text(value) for name, value in ex.parameters.items()},
        "entry": list(ex.entry),
        "claimed": text(ex.claimed),
        "derived": text(ex.derived),
        "claimed_decimal": float(ex.claimed),
        "derived_decimal": float(ex.derived),
    }


def _facts(v, equation, show, inline) -> dict:
    """What every format says: claim, derivative, verdict, the difference and its cases, the point."""
    lhs = _lhs(v)
    facts = {
        "status": v.status,
        "what": v.what,
        "free": v.free,
        "name": v.function.heading,
        "method": v.method,
        "claim": equation(lhs, _as_written(v, v.claim)),
        "derived": equation(lhs, _as_written(v, v.truth)),
        "assumptions": [equation(lhs_, rhs) for lhs_, rhs in v.assumptions],
        "difference": None,
        "cases": None,
        "differs": list(v.differs),
        "example": None,
        "holds": HOLDS,
        "assumed": ASSUMED,
        "fails": FAILS,
    }
    if v.difference is not None:
        facts["difference"] = show(_as_written(v, v.difference))
    if v.cases:
        facts["cases"] = {"same": show(v.cases[0][1]), "other": show(v.cases[1][1])}
    if v.example is not None:
        facts["example"] = _example(v, v.example, inline)
    return facts


def _example(v, ex, show) -> dict:
    entry = dict(zip(("i", "j") if v.what != "gradient" else (v.free or "i",), ex.entry, strict=False))
    return {
        "n": ex.size,
        "inputs": [(name, [show(x) for x in values]) for name, values in ex.inputs.items()],
        "parameters": [(name, show(value)) for name, value in ex.parameters.items()],
        "entry": list(entry.items()),
        "claimed": show(ex.claimed),
        "derived": show(ex.derived),
        "claimed_decimal": _decimal(ex.claimed),
        "derived_decimal": _decimal(ex.derived),
        "exact": not (ex.claimed.is_Rational and ex.derived.is_Rational),
    }


class _Values(OneLine):
    """One line, with Euler's number written e: e**2/(1 + e)**2, not exp(2)/(1 + E)**2."""

    def _print_Exp1(self, expr):
        return "e"

    def _print_exp(self, expr):
        return self._print(Pow(Symbol("e"), expr.args[0], evaluate=False))


def _value(expr) -> str:
    from derive.show.printing import _person_order

    with _person_order():
        return _Values({"order": None}).doprint(expr)


def _decimal(value) -> str:
    return format(float(value), f".{DIGITS}g")


def _lhs(v):
    """∂s_i/∂z_j, ∂L/∂z_j (with the claim's free index) or ∂²L/∂z_i∂z_j."""
    fn = v.function
    z = vector(fn.input)
    if v.what == "jacobian":
        return Derivative(vector(fn.output)[i], z[j])
    if v.what == "hessian":
        return Derivative(Symbol(fn.output), z[i], z[j])
    return Derivative(Symbol(fn.output), z[j if v.free == "j" else i])


def _as_written(v, expr):
    """A gradient entry with the index the claim used (j for ∂L/∂z_j)."""
    return expr.xreplace({i: j}) if v.what == "gradient" and v.free == "j" else expr


__all__ = ["render", "to_json"]
