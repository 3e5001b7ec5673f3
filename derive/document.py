"""A derivation written out like hand-made notes, in LaTeX or Markdown, English or Chinese."""

from __future__ import annotations

from sympy import Derivative, DiagMatrix, Eq, KroneckerDelta, MatrixSymbol, Ne, Sum, Symbol, Tuple, log

from derive import printing
from derive.errors import DeriveError, InvalidInput
from derive.symbols import i, j, k, n, y
from derive.templating import render_template
from derive.routes import DENOMINATOR, NUMERATOR
from derive.views import JACOBIAN, ROW_COLUMNS, shown
from derive.writeup import Writeup, writeup

FORMATS = ("latex", "markdown")
LANGUAGES = ("en", "zh")
NOTELESS = {"numerator", "denominator", "kronecker", "cases", "combine", "jacobian", "entries", "matrix", "row"}
NOTELESS |= {"probability", "loss", "vector"}
CONDITIONED = {"delta_one", "delta_zero", "assumption"}  # rules whose note is the condition they use


def tex(expr) -> str:
    """LaTeX for expr as the notes typeset it: pmatrix, and small numbers as 1.4 · 10⁻⁴."""
    return printing.latex(expr, mat_str="pmatrix", mat_delim="", min=-2, max=3)


def document(d, fmt: str = "latex", lang: str = "en", method: str = "quotient", standalone: bool = False) -> str:
    """d written out: the definition, the route, the cases, the matrices, and what follows from them."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown document format '{fmt}'; known: {', '.join(FORMATS)}")
    if lang not in LANGUAGES:
        raise InvalidInput(f"unknown language '{lang}'; known: {', '.join(LANGUAGES)}")
    if standalone and fmt != "latex":
        raise InvalidInput("--standalone makes a complete LaTeX document: use it with --format latex")
    w = writeup(d, method)
    facts = dict(
        fmt=fmt,
        lang=lang,
        standalone=standalone,
        command=_command(d, fmt, lang, method, standalone),
        dialect=f"dialect/{fmt}.j2",
        prose=f"prose/{lang}.j2",
        **_facts(d, w, fmt),
    )
    return render_template("standalone.tex.j2" if standalone else "document.j2", kind="latex", **facts)


def notebook(d, fmt: str):
    """What Jupyter shows for d: the Markdown write-up, or for LaTeX consumers the results as display math."""
    try:
        if fmt == "markdown":
            return document(d, "markdown")
        w = writeup(d)
        return render_template("notebook.tex.j2", kind="latex", cases=lines(w.cases), form=lines(w.matrix_form))
    except DeriveError:
        return None  # nothing to show beyond the default repr


def _command(d, fmt, lang, method, standalone) -> str:
    words = ["derive", d.function.name] + ([] if d.n is None else ["--n", str(d.n)]) + ["--format", fmt]
    words += [] if lang == "en" else ["--lang", lang]
    words += [] if method == "quotient" else ["--method", method]
    return " ".join(words + (["--standalone"] if standalone else []))


LATEX_SPECIAL = {c: "\\" + c for c in "&%$#_{}"} | {"~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def escape(text: str, fmt: str) -> str:
    """Plain text (a name, a description) made safe for LaTeX or Markdown."""
    if fmt == "latex":
        return "".join(LATEX_SPECIAL.get(c, c) for c in text)
    return "".join("\\" + c if c in "\\`*_[]<>" else c for c in text)


def lines(steps, notes: bool = True) -> list[dict]:
    """A chain as the lines of an aligned display: the left side once, each right side with its rule."""
    out = []
    for index, step in enumerate(steps):
        note = step.rule if notes and step.rule not in NOTELESS else ""
        condition = tex(_delta_under(step.condition)) if note in CONDITIONED and step.condition is not None else ""
        out.append(
            dict(lhs=tex(step.before) if index == 0 else "", rhs=tex(step.after), note=note, condition=condition)
        )
    return out


def _facts(d, w: Writeup, fmt: str) -> dict:
    s, z, r = d.output, d.input, w.route
    math = dict(
        i=tex(i),
        j=tex(j),
        n=tex(n),
        s=tex(s.label),
        z=tex(z.label),
        y=tex(y.label),
        f=tex(NUMERATOR),
        g=tex(DENOMINATOR),
        s_i=tex(s[i]),
        z_j=tex(z[j]),
        log_s_i=tex(log(s[i])),
        z_vector=tex(Eq(z.label, Tuple(z[1], Symbol(r"\dots"), z[n]))),
        dsdz=tex(Derivative(s[i], z[j])),
        dskdz=tex(Derivative(s[k], z[j])),
        dzdz=tex(Derivative(z[i], z[j])),
        i_eq_j=tex(Eq(i, j)),
        i_ne_j=tex(Ne(i, j)),
        delta=tex(KroneckerDelta(i, j)),
        delta_same=tex(_delta_under(Eq(i, j))),
        delta_other=tex(_delta_under(Ne(i, j))),
        jacobian=tex(JACOBIAN),
        diag=tex(DiagMatrix(MatrixSymbol(s.name, n, 1))),
        n_is=None if d.n is None else tex(Eq(n, d.n)),
        sum_y=tex(Eq(Sum(y[k], (k, 1, n)), 1)),
        loss_gradient=None if w.loss is None else _equation(w.loss.vector),
        dLdz=None if w.loss is None else tex(w.loss.vector[0].before),
    )
    return dict(
        name=escape(d.function.heading, fmt),
        description=escape(d.function.description, fmt),
        size=d.n,
        math=math,
        definition=tex(Eq(s[i], d.definition)),
        route=dict(
            method=r.method,
            asked=r.asked,
            parts=[lines(p) for p in r.parts],
            rule=lines(r.rule),
            lemmas=[lines(c) for c in r.lemmas],
            main=lines(r.main),
            same=lines(r.same),
            other=lines(r.other),
        ),
        kronecker=lines(w.kronecker),
        cases=lines(w.cases),
        matrix=lines(w.matrix),
        matrix_form=lines(w.matrix_form),
        row=_row(w.row, d.n),
        explicit=lines(w.explicit),
        elided=d.n is not None and None in shown(d.n),
        loss=_loss(w.loss),
        example=_example(w.example),
        checked=_checked(w),
        proofs=[p for p in d.proofs if p.cases],
    )


def _delta_under(condition):
    """What a case condition does to δ_ij: i = j gives δ_ii = 1, i ≠ j gives δ_ij = 0; others stay as they are."""
    if condition not in (Eq(i, j), Ne(i, j)):
        return condition
    if isinstance(condition, Eq):
        return Eq(KroneckerDelta(i, i, evaluate=False), KroneckerDelta(i, i), evaluate=False)
    return Eq(KroneckerDelta(i, j), KroneckerDelta(i, i + 1))


def _equation(steps) -> str:
    """A chain's two ends as one equation, for a mention in prose."""
    return f"{tex(steps[0].before)} = {tex(steps[-1].after)}"


