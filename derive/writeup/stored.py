"""Write-ups kept on disk between runs: every chain and its steps as JSON trees, each step checked again
numerically when loaded (recheck.py); an entry that fails, or cannot be read, is ignored and rebuilt."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from derive.engine import cache
from derive.guard import trees
from derive.writeup import recheck
from derive.writeup.gradient import Gradient
from derive.writeup.loss import CrossEntropy
from derive.writeup.routes import Route
from derive.writeup.steps import Facts, Step
from derive.writeup.vanishing import Example
from derive.writeup.views import Row

FORMAT = 1  # of an entry; a change of layout bumps it
MAX_BYTES = 16_000_000  # an entry larger than this is not read
_KINDS = (Route, Facts, Step, Row, CrossEntropy, Example, Gradient)


def load(d, method: str, kinds: tuple):
    """d's write-up by method as stored, every step checked again; None when there is none, or it is
    unreadable, foreign, stale, or any step fails. kinds: the write-up's own classes (Writeup, …)."""
    if not cache.is_enabled():
        return None
    try:
        ident, path = _where(d, method)
        with open(path, "rb") as f:
            text = f.read(MAX_BYTES + 1)
        entry = json.loads(text) if len(text) <= MAX_BYTES else None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != ident:
            return None
        classes = {cls.__name__: cls for cls in (*_KINDS, *kinds)}
        built = {}  # trees.read's memo: a write-up repeats its subtrees (softmax: 2,193 nodes, 293 distinct)
        table = [_decode(f, classes, None, built) for f in entry["facts"]]
        if not all(type(f) is Facts for f in table):
            return None
        written = _decode(entry["writeup"], classes, table, built)
    except (OSError, ValueError, KeyError, TypeError, IndexError, RecursionError):
        return None  # trees.Unreadable and json's errors are ValueErrors
    if type(written) not in kinds or not recheck.all_hold(steps_in(written)):
        return None
    return written


def save(d, method: str, written) -> None:
    """Store written (d's write-up by method), atomically; silently not when it cannot be stored or any
    step would not pass the check loading applies."""
    if cache.is_enabled() and recheck.all_hold(steps_in(written)):
        _store(d, method, written)


def _store(d, method: str, written) -> None:
    try:
        ident, path = _where(d, method)
        table, index = [], {}
        body = _encode(written, table, index)
        entry = {"format": FORMAT, "key": ident, "facts": table, "writeup": body}
        text = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    except (trees.Unreadable, TypeError, ValueError, RecursionError):
        return
    cache.publish(path, text)


def steps_in(written) -> list:
    """Every distinct step of a write-up, in order."""
    found, seen = [], set()

    def walk(obj):
        if isinstance(obj, Step):
            if id(obj) not in seen:
                seen.add(id(obj))
                found.append(obj)
        elif dataclasses.is_dataclass(obj) and not isinstance(obj, Facts):
            for f in dataclasses.fields(obj):
                walk(getattr(obj, f.name))
        elif isinstance(obj, tuple):
            for item in obj:
                walk(item)

    walk(written)
    return found


def _encode(obj, table: list, index: dict):
    if isinstance(obj, Facts):  # shared by many steps: stored once, referred to by number
        if id(obj) not in index:
            index[id(obj)] = (len(table), obj)
            table.append(None)
            table[index[id(obj)][0]] = _encode_fields(obj, table, index)
        return {"facts": index[id(obj)][0]}
    if dataclasses.is_dataclass(obj):
        return _encode_fields(obj, table, index)
    if type(obj) is str:
        return {"str": obj}
    if type(obj) is dict:
        return {"dict": [[_encode(k, table, index), _encode(v, table, index)] for k, v in obj.items()]}
    if type(obj) is tuple:
        return {"tuple": [_encode(item, table, index) for item in obj]}
    return {"tree": trees.write(obj)}


def _encode_fields(obj, table, index) -> dict:
    fields = {f.name: _encode(getattr(obj, f.name), table, index) for f in dataclasses.fields(obj)}
    return {"class": type(obj).__name__, "fields": fields}


def _decode(data, classes: dict, table, built: dict):
    if type(data) is not dict or len(data) != 1 and set(data) != {"class", "fields"}:
        raise ValueError("not an entry")
    if "class" in data:
        cls, given = classes[data["class"]], data["fields"]
        names = [f.name for f in dataclasses.fields(cls)]
        if type(given) is not dict or sorted(given) != sorted(names):
            raise ValueError("not the class's fields")
        return cls(**{name: _decode(given[name], classes, table, built) for name in names})
    ((kind, value),) = data.items()
    if kind == "facts":
        if table is None or type(value) is not int or not 0 <= value < len(table):
            raise ValueError("not a stored fact")
        return table[value]
    if kind == "str":
        if type(value) is not str:
            raise ValueError("not a string")
        return value
    if kind == "dict":
        return {_decode(k, classes, table, built): _decode(v, classes, table, built) for k, v in value}
    if kind == "tuple":
        return tuple(_decode(item, classes, table, built) for item in value)
    if kind == "tree":
        return trees.read(value, as_written=True, memo=built)
    raise ValueError("not an entry")


def _where(d, method: str) -> tuple[str, Path]:
    """The entry's identity: the derivation's (definition, parameters, assumptions, versions, engine
    source), the size, the method, and the write-up's source; its file, named by its hash."""
    engine_ident, _ = cache.where(d.spelled)
    parts = {"derivation": engine_ident, "n": d.n, "method": method, "writeup": _source()}
    return cache.entry(f"writeup-v{FORMAT}", parts)


def _source() -> str:
    """The write-up's and the printers' source: a changed write-up never reads an older entry."""
    return cache.source_digest("writeup", "show")
