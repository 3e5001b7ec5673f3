"""Softmax with a temperature T: sharper below 1, flatter above."""

from sympy import exp

from derive.notation.function import Function
from derive.notation.symbols import i, k, parameter, total, z

T = parameter("T")

FUNCTION = Function(
    name="softmax_t",
    title="Softmax with temperature",
    titles={"zh": "带温度的 softmax", "zh-Hant": "帶溫度的 softmax"},
    description="Softmax of the scores divided by a temperature, kept symbolic unless given.",
    definition=exp(z[i] / T) / total(exp(z[k] / T), k),
)
