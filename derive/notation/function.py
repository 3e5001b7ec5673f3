"""The record a function's file fills in: its definition, and nothing the engine can work out for itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from derive.notation.symbols import parameters_in


@dataclass(frozen=True)
class Input:
    """One named input of a definition: a vector or a matrix, each index ranging over a named dimension."""

    name: str
    dims: tuple = ("n",)  # the dimension each index ranges over: ("n",) a vector, ("n", "d") a matrix
    data: bool = False  # a target or data (y): no derivative is taken with respect to it

    @property
    def kind(self) -> str:
        """'vector' or 'matrix'."""
        return "vector" if len(self.dims) == 1 else "matrix"


@dataclass(frozen=True)
class Function:
    """A function's definition, and nothing the engine can work out for itself."""

    name: str
    # One sentence of plain words, no symbols: `derive list` and documents print it as text, where a
    # y or a mu could not be typeset as math. The document introduces the symbols itself.
    description: str
    # The definition in indexed form: the i-th output for a vector function, the value for a scalar one.
    definition: object
    output: str = "s"
    input: str = "z"
    title: str | None = None  # how prose names it, e.g. "Softmax"; defaults to the name
    # Named intermediate quantities the definition is written with, as (name, indexed expression) pairs
    # in the order they may be substituted: the engine expands them before differentiating and tries
    # to write results back in terms of them.
    where: tuple = ()
    # Facts about the other inputs, as (expression, value) pairs, e.g. (Σ_k y_k, 1).
    assumptions: tuple = ()
    parameters: tuple = field(default=(), compare=False)
    # The title in other languages than English, e.g. {"zh": "对数 softmax"}; without one, prose in that
    # language names the function by its name, in code font.
    titles: dict = field(default_factory=dict, compare=False)
    source: str | None = None  # the text of `derive expr TEXT`, if so defined (part of its identity)
    # Several named inputs, in the order code takes them (x, W, b, y); empty for the one input z over n.
    inputs: tuple = ()
    dim: str = "n"  # the dimension the output index i ranges over (a vector function)

    @property
    def declared_inputs(self) -> tuple:
        """The inputs, in order: those declared, or the one input vector z over n."""
        return self.inputs or (Input(self.input),)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """The names of the symbolic parameters (T), sorted."""
        found = set().union(*(parameters_in(e) for e in (self.definition, *(b for _, b in self.where))))
        return tuple(sorted(found - {name for name, _ in self.where}))

    @property
    def heading(self) -> str:
        """The name prose uses for the function."""
        return self.title or self.name

    def title_in(self, lang: str) -> str | None:
        """The name prose in lang uses, or None when it has none (then the code name stands in)."""
        if lang == "en":
            return self.heading
        if lang in self.titles:
            return self.titles[lang]
        # A title without Chinese characters (Softmax, GELU) reads the same in either script.
        fallback = self.titles.get("zh") if lang == "zh-Hant" else None
        return fallback if fallback is not None and not any(_is_han(c) for c in fallback) else None


def _is_han(c: str) -> bool:
    return "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff"
