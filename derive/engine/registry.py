"""The registry of functions: each one a small module in derive/functions/ holding a definition."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from functools import cache

from derive.errors import UnknownFunction
from derive.notation.function import Function


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
