"""Derived formulas as PyTorch or JAX code: printers over the NumPy lowering, and what each rule reads."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Eq, Function, Heaviside, Indexed, Symbol, simplify, solve

from derive.codegen import broadcast, stable
from derive.codegen.arrays import Diagonal, Dropped, Empty, Total, Zeros, array
from derive.codegen.npcode import ArrayPrinter
from derive.codegen.pystyle import formatted
from derive.codegen.statements import Line, Statement, block
from derive.errors import NotApplicable
from derive.notation.symbols import i

# NumPy's name → the framework's, for the functions SymPy's NumPy printer calls; anything else is refused.
_ELEMENTWISE = (
    "exp exp2 expm1 log log10 log1p log2 logaddexp logaddexp2 sqrt sin cos tan sinh cosh tanh "
    "arcsin arccos arctan arctan2 arcsinh arccosh arctanh floor ceil sign hypot isinf isnan pi e"
).split()


class Expanded(Function):
    """A value per vector, shape (...), as a column (..., 1): the cotangent of a scalar L."""

    nargs = 1


class DiagonalAdded(Function):
    """J plus d on its diagonal, out of place (JAX arrays are immutable): J + d_i δ_ij."""

    nargs = 2


class FrameworkPrinter(ArrayPrinter):
    """Shared by both frameworks: NumPy's printer with the module prefix and reductions swapped."""

    framework = ""
    prefix = ""
    special: dict = {}

    def _module_format(self, fqn, register=True):
        module, _, name = fqn.partition(".")
        if module == "math" and name in self.special:
            return self.special[name]
        if module == "numpy" and name in _ELEMENTWISE:
            return f"{self.prefix}.{name}"
        raise NotApplicable(
            f"{self.framework} has no {name} for derive to call; cannot emit {self.framework} code"
        )

    def _print_not_supported(self, expr):
        raise NotApplicable(f"{self.framework} code for {type(expr).__name__} is not supported by derive")

    def _print_Piecewise(self, expr):
        return self._print_not_supported(expr)

    def _print_Abs(self, expr):
        return f"{self.prefix}.abs({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr):
        u, half = (self._print(a) for a in expr.args)
        return f"{self.prefix}.heaviside({u}, {self._like(u, half)})"

    def _print_Gate(self, expr):
        # H(u)·v chosen, not multiplied, as in the NumPy target: an overflowing v never gives 0·inf = NaN.
        u, v, half = expr.args
        if v.is_Number:  # a step times a number: no overflow to guard against
            return self._print(v * Heaviside(u, half))
        shown_u, shown_v = self._print(u), self._print(v)
        if not half:
            return f"{self.prefix}.where({shown_u} > 0, {shown_v}, 0.0)"
        tie = self._print(half * v)
        return (
            f"{self.prefix}.where({shown_u} > 0, {shown_v}, {self.prefix}.where({shown_u} < 0, 0.0, {tie}))"
        )

    def _like(self, u, value):
        return value

    def _print_Outer(self, expr):
        u, v = (self._print(a) for a in expr.args)
        return f'{self.prefix}.einsum("...i,...j->...ij", {u}, {v})'

    def _print_Expanded(self, expr):
        return f"{self.parenthesize(expr.args[0], 1000)}[..., None]"


class TorchPrinter(FrameworkPrinter):
    """PyTorch code: torch.exp, sums over dim=-1, the diagonal as a view written in place."""

    framework, prefix = "PyTorch", "torch"
    special = {"erf": "torch.special.erf", "erfc": "torch.special.erfc", "lgamma": "torch.lgamma"}

    def _print_Total(self, expr):
        return f"torch.sum({self._print(expr.args[0])}, dim=-1, keepdim=True)"

    def _print_Largest(self, expr):
        return f"torch.amax({self._print(expr.args[0])}, dim=-1, keepdim=True)"

    def _print_Diagonal(self, expr):
        return f"torch.diagonal({self._print(expr.args[0])}, dim1=-2, dim2=-1)[...]"

    def _pairwise(self, ufunc, args):
        # torch.maximum takes two tensors; a number bounds through clamp.
        numbers = [a for a in args if a.is_Number]
        tensors = [a for a in args if not a.is_Number]
        code = self._print(tensors[0])
        for arg in tensors[1:]:
            code = f"torch.{ufunc.split('.')[-1]}({code}, {self._print(arg)})"
        bound = "min" if ufunc.endswith("maximum") else "max"
        for number in numbers:
            code = f"torch.clamp({code}, {bound}={self._print(number)})"
        return code

    def _shape(self, like, extra):
        like = self._print(like)
        shape = f"{like}.shape" + (f" + {like}.shape[-1:]" * int(extra))
        return f"{shape}, dtype={like}.dtype, device={like}.device"

    def _print_Zeros(self, expr):
        return f"torch.zeros({self._shape(*expr.args)})"

    def _like(self, u, value):
        # torch.heaviside takes its value at 0 as a tensor: one like u keeps u's dtype and device.
        return f"torch.full_like({u}, {value})"

    def _print_Empty(self, expr):
        return f"torch.empty({self._shape(*expr.args)})"


