"""Write a result to a file atomically, never over an existing file without force.

Without force the file is published with os.link(temporary, path), which fails if path appeared in the
meantime: of two writers racing for one name, one is refused and no output is lost. With force only a
regular file is replaced, keeping its permission bits (and owner, where permitted); a symbolic link,
a directory, a FIFO or a device is refused, never followed or replaced. A new file gets the mode the
umask allows (0666 & ~umask). The temporary file is removed on any error, on ^C and on SIGTERM.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from derive.errors import DeriveError
from derive.guard.signals import Terminated, terminated_raises  # noqa: F401 (Terminated: the writers' exit)


class OutputError(DeriveError):
    """The output file cannot be written."""


def write_text(path: Path | str, text: str, *, force: bool = False) -> Path:
    """Write text to path through a temporary file in the same directory, then link or rename it."""
    path = Path(path)
    try:
        return _write(path, text, force)
    except OSError as error:  # a name too long, a directory that vanished, a full disk, …
        raise OutputError(f"cannot write '{shown(path)}': {error.strerror or error}") from None


def _write(path: Path, text: str, force: bool) -> Path:
    existing = _lstat(path)
    if existing is not None:
        _refuse(path, existing, force)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"cannot write '{shown(path)}': directory '{shown(folder)}' does not exist")
    mode = stat.S_IMODE(existing.st_mode) if existing is not None else 0o666 & ~_umask()
    with terminated_raises():
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, mode)
            if existing is not None:
                _keep_owner(temporary, existing)
                os.replace(temporary, path)
            else:
                _publish(temporary, path)
        finally:
            # Nothing half-written is left: after a link or on any error the temporary name goes.
            Path(temporary).unlink(missing_ok=True)
    return path


def _refuse(path: Path, existing: os.stat_result, force: bool) -> None:
    name = shown(path)
    if stat.S_ISDIR(existing.st_mode):
        raise OutputError(f"cannot write '{name}': it is a directory")
    if not force:
        raise OutputError(f"'{name}' exists; pass --force to overwrite it")
    if stat.S_ISLNK(existing.st_mode):
        raise OutputError(f"'{name}' is a symlink: --force replaces only regular files; give its target")
    if not stat.S_ISREG(existing.st_mode):
        raise OutputError(f"'{name}' is not a regular file; --force replaces only regular files")


def _publish(temporary: str, path: Path) -> None:
    """Give the temporary file its name, failing if the name is taken, even by a writer racing us."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise OutputError(f"'{shown(path)}' exists; pass --force to overwrite it") from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        # No hard links here (FAT, some network file systems): claim the name with O_EXCL, then rename.
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            raise OutputError(f"'{shown(path)}' exists; pass --force to overwrite it") from None
        os.replace(temporary, path)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _keep_owner(temporary: str, existing: os.stat_result) -> None:
    try:
        os.chown(temporary, existing.st_uid, existing.st_gid)
    except OSError:  # not permitted (someone else's file we may write): the mode is kept all the same
        pass


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def shown(path) -> str:
    """A path for a one-line message: control characters escaped, at most 200 characters."""
    from derive.guard.text import one_line

    text = one_line(str(path))
    return text if len(text) <= 200 else text[:97] + "…" + text[-100:]
