"""What every target's module shares: the functions it defines, the names it uses, its header."""

from __future__ import annotations

import keyword
import shlex
from dataclasses import replace

from sympy import Abs, Indexed, Max, Min, Symbol

from derive._version import __version__
from derive.errors import NotApplicable
from derive.notation.function import Function
from derive.notation.symbols import INDICES, i, n, vector
from derive.show.docprint import formula
from derive.show.printing import current, renamed

KINDS = ("forward", "jacobian", "vjp", "jvp")
# Each function of a scalar's gradient, and the vector routine it is: the gradient's forward, Jacobian, JVP.
AS_VECTOR = {"grad": "forward", "hessian": "jacobian", "hvp": "jvp"}


def module_facts(d, routines, where) -> dict:
    """What every module's template is told: header, definition, where-lines, routines, helpers."""
    return {
        "version": __version__,
        "command": command(d),
        **docstring_names(d),
        "function": d.function,
        "n": d.n,
        "definition": formula(d.function.definition),
        "where": [(formula(_named(name, body)), formula(body)) for name, body in where],
        "routines": routines,
        "helpers": sorted(set().union(*(r.helpers for r in routines))),
        # max, min or |·| in the definition: the derivative at a kink follows a stated convention.
        "kinks": d.function.definition.has(Max, Min, Abs),
    }


def command(d, target: str = "numpy") -> str:
    """The command line that emits d's module for target."""
    fn = d.function
    if fn.source is None:
        name = fn.name
    else:  # written on the command line: the expression itself, quoted for a POSIX shell
        name = f"expr {shlex.quote(fn.source)}" + (f" --name {fn.name}" if fn.name != "f" else "")
    values = "".join(f" --param {symbol}={value}" for symbol, value in d.spelled.parameters)
    spelling = current()
    asked = f" {spelling.command}" if spelling is not None and spelling.asked else ""
    return f"derive {name}" + (f" --n {d.n}" if d.n else "") + values + f" --emit {target}" + asked


def docstring_names(d) -> dict:
    """How docstrings write the input and output (the reader's names, under --symbols), and a line
    saying which code names they stand for; the code itself keeps the definition's names."""
    fn = d.function
    doc = {"z": renamed(fn.input), "s": renamed(fn.output), "L": renamed(fn.output)}
    keys = dict.fromkeys([fn.input, fn.output, "n", *(key for key, _ in fn.where)])
    pairs = [f"{renamed(key)} for {key}" for key in keys if renamed(key) != key]
    if not pairs:
        return {"doc": doc, "notation": None}
    line = f"Formulas are written {', '.join(pairs)}; the code's names are the definition's."
    return {"doc": doc, "notation": line}


def parameters(d) -> list[str]:
    """The symbolic parameters of d, by name, as the generated functions take them: keywords."""
    return _names(d, data=d.kind == "scalar")["params"]


def data(d) -> list[str]:
    """The vectors besides z that d's functions take, by name (the target y of a loss)."""
    return _names(d, data=True)["data"]


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


def _named(name, body):
    """An intermediate as the math writes it: s_i for a vector, r for a scalar."""
    return vector(name)[i] if body.has(i) else Symbol(name)


RESERVED = {"g", "v", "J", "gJ", "Jv", "np", "n", "math"}


def _names(d, data: bool = False, reserved=frozenset(RESERVED)) -> dict:
    """The names the generated code uses, checked to be Python identifiers that do not collide.

    data allows vectors besides the input (the target y of a loss): they become arguments like z.
    """
    fn = d.function
    labels = {a.base.label for a in d.definition.atoms(Indexed)}
    free = {s for s in d.definition.free_symbols if isinstance(s, Symbol) and s not in labels}
    where = {name for name, _ in fn.where}
    params = sorted({s.name for s in free - {n, *INDICES}} - where | {p.name for p in fn.parameters})
    known = {fn.input, fn.output, *(name for name, _ in fn.where)}
    others = sorted({a.base.label.name for a in d.definition.atoms(Indexed)} - known)
    if others and not data:
        extra = ", ".join(others)
        raise NotApplicable(f"{fn.name} also takes {extra}; derive emits functions of {fn.input} only")
    names = {"function": fn.name, "input": fn.input, "output": fn.output, "params": params, "data": others}
    used = [fn.name, fn.input, fn.output, *others, *params, *(name for name, _ in fn.where)]
    for name in used:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise NotApplicable(f"'{name}' is not a Python name; cannot emit code for {fn.name}")
    if len(set(used)) != len(used) or set(used) & reserved:
        raise NotApplicable(f"the names in {fn.name} ({', '.join(used)}) collide with the generated code's")
    return names
