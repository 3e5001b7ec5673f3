"""Several inputs as NumPy: indexed forms lowered to arrays whose last axes are their indices, sums as einsum.

F(x, W, b, y) computes the definition through its intermediates; F_grad (a scalar F) and F_vjp (a vector F,
with the upstream gradient g) lower each block's general form, Σ_i g_i ∂o_i/∂X for a VJP, so that no
Jacobian block (n×d×n) is ever formed.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import ascii_letters

from sympy import Add, Function, Indexed, IndexedBase, Mul, Pow, Rational, Sum, Symbol, exp, log

from derive.codegen import lowering as rules
from derive.codegen.lowering import Peak
from derive.engine.differentiate import collapse
from derive.engine.sums import normalize_sums
from derive.errors import NotApplicable
from derive.notation.symbols import dimension, i, vector
from derive.show.printing import text
from derive.show.templating import render_template

_FUNCTIONS = ("exp", "log", "tanh", "sin", "cos")


@dataclass(frozen=True)
class Arr:
    """NumPy code for an array whose last axes are labels (indices), batched over leading axes or not."""

    code: str
    labels: tuple = ()
    batched: bool = True


class Lowering:
    """Indexed expressions as NumPy code, given which names are arrays and which softmax intermediates."""

    def __init__(self, scalars: set, xp: str = "np"):
        self.xp = xp  # the array module's name in the generated code: np, torch or jnp
        self.scalars = scalars  # the scalar intermediates (μ, σ): one per batch entry, unlike a parameter

    def lower(self, expr) -> Arr:
        if expr.is_Number:
            return Arr(repr(float(expr)) if not expr.is_Integer else str(int(expr)), (), False)
        if isinstance(expr, Symbol):
            return Arr(expr.name, (), expr.name in self.scalars)
        if isinstance(expr, Indexed):
            if len(set(expr.indices)) != len(expr.indices):
                raise NotApplicable(f"a repeated index in {expr} has no NumPy form here")
            return Arr(expr.base.name, tuple(expr.indices))
        if isinstance(expr, Add):
            return self._combine([self.lower(a) for a in expr.args], " + ")
        if isinstance(expr, Mul):
            return self._product(expr)
        if isinstance(expr, Pow):
            return self._power(expr)
        if isinstance(expr, Sum):
            return self._sum(expr)
        if isinstance(expr, Peak):
            return self._peak(expr)
        if isinstance(expr, Function) and type(expr).__name__ in _FUNCTIONS:
            inner = self.lower(expr.args[0])
            call = f"{self.xp}.{type(expr).__name__}" if inner.batched else f"math.{type(expr).__name__}"
            return Arr(f"{call}({inner.code})", inner.labels, inner.batched)
        raise NotApplicable(f"{type(expr).__name__} has no NumPy form for several inputs")

    def align(self, arr: Arr, labels: tuple) -> str:
        """arr's code with its axes in the order of labels, a new axis for each it lacks."""
        return _aligned(arr, labels, self.xp)

    def _peak(self, expr) -> Arr:
        """max over the bound of the body: the body's axis of that label reduced."""
        body, bound = expr.args
        arr = self.lower(body)
        if bound not in arr.labels:
            raise NotApplicable(f"the largest entry {expr} has no NumPy form here")
        axis = arr.labels.index(bound) - len(arr.labels)
        call = {"np": "np.max", "jnp": "jnp.max", "torch": "torch.amax"}[self.xp]
        keyword = "dim" if self.xp == "torch" else "axis"
        return Arr(f"{call}({arr.code}, {keyword}={axis})", tuple(x for x in arr.labels if x != bound))

    def _combine(self, parts, joiner) -> Arr:
        labels = _union(p.labels for p in parts)
        code = joiner.join(self.align(p, labels) for p in parts)
        return Arr(f"({code})", labels, any(p.batched for p in parts))

    def _product(self, expr) -> Arr:
        numerator, denominator = [], []
        for factor in expr.args:
            if isinstance(factor, Pow) and factor.exp.is_Number and factor.exp < 0:
                denominator.append(Pow(factor.base, -factor.exp))
            else:
                numerator.append(factor)
        top = self._combine([self.lower(f) for f in numerator], " * ") if numerator else Arr("1", (), False)
        if not denominator:
            return top
        bottom = self._combine([self.lower(f) for f in denominator], " * ")
        return self._combine([top, Arr(f"1 / {bottom.code}", bottom.labels, bottom.batched)], " * ")

    def _power(self, expr) -> Arr:
        base = self.lower(expr.base)
        if expr.exp == Rational(1, 2):
            # √d of a size or a parameter in Python: a NumPy float64 scalar would make float32 arrays float64.
            root = f"{self.xp}.sqrt" if base.batched else "math.sqrt"
            return Arr(f"{root}({base.code})", base.labels, base.batched)
        if expr.exp == -1:
            return Arr(f"(1 / {base.code})", base.labels, base.batched)
        if expr.exp.is_Number:
            power = str(int(expr.exp)) if expr.exp.is_Integer else repr(float(expr.exp))
            # In parentheses: an axis appended to it ([..., None]) must index the power, not the exponent.
            return Arr(f"({base.code} ** {power})", base.labels, base.batched)
        raise NotApplicable(f"the power {expr} has no NumPy form here")

    def _sum(self, expr) -> Arr:
        (bound, low, _high), *more = expr.limits
        if more or low != 1:
            raise NotApplicable(f"the sum {expr} has no NumPy form here")
        factors = Mul.make_args(expr.function)
        scale = [self.lower(f) for f in factors if not f.has(bound)]
        arrays = [self.lower(f) for f in factors if f.has(bound)]
        labels = _union(a.labels for a in arrays)
        result = tuple(x for x in labels if x != bound)
        letters = dict(zip(labels, ascii_letters, strict=False))
        operands = ", ".join(a.code for a in arrays)
        spec = ",".join("..." + "".join(letters[x] for x in a.labels) for a in arrays)
        out = "..." + "".join(letters[x] for x in result)
        summed = Arr(f"{self.xp}.einsum('{spec}->{out}', {operands})", result)
        return self._combine([*scale, summed], " * ") if scale else summed


