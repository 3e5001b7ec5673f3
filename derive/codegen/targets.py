"""The targets code is emitted for, each one module beside this one: numpy, numba, torch and jax."""

from __future__ import annotations

from derive.codegen import frameworks, numba, numpy
from derive.errors import NotApplicable

# target -> its emitter, called as emit(d, route) -> the module's source. A new target is a module and a line.
EMITTERS = {
    "numpy": numpy.generate,
    "numba": lambda d, route=None: numba.generate(d),  # loops, not broadcasting: one route
    "torch": lambda d, route=None: frameworks.generate(d, "torch"),  # autograd.Function with derived rules
    "jax": lambda d, route=None: frameworks.generate(d, "jax"),  # custom_vjp / custom_jvp with derived rules
}
TARGETS = tuple(EMITTERS)


def generate(d, target: str = "numpy", route: str | None = None) -> str:
    """Source of a standalone module computing d's function and its derivatives, for target."""
    if target not in EMITTERS:
        raise NotApplicable(f"unknown target '{target}'; known: {', '.join(TARGETS)}")
    return EMITTERS[target](d, route)
