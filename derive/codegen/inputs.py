"""The derivation with its derivatives in z, as differentiation gave them: the form code falls back to.

The form in the function's outputs (s_i(δ_ij − s_j), or e^{Σz²} s_i s_j) is what derive shows and
emits first; where its code overflows but the function does not (a factor e^{+Σz²} beside one of
e^{−Σz²}), the derivative in z, d.raw, proven equal to it, is emitted instead.
"""

from __future__ import annotations

from dataclasses import replace

from derive.engine import matrix


def in_inputs(d):
    """d with its Jacobian (gradient and Hessian, for a scalar) as differentiation gave it; None if it is."""
    if d.kind == "scalar":
        hessian = in_inputs(d.hessian)
        if d.general == d.raw and hessian is None:
            return None
        return replace(d, general=d.raw, hessian=hessian or d.hessian)
    if d.general == d.raw:
        return None
    return replace(d, general=d.raw, cases=matrix.cases(d.raw), matrix_form=None)
