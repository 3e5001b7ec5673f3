"""User text made inert: refused when it holds control characters, escaped wherever derive writes it."""

from __future__ import annotations

import re

from derive.errors import InvalidInput

# Characters that end a line somewhere (Python, a shell, LaTeX, HTML, a terminal, an editor), or that no
# definition, name or number needs: C0 controls, DEL, NEL, the Unicode line and paragraph separators;
# and '#', which Python's tokenizer takes as the start of a comment, hiding the rest of the text.
_UNSAFE = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029#]")


def first_unsafe(text: str) -> tuple[int, str] | None:
    """The 0-based column and a description of the first character refused in user text, or None."""
    found = _UNSAFE.search(text)
    if found is None:
        return None
    char = found[0]
    if char == "#":
        return found.start(), "'#' is not allowed"
    return found.start(), f"control character U+{ord(char):04X} is not allowed"


def refuse_unsafe(text: str, what: str) -> str:
    """text, if it holds no refused character; otherwise InvalidInput naming what and the column."""
    bad = first_unsafe(text)
    if bad is not None:
        column, why = bad
        raise InvalidInput(f"{what}: {why} at column {column + 1}")
    return text


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def python_comment(text: str) -> str:
    """text for a '# …' line of Python: printable ASCII kept, everything else as a \\x/\\u escape."""
    return "".join(c if " " <= c <= "~" else _escaped(c) for c in text)


def one_line(text: str) -> str:
    """text for a message on one line: printable characters kept, any other as a backslash escape."""
    return "".join(c if c.isprintable() else _escaped(c) for c in text)


def tex_comment(text: str) -> str:
    """text for a '% …' line of LaTeX: every line break and other control character becomes a space."""
    return "".join(c if c.isprintable() else " " for c in text)


def html_comment(text: str) -> str:
    """text for an HTML comment: on one line, no '<' or '>', so that nothing can close it or open another."""
    return tex_comment(text).replace("<", "&lt;").replace(">", "&gt;")


def no_double_dash(expression: str) -> str:
    """An expression with every '--' written '- -': the same expression, harmless inside an HTML comment."""
    while "--" in expression:
        expression = expression.replace("--", "- -")
    return expression
