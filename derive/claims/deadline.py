"""Time limits on work whose cost the input decides: SymPy's algebra on a user's text. Limits nest."""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager

from derive.errors import DeriveError


class TooLong(DeriveError):
    """The work took longer than its limit; limit says which limit expired."""

    def __init__(self, message: str, limit: object):
        super().__init__(message)
        self.limit = limit


_active: list = []  # (expires at, message) of every limit in force, innermost last


AGAIN = 0.1  # seconds between repeats of an expired limit's alarm


def _arm() -> None:
    if _active:
        left = min(expires for expires, _ in _active) - time.monotonic()
        # Repeating: a TooLong that a library's broad except swallows is raised again until its block ends.
        signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), AGAIN)
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _expire(signum, frame):
    if not _active:
        return  # a repeat arriving as the last block ends
    entry = min(_active, key=lambda e: e[0])
    if entry[0] <= time.monotonic():
        raise TooLong(entry[1], entry)


@contextmanager
def deadline(seconds: float | None, what: str):
    """Raise TooLong if the block runs longer than seconds (in the main thread; elsewhere no limit).

    Yields the limit: an inner block catching TooLong compares error.limit with it, and re-raises an
    outer limit's expiry.
    """
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield None
        return
    entry = (time.monotonic() + seconds, f"{what} took longer than {seconds:g} s; write it more simply")
    previous = signal.signal(signal.SIGALRM, _expire) if not _active else None
    _active.append(entry)
    _arm()
    try:
        yield entry
    finally:
        _active.remove(entry)
        _arm()
        if previous is not None:
            signal.signal(signal.SIGALRM, previous)


@contextmanager
def or_skip(seconds: float, what: str):
    """A limit whose expiry only ends the block (an outer limit's expiry still propagates)."""
    try:
        with deadline(seconds, what) as limit:
            yield
    except TooLong as error:
        if limit is None or error.limit is not limit:
            raise
