"""Code for a scalar L(z): L, its gradient, Hessian and Hessian-vector product, from the derivation.

The gradient ∂L/∂z_i is a vector function whose Jacobian is the Hessian, so its three functions are
emitted exactly as a vector function's forward, Jacobian and JVP (the Hessian is symmetric: Hv = vᵀH).
"""

from __future__ import annotations

from dataclasses import replace

from derive.codegen import stable
from derive.codegen.numpy import RESERVED, _names, _routine, module_facts
from derive.notation.function import Function
from derive.show.docprint import formula
from derive.show.templating import render_template

# Each function of the gradient, and the vector routine it is: the gradient's forward, Jacobian, JVP.
AS_VECTOR = {"grad": "forward", "hessian": "jacobian", "hvp": "jvp"}


def generate_scalar(d, route: str | None = None) -> str:
    """Source of a standalone module computing L, its gradient, Hessian and HVP."""
    names = _names(d, data=True)
    view = gradient_view(d)
    grad_names = {**_names(view, data=True, reserved=RESERVED - {"g"}), "data": names["data"]}
    value = _routine(d, "value", names, stable.needs_shift(d.definition, d.input), route)
    shift = stable.needs_shift(view.definition, view.input)
    routines = [value] + [
        replace(_routine(view, kind, grad_names, shift, route), name=f"{names['function']}_{suffix}")
        for suffix, kind in AS_VECTOR.items()
    ]
    where = [(name, body) for name, body in view.function.where]
    if d.hessian.spelled.recognized:  # ∇ logsumexp = s, softmax: say what s is
        where.append((view.function.output, view.function.definition))
    where = [(n, b) for n, b in d.function.where if (n, b) not in where] + where
    assumed = dict.fromkeys((*d.assumed, *d.hessian.assumed))
    return render_template(
        "numpy_scalar.py.j2",
        **module_facts(d, routines, where),
        assumed=[f"{formula(lhs)} = {formula(rhs)}" for lhs, rhs in assumed],
        names=names,
        gradient=grad_names,
    )


def gradient_view(d):
    """The gradient ∂L/∂z_i as a vector derivation: its forward is the gradient, its Jacobian the Hessian."""
    fn, h = d.function, d.hessian
    if h.spelled.recognized:  # a registered function (softmax): its own definition, in its own name
        definition, where, output = h.function.definition, h.function.where, h.function.output
    else:
        definition, where, output = d.general, fn.where, h.spelled.output.name
    gradient = Function(
        name=f"{fn.name}_grad",
        description=fn.description,
        definition=definition,
        output=output,
        input=fn.input,
        title=fn.title,
        where=where,
        parameters=fn.parameters,
    )
    return replace(h, function=gradient)


def data(d) -> list[str]:
    """The vectors besides z that d's functions take, by name (the target y of a loss)."""
    return _names(d, data=True)["data"]


__all__ = ["generate_scalar", "gradient_view", "data"]
