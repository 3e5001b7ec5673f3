"""The Python API: derive, then render, emit or check what was derived."""

from __future__ import annotations

from derive.engine.derivation import Derivation, Notebook, derive
from derive.errors import InvalidInput

FORMATS = ("text", "json", "latex", "markdown")


def notebook(d: Derivation, fmt: str) -> str:
    """What a notebook shows of d: the Markdown write-up, or for LaTeX consumers the key results."""
    from derive.writeup.document import notebook

    return notebook(d, fmt)


Notebook.show = notebook


def render(d: Derivation, fmt: str = "text", **options) -> str:
    """The derivation as text, json, latex or markdown (options: lang, method, standalone)."""
    if fmt == "text":
        from derive.show.terminal import show

        return show(d)
    if fmt == "json":
        from derive.show.jsonify import to_json

        return to_json(d)
    if fmt in ("latex", "markdown"):
        from derive.writeup.document import document

        return document(d, fmt, **options)
    raise InvalidInput(f"unknown format '{fmt}'; known: {', '.join(FORMATS)}")


def emit(d: Derivation, target: str = "numpy") -> str:
    """Source code of a standalone module computing the function and its derivatives."""
    from derive.codegen.targets import generate

    return generate(d, target)


def check(d: Derivation, target: str = "numpy", module_path=None):
    """Load the generated code (or the module at module_path) and check it numerically; returns a report."""
    from derive.checking.numeric import verify

    return verify(d, target, module_path=module_path)


__all__ = ["Derivation", "derive", "render", "emit", "check"]
