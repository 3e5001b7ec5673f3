"""Independent numeric oracles: evaluate definitions and derived entries with plain floats."""

import numpy as np
import sympy
from sympy import Indexed, Symbol

from derive.notation.symbols import i, n


def _concrete(expr, a, size, data):
    """expr at i = a and n = size, sums written out, data vectors (y) set to numbers."""
    expr = expr.xreplace({i: a, n: size}).doit()
    return expr.xreplace({b[c + 1]: float(x) for b, vec in data.items() for c, x in enumerate(vec)})


def lambdify_z(expr, size):
    """A NumPy function of z from an expression in z[1..size]."""
    z = sympy.IndexedBase("z", real=True)
    xs = sympy.symbols(f"x1:{size + 1}", real=True)
    f = sympy.lambdify(xs, expr.xreplace({z[b]: xs[b - 1] for b in range(1, size + 1)}), "numpy")
    return lambda v: f(*v)


def definition_at(definition, size, data=None):
    """z ↦ the outputs [F_1(z), …, F_size(z)] (or the scalar F(z)) from the definition alone."""
    data = data or {}
    if definition.has(i):
        rows = [lambdify_z(_concrete(definition, a, size, data), size) for a in range(1, size + 1)]
        return lambda v: np.array([float(r(v)) for r in rows])
    scalar = lambdify_z(_concrete(definition, 1, size, data), size)
    return lambda v: float(scalar(v))


def central_derivative(f, v, h=1e-6):
    """∂f/∂v_b by float64 central differences: a matrix for a vector f, a vector for a scalar f."""
    cols = []
    for b in range(len(v)):
        step = np.zeros_like(v)
        step[b] = h
        cols.append((np.asarray(f(v + step)) - np.asarray(f(v - step))) / (2 * h))
    return np.array(cols).T


central_jacobian = central_derivative


def named_values(spelled, v, size, data=None):
    """{Symbol: float} for every name a derived entry may use: s1…sn, σ, z1…zn, y1…yn."""
    data = data or {}
    values = {Symbol(f"z{a + 1}"): float(x) for a, x in enumerate(v)}
    values.update(
        {Symbol(f"{b.name}{a + 1}"): float(x) for b, vec in data.items() for a, x in enumerate(vec)}
    )
    for key, body in spelled.rewrites:
        if isinstance(key, Symbol):
            values[key] = float(lambdify_z(_concrete(body, 1, size, data), size)(v))
        else:
            for a in range(1, size + 1):
                values[Symbol(f"{key.name}{a}")] = float(lambdify_z(_concrete(body, a, size, data), size)(v))
    return values


def evaluate(expr, values, v, data=None):
    """A derived entry at numbers."""
    z = sympy.IndexedBase("z", real=True)
    expr = sympy.sympify(expr).xreplace({k: sympy.Float(x) for k, x in values.items()}).doit()
    expr = expr.xreplace({z[a + 1]: float(x) for a, x in enumerate(v)})
    expr = expr.xreplace({b[a + 1]: float(x) for b, vec in (data or {}).items() for a, x in enumerate(vec)})
    return float(expr.evalf())


def softmax(v):
    """Softmax by hand, shifted for stability."""
    e = np.exp(v - v.max())
    return e / e.sum()


__all__ = ["Indexed", "central_derivative", "central_jacobian", "definition_at", "evaluate", "named_values"]
