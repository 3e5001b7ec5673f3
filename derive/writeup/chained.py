"""Several inputs written out: the chain rule through the layer the inputs feed, then each input's block."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Derivative, Indexed, IndexedBase, Sum, Symbol

from derive.engine.blocks import to_inputs
from derive.engine.cache import directory, is_enabled
from derive.engine.definition import _inline
from derive.engine.differentiate import collapse, partial
from derive.engine.prove import vanishes
from derive.engine.rewrite import in_terms_of
from derive.engine.sums import normalize_sums
from derive.errors import InvalidInput, ProofFailed
from derive.notation.symbols import i, matrix, p, vector
from derive.show.printing import latex
from derive.show.templating import keep_compiled, render_template
from derive.writeup import chainstore

LANGUAGES = ("en", "zh", "zh-Hant")


@dataclass(frozen=True)
class Chain:
    """∂L/∂c_p through the intermediate c the inputs feed, and ∂c_p/∂X for each input: each step checked."""

    layer: str  # the intermediate's name, z
    outer: str  # ∂L/∂z_p = s_p − y_p, as LaTeX
    steps: tuple  # per input: (∂z_p/∂X …, the sum Σ_p …, the result), as LaTeX


def chain(d) -> Chain | None:
    """The chain rule through the first vector intermediate written in the inputs alone (z = W x + b),
    for a scalar function; None where there is none. Every step is checked equal to the block."""
    fn = d.function
    if d.kind != "scalar":
        return None
    inputs = {matrix(x.name) for x in fn.declared_inputs}
    where = list(fn.where)
    fed = [
        at
        for at, (_, body) in enumerate(where)
        if body.has(i) and {a.base for a in body.atoms(Indexed)} <= inputs
    ]
    if not fed:
        return None
    position = fed[0]
    name, body = where[position]
    layer = vector(name)
    later = [(vector(w) if b.has(i) else Symbol(w, positive=True), b) for w, b in where[position + 1 :]]
    in_layer = _inline(fn.definition, later)
    link = (layer, body, later, in_layer)
    # read from the disk when it passes a numeric re-check of every equality shown (chainstore.py)
    outer, inners = chainstore.derived(d, link, lambda: _derived(d, link))
    steps = []
    for b in d.blocks:
        inner = inners[b.input.name]
        steps.append(
            (
                b.input.name,
                latex(Derivative(layer[p], b.wrt)) + " = " + latex(inner),
                latex(
                    Sum(
                        Derivative(Symbol(fn.output), layer[p]) * Derivative(layer[p], b.wrt),
                        (p, 1, _size(layer, d)),
                    )
                ),
                latex(b.general),
            )
        )
    return Chain(name, latex(Derivative(Symbol(fn.output), layer[p])) + " = " + latex(outer), tuple(steps))


def _derived(d, link) -> tuple:
    """∂L/∂c_p in the later intermediates and each block's ∂c_p/∂X (by input name), each step proven."""
    spelled, fn = d.spelled, d.function
    layer, body, later, in_layer = link
    outer_raw = spelled.assume(partial(in_layer, layer[p]))
    # The later intermediates as written, in the layer (s in z): the outer derivative is rewritten in them.
    outer = in_terms_of(outer_raw, tuple(later), layer)
    if not vanishes(spelled.assume(to_inputs(spelled, outer - outer_raw))):
        raise ProofFailed(f"proof failed: the chain rule's outer derivative ∂{fn.output}/∂{layer.name}")
    inners = {}
    for b in d.blocks:
        inner = collapse(partial(body.xreplace({i: p}), b.wrt))
        total = collapse(normalize_sums(Sum(outer * inner, (p, 1, _size(layer, d)))))
        if not vanishes(spelled.assume(to_inputs(spelled, total - b.general))):
            raise ProofFailed(f"proof failed: the chain rule for {b.input.name}")
        inners[b.input.name] = inner
    return outer, inners


def _size(layer: IndexedBase, d):
    from derive.engine.blocks import shapes_of

    return shapes_of(d.spelled)[layer.name][0]


def document(d, fmt: str = "markdown", lang: str = "en", standalone: bool = False) -> str:
    """The blocks written out in LaTeX or Markdown, in English or Chinese (simplified or traditional)."""
    if lang == "zh-Hans":
        lang = "zh"
    if lang not in LANGUAGES:
        raise InvalidInput(
            f"--lang {lang} is not written for several inputs yet; known: {', '.join(LANGUAGES)}"
        )
    if standalone and fmt != "latex":
        raise InvalidInput("--standalone makes a complete LaTeX document: use it with --format latex")
    fn, spelled = d.function, d.spelled
    output = spelled.output[i] if d.kind == "vector" else spelled.output
    blocks = []
    for b in d.blocks:
        lhs = Derivative(output, b.wrt)
        shaped = None
        if b.matrix_form is not None:
            rows, cols = b.matrix_form.shape
            label = (
                f"\\partial {fn.output}/\\partial {b.input.name}"
                if d.kind == "scalar"
                else f"J_{{{b.input.name}}}"
            )
            shaped = f"{label} = {latex(b.matrix_form)}"
        blocks.append(
            {
                "name": b.input.name,
                "index": f"{latex(lhs)} = {latex(b.general)}",
                "matrix": shaped,
                "proofs": b.proofs,
            }
        )
    # beside the derivation cache; under --no-cache read as Python reads .pyc files, never written
    keep_compiled(directory() / "templates", write=is_enabled())
    return render_template(
        "blocks.j2",
        syntax="latex",
        fmt=fmt,
        lang=lang,
        standalone=standalone,
        title=fn.title_in(lang) or fn.name,
        kind=d.kind,
        inputs=[(x.name, x.dims, x.data) for x in fn.declared_inputs],
        definition=f"{latex(output)} = {latex(fn.definition)}",
        where=[
            f"{latex(k[i] if hasattr(k, 'label') else k)} = {latex(v)}" for k, v in spelled.function_where()
        ],
        assumed=[f"{latex(lhs)} = {latex(rhs)}" for lhs, rhs in d.assumed],
        chain=chain(d),
        blocks=blocks,
    )