def _union(groups) -> tuple:
    seen = []
    for labels in groups:
        seen += [x for x in labels if x not in seen]
    return tuple(seen)


def _aligned(arr: Arr, labels: tuple, xp: str = "np") -> str:
    """arr's code with its axes in the order of labels and a new axis for each label it lacks."""
    if not arr.batched or arr.labels == labels:
        return arr.code
    present = [x for x in labels if x in arr.labels]
    code = arr.code
    if tuple(present) != arr.labels:
        letters = dict(zip(arr.labels, ascii_letters, strict=False))
        source = "".join(letters[x] for x in arr.labels)
        target = "".join(letters[x] for x in present)
        code = f"{xp}.einsum('...{source}->...{target}', {code})"
    if len(present) == len(labels):
        return code
    slots = ", ".join(":" if x in arr.labels else "None" for x in labels)
    return f"{code}[..., {slots}]" if present else f"{code}[..., {', '.join('None' for _ in labels)}]"


@dataclass(frozen=True)
class Plan:
    """What every several-input module computes, as code in one array module: forward steps, cotangents."""

    inputs: list
    params: list
    dims: list  # (dimension, the code reading its size from an input)
    steps: list  # (intermediate, its code), in the order of the definition
    forward: str  # the output's code
    cotangents: list  # (input, its cotangent's code, the general form, the matrix form or None)
    single: bool  # --wrt named one input: a single array, not a tuple


def plan(d, xp: str = "np", plain: bool = False, kind=Lowering) -> Plan:
    """d's forward and cotangents lowered to the array module xp by a Lowering of that kind; plain:
    as the definition reads, without the stable rules (what autograd differentiates when code is checked)."""
    fn, spelled = d.function, d.spelled
    scalars = {k.name for k, _ in spelled.intermediates if isinstance(k, Symbol)}
    lowering = kind(scalars, xp)
    zero = f"{xp}.zeros(())" if xp == "np" else "0.0"
    steps = []
    taken = {x.name for x in fn.declared_inputs} | set(fn.parameter_names) | {str(k) for k, _ in fn.where}
    stable = _Stable(lowering, steps, taken | {fn.output, "g", "n", "d", "h", "math", xp}, zero)
    bodies = {}
    for key, body in spelled.function_where():
        name = key.name
        bodies[name] = body  # as written: a log of its entry opens on it, not on its shifted form
        if not plain:
            body = stable.lowered(body, bodies, name)
        lowered = lowering.lower(body)
        steps.append((name, _as_vector(lowered, zero) if body.has(i) else lowered.code))
    definition = fn.definition if plain else stable.lowered(fn.definition, bodies, fn.output)
    value = lowering.lower(definition)
    forward = _as_vector(value, zero) if spelled.kind == "vector" else value.code
    chosen = list(d.blocks)
    cotangents = []
    for b in chosen:
        form = b.general
        if spelled.kind == "vector":
            g = vector("g")
            # Σ_i g_i ∂o_i/∂X: the δ_i… terms collapse, so the block itself is never formed.
            form = collapse(normalize_sums(Sum(g[i] * form, (i, 1, dimension(fn.dim)))))
        if not plain:
            form = stable.lowered(form, bodies, b.input.name)
        labels = tuple(b.wrt.indices)
        arr = lowering.lower(form)
        code = lowering.align(arr, labels) if arr.labels else f"{zero} + {arr.code}"
        matrix = None if b.matrix_form is None else text(b.matrix_form)
        cotangents.append((b.input.name, code, text(b.general), matrix))
    return Plan(
        inputs=[x.name for x in fn.declared_inputs],
        params=list(fn.parameter_names),
        dims=_dimension_sources(fn, "np.shape({})" if xp == "np" else "{}.shape"),
        steps=steps,
        forward=forward,
        cotangents=cotangents,
        single=d.wrt is not None and len(chosen) == 1,
    )


