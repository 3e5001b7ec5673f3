"""The registry of functions: each one a small module in derive/functions/ holding a definition."""

from __future__ import annotations

import ast
import difflib
import importlib
import pkgutil
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from derive.errors import UnknownFunction

if TYPE_CHECKING:  # building a Function needs SymPy: the listing below must not
    from derive.notation.function import Function


class Summary(NamedTuple):
    """What `derive list` shows of a function: read without building its definition."""

    name: str
    title: str
    description: str


@cache
def _builtin() -> dict[str, Function]:
    """Load every module of derive.functions; each defines FUNCTION."""
    found = {}
    for name in _modules():
        fn = importlib.import_module(f"derive.functions.{name}").FUNCTION
        found[fn.name] = fn
    return found


def _modules() -> list[str]:
    """The module names in derive.functions, sorted."""
    from derive import functions

    return sorted(info.name for info in pkgutil.iter_modules(functions.__path__))


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


def one_input() -> dict[str, Function]:
    """The functions of the one input z (those with several inputs are derived block by block)."""
    return {name: fn for name, fn in functions().items() if not fn.inputs}


def summaries() -> dict[str, Summary]:
    """Every known function's name, title and description, by name, sorted; SymPy loads only if it must."""
    if _builtin.cache_info().currsize:  # the definitions are built already: read them, not the files
        builtin = {name: _summary(fn) for name, fn in _builtin().items()}
    else:
        builtin = _builtin_summaries()
    merged = {**builtin, **{name: _summary(fn) for name, fn in _added.items()}}
    return dict(sorted(merged.items()))


@cache
def _builtin_summaries() -> dict[str, Summary]:
    """Each function file's summary, read from its source; a file whose fields are not literal is imported."""
    from derive import functions

    found = {}
    for name in _modules():
        path = Path(functions.__path__[0], f"{name}.py")
        summary = _read(path) if path.is_file() else None
        if summary is None:
            summary = _summary(importlib.import_module(f"derive.functions.{name}").FUNCTION)
        found[summary.name] = summary
    return found


def _read(path: Path) -> Summary | None:
    """The summary in the literal keywords of `FUNCTION = Function(...)` in path, or None if not literal."""
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        if not any(isinstance(target, ast.Name) and target.id == "FUNCTION" for target in node.targets):
            continue
        fields = {}
        for keyword in node.value.keywords:
            if keyword.arg in Summary._fields:
                try:
                    fields[keyword.arg] = ast.literal_eval(keyword.value)
                except ValueError:  # a name or an expression: only the import can tell its value
                    return None
        if node.value.args or not all(isinstance(fields.get(f), str) for f in ("name", "description")):
            return None
        title = fields.get("title")
        if title is not None and not isinstance(title, str):
            return None
        return Summary(fields["name"], title or fields["name"], fields["description"])
    return None


def _summary(fn: Function) -> Summary:
    return Summary(fn.name, fn.heading, fn.description)


def get(name: str) -> Function:
    """The function called name, or an error naming the close matches."""
    if name in _added:
        return _added[name]
    if name in _modules():  # its own file, loaded alone (every other one costs start-up time)
        fn = importlib.import_module(f"derive.functions.{name}").FUNCTION
        if fn.name == name:
            return fn
    known = functions()
    if name in known:
        return known[name]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise UnknownFunction(f"unknown function '{name}'; {hint}known: {', '.join(known)}")
