"""Attention for one query: softmax weights of the scaled scores K q / √d, averaging the rows of V."""

from sympy import exp, sqrt

from derive.notation.function import Function, Input
from derive.notation.symbols import d, i, k, l, matrix, total, vector

q, K, V, t, a = vector("q"), matrix("K"), matrix("V"), vector("t"), vector("a")

FUNCTION = Function(
    name="attention",
    title="Attention",
    titles={"zh": "注意力", "zh-Hant": "注意力"},
    description="One query's attention: softmax weights of scaled key scores, averaging the values.",
    definition=total(a[k] * V[k, i], k),
    output="o",
    where=(("t", total(K[i, l] * q[l], l, d) / sqrt(d)), ("a", exp(t[i]) / total(exp(t[l]), l))),
    inputs=(Input("q", ("d",)), Input("K", ("n", "d")), Input("V", ("n", "h"))),
    dim="h",
)