class _Stable:
    """The stable lowering's rules (codegen/lowering.py) on indexed forms, with what they introduce named:
    each row's largest exponent M a step (s_max), each shifted exponential e^{u_i − M} a vector (s_exp),
    computed once and read wherever the rules put them (softmax's quotient, log-sum-exp)."""

    def __init__(self, lowering, steps, taken, zero):
        self.lowering, self.steps, self.taken, self.zero = lowering, steps, set(taken), zero
        self.peaks, self.powers = {}, {}  # Peak -> its symbol; e^{u_i − M} (in i) -> its IndexedBase

    def lowered(self, expr, bodies, owner):
        """expr with logs of intermediates opened where exact, the rules applied, and M, e^{u − M} named."""
        expr = rules.shifted_sums(_opened_logs(expr, bodies))
        for peak in sorted(expr.atoms(Peak), key=str):
            if peak not in self.peaks:
                symbol = Symbol(self._fresh(f"{owner}_max"), real=True)
                self.lowering.scalars.add(symbol.name)
                self.steps.append((symbol.name, self.lowering.lower(peak).code))
                self.peaks[peak] = symbol
        expr = expr.xreplace(self.peaks)
        named = set(self.peaks.values())
        return expr.replace(lambda e: isinstance(e, exp) and e.has(*named), lambda e: self._power(e, owner))

    def _power(self, power, owner):
        indices = {x for e in power.atoms(Indexed) for x in e.indices}
        if len(indices) != 1:
            return power
        (index,) = indices
        canonical = power.xreplace({index: i})
        if canonical not in self.powers:
            base = IndexedBase(self._fresh(f"{owner}_exp"), real=True)
            self.steps.append((base.name, _as_vector(self.lowering.lower(canonical), self.zero)))
            self.powers[canonical] = base
        return self.powers[canonical][index]

    def _fresh(self, name):
        while name in self.taken:
            name += "_"
        self.taken.add(name)
        return name


def _opened_logs(expr, bodies):
    """Each log of an intermediate's entry as the log of its body, where the rules on logs open it all
    (log s_k = z_k − log Σ_l e^{z_l} for a softmax s), so that log-sum-exp meets the sum."""

    def opened(term):
        inner = term.args[0]
        if not (isinstance(inner, Indexed) and inner.base.name in bodies and len(inner.indices) == 1):
            return term
        body = bodies[inner.base.name]
        bound = {limit[0] for e in body.atoms(Sum) for limit in e.limits}
        if inner.indices[0] in bound:  # the entry's index is bound inside the body: it would be captured
            return term
        out = rules.logs(log(body.xreplace({i: inner.indices[0]})))
        return out if all(not isinstance(e.args[0], (Mul, Pow)) for e in out.atoms(log)) else term

    return expr.replace(lambda e: isinstance(e, log), opened)


def generate(d) -> str:
    """Source of a NumPy module for a derivation with several inputs: F and F_grad or F_vjp."""
    fn, spelled = d.function, d.spelled
    p = plan(d)
    return render_template(
        "several_numpy.py.j2",
        name=fn.name,
        heading=fn.heading,
        kind=spelled.kind,
        inputs=p.inputs,
        data=[x.name for x in fn.declared_inputs if x.data],
        params=p.params,
        dims=p.dims,
        steps=p.steps,
        output=fn.output,
        forward=p.forward,
        cotangents=p.cotangents,
        single=p.single,
        definition=text(fn.definition),
        where=[(str(k), text(v)) for k, v in spelled.function_where()],
    )


def _as_vector(arr: Arr, zero: str = "np.zeros(())") -> str:
    """The code of an expression in i alone, with i as its last axis."""
    if arr.labels != (i,) and arr.labels:
        raise NotApplicable("an intermediate indexed by more than i has no NumPy form here")
    return arr.code if arr.labels else f"{zero} + {arr.code}"


def _dimension_sources(fn, shape: str = "np.shape({})") -> list:
    """(dimension, the code reading its size from an input): n = W.shape[-2]."""
    found = {}
    for x in fn.declared_inputs:
        for position, dim in enumerate(x.dims):
            found.setdefault(dim, f"{shape.format(x.name)}[{position - len(x.dims)}]")
    return sorted(found.items())
