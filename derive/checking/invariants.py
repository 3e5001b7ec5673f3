"""Structural facts about J that the derivation implies, each proven symbolically before it is checked."""

from __future__ import annotations

from sympy import Sum

from derive.codegen import products
from derive.engine.prove import back_to_inputs, vanishes
from derive.notation.symbols import i, j, n

# What each fact means for the n×n matrix J, as the report prints it.
MEANING = {
    "diagonal": "J is diagonal: every entry off the diagonal is 0",
    "symmetric": "J is symmetric: J = Jᵀ",
    "rows": "each row of J sums to 0: J 1 = 0",
    "columns": "each column of J sums to 0: 1ᵀ J = 0",
}


def implied(d) -> tuple[str, ...]:
    """The facts among MEANING that hold for every n, in that order."""
    diagonal, rest = products.split(d.general)
    definitions = d.definitions
    k = products.fresh(rest)
    # The δ_ij part d_i δ_ij is diagonal, so it never spoils symmetry; only the rest has to be symmetric.
    found = {
        "diagonal": rest == 0,
        "symmetric": vanishes(rest - rest.xreplace({i: j, j: i})),
        # Σ_j J_ij = d_i + Σ_k rest(i, k), in the inputs: 0 when F is unchanged by z → z + c·1.
        "rows": vanishes(back_to_inputs(diagonal + Sum(rest.xreplace({j: k}), (k, 1, n)), definitions)),
        # Σ_i J_ij = d_j + Σ_k rest(k, j): 0 when Σ_i s_i does not depend on z (softmax sums to 1).
        "columns": vanishes(
            back_to_inputs(diagonal.xreplace({i: j}) + Sum(rest.xreplace({i: k}), (k, 1, n)), definitions)
        ),
    }
    return tuple(fact for fact in MEANING if found[fact])