def _row(row, size):
    if row is None:
        return None
    return dict(
        r=row.r,
        label=tex(row.label),
        elements=[lines(e, notes=False) for e in row.elements],
        whole=lines(row.whole),
        elided=None in row.columns,
        all_shown=size <= ROW_COLUMNS,
    )


def _loss(loss):
    if loss is None:
        return None
    return dict(
        probability=lines(loss.probability),
        definition=lines(loss.definition),
        by_output=lines(loss.by_output),
        main=lines(loss.main),
        vector=lines(loss.vector),
        assumption=tex(loss.assumption),
    )


def _example(ex):
    if ex is None:
        return None
    return dict(
        size=ex.size,
        n_is=tex(Eq(n, ex.size)),
        z=tex(ex.z),
        s=tex(ex.s),
        jacobian=tex(ex.jacobian),
        largest=tex(ex.largest),
        uniform=tex(ex.uniform),
        y=None if ex.y is None else tex(ex.y),
        gradient=None if ex.gradient is None else tex(ex.gradient),
    )


def _checked(w: Writeup) -> dict:
    steps = [step for c in w.chains for step in c]
    return dict(
        symbolic=sum(1 for s in steps if s.checked == "symbolic"),
        instances=sum(1 for s in steps if s.checked == "instances"),
    )
