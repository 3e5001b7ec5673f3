"""A derivation written out like hand-made notes, in LaTeX or Markdown, English or Chinese."""

from __future__ import annotations

import shlex
from functools import partial

from derive.engine.cache import directory, is_enabled
from derive.errors import DeriveError, InvalidInput
from derive.guard.text import no_double_dash
from derive.show.templating import keep_compiled, render_template
from derive.writeup.typeset import facts, lines
from derive.writeup.writeup import writeup

FORMATS = ("latex", "markdown")
LANGUAGES = ("en", "zh", "zh-Hant")  # zh is simplified Chinese, zh-Hant traditional
ALIASES = {"zh-Hans": "zh"}


def document(
    d,
    fmt: str = "latex",
    lang: str = "en",
    method: str = "quotient",
    standalone: bool = False,
    notation=None,
) -> str:
    """d written out: the definition, the route, the cases, the matrices, and what follows from them;
    in notation (derive.notation.reader.Notation, printed by the caller's printing.notation) if given."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown document format '{fmt}'; known: {', '.join(FORMATS)}")
    lang = ALIASES.get(lang, lang)
    if lang not in LANGUAGES:
        raise InvalidInput(f"unknown language '{lang}'; known: {', '.join((*LANGUAGES, *ALIASES))}")
    if standalone and fmt != "latex":
        raise InvalidInput("--standalone makes a complete LaTeX document: use it with --format latex")
    shown = facts(d, writeup(d, method), partial(escape, fmt=fmt), partial(label, fmt=fmt, lang=lang))
    # beside the derivation cache; under --no-cache read as Python reads .pyc files, never written
    keep_compiled(directory() / "templates", write=is_enabled())
    return render_template(
        "standalone.tex.j2" if standalone else "document.j2",
        syntax="latex",  # << >> and <% %>: LaTeX's braces stay out of Jinja's way, in Markdown too
        fmt=fmt,
        lang=lang,
        standalone=standalone,
        command=_command(d, fmt, lang, method, standalone, notation),
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
        if d.kind == "scalar":
            results = [w.gradient.vector, w.hessian.cases, w.hessian.matrix_form]
        else:
            results = [w.cases, w.matrix_form]
        return render_template("notebook.tex.j2", syntax="latex", results=[lines(r) for r in results])
    except DeriveError:
        return None  # nothing to show beyond the default repr


def _command(d, fmt, lang, method, standalone, notation=None) -> str:
    """The command that writes this document again."""
    fn = d.function
    words = ["derive", fn.name]
    if fn.source is not None:  # a user's expression: derive expr "TEXT" --name NAME
        # In Markdown the command sits in an HTML comment, where '--' has no place: '- -' is the same sum.
        source = no_double_dash(fn.source) if fmt == "markdown" else fn.source
        words = ["derive", "expr", _quoted(source), "--name", fn.name]
    words += [] if d.n is None else ["--n", str(d.n)]
    words += [f"--param {name}={value}" for name, value in d.spelled.parameters]
    words += ["--format", fmt]
    words += [] if lang == "en" else ["--lang", lang]
    words += [] if method == "quotient" else ["--method", method]
    words += [] if notation is None else [notation.command]
    return " ".join(words + (["--standalone"] if standalone else []))


def _quoted(source: str) -> str:
    """The expression as a shell word on one line: in double quotes, as the README writes it."""
    text = " ".join(source.split())
    return f'"{text}"' if not set(text) & set('"$`\\!') else shlex.quote(text)


def label(fn, fmt: str, lang: str) -> dict:
    """How prose in lang names fn: its title there, or else its name in code font."""
    title = fn.title_in(lang)
    if title is not None:
        return dict(text=escape(title, fmt), code=False)
    return dict(text=fn.name if fmt == "markdown" else escape(fn.name, fmt), code=True)


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
