"""Several inputs as Numba: the NumPy lowering one row at a time, inside @numba.njit kernels that loop over
the flattened batch; a sum is the aligned product summed over its bound's axis (Numba has no einsum)."""

from __future__ import annotations

from sympy import Mul

from derive.codegen.several import Arr, Lowering, _dimension_sources, _union, plan
from derive.errors import NotApplicable
from derive.show.printing import text
from derive.show.templating import render_template


class RowLowering(Lowering):
    """Indexed expressions as NumPy code on one row: an array's axes are its labels, a scalar a float."""

    def align(self, arr: Arr, labels: tuple) -> str:
        if not arr.labels or arr.labels == labels:
            return arr.code
        present = [x for x in labels if x in arr.labels]
        code = arr.code
        if tuple(present) != arr.labels:
            order = ", ".join(str(arr.labels.index(x)) for x in present)
            code = f"np.transpose({code}, ({order}))"
        if len(present) == len(labels):
            return code
        return f"{code}[{', '.join(':' if x in arr.labels else 'None' for x in labels)}]"

    def _peak(self, expr) -> Arr:
        """max over the bound: Numba's np.max takes no axis, so only a body with that one label."""
        body, bound = expr.args
        arr = self.lower(body)
        if arr.labels != (bound,):
            raise NotApplicable(f"the largest entry {expr} has no Numba form here")
        return Arr(f"np.max({arr.code})", ())

    def _sum(self, expr) -> Arr:
        (bound, low, _high), *more = expr.limits
        if more or low != 1:
            return super()._sum(expr)  # raises NotApplicable
        factors = Mul.make_args(expr.function)
        scale = [self.lower(f) for f in factors if not f.has(bound)]
        arrays = [self.lower(f) for f in factors if f.has(bound)]
        labels = _union(a.labels for a in arrays)
        result = tuple(x for x in labels if x != bound)
        product = " * ".join(self.align(a, labels) for a in arrays)
        axis = f", axis={labels.index(bound)}" if result else ""
        summed = Arr(f"np.sum({product}{axis})", result)
        return self._combine([*scale, summed], " * ") if scale else summed


def generate(d) -> str:
    """Source of a module importing NumPy and Numba alone: F and F_grad or F_vjp, rows in njit kernels."""
    fn, spelled = d.function, d.spelled
    p = plan(d, kind=RowLowering)
    codes = [p.forward, *(code for _, code in p.steps), *(code for _, code, *_ in p.cotangents)]
    return render_template(
        "several_numba.py.j2",
        name=fn.name,
        heading=fn.heading,
        kind=spelled.kind,
        inputs=p.inputs,
        rank={x.name: len(x.dims) for x in fn.declared_inputs},
        data=[x.name for x in fn.declared_inputs if x.data],
        params=p.params,
        dims=_dimension_sources(fn, "{}_rows.shape"),
        dim=fn.dim,
        steps=p.steps,
        output=fn.output,
        forward=p.forward,
        cotangents=p.cotangents,
        single=p.single,
        math=any("math." in code for code in codes),
        definition=text(fn.definition),
        where=[(str(k), text(v)) for k, v in spelled.function_where()],
    )
