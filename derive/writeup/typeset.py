"""A write-up typeset: every formula printed to LaTeX by derive's printer, ready for the templates."""

from __future__ import annotations

from sympy import (
    Abs,
    Derivative,
    DiagMatrix,
    Eq,
    Heaviside,
    Identity,
    Indexed,
    KroneckerDelta,
    MatrixSymbol,
    Max,
    Min,
    Ne,
    OneMatrix,
    Symbol,
    Tuple,
    log,
    sign,
)

from derive.notation.symbols import i, j, n, y
from derive.show import printing
from derive.writeup.routes import DENOMINATOR, NUMERATOR
from derive.writeup.views import HESSIAN, shown
from derive.writeup.writeup import Writeup

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
NOTELESS |= {"gradient", "entry", "hessian"}
CHAIN_RULES = {"chain", "chain_rule"}
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


def facts(d, w, escape, label) -> dict:
    """What the templates show of d's write-up w, every formula printed; escape makes plain text safe,
    label(function) names a function in the document's language."""
    fn, spelled = d.function, d.spelled
    shown = dict(
        kind=d.kind,
        name=label(fn),
        description=escape(fn.description),
        size=d.n,
        # The definition as written, its intermediates and parameter values after it.
        definition=tex(Eq(d.output[i] if d.kind == "vector" else d.output, fn.definition)),
        where=[tex(Eq(_named(key), body)) for key, body in spelled.function_where()]
        + [tex(Eq(name, value)) for name, value in spelled.parameters],
        assumed=[tex(Eq(lhs, rhs)) for lhs, rhs in spelled.assumptions],
        # The vectors besides the input that the definition reads (a target y), each written out.
        targets=[tex(Eq(b.label, Tuple(b[1], Symbol(r"\dots"), b[n]))) for b in _targets(spelled)],
        checked=_checked(w),
        kinks=[tex(k) for k in _kinks(fn.definition)],
    )
    if d.kind == "scalar":
        return {**shown, **_scalar(d, w, label)}
    jacobian = _jacobian(d, w)
    math = {**jacobian["math"], **_loss_math(w.loss)}
    return {
        **shown,
        "math": math,
        "jacobian": jacobian,
        "loss": _loss(w.loss),
        "example": _example(w.example),
        "proofs": [dict(what="jacobian", proven=_proofs(d))],
    }


def _kinks(definition) -> list:
    """For each of max, min and |·| in the definition, its derivative as SymPy takes it, and the value that
    derivative's step or sign has at the kink: the convention derive follows there (PyTorch's)."""
    a, b = Symbol("a", real=True), Symbol("b", real=True)
    found = [
        Eq(Derivative(f(a, b), a), f(a, b).diff(a), evaluate=False) for f in (Max, Min) if definition.has(f)
    ]
    if found:
        found.append(Eq(Heaviside(0, evaluate=False), Heaviside(0), evaluate=False))
    if definition.has(Abs):
        found.append(Eq(Derivative(Abs(a), a), Abs(a).diff(a), evaluate=False))
        found.append(Eq(sign(0, evaluate=False), sign(0), evaluate=False))
    return found


def _targets(spelled) -> list:
    """The indexed vectors in the definition other than its input: data such as a target y, held fixed."""
    bases = {a.base for a in spelled.expanded.atoms(Indexed)} - {spelled.input}
    return sorted(bases, key=str)


def _common_math(d) -> dict:
    """The symbols every write-up mentions: indices, the input, δ."""
    z = d.input
    return dict(
        i=tex(i),
        j=tex(j),
        n=tex(n),
        z=tex(z.label),
        y=tex(y.label),
        f=tex(NUMERATOR),
        g=tex(DENOMINATOR),
        z_j=tex(z[j]),
        z_vector=tex(Eq(z.label, Tuple(z[1], Symbol(r"\dots"), z[n]))),
        dzdz=tex(Derivative(z[i], z[j])),
        i_eq_j=tex(Eq(i, j)),
        i_ne_j=tex(Ne(i, j)),
        delta=tex(KroneckerDelta(i, j)),
        delta_same=tex(_delta_under(Eq(i, j))),
        delta_other=tex(_delta_under(Ne(i, j))),
        n_is=None if d.n is None else tex(Eq(n, d.n)),
    )


