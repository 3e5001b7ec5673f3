"""Independent numeric oracles: evaluate definitions and derived entries with plain floats."""

import numpy as np
import sympy
from sympy import Indexed, Symbol

from derive.symbols import i, n


def definition_at(definition, size):
    """A NumPy function z ↦ [F_1(z), …, F_size(z)] from the definition alone."""
    z = sympy.IndexedBase("z", real=True)
    zs = sympy.symbols(f"x1:{size + 1}", real=True)
    rows = []
    for a in range(1, size + 1):
        concrete = definition.xreplace({i: a, n: size}).doit()
        rows.append(concrete.xreplace({z[b]: zs[b - 1] for b in range(1, size + 1)}))
    f = sympy.lambdify(zs, rows, "numpy")
    return lambda v: np.array(f(*v), dtype=float)


def central_jacobian(f, v, h=1e-6):
    """∂f_a/∂v_b by float64 central differences."""
    cols = []
    for b in range(len(v)):
        step = np.zeros_like(v)
        step[b] = h
        cols.append((f(v + step) - f(v - step)) / (2 * h))
    return np.array(cols).T


def evaluate(expr, outputs: dict, inputs, size):
    """A derived entry in s1…sn (and z1…zn) at numbers: outputs maps base name to its values."""
    z = sympy.IndexedBase("z", real=True)
    values = {Symbol(f"{name}{a + 1}"): float(v) for name, vec in outputs.items() for a, v in enumerate(vec)}
    values.update({Symbol(f"z{a + 1}"): float(v) for a, v in enumerate(inputs)})
    expr = expr.xreplace(values).doit()
    expr = expr.xreplace({z[a + 1]: float(v) for a, v in enumerate(inputs)})
    return float(expr.evalf())


def softmax(v):
    """Softmax by hand, shifted for stability."""
    e = np.exp(v - v.max())
    return e / e.sum()


__all__ = ["definition_at", "central_jacobian", "evaluate", "softmax", "Indexed"]
