"""Code from a derivation: the function, its Jacobian, VJP and JVP as a standalone NumPy module."""

from __future__ import annotations

import keyword
import shlex
from dataclasses import dataclass

from sympy import (
    Abs,
    Heaviside,
    Indexed,
    Max,
    Min,
    Piecewise,
    S,
    Sum,
    Symbol,
    arg,
    ceiling,
    conjugate,
    floor,
    im,
    re,
    sign,
)

import derive
from derive import broadcast, entries, npcode, stable
from derive.arrays import Empty, Largest, Zeros, array
from derive.docprint import formula
from derive.errors import NotApplicable
from derive.npcode import code
from derive.statements import block
from derive.symbols import INDICES, i, n, vector
from derive.templating import render_template

TARGETS = ("numpy", "numba")
KINDS = ("forward", "jacobian", "vjp", "jvp")
_NOT_ANALYTIC = (Abs, Max, Min, Piecewise, Heaviside, sign, re, im, floor, ceiling, conjugate, arg)

# The largest n up to which writing every entry out (SymPy's cse over the explicit matrix) ran faster
# than broadcasting the general form, per generated function; above it, and without n, derive broadcasts.
# Measured once with `PYTHONPATH=. python benchmarks/codegen_routes.py`: softmax, float64, batch 4096
# (where runtime matters; at batch 1 both take microseconds and broadcasting wins from n = 3), the
# fastest of 41 alternating runs, n = 1..8, on a 2-core x86-64 with NumPy 2.4. Short rows are where
# entries win: NumPy reduces a last axis of length 4 slowly, and einsum pays per tiny matrix.
EXPLICIT_UP_TO = {"forward": 8, "jacobian": 5, "vjp": 7, "jvp": 7}


@dataclass(frozen=True)
class Routine:
    """One generated function, as facts for the template."""

    kind: str  # forward | jacobian | vjp | jvp
    name: str
    route: str  # broadcast | explicit
    formula: str  # what it returns, printed on one line
    uses_output: bool  # computes s = F(z) first
    shifted: bool  # computes with z − max(z)
    prologue_shift: bool  # … by replacing z on its first line (entries), not inside expressions
    uses_size: bool  # needs n = z.shape[-1]
    lines: tuple
    helpers: tuple  # math functions NumPy lacks, defined in the module: ("erf",)


def generate(d, target: str = "numpy", route: str | None = None) -> str:
    """Source of a standalone module computing F, its Jacobian, VJP and JVP; route forces one path."""
    if target not in TARGETS:
        raise NotApplicable(f"unknown target '{target}'; known: {', '.join(TARGETS)}")
    if target == "numba":  # loops, not broadcasting: its own emitter
        from derive import numba_target

        return numba_target.generate(d)
    source = _numpy(d, route)
    if getattr(d, "kind", None):  # a Derivation, not a bare view: probe the code where exp overflows
        from derive.probe import probe

        probe(d, source)
    return source


def _numpy(d, route):
    if getattr(d, "kind", "vector") == "scalar":
        from derive.scalarcode import generate_scalar

        return generate_scalar(d, route)
    names = _names(d)
    shift = stable.needs_shift(d.definition, d.input)
    routines = [_routine(d, kind, names, shift, route) for kind in KINDS]
    return render_template(
        "numpy_module.py.j2",
        **module_facts(d, routines, d.function.where),
        coupled=d.definition.has(Sum) or shift,
        shift=code(array(names["input"]) - Largest(array(names["input"]))) if shift else None,
        names=names,
    )


def module_facts(d, routines, where) -> dict:
    """What every module's template is told: header, definition, where-lines, routines, helpers."""
    return {
        "version": derive.__version__,
        "command": command(d),
        "function": d.function,
        "n": d.n,
        "explicit_up_to": EXPLICIT_UP_TO,
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
    return f"derive {name}" + (f" --n {d.n}" if d.n else "") + values + f" --emit {target}"


def parameters(d) -> list[str]:
    """The symbolic parameters of d, by name, as the generated functions take them: keywords."""
    return _names(d, data=d.kind == "scalar")["params"]


def holomorphic(d) -> bool:
    """Whether the generated F is analytic in z, so that the complex step gives its derivative."""
    scalar = d.kind == "scalar"
    names = _names(d, data=scalar)
    shift = stable.needs_shift(d.definition, d.input)
    z = array(names["input"])
    statements = broadcast.value(d) if scalar else broadcast.statements(d, "forward", names)
    values = [stable.final(s, d.n, shift, z).value for s in statements]
    # Helpers run math.erf, which takes real numbers only.
    return not any(v.has(*_NOT_ANALYTIC) for v in values) and not npcode.helpers(values)


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


def _routine(d, kind, names, shift, route) -> Routine:
    up_to = EXPLICIT_UP_TO.get(kind, 0)  # a scalar's value is one sum: always broadcast
    explicit = kind != "value" and (
        route == "explicit" or (route is None and d.n is not None and d.n <= up_to)
    )
    if explicit and d.n is not None and not d.function.where:
        statements, chosen = entries.statements(d, kind, names), "explicit"
    elif kind == "value":
        statements, chosen = broadcast.value(d), "broadcast"
    else:
        statements, chosen = broadcast.statements(d, kind, names), "broadcast"
    # Broadcasting takes z − max(z) inside its expressions: a shifted copy of z kept alive beside the
    # results costs NumPy a fresh allocation (page faults) per call; entries unpack it once, as z.
    z = array(names["input"])
    statements = [stable.final(s, d.n, shift, z if chosen == "broadcast" else None) for s in statements]
    taken = {names["function"], names["input"], names["output"], *names["params"], *names["data"]}
    taken |= set(_suffixed(names))
    lines = block(statements, taken)
    values = [s.value for s in statements] + [s.target for s in statements if s.target is not None]
    # Zeros(z, …) borrows only z's shape and dtype: it is not a use of z's values.
    values = [v.replace(lambda e: isinstance(e, (Zeros, Empty)), lambda e: S.Zero) for v in values]
    uses = set().union(*(v.free_symbols for v in values))
    return Routine(
        kind=kind,
        name=names["function"] if kind == "value" else _suffixed(names)[KINDS.index(kind)],
        route=chosen,
        formula=formula(broadcast.computed(d, kind)),
        uses_output=kind not in ("forward", "value") and array(names["output"]) in uses,
        shifted=shift and z in uses,
        prologue_shift=shift and chosen == "explicit" and z in uses,
        uses_size=n in uses,
        lines=tuple(str(line) for line in lines),
        helpers=tuple(npcode.helpers(values)),
    )


def _suffixed(names):
    base = names["function"]
    return [base, f"{base}_jacobian", f"{base}_vjp", f"{base}_jvp"]
