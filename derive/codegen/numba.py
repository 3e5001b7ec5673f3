"""Code for Numba: each function as a parallel loop over rows, the row's loops fused from its derivation."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Float, Indexed, Symbol

from derive._version import __version__
from derive.codegen import broadcast, loops, numba_exp, numpy
from derive.codegen.module import KINDS, docstring_names, parameters
from derive.codegen.module import command as emitting
from derive.codegen.npcode import ArrayPrinter
from derive.codegen.pystyle import formatted
from derive.errors import NotApplicable
from derive.notation.symbols import i
from derive.show.docprint import formula
from derive.show.printing import renamed
from derive.show.templating import render_template

# Rows are split into at most this many chunks; each chunk allocates its row buffers once.
CHUNKS = 64
WIDTH = 88  # ruff format's default: the module is formatted for anyone's checkout
ROW, LOOP = 12, 16  # indents of a row's statements and of a loop's


class LoopPrinter(ArrayPrinter):
    """Scalar code inside a Numba kernel: _exp(z[i] - max_z), and math.erf where NumPy has none.

    peaks and known are the row program's facts (each row maximum and what it is the maximum of; the
    definitions of its entries and scalars): an exp whose argument they prove ≤ 0 calls the one-sided exp.
    """

    def __init__(self, peaks=None, known=None, single=False):
        super().__init__()
        self.peaks, self.known = peaks or {}, known or {}
        self.single = single  # float32 arithmetic: constants, integers and powers of two in float32's terms

    def _print(self, expr, **kwargs):
        if self.single and isinstance(expr, Float):
            return f"np.float32({repr(float(expr))})"
        return super()._print(expr, **kwargs)

    def _module_format(self, fqn, register=True):
        module, _, name = fqn.partition(".")
        if module not in ("numpy", "math"):
            raise NotApplicable(f"Numba has no {fqn}; cannot emit Numba code")
        return f"{'np' if module == 'numpy' else module}.{name}"

    def _print_exp(self, expr):
        # libm's exp is a call per entry, which keeps LLVM from vectorising the loop; _exp is not.
        (u,) = expr.args
        return f"{numba_exp.name(u, self.peaks, self.known)}({self._print(u)})"

    def _print_Piecewise(self, expr):
        # A choice between scalars, first condition first: a NaN fails every comparison and falls through.
        *chosen, (last, _) = expr.args
        text = self._print(last)
        for value, condition in reversed(chosen):
            text = f"({self._print(value)} if {self._condition(condition)} else {text})"
        return text

    def _condition(self, relation):
        return f"{self._print(relation.lhs)} {relation.rel_op} {self._print(relation.rhs)}"

    def _print_Whole(self, expr):
        return f"np.int{32 if self.single else 64}({self._print(expr.args[0])})"

    def _print_TwoTo(self, expr):
        return f"_power_of_two{'32' if self.single else ''}({self._print(expr.args[0])})"

    def _print_Halved(self, expr):
        return f"{self._print(expr.args[0])} >> 1"

    def _print_Defined(self, expr):
        k = self._print(expr.args[0])
        return f"({k} if {k} == {k} else {self._print(Float(0))})"

    def _print_Heaviside(self, expr):
        u, half = (self._print(a) for a in expr.args)
        return f"(1 if {u} > 0 else (0 if {u} < 0 else {half}))"

    def _print_Gate(self, expr):
        # H(u)·v chosen entry by entry: where H(u) = 0 an overflowing v must not make 0·inf = NaN.
        u, v, half = (self._print(a) for a in expr.args)
        tie = self._print(expr.args[2] * expr.args[1])
        return f"({v} if {u} > 0 else (0 if {u} < 0 else {tie}))"

    def _print_Indexed(self, expr):
        return f"{expr.base.label}[{', '.join(self._print(x) for x in expr.indices)}]"


@dataclass(frozen=True)
class Line:
    """target op value: op = assigns, sum and max reduce the array named by value."""

    target: str
    op: str
    value: str


@dataclass(frozen=True)
class Pass:
    """One loop over i filling arrays (or out), then the row scalars it makes ready."""

    lines: tuple
    after: tuple


@dataclass(frozen=True)
class Kernel:
    """One generated function: its public name and kind, and its row program as printed lines."""

    kind: str
    name: str
    formula: str
    before: tuple
    passes: tuple
    buffers: tuple
    in_out: str | None  # the buffer held in the output row
    matrix: object  # (hoisted lines, J[i, j] value, δ part) for the Jacobian, else None
    uses_math: bool
    exps: frozenset  # the exp functions it calls, by name


@dataclass(frozen=True)
class ExpCode:
    """An exp function of the module as printed lines, the last one's target "return"."""

    name: str
    one_sided: bool
    precision: str
    lines: tuple
    highest: float
    lowest: float


