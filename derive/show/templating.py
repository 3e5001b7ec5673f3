"""The Jinja environment for derive's templates: all prose and layout, in a templates/ beside each stage."""

from __future__ import annotations

from functools import cache

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined

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


def render_template(template: str, syntax: str = "text", **facts) -> str:
    """Fill the named template with facts."""
    return environment(syntax).get_template(template).render(**facts)
