"""The derived backward as one C++ loop per vector: the torch module's fused CPU path, printed by SymPy's
C++ printer from the same statements the eager lines are printed from."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sympy import Rational, Symbol, postorder_traversal
from sympy.printing.cxx import CXX11CodePrinter

from derive.codegen.arrays import Largest, Total
from derive.codegen.frameworkprint import Expanded
from derive.codegen.statements import _named
from derive.errors import NotApplicable
from derive.show.templating import render_template

# The kernel's own names (loop indices, sizes, the element type): a derived name equal to one is renamed.
_OWN = {"scalar_t", "row_", "at_", "end_", "size_", "rows_", "threads_", "out_", "std"}
_KEYWORDS = set(
    "auto bool break case char const continue default do double else enum extern float for goto if inline "
    "int long new operator register return short signed sizeof static struct switch template this typedef "
    "union unsigned void volatile while".split()
)


@dataclass(frozen=True)
class Kernel:
    """C++ source of the backward and how to call it: arrays of the result's shape (..., n), then one value
    per vector (shape (...) or (..., 1)), then Python numbers, in that order."""

    source: str
    name: str  # the library's name, with a hash of its source: another formula never reuses a build
    arrays: tuple
    rows: tuple
    numbers: tuple


class KernelPrinter(CXX11CodePrinter):
    """C++ over scalar_t: an array entry a[at_], a value per vector v[row_], numbers cast to scalar_t
    (as PyTorch does with Python numbers), powers as products or std::sqrt; anything else is refused."""

    def __init__(self, spelled):
        super().__init__({"strict": True})
        self.spelled = spelled  # symbol name → its C++ spelling

    def _print_Symbol(self, expr):
        if expr.name not in self.spelled:
            raise NotApplicable(f"the fused kernel does not know {expr.name}")
        return self.spelled[expr.name]

    def _number(self, value) -> str:
        return f"scalar_t({value})"

    def _print_Integer(self, expr):
        return self._number(int(expr))

    def _print_Rational(self, expr):
        return self._number(repr(float(expr)))

    def _print_Float(self, expr):
        return self._number(repr(float(expr)))

    def _print_NumberSymbol(self, expr):
        return self._number(repr(float(expr)))

    _print_Pi = _print_Exp1 = _print_NumberSymbol

    def _print_Pow(self, expr):
        base, exponent = expr.args
        shown = self.parenthesize(base, 1000)
        if exponent == Rational(1, 2):
            return f"std::sqrt({self._print(base)})"
        if exponent == -Rational(1, 2):
            return f"(scalar_t(1)/std::sqrt({self._print(base)}))"
        if exponent.is_Integer and 1 <= abs(exponent) <= 4:
            product = "*".join([shown] * abs(int(exponent)))
            return f"({product})" if exponent > 0 else f"(scalar_t(1)/({product}))"
        return f"std::pow({self._print(base)}, {self._print(exponent)})"

    def _print_not_supported(self, expr):
        raise NotApplicable(f"the fused kernel cannot print {type(expr).__name__}")

    _print_Piecewise = _print_Heaviside = _print_not_supported

    def _print_Function(self, expr):
        if expr.func.__name__ not in self.known_functions:
            return self._print_not_supported(expr)
        return super()._print_Function(expr)


def backward_kernel(statements, function: str, numbers, rows) -> Kernel | None:
    """The kernel computing the last statement's returned value from the ones before it (a sum or maximum
    over the vector is one loop; a full-size temporary is recomputed inside the loops that read it), or
    None where the statements hold something C++ is not printed for (the eager lines then run alone).
    numbers: the names that are Python numbers (n, parameters); rows: the inputs one per vector."""
    try:
        return _kernel(statements, function, set(numbers), set(rows))
    except NotApplicable:
        return None


def _kernel(statements, function, numbers, rows) -> Kernel:
    *body, last = statements
    if last.target is not None or any(s.op != "=" or not isinstance(s.target, Symbol) for s in body):
        raise NotApplicable("the fused kernel computes one returned value from named ones")
    inlined, locals_ = {}, set()  # full-size temporaries → their values; values per vector, computed
    for s in body:
        value = s.value.xreplace(inlined)
        if _per_vector(value, numbers, rows | locals_):
            locals_.add(s.target.name)
        else:
            inlined[s.target] = value
    steps = [(s.target, s.value.xreplace(inlined)) for s in body if s.target.name in locals_]
    steps.append((None, last.value.xreplace(inlined)))
    steps = [(t, v.replace(lambda e: isinstance(e, Expanded), lambda e: e.args[0])) for t, v in steps]
    free = set().union(*(v.free_symbols for _, v in steps)) - {t for t, _ in steps if t is not None}
    names = {s.name for s in free} | locals_
    arrays = sorted(s.name for s in free if s.name not in numbers | rows)
    if not arrays:
        raise NotApplicable("the fused kernel needs an array of the result's shape")
    used_rows = sorted(s.name for s in free if s.name in rows)
    used_numbers = sorted(s.name for s in free if s.name in numbers - {"n"})
    spelled = {name: _c_name(name) for name in names}
    loops = []  # (kind, accumulator, initial value, summand) or (None, target, value) per step
    reductions = {}
    for target, value in steps:
        for e in postorder_traversal(value):
            if isinstance(e, Total | Largest) and e not in reductions:
                inner = e.args[0].xreplace(reductions)
                reductions[e] = _named(e, names | _OWN | _KEYWORDS | set(spelled.values()))
                names.add(reductions[e].name)
                spelled[reductions[e].name] = _c_name(reductions[e].name)
                loops.append(("sum" if isinstance(e, Total) else "max", reductions[e].name, inner))
        loops.append((None, target.name if target is not None else None, value.xreplace(reductions)))
    spelled.update({a: f"{_c_name(a)}[at_]" for a in arrays})
    spelled.update({r: f"{_c_name(r)}[row_]" for r in used_rows})
    spelled.update({p: f"scalar_t({_c_name(p)})" for p in used_numbers})
    spelled["n"] = "scalar_t(size_)"
    printer = KernelPrinter(spelled)
    printed = [(kind, name and spelled.get(name, name), printer.doprint(v)) for kind, name, v in loops]
    source = render_template(
        "torch_kernel.cpp.j2",
        function=function,
        arrays=[_c_name(a) for a in arrays],
        rows=[_c_name(r) for r in used_rows],
        numbers=[_c_name(p) for p in used_numbers],
        steps=printed,
    )
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    return Kernel(source, f"derive_{function}_{digest}", tuple(arrays), tuple(used_rows), tuple(used_numbers))


def _per_vector(value, numbers, rows) -> bool:
    """value is one number per vector: what it reads outside sums and maxima is a number or per vector."""
    row = Symbol("row_")
    hidden = value.replace(lambda e: isinstance(e, Total | Largest | Expanded), lambda e: row)
    return all(s.name in numbers | rows | {row.name} for s in hidden.free_symbols)


def _c_name(name: str) -> str:
    return f"{name}_v" if name in _OWN | _KEYWORDS else name
