"""Several inputs as PyTorch or JAX: the NumPy lowering in torch or jax.numpy, the derived cotangents as
a torch.autograd.Function's backward or a jax.custom_vjp's, one cotangent per input."""

from __future__ import annotations

import re

from derive.codegen.several import plan
from derive.errors import NotApplicable
from derive.show.printing import text
from derive.show.templating import render_template

PREFIX = {"torch": "torch", "jax": "jnp"}


def generate(d, target: str) -> str:
    """Source of a module importing only torch (or only jax) with F and its derived backward."""
    if target not in PREFIX:
        raise NotApplicable(f"unknown framework '{target}'; known: {', '.join(PREFIX)}")
    fn, spelled = d.function, d.spelled
    p = plan(d, PREFIX[target])
    computed = [name for name, _ in p.steps]
    rank = {x.name: len(x.dims) for x in fn.declared_inputs}
    read = set().union(*(_names(code) for _, code, _, _ in p.cotangents))
    forward_read = set().union(_names(p.forward), *(_names(code) for _, code in p.steps))
    codes = [p.forward, *(code for _, code in p.steps), *(code for _, code, _, _ in p.cotangents)]
    order = [*p.inputs, *computed, fn.output]
    saved = [name for name in order if name in read]
    differentiated = {name for name, *_ in p.cotangents}
    return render_template(
        f"several_{target}.py.j2",
        name=fn.name,
        cls="".join(part.capitalize() or "_" for part in fn.name.split("_")),
        heading=fn.heading,
        kind=spelled.kind,
        inputs=p.inputs,
        data=[x.name for x in fn.declared_inputs if x.data],
        params=p.params,
        dims=[(dim, source) for dim, source in p.dims if dim in forward_read | read],
        math=any("math." in code for code in codes),
        dims_read=[(dim, source) for dim, source in p.dims if dim in read],  # jax: from the residuals
        steps=p.steps,
        output=fn.output,
        forward=p.forward,
        cotangents=[(x, code, general, matrix, _axes(rank[x])) for x, code, general, matrix in p.cotangents],
        position={x: k for k, x in enumerate(p.inputs)},
        differentiated=differentiated,
        saved=saved,
        read=read,
        unpacked=f"({saved[0]},)" if len(saved) == 1 else ", ".join(saved),
        once=any(name not in p.inputs for name in saved),
        definition=text(fn.definition),
        where=[(str(k), text(v)) for k, v in spelled.function_where()],
    )


def plain_source(d, target: str) -> str:
    """A module with plain(…): F as its definition reads, softmax unshifted: what autograd differentiates
    when the generated module is checked."""
    p = plan(d, PREFIX[target], plain=True)
    return render_template("several_plain.py.j2", target=target, plan=p, output=d.function.output)


def _names(code: str) -> set:
    """The names a line of generated code reads: no attribute, nothing inside an einsum's quoted spec."""
    return set(re.findall(r"(?<![\w.])[A-Za-z_]\w*", re.sub(r"'[^']*'", "", code)))


def _axes(rank: int) -> str:
    """The index giving a value per batch entry one new axis per axis of an input of that rank."""
    return "[..., " + ", ".join(["None"] * rank) + "]" if rank else ""
