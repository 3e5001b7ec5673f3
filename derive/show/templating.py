"""The Jinja environment for derive's templates: all prose and layout, in a templates/ beside each stage."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined

# The stages whose templates/ folders are searched, by package name: each stage keeps its own templates,
# and a name ("document.j2", "numpy_module.py.j2") is unique across them. Names, not imports: the stages
# above this one are not imported here.
STAGES = ("derive.show", "derive.writeup", "derive.codegen", "derive.checking", "derive.claims")


@cache
def environment(syntax: str = "text") -> Environment:
    """An environment for plain text (syntax='text') or LaTeX (syntax='latex', with <% %> blocks)."""
    settings = dict(
        loader=ChoiceLoader([PackageLoader(stage, "templates") for stage in STAGES]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    if syntax == "latex":
        # LaTeX is full of { } and {# — Jinja's own delimiters would collide with it.
        settings.update(
            block_start_string="<%",
            block_end_string="%>",
            variable_start_string="<<",
            variable_end_string=">>",
            comment_start_string="<#",
            comment_end_string="#>",
        )
    env = Environment(**settings)
    # The last guard on every comment line a template writes: text there cannot end the comment.
    from derive.guard import text as safetext

    env.filters.update(
        python_comment=safetext.python_comment,
        tex_comment=safetext.tex_comment,
        html_comment=safetext.html_comment,
    )
    return env


class _Compiled(FileSystemBytecodeCache):
    """Jinja's compiled templates in a folder of the user's own: one that cannot be read or written
    is no error (the template is compiled again), and an entry that does not load is compiled again."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # unpickling and unmarshalling fail in many ways; each means: compile again
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


class _ReadOnly(_Compiled):
    """Compiled templates read from the folder, never written to it."""

    def dump_bytecode(self, bucket) -> None:
        pass


def keep_compiled(folder: Path | None, write: bool = True) -> None:
    """Keep the compiled templates in folder (each checked against its template's source by Jinja), so
    that a process does not compile them again: only a folder that this user owns and no one else may
    write to, since what is kept there is code that runs. None: compile them in this process only.
    write False: read what is there (as Python reads .pyc files), create and write nothing."""
    for syntax in ("text", "latex"):
        environment(syntax).bytecode_cache = None
    if folder is None:
        return
    try:
        if write:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        status = folder.stat()
    except OSError:
        return
    owner = getattr(os, "getuid", lambda: status.st_uid)()  # no owners to compare on Windows
    if status.st_uid != owner or status.st_mode & 0o022:
        return
    for syntax in ("text", "latex"):
        environment(syntax).bytecode_cache = (_Compiled if write else _ReadOnly)(str(folder))


def render_template(template: str, syntax: str = "text", **facts) -> str:
    """Fill the named template with facts."""
    return environment(syntax).get_template(template).render(**facts)
