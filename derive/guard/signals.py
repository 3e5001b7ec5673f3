"""SIGTERM as an exception while work that must clean up is under way (a temporary file, a worker)."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


class Terminated(SystemExit):
    """SIGTERM arrived while a file was being written; raised so that the temporary file is removed."""


@contextmanager
def terminated_raises():
    """While writing, SIGTERM raises Terminated (exit 143), so the temporary file is cleaned up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Terminated(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    previous = signal.SIG_DFL if previous is None else previous  # a handler set outside Python
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
