"""The Python API: derive, then render, emit or check what was derived."""

from __future__ import annotations

from derive.derivation import Derivation, derive
from derive.errors import InvalidInput

FORMATS = ("text", "json", "latex", "markdown")


def render(d: Derivation, fmt: str = "text", **options) -> str:
    """The derivation as text, json, latex or markdown (options: lang, method, standalone)."""
    if fmt == "text":
        from derive.terminal import show

        return show(d)
    if fmt == "json":
        from derive.jsonify import to_json

        return to_json(d)
    if fmt in ("latex", "markdown"):
        from derive.document import document

        return document(d, fmt, **options)
    raise InvalidInput(f"unknown format '{fmt}'; known: {', '.join(FORMATS)}")


def emit(d: Derivation, target: str = "numpy") -> str:
    """Source code of a standalone module computing the function and its derivatives."""
    from derive.codegen import generate

    return generate(d, target)


def check(d: Derivation, target: str = "numpy", module_path=None):
    """Load the generated code (or the module at module_path) and check it numerically; returns a report."""
    from derive.numeric import verify

    return verify(d, target, module_path=module_path)


def claim(d: Derivation, text: str, hessian: bool = False):
    """Whether a derivative someone wrote (text, in the expr syntax) equals d's: a Verdict."""
    from derive.claim import check as decide

    return decide(d, text, hessian=hessian)


def render_claim(verdict, fmt: str = "text", lang: str = "en") -> str:
    """A claim's verdict as text, json, latex or markdown (a fragment)."""
    from derive.claimview import render as show

    return show(verdict, fmt, lang)


def check_backward(d: Derivation, path, function: str):
    """A user's backward f(z, g) in the file at path, checked numerically against d's VJP: a report."""
    from derive.claimcheck import check_backward as run

    return run(d, path, function)


__all__ = ["Derivation", "derive", "render", "emit", "check", "claim", "render_claim", "check_backward"]
