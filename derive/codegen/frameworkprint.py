"""Derived formulas as PyTorch or JAX code: printers over the NumPy lowering, and what each rule reads."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import (
    Add,
    Eq,
    Function,
    Heaviside,
    Indexed,
    Mul,
    Symbol,
    fraction,
    preorder_traversal,
    simplify,
    solve,
)
from sympy.printing.precedence import PRECEDENCE

from derive.codegen import broadcast, stable
from derive.codegen.arrays import Diagonal, Dropped, Empty, Largest, Total, Zeros, array
from derive.codegen.npcode import ArrayPrinter
from derive.codegen.pystyle import formatted
from derive.codegen.statements import Line, Statement, _named, block
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
    """PyTorch code: torch.exp, sums over dim=-1, the diagonal as a view written in place; each pass
    over memory counted: a sum with a product in it fused (torch.addcmul), per-vector factors first."""

    framework, prefix = "PyTorch", "torch"
    special = {"erf": "torch.special.erf", "erfc": "torch.special.erfc", "lgamma": "torch.lgamma"}

    def __init__(self, scalars=frozenset()):
        super().__init__()
        self.scalars = set(scalars)  # Python numbers, not tensors: n, the parameters, 1/n
        self.rows = set()  # tensors of shape (..., 1): sums, maxima, and what is made of them
        self.numbers = {"n"}  # Python numbers for sure (a parameter may come as a 0-d tensor): alpha=, value=
        self.fresh = set()  # temporaries made by + or ×, whose backward keeps its inputs, not its result
        self.later, self.value = set(), None
        self.kept = set()  # returned with the result: never updated in place
        self.no_grad = False  # no graph is recorded (a Function's forward, a once_differentiable backward)
        self.made = set()  # the temporaries computed here (not inputs, not aliases)
        # Buffers updated in place only in a forward, where every temporary is made from z: under
        # torch.func.vmap an in-place update of a buffer lacking an operand's batch axis fails (in a backward,
        # g may not be batched where s is).
        self.in_place = False

    def bind(self, target, value):
        """target = value is computed: note whether target is a Python number or one value per vector."""
        self.value = value
        if not isinstance(target, Symbol):
            return
        if (value.is_Mul or value.is_Add) and all(isinstance(a, Symbol) or a.is_Number for a in value.args):
            self.fresh.add(target.name)
        if not isinstance(value, Symbol):
            self.made.add(target.name)
        if {s.name for s in value.free_symbols} <= self.numbers:
            self.numbers.add(target.name)
        size = self._size(value)
        if size == "scalar":
            self.scalars.add(target.name)
        elif size == "row":
            self.rows.add(target.name)

    def _size(self, expr) -> str:
        """ "scalar" (a Python number), "row" (shape (..., 1)) or "full" (shape (..., n))."""
        if expr.is_Number:
            return "scalar"
        if isinstance(expr, Total | Largest):
            return "row"
        if isinstance(expr, Symbol):
            if expr.name in self.scalars:
                return "scalar"
            return "row" if expr.name in self.rows else "full"
        if not expr.args or isinstance(expr, (Zeros, Empty, Diagonal)):
            return "full"
        sizes = {self._size(a) for a in expr.args}
        return "full" if "full" in sizes else ("row" if "row" in sizes else "scalar")

    def _print_Mul(self, expr):
        # (g * s) * (x0 / sigma): the per-vector factors multiplied together first, then one pass over g.
        full = [a for a in expr.args if self._size(a) == "full"]
        small = [a for a in expr.args if self._size(a) != "full"]
        if self.no_grad and len(full) == 1 and small and Mul(*small) != -1 and self._scratch(full[0]):
            # No graph to keep intact: the full factor's fresh buffer scaled in place, no new one.
            top, bottom = fraction(Mul(*small))
            scaled = f"div_({self._print(bottom)})" if top == 1 else f"mul_({self._print(Mul(*small))})"
            return f"({self._print(full[0])}).{scaled}"
        if not full or len(small) < 2 or Mul(*small) == -1:
            return super()._print_Mul(expr)
        return f"{self.parenthesize(Mul(*full), PRECEDENCE['Mul'])} * ({self._print(Mul(*small))})"

    def _print_Add(self, expr, order=None):
        # a + c*x*y in one pass (torch.addcmul), a + c*x too (torch.add with alpha), not two or three.
        # A product of two tensors first: torch.addcmul fuses more than torch.add with alpha.
        terms = self._as_ordered_terms(expr, order)
        tensors_in = [sum(self._size(a) != "scalar" for a in Mul.make_args(t)) for t in terms]
        for term in [t for t, k in zip(terms, tensors_in, strict=True) if k == 2] + terms:
            coefficient = [a for a in Mul.make_args(term) if self._size(a) == "scalar"]
            tensors = [a for a in Mul.make_args(term) if self._size(a) != "scalar"]
            rest = expr - term
            # rest may be one value per vector: torch.add and torch.addcmul broadcast it.
            if (
                not 1 <= len(tensors) <= 2
                or self._size(rest) == "scalar"
                or "full" not in map(self._size, tensors)
            ):
                continue
            c = Mul(*coefficient)
            if not {s.name for s in c.free_symbols} <= self.numbers:
                continue
            if len(tensors) == 1:
                if c == 1:
                    continue
                return f"torch.add({self._print(rest)}, {self._print(tensors[0])}, alpha={self._print(c)})"
            x, y = (self._print(t) for t in tensors)
            scale = "" if c == 1 else f", value={self._print(c)}"
            if self._size(rest) == "full" and (self._reusable(rest) or self._scratch(rest)):
                return f"({self._print(rest)}).addcmul_({x}, {y}{scale})"
            return f"torch.addcmul({self._print(rest)}, {x}, {y}{scale})"
        return super()._print_Add(expr, order)

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

    def read_later(self, symbols):
        """The symbols later statements read."""
        self.later = {s.name for s in symbols}

    def _scratch(self, expr) -> bool:
        """expr is printed as a new buffer of its own that may be updated in place: a sum or product
        (whose backward keeps its inputs, not its result), or with no graph (no_grad) anything made here,
        and a temporary made earlier that nothing reads afterwards."""
        if not self.in_place:
            return False
        if isinstance(expr, Symbol):
            return self._reusable(expr) or (
                self.no_grad and expr.name in self.made - self.later - self.kept and self._once(expr)
            )
        if expr.is_Add or (expr.is_Mul and self._size(expr) == "full"):
            return True
        return self.no_grad and isinstance(expr, Function) and self._size(expr) == "full"

    def _once(self, symbol) -> bool:
        """symbol is read once on this line, sums aside."""
        if self.value is None:
            return False
        hidden = self.value.xreplace({Total(symbol): Symbol("_total", real=True)})
        return sum(1 for e in preorder_traversal(hidden) if e == symbol) == 1

    def _reusable(self, rest) -> bool:
        """rest may be updated in place: a fresh temporary that nothing reads afterwards, read on this line
        only here and by sums (which keep no input for backward), so autograd's saved tensors stay intact."""
        if not self.in_place or not isinstance(rest, Symbol):
            return False
        if rest.name not in self.fresh - self.later - self.kept:
            return False
        return self._once(rest)


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


