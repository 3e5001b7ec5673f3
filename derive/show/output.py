"""Write a result to a file atomically, never over an existing file without force."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from derive.errors import DeriveError


class OutputError(DeriveError):
    """The output file cannot be written."""


def write_text(path: Path | str, text: str, *, force: bool = False) -> Path:
    """Write text to path through a temporary file in the same directory, then rename."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"cannot write '{path}': it is a directory")
    if path.exists() and not force:
        raise OutputError(f"'{path}' exists; pass --force to overwrite it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"cannot write '{path}': directory '{folder}' does not exist")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise OutputError(f"cannot write '{path}': {error.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException as error:
        # Nothing half-written is left: the temporary file goes, the target was never touched.
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OutputError(f"cannot write '{path}': {error.strerror}") from None
        raise
    return path