class JaxPrinter(FrameworkPrinter):
    """jax.numpy code: jnp.exp, sums over axis=-1, the diagonal added out of place."""

    framework, prefix = "JAX", "jnp"
    special = {"erf": "jax.lax.erf", "erfc": "jax.lax.erfc", "lgamma": "jax.lax.lgamma"}

    def _print_Total(self, expr):
        return f"jnp.sum({self._print(expr.args[0])}, axis=-1, keepdims=True)"

    def _print_Largest(self, expr):
        return f"jnp.max({self._print(expr.args[0])}, axis=-1, keepdims=True)"

    def _pairwise(self, ufunc, args):
        return super()._pairwise(f"jnp.{ufunc.split('.')[-1]}", args)

    def _print_Zeros(self, expr):
        return f"jnp.zeros({self._shape(*expr.args)})"

    def _print_Empty(self, expr):
        return self._print_Zeros(expr)

    def _print_DiagonalAdded(self, expr):
        J, d = expr.args
        eye = f"jnp.eye({self._print(J)}.shape[-1], dtype={self._print(J)}.dtype)"
        if d.is_Number:
            return f"{self._print(J)} + {eye}" if d == 1 else f"{self._print(J)} + {self._print(d)} * {eye}"
        return f"{self._print(J)} + {self.parenthesize(d, 1000)}[..., :, None] * {eye}"


PRINTERS = {"torch": TorchPrinter, "jax": JaxPrinter}
RESERVED = {"torch", "jax", "jnp", "ctx", "grad_output", "residuals", "primals", "tangents"}


def printer(target):
    """A function printing one expression as target's code, spaced as ruff formats it."""
    instance = PRINTERS[target]()
    return lambda expr: formatted(instance.doprint(expr))


@dataclass(frozen=True)
class Rule:
    """One generated body: its printed lines and the arrays it reads (z, the output, y, n, parameters)."""

    lines: tuple
    reads: frozenset


def rule(d, statements, target, taken, from_outputs=False) -> Rule:
    """statements made stable (max shift or log-sum-exp), printed for target; from_outputs recovers the
    intermediates the outputs determine (s = exp(ℓ) for log-softmax) instead of recomputing them from z."""
    names = {name for name, _ in d.function.where}
    if from_outputs:
        statements = _pruned(_recovered(statements, d.function))
    shift = stable.needs_shift(d.definition, d.input)
    z = array(d.function.input)
    statements = [stable.final(s, d.n, shift, z) for s in statements]
    if target == "jax":
        statements = [_out_of_place(s) for s in statements]
    lines = block(statements, taken | RESERVED, printer(target))
    values = [s.value for s in statements] + [s.target for s in statements if s.target is not None]
    values = [v.replace(lambda e: isinstance(e, (Zeros, Empty)), lambda e: e.args[0]) for v in values]
    defined = {s.target for s in statements if s.target is not None and not isinstance(s.target, Diagonal)}
    reads = set().union(*(v.free_symbols for v in values)) - defined
    return Rule(tuple(lines), frozenset(s.name for s in reads) - names - {"J"})


def returning(lines, extra: str = "") -> tuple:
    """The lines, the last one's returned value followed by extra (", None" for the arguments without a
    gradient)."""
    *body, last = lines
    return (*body, Line(last.target, last.op, last.value + extra))


def statements(d, kind, names) -> list:
    """The broadcast statements of one of d's functions (forward, jacobian, vjp, jvp, value)."""
    if kind == "value":
        return broadcast.value(d)
    return broadcast.statements(d, kind, names)


def scalar_backward(view, names, cotangent: str) -> list:
    """A scalar's backward: its derived gradient times the cotangent of L, one per vector."""
    *body, last = statements(view, "forward", names)
    return body + [Statement(None, "return", Expanded(Symbol(cotangent, real=True)) * last.value)]


def scalar_tangent(view, names, tangent: str = "v") -> list:
    """A scalar's forward-mode rule: Σ_k ∂L/∂z_k v_k, from the derived gradient."""
    *body, last = statements(view, "forward", names)
    return body + [Statement(None, "return", Dropped(Total(last.value * array(tangent))))]


def inverses(fn) -> dict:
    """The vector intermediates that the output determines entry by entry, each in the output:
    {"s": exp(ell)} for ℓ_i = log s_i. Found by SymPy's solve, kept only when unique and checked."""
    where = dict(fn.where)
    atoms = fn.definition.atoms(Indexed)
    if len(atoms) != 1:
        return {}
    (atom,) = atoms
    name = atom.base.label.name
    if name not in where or atom.indices != (i,) or not where[name].has(i):
        return {}
    w, out = Symbol("w", positive=True), array(fn.output)
    found = solve(Eq(out, fn.definition.xreplace({atom: w})), w)
    if len(found) != 1 or simplify(fn.definition.xreplace({atom: found[0]}) - out) != 0:
        return {}
    return {name: found[0]}


def _recovered(statements, fn):
    known = inverses(fn)
    return [
        Statement(s.target, s.op, known[s.target.name])
        if isinstance(s.target, Symbol) and s.target.name in known
        else s
        for s in statements
    ]


def _pruned(statements):
    """Without the statements whose result nothing after them reads."""
    kept, needed = [], set()
    for s in reversed(statements):
        if s.target is None or s.target in needed or isinstance(s.target, Diagonal) or s.op != "=":
            kept.insert(0, s)
            needed |= s.value.free_symbols | (s.target.free_symbols if s.target is not None else set())
    return kept


def _out_of_place(statement):
    if isinstance(statement.target, Diagonal):
        J = statement.target.args[0]
        return Statement(J, "=", DiagonalAdded(J, statement.value))
    return statement