class _Printing:
    """Prints one expression as target's code, spaced as ruff formats it; bind tells it what is computed."""

    def __init__(self, target, scalars=frozenset()):
        self.instance = TorchPrinter(scalars) if target == "torch" else PRINTERS[target]()

    def __call__(self, expr) -> str:
        return formatted(self.instance.doprint(expr))

    def bind(self, target, value):
        if hasattr(self.instance, "bind"):
            self.instance.bind(target, value)

    def read_later(self, symbols):
        if hasattr(self.instance, "read_later"):
            self.instance.read_later(symbols)

    @property
    def later(self) -> set:
        """The names later lines read, as the printer was last told."""
        return set(getattr(self.instance, "later", set()))


def printer(target, scalars=frozenset()):
    """A function printing one expression as target's code; scalars names the Python numbers among its
    symbols (n, the parameters), anything else it reads being a tensor."""
    return _Printing(target, scalars)


@dataclass(frozen=True)
class Rule:
    """One generated body: its printed lines and the arrays it reads (z, the output, y, n, parameters)."""

    lines: tuple
    reads: frozenset


def rule(
    d, statements, target, taken, from_outputs=False, kept=(), returned=(), no_grad=False, in_place=False
) -> Rule:
    """statements made stable (max shift or log-sum-exp), printed for target; from_outputs recovers the
    intermediates the outputs determine (s = exp(ℓ) for log-softmax) instead of recomputing them from z,
    and reads the kept ones as they are (the forward computed them); returned names what the last line
    also returns, so that nothing updates it in place; no_grad: no graph is recorded, so any temporary
    may be updated in place once nothing else reads it; in_place: buffers may be updated in place at all
    (a forward's, made from z alone)."""
    names = {name for name, _ in d.function.where}
    statements = prepared(d, statements, from_outputs, kept)
    if target == "jax":
        statements = [_out_of_place(s) for s in statements]
    else:
        statements, named = _sums_apart(_distributed(statements), taken | RESERVED)
        taken = taken | named
    printing = printer(target, _scalars(d))
    if target == "torch":
        printing.instance.kept, printing.instance.no_grad = set(returned), no_grad
        printing.instance.in_place = in_place
        # What the forward handed over is one value per vector when its definition has no index i (σ).
        printing.instance.rows |= {name for name, b in d.function.where if name in kept and not b.has(i)}
    lines = block(statements, taken | RESERVED, printing)
    values = [s.value for s in statements] + [s.target for s in statements if s.target is not None]
    values = [v.replace(lambda e: isinstance(e, (Zeros, Empty)), lambda e: e.args[0]) for v in values]
    defined = {s.target for s in statements if s.target is not None and not isinstance(s.target, Diagonal)}
    reads = set().union(*(v.free_symbols for v in values)) - defined
    return Rule(tuple(lines), frozenset(s.name for s in reads) - (names - set(kept)) - {"J"})


