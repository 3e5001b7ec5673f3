"""Proven derivations kept on disk between runs: plain JSON trees, re-checked numerically when loaded."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

import sympy

from derive._version import __version__
from derive.engine import matrix, recognize, spot
from derive.engine.prove import EVERY_ENTRY_UP_TO, Proof
from derive.guard import trees

FORMAT = 1  # of an entry; a change of layout bumps it
MAX_BYTES = 4_000_000  # an entry larger than this is not read
_ENABLED = ContextVar("derive_cache_enabled", default=True)
_FIELDS = ("raw", "general", "cases", "form", "assumed")


def directory() -> Path:
    """Where entries live: $DERIVE_CACHE_DIR, else the user cache directory (platformdirs', or
    $XDG_CACHE_HOME/derive, or ~/.cache/derive)."""
    given = os.environ.get("DERIVE_CACHE_DIR")
    if given:
        return Path(given)
    try:
        from platformdirs import user_cache_dir
    except ImportError:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return Path(base) / "derive"
    return Path(user_cache_dir("derive", appauthor=False))


@contextlib.contextmanager
def enabled(on: bool | None):
    """Within it, derivations are read from and written to the disk cache only if on (None: unchanged)."""
    token = _ENABLED.set(_ENABLED.get() if on is None else on)
    try:
        yield
    finally:
        _ENABLED.reset(token)


def is_enabled() -> bool:
    """Whether entries are read and written here (not under --no-cache)."""
    return _ENABLED.get()


def load(spelled, names_of):
    """The stored fields of spelled's derivation (raw, general, cases, form, assumed, proofs), re-checked
    against the definition; None when there is none, or it is unreadable, foreign, stale or wrong.
    names_of(spelled, raw) is the Definition whose names the result is written in."""
    if not _ENABLED.get():
        return None
    try:
        ident, path = where(spelled)
        with open(path, "rb") as f:
            text = f.read(MAX_BYTES + 1)
        entry = json.loads(text) if len(text) <= MAX_BYTES else None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != ident:
            return None
        memo = {}  # the forms share their subtrees (the general form's sums are the raw form's)
        fields = {name: trees.read(entry[name], memo=memo) for name in _FIELDS}
        fields["proofs"] = tuple(_proof(p) for p in entry["proofs"])
        if spelled.kind == "scalar" and not _recognition(spelled, fields["raw"], entry["recognized"]):
            return None
    except (OSError, ValueError, KeyError, TypeError, RecursionError):  # trees.Unreadable is a ValueError
        return None
    if not _consistent(spelled, fields, names_of):
        if spelled.kind == "scalar":  # what the refused entry said is not taken by the cold derivation
            recognize.forget(fields["raw"], spelled)
        return None
    return fields


def explicit(spelled, table, names, prove_it) -> Proof:
    """The proof that table (the explicit matrix or gradient at table.size, written in names' outputs, or
    spelled's) equals the definition differentiated directly there: read from the disk when the stored one
    is the proof prove_it would give and its picked entries pass a numeric re-check (spot.py), else
    prove_it(), stored when it holds and passes the same re-check."""
    if not _ENABLED.get():
        return prove_it()
    picks = list(table.positions()) if table.size <= EVERY_ENTRY_UP_TO else table.samples()
    expected = _explicit_proof(table.size, picks)
    try:
        ident, path = _where_explicit(spelled, table.size)
    except (ValueError, TypeError, RecursionError):  # trees.Unreadable is a ValueError
        return prove_it()
    if _read_proof(path, ident) == expected and spot.explicit_agrees(spelled, names, table, picks):
        return expected
    proof = prove_it()
    if proof == expected and spot.explicit_agrees(spelled, names, table, picks):
        entry = {"format": FORMAT, "key": ident, "version": __version__, "proof": proof.__dict__}
        publish(path, json.dumps(entry, sort_keys=True, separators=(",", ":")))
    return proof


def _read_proof(path: Path, ident: str) -> Proof | None:
    """The proof stored at path under ident, or None when there is none or it is unreadable or foreign."""
    try:
        with open(path, "rb") as f:
            text = f.read(MAX_BYTES + 1)
        entry = json.loads(text) if len(text) <= MAX_BYTES else None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != ident:
            return None
        return _proof(entry["proof"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def _explicit_proof(size: int, picks: list) -> Proof:
    """The proof prove.explicit gives when the matrix at size holds at every one of picks."""
    every = size <= EVERY_ENTRY_UP_TO
    return Proof("explicit", True, f"direct differentiation at n = {size}", len(picks), "", every)


def _where_explicit(spelled, size: int) -> tuple[str, Path]:
    """The identity of the explicit proof at size (the derivation's plus the size) and its file."""
    derivation, _ = where(spelled)
    return entry(f"explicit-v{FORMAT}", {"derivation": derivation, "n": size})


def save(spelled, fields: dict, names_of) -> None:
    """Store fields (as load returns them) for spelled, atomically; silently not when the directory is
    not writable, a field cannot be stored, or the re-check that loading applies would not accept them
    (an entry that could never load)."""
    if _ENABLED.get() and _consistent(spelled, fields, names_of):
        _store(spelled, fields)


def _store(spelled, fields: dict) -> None:
    try:
        ident, path = where(spelled)
        entry = {"format": FORMAT, "key": ident, "version": __version__}
        entry.update({name: trees.write(fields[name]) for name in _FIELDS})
        entry["proofs"] = [p.__dict__ for p in fields["proofs"]]
        if spelled.kind == "scalar":  # the registered function its gradient was recognised as, if any
            known = recognize.recognized(fields["raw"], spelled)
            entry["recognized"] = None if known is None else known[0].name
        text = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    except (trees.Unreadable, TypeError, ValueError):
        return
    publish(path, text)


def publish(path: Path, text: str) -> None:
    """Write text to path atomically; silently not when the directory is not writable."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # A private temporary file beside the entry, then one rename: a reader sees the old entry or
        # the whole new one, and two writers of the same entry each publish a whole file.
        fd, temporary = tempfile.mkstemp(prefix=".entry-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError:
        return


def _recognition(spelled, raw, name) -> bool:
    """Whether an entry's word on what a scalar's gradient was recognised as can be taken (and then take
    it, so that recognising it costs no symbolic comparison): a registered function's name when that
    function equals the gradient numerically (spot.py), or none, which is never wrong (the gradient is
    then written in the intermediates)."""
    if name is None:
        known = None
    elif type(name) is not str or (known := recognize.as_registered(name, spelled)) is None:
        return False
    elif not spot.same(spelled, known[2], raw):
        return False
    recognize.remember(raw, spelled, known)
    return True


def _consistent(spelled, fields, names_of) -> bool:

    if not fields["proofs"] or not all(p.holds for p in fields["proofs"]):
        return False
    general, cases, form = fields["general"], fields["cases"], fields["form"]
    # The cases and the matrix form are computed from the general form: they must be what it gives.
    if spelled.kind == "vector":
        if cases != matrix.cases(general) or form not in (None, matrix.matrix_form(general)):
            return False
    elif cases != () or form != matrix.as_vector_form(general):
        return False
    # The assumptions the result is said to use can only be the function's own.
    if not isinstance(fields["assumed"], tuple) or not set(fields["assumed"]) <= set(spelled.assumptions):
        return False
    names = names_of(spelled, fields["raw"])
    return spot.agrees(spelled, names, fields["raw"], general, cases, form)


def _proof(data) -> Proof:
    fields = {"claim": str, "holds": bool, "method": str, "cases": int, "detail": str, "every": bool}
    if not isinstance(data, dict) or set(data) != set(fields):
        raise ValueError("not a proof")
    if not all(type(data[k]) is t for k, t in fields.items()):
        raise ValueError("not a proof")
    return Proof(**data)


def where(spelled) -> tuple[str, Path]:
    """The entry's identity (everything the derivation depends on) and its file, named by its hash."""
    fn = spelled.function
    parts = {
        "derive": __version__,
        "engine": _source(),
        "sympy": sympy.__version__,
        "name": fn.name,
        "kind": spelled.kind,
        "output": trees.write(spelled.output),
        "input": trees.write(spelled.input),
        "definition": trees.write(fn.definition),
        "where": [[name, trees.write(body)] for name, body in fn.where],
        "expanded": trees.write(spelled.expanded),
        "intermediates": trees.write(spelled.intermediates),
        "assumptions": trees.write(spelled.assumptions),
        "parameters": trees.write(spelled.parameters),
    }
    return entry(f"v{FORMAT}", parts)


def entry(folder: str, parts: dict) -> tuple[str, Path]:
    """An entry's identity, the hash of parts (everything it depends on), and its file in folder."""
    ident = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return ident, directory() / folder / ident[:2] / f"{ident}.json"


@lru_cache(maxsize=8)
def source_digest(*names: str) -> str:
    """A hash of derive's own source (names relative to the package; a folder: its modules, sorted), so
    that an entry kept by one source is never read by a changed one."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for name in names:
        path = root / name
        for module in sorted(path.glob("*.py")) if path.is_dir() else [path]:
            h.update(module.name.encode() + b"\0" + module.read_bytes())
    return h.hexdigest()


def _source() -> str:
    """The engine's and the notation's source: a changed engine never reads an older entry."""
    return source_digest("engine", "notation", "guard")