def _jacobian(d, w: Writeup) -> dict:
    """A vector function's derivation, as the route, the cases and the matrices show it."""
    s, z, r = d.output, d.input, w.route
    math = dict(
        _common_math(d),
        s=tex(s.label),
        s_i=tex(s[i]),
        log_s_i=tex(log(s[i])),
        dsdz=tex(Derivative(s[i], z[j])),
        jacobian=tex(w.symbol),
        what="hessian" if w.symbol == HESSIAN else "jacobian",
        intermediates=[tex(key) for key, _ in d.spelled.function_where() if isinstance(key, Symbol)],
        # Whether the route's steps apply the chain rule at all: a heading names only a rule that is used.
        by_chain=any(step.rule in CHAIN_RULES for c in (*r.known, *r.lemmas, r.main) for step in c),
    )
    return dict(
        math=math,
        route=dict(
            method=r.method,
            asked=r.asked,
            known=[lines(c) for c in r.known],
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
        notation=_notation(d.matrix_form),
        row=_row(w.row),
        explicit=lines(w.explicit),
        elided=d.n is not None and None in shown(d.n),
    )


def _notation(form) -> dict:
    """The matrices a matrix form is written with, each printed: diag(s), I, 𝟏."""
    if form is None:
        return dict(diag=None, diag_of=None, identity=None, ones=None)
    diag = next(iter(sorted(form.atoms(DiagMatrix), key=str)), None)
    return dict(
        diag=None if diag is None else tex(diag),
        diag_of=None if diag is None else tex(diag.args[0]),
        identity=tex(Identity(n)) if form.atoms(Identity) else None,
        ones=tex(OneMatrix(n, 1)) if form.atoms(OneMatrix) else None,
    )


def _loss_math(loss) -> dict:
    if loss is None:
        return dict(loss_gradient=None, dskdz=None, sum_y=None, dLdz=None)
    s_k = loss.by_output[0].before.variables[0]
    return dict(
        loss_gradient=_equation(loss.vector),
        dskdz=tex(Derivative(s_k, loss.main[0].before.variables[0])),
        sum_y=tex(loss.assumption),
        dLdz=tex(loss.vector[0].before),
    )


def _scalar(d, w, label) -> dict:
    """A scalar function's gradient and Hessian, the Hessian laid out as a vector function's Jacobian."""
    L, z, g = d.output, d.input, w.gradient
    hessian = _jacobian(d.hessian, w.hessian)
    via = g.via
    recognized = d.hessian.spelled.recognized
    math = dict(
        _common_math(d),
        L=tex(L),
        dLdz_j=tex(Derivative(L, z[j])),
        dLdz=tex(Derivative(L, MatrixSymbol(z.name, n, 1))),
        d2L=tex(Derivative(L, z[i], z[j])),
        hessian=tex(w.hessian.symbol),
        via=None if via is None else tex(via.label),
        dvdz=None if via is None else tex(Derivative(via[i], z[j])),
        dLdv=None if via is None else tex(g.by_output[0].before),
        dvkdz=None if via is None else tex(Derivative(g.by_output[0].before.variables[0], z[j])),
        assumed=[tex(a) for a in g.assumptions],
    )
    inner = g.inner
    return dict(
        math=math,
        gradient=dict(
            inner=None
            if inner is None
            else dict(lemmas=[lines(c) for c in inner.lemmas], main=lines(inner.main)),
            by_output=lines(g.by_output),
            lemmas=[lines(c) for c in g.lemmas],
            main=lines(g.main),
            vector=lines(g.vector),
            explicit=lines(g.explicit),
            elided=d.n is not None and None in shown(d.n),
            recognized=None
            if not recognized
            else dict(
                name=label(d.hessian.function),
                output=tex(d.hessian.output.label),
                definition=tex(Eq(d.hessian.output[i], d.hessian.function.definition)),
            ),
        ),
        kronecker=lines(w.kronecker),
        entry=lines(w.entry),
        second=lines(w.second),
        hessian=hessian,
        proofs=[dict(what="gradient", proven=_proofs(d)), dict(what="hessian", proven=_proofs(d.hessian))],
    )


def _proofs(d) -> list:
    return [p for p in d.proofs if p.cases]


def _named(key):
    """An intermediate as the definition names it: p_i for a vector, r for a scalar."""
    return key[i] if hasattr(key, "label") else key


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
