"""Code for PyTorch and JAX: the derived rules as a torch.autograd.Function, or jax.custom_vjp/custom_jvp."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Symbol

from derive.codegen import broadcast, frameworkprint
from derive.codegen.broadcast import _intermediates
from derive.codegen.frameworkprint import (
    _scalars,
    kept,
    prepared,
    rule,
    scalar_backward,
    scalar_tangent,
    statements,
)
from derive.codegen.kernel import backward_kernel
from derive.codegen.module import RESERVED, _names, command, module_facts
from derive.errors import NotApplicable
from derive.notation.symbols import i
from derive.show.docprint import formula
from derive.show.templating import render_template

FRAMEWORKS = ("torch", "jax")
# The vector routine each public function of a scalar's module is: its gradient's forward, Jacobian, JVP.
SCALAR = (("grad", "forward"), ("hessian", "jacobian"), ("hvp", "jvp"))
VECTOR = (("jacobian", "jacobian"), ("vjp", "vjp"), ("jvp", "jvp"))


@dataclass(frozen=True)
class Public:
    """One plain function of the module: F_jacobian, F_vjp, F_jvp, or a scalar's F_grad, …"""

    name: str
    kind: str
    formula: str
    lines: tuple
    reads: frozenset


@dataclass(frozen=True)
class Rules:
    """The custom rule: forward, backward (the VJP) and the forward-mode tangent, with what each reads."""

    forward: object
    backward: object
    tangent: object
    saved: tuple  # what backward reads of the inputs and the output, in argument order
    tangent_saved: tuple  # … and what the tangent rule reads
    size_from: str  # an array of z's last axis available in backward, for n
    kept: tuple = ()  # the named intermediates the forward returns after the output, for the rules


def generate(d, target: str) -> str:
    """Source of a module importing only torch (or only jax) with F's derived rules as custom autograd."""
    if target not in FRAMEWORKS:
        raise NotApplicable(f"unknown framework '{target}'; known: {', '.join(FRAMEWORKS)}")
    scalar = d.kind == "scalar"
    names = _names(d, data=scalar, reserved=frozenset(RESERVED | frameworkprint.RESERVED))
    taken = {names["function"], names["input"], names["output"], *names["params"], *names["data"]}
    taken |= {
        f"{names['function']}_{suffix}" for suffix in ("jacobian", "vjp", "jvp", "grad", "hessian", "hvp")
    }
    args = [names["input"], *names["data"]]
    if scalar:
        from derive.codegen.module import gradient_view

        view = gradient_view(d)
        inner = {**_names(view, data=True, reserved=frozenset(RESERVED - {"g"})), "data": names["data"]}
        taken |= {inner["output"]}
        forward = rule(d, statements(d, "value", names), target, taken, no_grad=True, in_place=True)
        backward = rule(view, scalar_backward(view, inner, "grad_output"), target, taken)
        tangent = rule(view, scalar_tangent(view, inner), target, taken)
        publics = [
            _public(view, kind, inner, target, taken, f"{names['function']}_{suffix}")
            for suffix, kind in SCALAR
        ]
        where = list(view.function.where)
        if d.hessian.spelled.recognized:
            where.append((view.function.output, view.function.definition))
        where = [(n, b) for n, b in d.function.where if (n, b) not in where] + where
        assumed = [
            f"{formula(lhs)} = {formula(rhs)}" for lhs, rhs in dict.fromkeys((*d.assumed, *d.hessian.assumed))
        ]
        gradient, handed = inner["output"], ()
        fused = (prepared(view, scalar_backward(view, inner, "grad_output")), _scalars(view), {"grad_output"})
    else:
        found = {kind: statements(d, kind, names) for kind in ("forward", "vjp", "jvp")}
        # torch's jvp reads the Function's saved tensors too; jax's custom_jvp recomputes from z.
        handed = kept(d, found["vjp"], found["jvp"]) if target == "torch" else kept(d, found["vjp"])
        forward = rule(
            d,
            _computing(d, found["forward"], handed),
            target,
            taken,
            returned=handed,
            no_grad=True,
            in_place=True,
        )
        backward = rule(d, found["vjp"], target, taken, from_outputs=True, kept=handed, no_grad=bool(handed))
        tangent = rule(
            d, found["jvp"], target, taken, from_outputs=True, kept=handed if target == "torch" else ()
        )
        publics = [
            _public(d, kind, names, target, taken, f"{names['function']}_{suffix}") for suffix, kind in VECTOR
        ]
        where, assumed, gradient = list(d.function.where), [], None
        per_vector = {name for name, body in d.function.where if name in handed and not body.has(i)}
        fused = (prepared(d, found["vjp"], True, handed), _scalars(d), per_vector)
    order = [*args, names["output"], *handed]
    rules = Rules(
        forward=forward,
        backward=backward,
        tangent=tangent,
        saved=tuple(a for a in order if a in backward.reads),
        tangent_saved=tuple(a for a in order if a in tangent.reads),
        size_from="grad_output" if scalar else "g",
        kept=handed,
    )
    if scalar and "n" in backward.reads | tangent.reads:
        rules = _with_input_for_size(rules, names["input"])
    unset = ", None" * (len(args) - 1 + len(names["params"]))
    return render_template(
        f"{target}_module.py.j2",
        **{**module_facts(d, [], where), "command": command(d, target)},
        names=names,
        scalar=scalar,
        cls="".join(part.capitalize() or "_" for part in names["function"].split("_")),
        args=args,
        rules=rules,
        unset=unset,
        publics=publics,
        assumed=assumed,
        gradient=gradient,
        forward_formula=formula(broadcast.computed(d, "forward")),
        double=target == "torch" and not handed,
        handed_vectors=[name for name, body in d.function.where if name in handed and body.has(i)],
        kernel=backward_kernel(fused[0], names["function"], *fused[1:]) if target == "torch" else None,
    )


def once_differentiable(d) -> bool:
    """Whether the torch module's backward reads intermediates its forward saved (σ), not functions of z:
    then it is marked once_differentiable, and double backward raises rather than miss their derivatives."""
    if d.kind == "scalar":
        return False
    names = _names(d, reserved=frozenset(RESERVED | frameworkprint.RESERVED))
    return bool(kept(d, statements(d, "vjp", names), statements(d, "jvp", names)))


def _with_input_for_size(rules, z):
    """A scalar's cotangent has no axis n: read n from z, saving it if nothing else had."""
    saved = rules.saved if z in rules.saved else (z, *rules.saved)
    tangent_saved = rules.tangent_saved if z in rules.tangent_saved else (z, *rules.tangent_saved)
    return Rules(rules.forward, rules.backward, rules.tangent, saved, tangent_saved, z, rules.kept)


def _computing(d, forward, handed) -> list:
    """The forward's statements, computing before its result the intermediates it hands over."""
    have = {s.target for s in forward if s.target is not None}
    extra = [s for s in _intermediates([Symbol(name) for name in handed], d.function) if s.target not in have]
    return forward[:-1] + extra + forward[-1:]


def _public(d, kind, names, target, taken, name) -> Public:
    body = rule(d, statements(d, kind, names), target, taken)
    return Public(name, kind, formula(broadcast.computed(d, kind)), body.lines, body.reads)
