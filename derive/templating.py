"""The Jinja environment for derive's templates: all prose and layout live in derive/templates/."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined


@cache
def environment(syntax: str = "text") -> Environment:
    """An environment for plain text (syntax='text') or LaTeX (syntax='latex', with <% %> blocks)."""
    settings = dict(
        loader=PackageLoader("derive", "templates"),
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
    from derive import safetext

    env.filters.update(
        python_comment=safetext.python_comment,
        tex_comment=safetext.tex_comment,
        html_comment=safetext.html_comment,
    )
    return env


def render_template(template: str, syntax: str = "text", **facts) -> str:
    """Fill the named template with facts."""
    return environment(syntax).get_template(template).render(**facts)