def generate(d) -> str:
    """Source of a standalone NumPy + Numba module computing F, its Jacobian, VJP and JVP."""
    if getattr(d, "kind", "vector") == "scalar":
        raise NotApplicable(f"{d.function.name} is scalar; derive emits code for vector functions only")
    fn = d.function
    params = parameters(d)  # also checks that every name is a Python name and none collide
    taken = loops.RESERVED & {fn.input, fn.output, *params, *(name for name, _ in fn.where)}
    if taken:
        raise NotApplicable(f"{fn.name} uses {', '.join(sorted(taken))}, a name the Numba kernels need")
    # The NumPy module's probe decides for both targets: the derivative in z where the form in the
    # outputs overflows, or the same one-line refusal where both do.
    d, fallback, _ = numpy.probed(d)
    kernels = [_kernel(d, kind, name) for kind, name in zip(KINDS, _public(fn.name), strict=True)]
    return render_template(
        "numba_module.py.j2",
        version=__version__,
        command=command(d),
        **docstring_names(d),
        function=fn,
        n=d.n,
        definition=formula(fn.definition),
        where=[(renamed(name), formula(body)) for name, body in fn.where],
        z=fn.input,
        s=fn.output,
        params=params,
        kernels=kernels,
        chunks=CHUNKS,
        uses_math=any(k.uses_math for k in kernels),
        exps=exp_functions(set().union(*(k.exps for k in kernels))),
        dispatchers=[n for n in numba_exp.NAMES.values() if any(n in k.exps for k in kernels)],
        reductions={x.op for k in kernels for x in (*k.before, *(x for p in k.passes for x in p.after))},
        fallback=fallback,
    )


def command(d) -> str:
    """The command line that emits d's Numba module."""
    return emitting(d, "numba")


def _public(name):
    return [name, f"{name}_jacobian", f"{name}_vjp", f"{name}_jvp"]


def _kernel(d, kind, name) -> Kernel:
    program = loops.program(d, kind)
    stored = set(program.buffers)
    printed = []
    steps = [*program.before, *(s for loop in program.loops for s in (*loop.steps, *loop.after))]
    # What the printer may prove an exp's argument ≤ 0 from: each row maximum, and every definition.
    peaks = {Symbol(s.name): s.value for s in steps if s.op == "max"}
    known = {s.name: s.value for s in steps if s.op in ("elem", "scalar")}
    printer = LoopPrinter(peaks, known)

    def code(expr):
        # An entry not kept in a buffer lives in a local of the loop that computes it.
        local = {e: Symbol(e.base.label.name) for e in expr.atoms(Indexed) if _local(e, stored, program)}
        text = formatted(printer.doprint(expr.xreplace(local)))
        printed.append(text)
        return text

    names = loops.RESERVED | _names(program) | {d.function.input, *parameters(d)}

    def fit(target, value, indent):
        return _fitted(target, value, indent, code, names)

    passes = []
    for loop in program.loops:
        lines = []
        for step in loop.steps:
            if step.op == "out":
                lines += fit("out[i]", step.value, LOOP)
            elif step.op == "elem":
                lines += fit(f"{step.name}[i]" if step.name in stored else step.name, step.value, LOOP)
        after = [line for s in loop.after for line in _scalar(s, fit, d.function.input)]
        passes.append(Pass(tuple(lines), _paired(after)))
    before = _paired([line for s in program.before for line in _scalar(s, fit, d.function.input)])
    matrix = None
    if program.result is not None:
        m = program.result
        hoisted = [line for u, value in m.rows for line in fit(u, value, LOOP)]
        diagonal = None
        if m.diagonal != 0:  # a local d_i, hoisted out of the loop over j like the u_t(i)
            *pieces, last = fit("out[i, i] +", m.diagonal, LOOP)
            hoisted, diagonal = hoisted + pieces, last.value
        matrix = (tuple(hoisted), code(m.value), diagonal)
    return Kernel(
        kind=kind,
        name=name,
        formula=formula(broadcast.computed(d, kind)),
        before=before,
        passes=tuple(passes),
        buffers=tuple(b for b in program.buffers if b != program.in_out),
        in_out=program.in_out,
        matrix=matrix,
        uses_math=any("math." in text for text in printed),
        exps=frozenset(name for name in numba_exp.NAMES.values() for t in printed if f"{name}(" in t),
    )


