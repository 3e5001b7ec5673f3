"""The command line: parse, call the pipeline, print. Messages go to stderr, data to stdout."""

from __future__ import annotations

import os
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
    numba = "numba"


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
            # A parse error also shows where: the text, and a caret under the offending part.
            _fail(str(error), 2, getattr(error, "pointer", None))
        except DeriveError as error:
            _fail(str(error), 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as error:  # a bug of ours: still one line, never a traceback
            _fail(f"internal error ({type(error).__name__}): {error}", 1)
        if isinstance(result, int) and result:
            sys.exit(result)
        return result


def _fail(message: str, code: int, pointer: str | None = None):
    typer.echo(f"derive: error: {' '.join(str(message).split())}", err=True)
    if pointer:
        typer.echo("\n".join(f"    {line}" for line in pointer.splitlines()), err=True)
    sys.exit(code)


_EXPR_HELP = """Derive the Jacobian of a function you write, e.g.

derive expr "exp(z[i]) / sum(exp(z[k]), k)" --n 4

z[i] is the i-th input and i the output index; sum(expr, k) sums over k = 1..n, inside which z[k] is the
summed input (summation indices k, l, m, p, q; j is reserved); n is the dimension; any other name (T,
alpha, eps) is a positive parameter, symbolic unless set with --param. Numbers are exact (0.5 = 1/2).
Operators: + - * / ** ( ), and ^ as a synonym of **. Functions: abs, cos, erf, exp, log, max, min, sigmoid,
sin, softplus, sqrt, sum, tanh. Without z[i] outside a sum the function is a scalar (e.g.
"log(sum(exp(z[k]), k))"): you get its gradient and Hessian. The text is parsed with an allow-list,
never evaluated."""

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
TIMEOUT = Annotated[
    float,
    typer.Option(
        "--timeout",
        min=0.1,
        max=86400,
        help="Give up after SECONDS of CPU spent deriving, writing and checking (then stopped, never left).",
    ),
]
PARAM = Annotated[
    Optional[list[str]],
    typer.Option("--param", "-p", help="Set a parameter, NAME=NUMBER (e.g. T=0.5); others stay symbolic."),
]


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
    param: PARAM = None,
    timeout: TIMEOUT = 30.0,
):
    """Derive NAME's Jacobian and print it."""
    from derive import api

    params = _params(param)
    how = dict(format=format, lang=lang, method=method, standalone=standalone, emit=emit, check=check)
    _deliver(lambda: api.derive(name, n=n, params=params), how, module, output, force, timeout)


@app.command("expr", help=_EXPR_HELP)
def expression(
    text: Annotated[str, typer.Argument(help='The definition, e.g. "exp(z[i]) / sum(exp(z[k]), k)".')],
    name: Annotated[str, typer.Option("--name", help="Name for the function in documents and code.")] = "f",
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
    param: PARAM = None,
    timeout: TIMEOUT = 30.0,
):
    """Derive the Jacobian of a function you write."""
    from derive import api
    from derive.userdefined import user_function

    fn, params = user_function(text, name), _params(param)  # refused here, before any worker starts
    how = dict(format=format, lang=lang, method=method, standalone=standalone, emit=emit, check=check)
    _deliver(lambda: api.derive(fn, n=n, params=params), how, module, output, force, timeout)


def _params(pairs) -> dict:
    """{'T': '0.5'} from ['T=0.5']; the values are checked as exact numbers by the engine."""
    from derive.errors import InvalidInput
    from derive.safetext import refuse_unsafe

    values = {}
    for pair in pairs or []:
        name, sep, value = refuse_unsafe(pair, "--param").partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InvalidInput(f"--param takes NAME=NUMBER, e.g. T=0.5; got {pair!r}")
        values[name.strip()] = value.strip()
    return values


def _deliver(derived, how, module, output, force, timeout):
    """Derive, render or emit, and check, in a worker under the deadline; then write or print."""
    from derive import budget
    from derive.output import shown, write_text

    format, emit, check = how["format"], how["emit"], how["check"]
    if module is not None and not check:
        raise typer.BadParameter("--module names a file for --check to check; add --check")
    result, report, passed = budget.run(_work, derived, module=module, timeout=timeout, **how)
    if output is not None:
        write_text(output, result, force=force)
        typer.echo(f"wrote {shown(output)}", err=True)
    elif not check or emit is not None or format is not Format.text:
        sys.stdout.write(result)
    if check:
        # The report shares stdout only with nothing: code or JSON on stdout sends it to stderr.
        typer.echo(report, err=output is None and (emit is not None or format is not Format.text))
        if not passed:
            sys.exit(1)


def _work(derived, format, lang, method, standalone, emit, check, module):  # in the worker
    """The pipeline as text: (the rendered or emitted result, the check's report, whether it passed)."""
    from derive import api
    from derive.budget import stage

    d = derived()
    if emit is not None:
        stage("emitting code")
        result = api.emit(d, emit.value)
    else:
        stage(f"writing the {format.value} output")
        options = {} if format in (Format.text, Format.json) else dict(lang=lang.value, method=method.value)
        if format in (Format.latex, Format.markdown):
            options["standalone"] = standalone  # Markdown refuses it in one line rather than ignore it
        result = api.render(d, format.value, **options)
    if not check:
        return result, None, True
    stage("checking the code numerically")
    report = api.check(d, (emit or Target.numpy).value, module_path=module)
    return result, str(report), report.passed


def main():
    """Console entry point."""
    try:
        typer.main.get_command(app)(prog_name="derive")
        code = 0
    except SystemExit as done:
        if done.code is not None and not isinstance(done.code, int):
            raise
        code = done.code or 0
    # Python's orderly exit frees SymPy's objects one by one, a fifth of a second that returns nothing
    # the operating system would not: write out what is buffered and leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
