"""The registry of functions: each one a small module in derive/functions/ holding a definition."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cache

from derive.errors import UnknownFunction


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

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """The names of the symbolic parameters (T), sorted."""
        from derive.definition import _parameters_in

        found = set().union(*(_parameters_in(e) for e in (self.definition, *(b for _, b in self.where))))
        return tuple(sorted(found - {name for name, _ in self.where}))

    @property
    def heading(self) -> str:
        """The name prose uses for the function."""
        return self.title or self.name

    def title_in(self, lang: str) -> str | None:
        """The name prose in lang uses, or None when it has none (then the code name stands in)."""
        return self.heading if lang == "en" else self.titles.get(lang)


@cache
def _builtin() -> dict[str, Function]:
    """Load every module of derive.functions; each defines FUNCTION."""
    from derive import functions

    found = {}
    for info in sorted(pkgutil.iter_modules(functions.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"derive.functions.{info.name}")
        fn = module.FUNCTION
        found[fn.name] = fn
    return found


_added: dict[str, Function] = {}


def register(fn: Function) -> Function:
    """Add a function to the registry for this process (for tests and the Python API)."""
    _added[fn.name] = fn
    return fn


def unregister(name: str) -> None:
    """Remove a function added with register()."""
    _added.pop(name, None)


def functions() -> dict[str, Function]:
    """Every known function, by name, sorted."""
    merged = {**_builtin(), **_added}
    return dict(sorted(merged.items()))


def get(name: str) -> Function:
    """The function called name, or an error naming the close matches."""
    known = functions()
    if name in known:
        return known[name]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise UnknownFunction(f"unknown function '{name}'; {hint}known: {', '.join(known)}")
