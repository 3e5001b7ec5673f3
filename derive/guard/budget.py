"""A work budget: a deadline and a memory limit on a derivation, which runs in a forked worker process.

SymPy's work cannot be interrupted from inside (a signal waits for a long big-integer operation in C to
end), so the work runs in a child process. The budget is CPU time: the kernel stops the child when it
has computed for `timeout` seconds (RLIMIT_CPU), however loaded the machine, and its address space is
limited (RLIMIT_AS). A child that waits instead of computing is killed by the parent after WALL_FACTOR
times the budget in wall-clock time. The child sends back its result pickled through a pipe, and the
stages it passes through as lines on another, so the message can say what it was doing when stopped.
Where fork is missing (Windows), the work runs in the calling process, unbounded.
"""

from __future__ import annotations

import importlib
import math
import os
import pickle
import select
import signal
import time

from derive.errors import DeriveError

DEFAULT_TIMEOUT = 30.0  # CPU seconds, `--timeout`
WALL_FACTOR, WALL_EXTRA = 3, 10.0  # wall-clock backstop: 3 × the budget + 10 s
MAX_TIMEOUT = 86400.0
# The worker's address space. Virtual, not resident: NumPy's and Numba's thread pools and LLVM reserve
# far more than they touch (a numba --check peaks near 1.5 GB of address space), so the limit is wide;
# it stops the runaway cases, where solve or expand grow without end. DERIVE_MEMORY_MB overrides it.
DEFAULT_MEMORY_MB = 8192
HINT = "try a larger --timeout, or a simpler expression (fewer nested sums and powers)"

_stages_fd: int | None = None  # set in the worker: where stage names go


class GaveUp(DeriveError):
    """The work ran past its deadline or its memory limit and was stopped."""


class InternalError(DeriveError):
    """The worker failed with an error that is a bug of derive's (its message says which)."""


def stage(name: str) -> None:
    """Record what the work is doing now, for the message if it is stopped there."""
    if _stages_fd is not None:
        try:  # one short write to a pipe is atomic; a full pipe only loses a stage name
            os.write(_stages_fd, (name[:200] + "\n").encode("utf-8", "replace"))
        except OSError:
            pass


def memory_limit() -> int | None:
    """The worker's address-space limit in bytes (DERIVE_MEMORY_MB, 0 for none)."""
    text = os.environ.get("DERIVE_MEMORY_MB", "")
    megabytes = int(text) if text.isdigit() and len(text) <= 9 else DEFAULT_MEMORY_MB
    return megabytes << 20 if megabytes else None


def run(work, *args, timeout: float | None = DEFAULT_TIMEOUT, **kwargs):
    """work(*args, **kwargs), done in a worker killed after timeout seconds; its result or its error."""
    if timeout is None or not hasattr(os, "fork"):
        return work(*args, **kwargs)
    if not 0 < timeout <= MAX_TIMEOUT:
        from derive.errors import InvalidInput

        raise InvalidInput(f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds, got {timeout}")
    from derive.guard.signals import terminated_raises

    wall = WALL_FACTOR * timeout + WALL_EXTRA
    # SIGTERM becomes an exception from before the fork, so the finally below always stops the worker.
    with terminated_raises():
        results_r, results_w = os.pipe()
        stages_r, stages_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            os.close(results_r)
            os.close(stages_r)
            _work(results_w, stages_w, timeout, work, args, kwargs)
        os.close(results_w)
        os.close(stages_w)
        status = None
        try:
            data, last, status = _wait(pid, results_r, stages_r, time.monotonic() + wall)
        finally:  # the deadline, an interrupt or SIGTERM: the worker never outlives the caller
            if status is None:  # not reaped yet, so the pid is still our worker's
                _stop(pid)
            os.close(results_r)
            os.close(stages_r)
    payload = pickle.loads(data) if data else None  # from our own forked process
    if payload is None:  # killed at the deadline, or died (CPU or memory limit, a crash)
        if status is None:
            raise GaveUp(f"gave up after {wall:g} s (wall clock) while {last}; {HINT}")
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGKILL, signal.SIGXCPU):
            raise GaveUp(f"gave up after {math.ceil(timeout)} s while {last}; {HINT}")
        raise InternalError(f"internal error: the worker stopped ({_how(status)}) while {last}")
    kind, value = payload
    if kind == "ok":
        return value
    if kind == "memory":
        limit = memory_limit() or 0
        raise GaveUp(
            f"gave up: out of memory ({limit >> 20} MB) while {last}; try a simpler expression, "
            "or a larger DERIVE_MEMORY_MB"
        )
    raise _rebuilt(value)


def _work(results_w, stages_w, timeout, work, args, kwargs):
    """In the worker: limits, the work, the pickled outcome on results_w, then exit at once."""
    global _stages_fd
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and stops the worker
        _stages_fd = stages_w
        import resource

        limit = memory_limit()
        if limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        seconds = math.ceil(timeout)  # whole CPU seconds: SIGXCPU at the budget, SIGKILL a second later
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXCPU would otherwise leave a core file
        try:
            payload = ("ok", work(*args, **kwargs))
        except MemoryError:
            payload = ("memory", None)
        except BaseException as error:  # sent back whole: class, message and pointer
            payload = ("error", _described(error))
        try:
            data = pickle.dumps(payload)
        except Exception as error:
            data = pickle.dumps(("error", _described(error)))
        view = memoryview(data)
        while view:
            view = view[os.write(results_w, view) :]
    except BaseException:
        code = 70
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffers twice


def _wait(pid, results_r, stages_r, deadline):
    """(the pickled outcome, the last stage, the exit status or None at the deadline, worker not reaped)."""
    chunks, last, pending, open_fds = [], "starting", b"", {results_r, stages_r}
    while results_r in open_fds:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b"", last, None
        ready, _, _ = select.select(list(open_fds), [], [], remaining)
        for fd in ready:
            data = os.read(fd, 1 << 16)
            if not data:
                open_fds.discard(fd)
            elif fd == results_r:
                chunks.append(data)
            else:
                *lines, pending = (pending + data).split(b"\n")
                last = lines[-1].decode("utf-8", "replace") if lines else last
    _, status = os.waitpid(pid, 0)
    return b"".join(chunks), last, status


def _stop(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _how(status) -> str:
    if status is not None and os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}" if status is not None else "killed"


def _described(error: BaseException) -> tuple:
    """(module, class name, message, pointer) of an error, which the parent raises again."""
    cls = type(error)
    return cls.__module__, cls.__qualname__, str(error), getattr(error, "pointer", None)


def _rebuilt(described) -> BaseException:
    """The worker's error, raised again here: derive's own errors as themselves, any other as internal."""
    module, name, message, pointer = described
    cls = None
    if module.startswith("derive."):
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            cls = None
    if cls is not None and isinstance(cls, type) and issubclass(cls, DeriveError):
        error = cls.__new__(cls)
        Exception.__init__(error, message)
        if pointer is not None:
            error.pointer = pointer
        return error
    if name == "KeyboardInterrupt":
        return KeyboardInterrupt()
    return InternalError(f"internal error ({name}): {message}")
