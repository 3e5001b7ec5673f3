"""A write-up typeset: every formula printed to LaTeX by derive's printer, ready for the templates."""

from __future__ import annotations

from sympy import Derivative, DiagMatrix, Eq, KroneckerDelta, MatrixSymbol, Ne, Symbol, Tuple, log

from derive import printing
from derive.routes import DENOMINATOR, NUMERATOR
from derive.symbols import i, j, n, y
from derive.views import JACOBIAN, shown
from derive.writeup import Writeup

NOTELESS = {
    "numerator",
    "denominator",
    "kronecker",
    "cases",
    "combine",
    "jacobian",
    "entries",
    "matrix",
    "row",
}
NOTELESS |= {"probability", "loss", "vector"}  # steps that state rather than transform: no rule to name
CONDITIONED = {"delta_one", "delta_zero", "assumption"}  # rules whose note is the condition they use


def tex(expr) -> str:
    """LaTeX for expr as the notes typeset it: pmatrix, and small numbers as 1.4 · 10⁻⁴."""
    return printing.latex(expr, mat_str="pmatrix", mat_delim="", min=-2, max=3)


def lines(steps, notes: bool = True) -> list[dict]:
    """A chain as the lines of an aligned display: the left side once, each right side with its rule."""
    out = []
    for index, step in enumerate(steps):
        note = step.rule if notes and step.rule not in NOTELESS else ""
        condition = (
            tex(_delta_under(step.condition)) if note in CONDITIONED and step.condition is not None else ""
        )
        out.append(
            dict(
                lhs=tex(step.before) if index == 0 else "",
                rhs=tex(step.after),
                note=note,
                condition=condition,
            )
        )
    return out


def facts(d, w: Writeup, escape) -> dict:
    """What the templates show of d's write-up w, every formula printed; escape makes plain text safe."""
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
        dzdz=tex(Derivative(z[i], z[j])),
        i_eq_j=tex(Eq(i, j)),
        i_ne_j=tex(Ne(i, j)),
        delta=tex(KroneckerDelta(i, j)),
        delta_same=tex(_delta_under(Eq(i, j))),
        delta_other=tex(_delta_under(Ne(i, j))),
        jacobian=tex(JACOBIAN),
        diag=tex(DiagMatrix(MatrixSymbol(s.name, n, 1))),
        n_is=None if d.n is None else tex(Eq(n, d.n)),
        loss_gradient=None if w.loss is None else _equation(w.loss.vector),
        dskdz=None if w.loss is None else tex(Derivative(s[w.loss.index], z[j])),
        sum_y=None if w.loss is None else tex(w.loss.assumption),
        dLdz=None if w.loss is None else tex(w.loss.vector[0].before),
    )
    return dict(
        name=escape(d.function.heading),
        description=escape(d.function.description),
        size=d.n,
        math=math,
        definition=tex(Eq(s[i], d.function.definition)),  # as written; intermediates follow
        where=[tex(Eq(base[i], body)) for base, body in d.definitions.items() if base != s],
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
        row=_row(w.row),
        explicit=lines(w.explicit),
        elided=d.n is not None and None in shown(d.n),
        loss=_loss(w.loss),
        example=_example(w.example),
        checked=_checked(w),
        proofs=[p for p in d.proofs if p.cases],
    )


def _delta_under(condition):
    """What a case does to δ_ij: i = j gives δ_ii = 1, i ≠ j gives δ_ij = 0; other conditions stay."""
    if condition not in (Eq(i, j), Ne(i, j)):
        return condition
    if isinstance(condition, Eq):
        return Eq(KroneckerDelta(i, i, evaluate=False), KroneckerDelta(i, i), evaluate=False)
    return Eq(KroneckerDelta(i, j), KroneckerDelta(i, i + 1))


def _equation(steps) -> str:
    """A chain's two ends as one equation, for a mention in prose."""
    return f"{tex(steps[0].before)} = {tex(steps[-1].after)}"


def _row(row):
    if row is None:
        return None
    return dict(
        r=row.r,
        elements=[lines(e, notes=False) for e in row.elements],
        whole=lines(row.whole),
        elided=None in row.columns,
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
