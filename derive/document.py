"""A derivation written out like hand-made notes, in LaTeX or Markdown, English or Chinese."""

from __future__ import annotations

from functools import partial

from derive.errors import DeriveError, InvalidInput
from derive.templating import render_template
from derive.typeset import facts, lines
from derive.writeup import writeup

FORMATS = ("latex", "markdown")
LANGUAGES = ("en", "zh")


def document(
    d, fmt: str = "latex", lang: str = "en", method: str = "quotient", standalone: bool = False
) -> str:
    """d written out: the definition, the route, the cases, the matrices, and what follows from them."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown document format '{fmt}'; known: {', '.join(FORMATS)}")
    if lang not in LANGUAGES:
        raise InvalidInput(f"unknown language '{lang}'; known: {', '.join(LANGUAGES)}")
    if standalone and fmt != "latex":
        raise InvalidInput("--standalone makes a complete LaTeX document: use it with --format latex")
    shown = facts(d, writeup(d, method), partial(escape, fmt=fmt))
    return render_template(
        "standalone.tex.j2" if standalone else "document.j2",
        syntax="latex",  # << >> and <% %>: LaTeX's braces stay out of Jinja's way, in Markdown too
        fmt=fmt,
        lang=lang,
        standalone=standalone,
        command=_command(d, fmt, lang, method, standalone),
        dialect=f"dialect/{fmt}.j2",
        prose=f"prose/{lang}.j2",
        **shown,
    )


def notebook(d, fmt: str):
    """What Jupyter shows for d: the Markdown write-up, or for LaTeX consumers the results as display math."""
    try:
        if fmt == "markdown":
            return document(d, "markdown")
        w = writeup(d)
        return render_template(
            "notebook.tex.j2", syntax="latex", cases=lines(w.cases), form=lines(w.matrix_form)
        )
    except DeriveError:
        return None  # nothing to show beyond the default repr


def _command(d, fmt, lang, method, standalone) -> str:
    words = ["derive", d.function.name] + ([] if d.n is None else ["--n", str(d.n)]) + ["--format", fmt]
    words += [] if lang == "en" else ["--lang", lang]
    words += [] if method == "quotient" else ["--method", method]
    return " ".join(words + (["--standalone"] if standalone else []))


LATEX_SPECIAL = {c: "\\" + c for c in "&%$#_{}"} | {
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
}


def escape(text: str, fmt: str) -> str:
    """Plain text (a name, a description) made safe for LaTeX or Markdown."""
    if fmt == "latex":
        return "".join(LATEX_SPECIAL.get(c, c) for c in text)
    return "".join("\\" + c if c in "\\`*_[]<>" else c for c in text)