def prepared(d, statements, from_outputs=False, kept=()) -> list:
    """statements made stable (max shift or log-sum-exp), reading what the outputs determine and the kept
    intermediates instead of recomputing them when from_outputs: what every printer of a rule starts from."""
    if from_outputs:
        statements = [s for s in statements if not (isinstance(s.target, Symbol) and s.target.name in kept)]
        statements = _pruned(_recovered(statements, d.function))
    shift = stable.needs_shift(d.definition, d.input)
    z = array(d.function.input)
    return [stable.final(s, d.n, shift, z) for s in statements]


def _scalars(d) -> set:
    """The names that are Python numbers in the generated code: n and the parameters."""
    labels = {a.base.label for a in d.definition.atoms(Indexed)}
    free = {s.name for s in d.definition.free_symbols if isinstance(s, Symbol) and s not in labels}
    return {"n", *(free - {i.name}), *(p.name for p in d.function.parameters)}


def _distributed(statements) -> list:
    """a * (b + c) as a*b + a*c where a*b is computed anyway (s*g inside Σ g s): the product is then
    shared and the sum fused with the other product (one torch.addcmul), a pass over memory fewer."""
    products = {
        e
        for s in statements
        for e in preorder_traversal(s.value)
        if isinstance(e, Total) and e.args[0].is_Mul
        for e in [e.args[0]]
    }

    def spread(e):
        if not e.is_Mul:
            return None
        sums = [a for a in e.args if a.is_Add]
        if len(sums) != 1:
            return None
        other = e / sums[0]
        terms = [other * t for t in sums[0].args]
        return Add(*terms) if any(t in products for t in terms) else None

    result = []
    for s in statements:
        value = s.value
        if any(spread(e) is not None for e in preorder_traversal(value)):  # else left as it is, unrebuilt
            value = value.replace(lambda e: spread(e) is not None, spread)
        result.append(Statement(s.target, s.op, value))
    return result


def _sums_apart(statements, taken) -> tuple[list, set]:
    """Each sum over the last axis inside a line computed on a line of its own, before it: what is left
    is short enough to stay one line, so its fused calls (addcmul) are not split apart to fit."""
    names, result, known = set(taken), [], {}
    for s in statements:
        value = s.value
        for named, name in known.items():  # in the order named: a sum's name after its summand's
            value = value.xreplace({named: name})
        for total in sorted({e for e in preorder_traversal(value) if isinstance(e, Total)}, key=str):
            if total == value or not value.has(total):
                continue
            inner = total.args[0]
            if not inner.is_Symbol and value.xreplace({total: Symbol("_sum")}).has(inner):
                # What is summed is read again on the line (g ⊙ s in s ⊙ g − s Σ g ⊙ s): computed once.
                known[inner] = _named(inner, names)
                result.append(Statement(known[inner], "=", inner))
                value, total = value.xreplace({inner: known[inner]}), total.xreplace({inner: known[inner]})
            known[total] = _named(total, names)
            result.append(Statement(known[total], "=", total))
            value = value.xreplace({total: known[total]})
        result.append(Statement(s.target, s.op, value))
    return result, names - set(taken)


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


def kept(d, *rules) -> tuple:
    """The named intermediates the forward should hand to the derived rules (statements each) rather than
    have them recomputed from z: each one per vector (σ, a column), read as it is; and a full one the
    output determines (s = exp(ℓ)) when the rules read it and not the output, saved in the output's place
    (as many bytes saved and a pass fewer in backward; one more array alive while the caller holds ℓ)."""
    fn = d.function
    where = dict(fn.where)
    reads = set()
    for statements in rules:
        for s in statements:
            if not (isinstance(s.target, Symbol) and s.target.name in where):
                reads |= {e.name for e in s.value.free_symbols}
    rows = [name for name in where if name in reads and not where[name].has(i)]
    full = [name for name in inverses(fn) if name in reads and fn.output not in reads]
    return tuple(name for name in where if name in rows + full)


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
