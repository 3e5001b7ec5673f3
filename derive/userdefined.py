"""A user's expression as a Function, through the safe parser: never eval, exec or sympify."""

from __future__ import annotations

import re

from derive.errors import InvalidInput
from derive.guard.text import refuse_unsafe
from derive.notation.function import Function, Input
from derive.notation.symbols import i
from derive.parse import ParseError, parse

_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class ExpressionError(InvalidInput):
    """The text is not a definition derive accepts; the message points at the offending part."""

    def __init__(self, error: ParseError):
        self.pointer = error.pointer()
        super().__init__(f"{error}")


def user_function(text: str, name: str = "f") -> Function:
    """The Function defined by text, named name (a Python identifier, for documents and code)."""
    refuse_unsafe(name, "--name")
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"--name must be lowercase letters, digits and _, starting with a letter; got {name!r}"
        )
    try:
        parsed = parse(text)
    except ParseError as error:
        raise ExpressionError(error) from None
    return Function(
        name=name,
        title=name,
        description="A function defined on the command line.",
        definition=parsed.expr,
        output="s" if parsed.expr.has(i) else "L",
        source=text,
        inputs=tuple(Input(x, dims, target) for x, dims, target in parsed.inputs),
    )
