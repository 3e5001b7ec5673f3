"""The command line: parse, call the pipeline, print. Messages go to stderr, data to stdout."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

MAX_N = 4096  # kept in step with derive.derivation.MAX_N (checked by a test); SymPy loads lazily


class Format(str, Enum):
    text = "text"
    json = "json"
    latex = "latex"
    markdown = "markdown"


class Lang(str, Enum):
    en = "en"
    zh = "zh"


class Method(str, Enum):
    quotient = "quotient"
    log = "log"


class Target(str, Enum):
    numpy = "numpy"


class FunctionGroup(TyperGroup):
    """Commands, where any other first word names a function: `derive softmax --n 4`."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "function", self.commands["function"], args
        return super().resolve_command(ctx, args)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        # One clear line on stderr and an exit code, never click's usage block or a traceback.
        from derive.errors import DeriveError, InvalidInput, UnknownFunction

        try:
            result = super().main(args, prog_name or "derive", complete_var, standalone_mode=False, **extra)
        except typer.Exit as done:
            sys.exit(done.exit_code)
        except typer.Abort:
            _fail("aborted", 1)
        except typer.TyperException as error:  # typer's own click: usage errors and bad values
            if type(error).__name__ == "NoArgsIsHelpError":
                typer.echo(error.format_message())
                sys.exit(0)
            _fail(error.format_message(), 2)
        except (UnknownFunction, InvalidInput) as error:
            _fail(str(error), 2)
        except DeriveError as error:
            _fail(str(error), 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        if isinstance(result, int) and result:
            sys.exit(result)
        return result


def _fail(message: str, code: int):
    typer.echo(f"derive: error: {' '.join(str(message).split())}", err=True)
    sys.exit(code)


app = typer.Typer(
    cls=FunctionGroup,
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Derive, prove, typeset and emit the Jacobian of an ML function.\n\n"
    "derive softmax --n 4    the softmax Jacobian for n = 4\n\n"
    "derive list             the known functions",
)

N = Annotated[
    Optional[int],
    typer.Option("--n", min=1, max=MAX_N, help=f"Input dimension, 1 to {MAX_N}; omit for any n."),
]
FORMAT = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
LANG = Annotated[Lang, typer.Option("--lang", help="Language of the prose (latex, markdown).")]
METHOD = Annotated[Method, typer.Option("--method", help="Route of the derivation (latex, markdown).")]
STANDALONE = Annotated[bool, typer.Option("--standalone", help="A complete LaTeX document, not a fragment.")]
EMIT = Annotated[Optional[Target], typer.Option("--emit", help="Emit a standalone code module instead.")]
CHECK = Annotated[
    bool, typer.Option("--check", help="Check the generated code numerically; exit 1 on failure.")
]
MODULE = Annotated[
    Optional[Path],
    typer.Option(
        "--module", exists=True, dir_okay=False, help="With --check: check this module file, not fresh code."
    ),
]
OUTPUT = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to FILE instead of stdout.")]
FORCE = Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")]


@app.command("list")
def list_functions():
    """List the registered functions, name first, with a description."""
    from derive.registry import functions

    known = functions()
    width = max(map(len, known))
    for name, fn in known.items():
        typer.echo(f"{name.ljust(width)}  {fn.description}")


@app.command("function", hidden=True)
def function(
    name: Annotated[str, typer.Argument(help="A registered function (see `derive list`).")],
    n: N = None,
    format: FORMAT = Format.text,
    lang: LANG = Lang.en,
    method: METHOD = Method.quotient,
    standalone: STANDALONE = False,
    emit: EMIT = None,
    check: CHECK = False,
    module: MODULE = None,
    output: OUTPUT = None,
    force: FORCE = False,
):
    """Derive NAME's Jacobian and print it."""
    from derive import api

    if module is not None and not check:
        raise typer.BadParameter("--module names a file for --check to check; add --check")
    d = api.derive(name, n=n)
    _deliver(d, format, lang, method, standalone, emit, check, output, force, module)


def _deliver(d, format, lang, method, standalone, emit, check, output, force, module=None):
    """Render or emit d, write it to output or stdout, then run the numeric check if asked."""
    from derive import api
    from derive.output import write_text

    if emit is not None:
        result = api.emit(d, emit.value)
    else:
        options = {} if format in (Format.text, Format.json) else dict(lang=lang.value, method=method.value)
        if format is Format.latex:
            options["standalone"] = standalone
        result = api.render(d, format.value, **options)
    if check:
        report = api.check(d, (emit or Target.numpy).value, module_path=module)
    if output is not None:
        write_text(output, result, force=force)
        typer.echo(f"wrote {output}", err=True)
    elif not check or emit is not None or format is not Format.text:
        sys.stdout.write(result)
    if check:
        # The report shares stdout only with nothing: code or JSON on stdout sends it to stderr.
        typer.echo(str(report), err=output is None and (emit is not None or format is not Format.text))
        if not report.passed:
            sys.exit(1)


def main():
    """Console entry point."""
    typer.main.get_command(app)(prog_name="derive")


if __name__ == "__main__":
    main()