def _scalar(step, fit, z) -> list[Line]:
    """A row scalar: a reduction of a whole array, or an expression in other row scalars, rounded to the
    row's dtype (sums accumulate in float64; what each entry reads is in the row's precision)."""
    pair = loops.dot(step.value) if step.op == "sum" else None
    if pair:
        return [Line(step.name, "dot", ", ".join(a.base.label.name for a in pair))]
    if step.op in ("sum", "max"):
        return [Line(step.name, step.op, step.value.base.label.name)]
    lines = fit(step.name, step.value, ROW + len(f"_like({z}, )"))
    return [Line(line.target, "row=", line.value) for line in lines]


def _paired(lines) -> tuple:
    """lines with a sum of x and a dot product of x with y, both ready here, taken in one pass over the row:
    the pair's line stands where the first was. Moving the dot product up is safe: it reads only arrays,
    which the pass before (or the caller) completed."""
    lines = list(lines)
    sums = {line.value: k for k, line in enumerate(lines) if line.op == "sum"}
    for k, line in enumerate(lines):
        if line.op != "dot":
            continue
        x, y = line.value.split(", ")
        if x not in sums and y in sums:
            x, y = y, x
        if x in sums:
            first = min(sums[x], k)
            pair = Line(f"{lines[sums[x]].target}, {line.target}", "sum dot", f"{x}, {y}")
            lines[first], lines[max(sums[x], k)] = pair, None
            return _paired(line for line in lines if line is not None)
    return tuple(lines)


def _fitted(target, value, indent, code, names) -> list[Line]:
    """target = value, preceded by locals holding its largest parts until the line fits WIDTH."""
    before = []
    while True:
        text = code(value)
        parts = [a for a in value.args if a.args]
        if indent + len(f"{target} = {text}") <= WIDTH or not parts:
            return before + [Line(target, "=", text)]
        piece = max(parts, key=lambda a: (len(code(a)), str(a)))
        name = loops.fresh("part", names)
        before += _fitted(name, piece, indent, code, names)
        value = value.xreplace({piece: Symbol(name)})


def _names(program) -> set:
    steps = [*program.before, *(s for loop in program.loops for s in (*loop.steps, *loop.after))]
    return {s.name for s in steps}


def exp_functions(names) -> list[ExpCode]:
    """The exp functions behind the names in names, in both formats, their statements printed: the
    two-sided first, float64 before float32."""
    found = []
    for one_sided in (False, True):
        if numba_exp.NAMES[one_sided] not in names:
            continue
        for precision in ("float64", "float32"):
            e = numba_exp.function(one_sided, precision)
            printer = LoopPrinter(single=precision == "float32")
            lines = [Line(t, "=", formatted(printer.doprint(v))) for t, v in e.statements]
            found.append(ExpCode(e.name, e.one_sided, precision, tuple(lines), e.highest, e.lowest))
    return found


def _local(entry, stored, program) -> bool:
    """Whether entry x[i] is a loop's local: computed by the program, and not kept in a buffer."""
    name = entry.base.label.name
    computed = {s.name for loop in program.loops for s in loop.steps if s.op == "elem"}
    return name in computed and name not in stored and entry.indices == (i,)
