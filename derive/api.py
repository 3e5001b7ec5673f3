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


def render(d: Derivation, fmt: str = "text", symbols=None, bold: bool = False, **options) -> str:
    """The derivation as text, json, latex or markdown (options: lang, method, standalone), in the
    reader's symbols ({'z': 'a', 's': 'S', 'n': 'N'} or "z=a,s=S,n=N"), vectors bold if asked (LaTeX)."""
    from derive.notation import reader as notation
    from derive.show.printing import notation as printed_in

    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format '{fmt}'; known: {', '.join(FORMATS)}")
    if bold and fmt not in ("latex", "markdown"):
        raise InvalidInput("bold vectors are typeset by LaTeX: use them with --format latex or markdown")
    if not isinstance(d, Derivation):  # several inputs: a block per input
        return _render_blocks(d, fmt, **options)
    spelling = notation.of(d, symbols, bold)
    with printed_in(spelling):
        if fmt == "text":
            from derive.show.terminal import show

            return show(d)
        if fmt == "json":
            from derive.show.jsonify import to_json

            return to_json(d, spelling)
        from derive.writeup.document import document

        return document(d, fmt, notation=spelling, **options)


def _render_blocks(d, fmt: str, lang: str = "en", method: str = "quotient", standalone: bool = False) -> str:
    from derive.show import blocks

    if fmt == "text":
        from derive.show.terminal import width

        return blocks.show(d, width())
    if fmt == "json":
        return blocks.to_json(d)
    from derive.writeup.chained import document

    if method != "quotient":
        raise InvalidInput("--method chooses a route for one input; several inputs have one route")
    return document(d, fmt, lang, standalone)


def emit(d: Derivation, target: str = "numpy", symbols=None) -> str:
    """Source code of a standalone module computing the function and its derivatives; symbols rename
    what its docstrings say (the code keeps z, s: a reader's \\hat{y} is no Python name)."""
    from derive.codegen.targets import generate
    from derive.notation import reader as notation
    from derive.show.printing import notation as printed_in

    if not isinstance(d, Derivation):  # several inputs: F and its gradients or VJPs
        if target in ("torch", "jax"):
            from derive.codegen.several_frameworks import generate as framework

            return framework(d, target)
        if target == "numba":
            from derive.codegen.several_numba import generate as numba

            return numba(d)
        if target != "numpy":
            raise InvalidInput(f"--emit {target} is not written for several inputs yet: use --emit numpy")
        from derive.codegen.several import generate as several

        return several(d)

    spelling = notation.of(d, symbols)
    with printed_in(spelling):
        return generate(d, target)


def check(d: Derivation, target: str = "numpy", module_path=None):
    """Load the generated code (or the module at module_path) and check it numerically; returns a report."""
    if not isinstance(d, Derivation):  # several inputs: the NumPy module's cotangents
        from derive.checking.several import verify as several

        if target in ("torch", "jax") and module_path is None:
            from derive.checking.several_frameworks import verify as framework

            return framework(d, target)
        if target == "numba" and module_path is None:
            return several(d, emit(d, "numba"), reference=emit(d, "numpy"))
        if target != "numpy" or module_path is not None:
            raise InvalidInput(
                "--check for several inputs checks the code it emits with --emit numpy, numba, torch or jax"
            )
        return several(d, emit(d, "numpy"))
    from derive.checking.numeric import verify

    return verify(d, target, module_path=module_path)


def claim(d: Derivation, text: str, hessian: bool = False):
    """Whether a derivative someone wrote (text, in the expr syntax) equals d's: a Verdict."""
    from derive.claims.claim import check as decide

    _one_input(d, "--claim")
    return decide(d, text, hessian=hessian)


def render_claim(verdict, fmt: str = "text", lang: str = "en") -> str:
    """A claim's verdict as text, json, latex or markdown (a fragment)."""
    from derive.claims.view import render as show

    return show(verdict, fmt, lang)


def check_backward(d: Derivation, path, function: str):
    """A user's backward f(z, g) in the file at path, checked numerically against d's VJP: a report."""
    from derive.claims.backward import check_backward as run

    _one_input(d, "--claim-module")
    return run(d, path, function)


def _one_input(d, option: str) -> None:
    if not isinstance(d, Derivation):
        raise InvalidInput(f"{option} is not written for several inputs yet: it checks one input's")


__all__ = ["Derivation", "derive", "render", "emit", "check", "claim", "render_claim", "check_backward"]
