"""The command line: parse, call the pipeline, print. Messages go to stderr, data to stdout."""

from __future__ import annotations

import math
import os
import re
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperCommand, TyperGroup

MAX_N = 4096  # kept in step with derive.engine.derivation.MAX_N (checked by a test); SymPy loads lazily


class Format(str, Enum):
    text = "text"
    json = "json"
    latex = "latex"
    markdown = "markdown"


class Lang(str, Enum):
    en = "en"
    zh = "zh"
    zh_hans = "zh-Hans"  # the same as zh: simplified characters
    zh_hant = "zh-Hant"


class Method(str, Enum):
    quotient = "quotient"
    log = "log"


class Target(str, Enum):
    numpy = "numpy"
    numba = "numba"
    torch = "torch"
    jax = "jax"


class FunctionGroup(TyperGroup):
    """Commands, where any other first word names a function: `derive softmax --n 4`."""

    def get_params(self, ctx):
        return _plainly_coerced(super().get_params(ctx))

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
            # Typer validates through pydantic, whose messages begin "Value error, ": not ours to show.
            _fail(error.format_message().replace("Value error, ", ""), 2)
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


class Command(TyperCommand):
    """A command whose usage line reads as it is typed: `derive expr TEXT [OPTIONS]`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.param_type_name == "argument":
                # An argument's name says what it is (NAME, TEXT): no <str> beside it in the help.
                param.display_type_rich = lambda ctx: None

    def get_params(self, ctx):
        return _plainly_coerced(super().get_params(ctx))

    def format_usage(self, ctx, formatter):
        arguments = [p.metavar or p.name.upper() for p in self.params if p.param_type_name == "argument"]
        formatter.write_usage(self.path(ctx), " ".join([*arguments, "[OPTIONS]"]))

    def path(self, ctx) -> str:
        return ctx.command_path


def _plainly_coerced(params: list) -> list:
    """params, each given a coercion that reads plain values (a whole number, a decimal, a choice, a name,
    a new path) without pydantic, which typer ≥ 0.2x imports to build a TypeAdapter for every option
    given or not (0.12 s of a 0.7 s cached run); any other value goes to typer's own coercion, so its
    value and its error message are typer's. A typer without such a lazily built coercion is left be."""
    try:
        from typer._coercion import RuntimeParam, build_runtime_param
    except ImportError:
        return params

    class Plain(RuntimeParam):
        def _coerce_value(self, value, param, ctx):
            result = _plain_value(param.type_descriptor)(value)
            if result is not None:
                return result
            return build_runtime_param(param.type_descriptor)._coerce_value(value, param=param, ctx=ctx)

    for param in params:
        if getattr(param, "_runtime_param", False) is None and hasattr(param, "type_descriptor"):
            info, annotation = param.type_descriptor.parameter_info, param.type_descriptor.annotation
            param._runtime_param = Plain(parameter_info=info, annotation=annotation)
    return params


_WHOLE = re.compile(r"[0-9]{1,9}")
_DECIMAL = re.compile(r"[0-9]{1,9}(\.[0-9]{0,9})?|\.[0-9]{1,9}")


def _plain_value(descriptor):
    """value → the coerced value, or None where typer's own coercion must decide."""
    annotation, info = descriptor.annotation, descriptor.parameter_info
    plain_path = all(not getattr(info, flag, False) for flag in ("exists", "resolve_path", "allow_dash"))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        if getattr(info, "case_sensitive", True) is False:
            return lambda value: None
        members = {member.value: member for member in annotation}
        return lambda value: value if isinstance(value, annotation) else members.get(value)
    if annotation in (int, float) and not getattr(info, "clamp", False):
        pattern = _WHOLE if annotation is int else _DECIMAL
        low = -math.inf if info.min is None else info.min
        high = math.inf if info.max is None else info.max

        def number(value):
            if type(value) is str and pattern.fullmatch(value):
                value = annotation(value)
            return value if type(value) is annotation and low <= value <= high else None

        return number
    if annotation in (str, bool):
        return lambda value: value if type(value) is annotation else None
    if annotation == list[str]:
        return _strings
    if annotation is Path and plain_path and info.parser is None and info.path_type is None:
        return _new_path
    return lambda value: None


def _strings(value):
    return list(value) if type(value) is tuple and all(type(v) is str for v in value) else None


def _new_path(value):
    """A path to nothing yet, as typer reads it (an existing one is typer's to check: file or folder)."""
    if type(value) is not str or not value:
        return None
    try:
        os.stat(value)
    except OSError:
        return Path(value)
    except ValueError:  # an embedded NUL: typer's message
        return None
    return None


class FunctionCommand(Command):
    """A registered function's command, typed as `derive NAME`, with no word for the command itself."""

    def path(self, ctx) -> str:
        return ctx.parent.command_path if ctx.parent else "derive"


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
    "derive NAME --help      the options for a function\n\n"
    "derive list             the known functions",
)


def _version(value: bool):
    if value:
        from derive._version import __version__

        typer.echo(f"derive {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_version, help="Show the version and exit.")
    ] = False,
):
    """Derive, prove, typeset and emit the Jacobian of an ML function."""


N = Annotated[
    Optional[int],
    typer.Option(
        "--n", "-n", min=1, max=MAX_N, metavar="N", help=f"Input dimension, 1 to {MAX_N}; omit for any n."
    ),
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
        "--module",
        exists=True,
        dir_okay=False,
        metavar="FILE",
        help="With --check: check this module file, not fresh code.",
    ),
]
OUTPUT = Annotated[
    Optional[Path], typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout.")
]
FORCE = Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")]
SYMBOLS = Annotated[
    Optional[str],
    typer.Option(
        "--symbols",
        metavar="OLD=NEW,...",
        help='Your notation, OLD=NEW pairs: "z=a,s=S,n=N", "z=x,s=y", "s=\\hat{y},n=d". '
        "A name is a letter or a Greek letter, with at most one accent.",
    ),
]
BOLD = Annotated[bool, typer.Option("--bold", help="Vectors in bold, z as \\mathbf{z} (latex, markdown).")]
CLAIM = Annotated[
    Optional[str],
    typer.Option(
        "--claim",
        metavar="FORMULA",
        help="Check a derivative you wrote, in the expr syntax plus delta(i, j) and the outputs' names, e.g. "
        '"s[i]*(delta(i,j) - s[j])": ∂s_i/∂z_j (a scalar: ∂L/∂z_j). Exit 0 if it holds, 1 if not.',
    ),
]
CLAIM_HESSIAN = Annotated[
    bool, typer.Option("--claim-hessian", help="With --claim: the claim is the Hessian entry ∂²L/∂z_i∂z_j.")
]
STRICT = Annotated[
    bool, typer.Option("--strict", help="With --claim: a claim that holds only under an assumption exits 1.")
]
CLAIM_MODULE = Annotated[
    Optional[Path],
    typer.Option(
        "--claim-module",
        metavar="FILE",
        exists=True,
        dir_okay=False,
        help="Check a backward f(z, g) in this Python file against the derived VJP. The file is imported, "
        "so it runs: check only code you trust.",
    ),
]
CLAIM_FUNCTION = Annotated[
    Optional[str],
    typer.Option(
        "--claim-function", metavar="NAME", help="With --claim-module: the backward's name in the file."
    ),
]
TIMEOUT = Annotated[
    float,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        min=0.1,
        max=86400,
        help="Give up after SECONDS of CPU spent deriving, writing and checking (then stopped, never left).",
    ),
]
NO_CACHE = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Derive from scratch: neither read nor write the derivation cache (see DERIVE_CACHE_DIR).",
    ),
]
PARAM = Annotated[
    Optional[list[str]],
    typer.Option(
        "--param",
        "-p",
        metavar="NAME=NUMBER",
        help="Set a parameter, NAME=NUMBER (e.g. T=0.5); others stay symbolic.",
    ),
]


WRT = Annotated[
    Optional[list[str]],
    typer.Option(
        "--wrt",
        metavar="NAME",
        help="Differentiate with respect to this input (repeatable); default: every input that is not data.",
    ),
]
DIM = Annotated[
    Optional[list[str]],
    typer.Option(
        "--dim",
        metavar="NAME=SIZE",
        help="A dimension's size, NAME=SIZE (e.g. d=3; repeatable); --n N is --dim n=N. Omit for any size.",
    ),
]


@app.command("list", cls=Command)
def list_functions():
    """List the registered functions, name first, with a description."""
    from derive.engine.registry import summaries  # names and descriptions read from the files: no SymPy

    known = summaries()
    width = max(map(len, known))
    for name, summary in known.items():
        typer.echo(f"{name.ljust(width)}  {summary.description}")


@app.command("function", hidden=True, cls=FunctionCommand)
def function(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="A registered function (see `derive list`).")],
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
    symbols: SYMBOLS = None,
    bold: BOLD = False,
    claim: CLAIM = None,
    claim_hessian: CLAIM_HESSIAN = False,
    strict: STRICT = False,
    claim_module: CLAIM_MODULE = None,
    claim_function: CLAIM_FUNCTION = None,
    timeout: TIMEOUT = 30.0,
    no_cache: NO_CACHE = False,
    wrt: WRT = None,
    dim: DIM = None,
):
    """Derive NAME's Jacobian and print it."""
    _run(ctx, name)


@app.command(
    "expr",
    cls=Command,
    help=_EXPR_HELP,
    short_help="Derive the Jacobian of a function you write (see its --help).",
)
def expression(
    ctx: typer.Context,
    text: Annotated[
        str, typer.Argument(metavar="TEXT", help='The definition, e.g. "exp(z[i]) / sum(exp(z[k]), k)".')
    ],
    name: Annotated[
        str, typer.Option("--name", metavar="NAME", help="Name for the function in documents and code.")
    ] = "f",
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
    symbols: SYMBOLS = None,
    bold: BOLD = False,
    claim: CLAIM = None,
    claim_hessian: CLAIM_HESSIAN = False,
    strict: STRICT = False,
    claim_module: CLAIM_MODULE = None,
    claim_function: CLAIM_FUNCTION = None,
    timeout: TIMEOUT = 30.0,
    no_cache: NO_CACHE = False,
    wrt: WRT = None,
    dim: DIM = None,
):
    """Derive the Jacobian of a function you write."""
    from derive.userdefined import user_function

    _run(ctx, user_function(text, name))  # the text is refused here, before any worker starts


def _run(ctx, function):
    """The options checked, then function derived and delivered (rendered, emitted, checked or judged)."""
    from derive import api

    o = ctx.params
    claims = tuple(o[key] for key in ("claim", "claim_hessian", "strict", "claim_module", "claim_function"))
    _claim_options(claims, others=(o["emit"], o["check"], o["standalone"]))
    if o["claim"] is None and o["claim_module"] is None:
        _applicable(ctx, o["format"], o["emit"])
    n, params, dims, wrt = o["n"], _params(o["param"]), _dims(o["dim"], o["n"]), o["wrt"]
    keys = ("format", "lang", "method", "standalone", "emit", "check", "symbols", "bold")
    how = {key: o[key] for key in keys} | {"claims": claims, "cache": not o["no_cache"]}
    _deliver(
        lambda: api.derive(function, n=n, params=params, dims=dims, wrt=wrt),
        how,
        o["module"],
        o["output"],
        o["force"],
        o["timeout"],
    )


def _applicable(ctx, format, emit):
    """Refuse, in one line, an option given for an output it does not apply to (never ignore it)."""
    from derive.errors import InvalidInput

    given = {
        name for name in ctx.params if ctx.get_parameter_source(name).name not in ("DEFAULT", "DEFAULT_MAP")
    }
    if emit is not None:
        output, pointless = f"--emit {emit.value} (code)", ("format", "lang", "method", "standalone")
    elif format in (Format.text, Format.json):
        output, pointless = f"{format.value} output", ("lang", "method", "standalone")
    else:
        return
    for name in pointless:
        if name in given:
            raise InvalidInput(f"--{name} does not apply to {output}")


def _params(pairs) -> dict:
    """{'T': '0.5'} from ['T=0.5']; the values are checked as exact numbers by the engine."""
    from derive.errors import InvalidInput
    from derive.guard.text import refuse_unsafe

    values = {}
    for pair in pairs or []:
        name, sep, value = refuse_unsafe(pair, "--param").partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InvalidInput(f"--param takes NAME=NUMBER, e.g. T=0.5; got {pair!r}")
        values[name.strip()] = value.strip()
    return values


def _dims(pairs, n) -> dict:
    """{'d': 3} from ['d=3']: whole numbers from 1 to MAX_N; --n N is n=N, and may not disagree with it."""
    from derive.errors import InvalidInput
    from derive.guard.text import refuse_unsafe

    sizes = {}
    for pair in pairs or []:
        name, sep, value = (part.strip() for part in refuse_unsafe(pair, "--dim").partition("="))
        if not sep or not name.isidentifier() or not value.isdigit() or len(value) > 5:
            raise InvalidInput(f"--dim takes NAME=SIZE, e.g. d=3; got {pair!r}")
        if not 1 <= int(value) <= MAX_N:
            raise InvalidInput(f"--dim {name} must be between 1 and {MAX_N}, got {value}")
        if sizes.get(name, int(value)) != int(value):
            raise InvalidInput(f"--dim {name} is given twice, as {sizes[name]} and {value}")
        sizes[name] = int(value)
    if n is not None and sizes.get("n", n) != n:
        raise InvalidInput(f"--n {n} and --dim n={sizes['n']} disagree")
    return sizes


def _claim_options(claims, others) -> None:
    """Refuse claim options that do not go together, before any derivation."""
    claim, hessian, strict, module, function = claims
    if claim is None and module is None:
        flags = (("--claim-hessian", hessian), ("--strict", strict), ("--claim-function", function))
        for flag, given in flags:
            if given:
                raise typer.BadParameter(f"{flag} goes with --claim or --claim-module")
        return
    if claim is not None and module is not None:
        raise typer.BadParameter("--claim checks a formula, --claim-module a backward: give one of them")
    emit, check, standalone = others
    if emit is not None or check or standalone:
        raise typer.BadParameter(
            "--claim and --claim-module replace --emit, --check and --standalone: give them alone"
        )
    if module is not None and not function:
        raise typer.BadParameter("--claim-module needs --claim-function NAME, the backward in the file")


def _deliver(derived, how, module, output, force, timeout):
    """Derive, then render, emit, check or judge a claim, in a worker under the deadline; write or print."""
    from derive.guard import budget
    from derive.show.output import shown, write_text

    format, emit, check = how["format"], how["emit"], how["check"]
    if module is not None and not check:
        raise typer.BadParameter("--module names a file for --check to check; add --check")
    if emit is not None and how["bold"]:
        raise typer.BadParameter("--bold typesets vectors in LaTeX; generated code has none")
    if check and emit in (Target.torch, Target.jax):
        from derive.checking.frameworks import available

        if not available(emit.value):
            typer.echo(f"derive: {emit.value} is not installed: the {emit.value} check is skipped", err=True)
            how["check"] = check = False
    result, report, code = budget.run(_work, derived, module=module, timeout=timeout, **how)
    if output is not None:
        write_text(output, result, force=force)
        typer.echo(f"wrote {shown(output)}", err=True)
    elif not check or emit is not None or format is not Format.text:
        sys.stdout.write(result)
    if report is not None:
        # The report shares stdout only with nothing: code or JSON on stdout sends it to stderr.
        typer.echo(report, err=output is None and (emit is not None or format is not Format.text))
    if code:
        sys.exit(code)


def _work(derived, cache, **how):
    """The pipeline in the worker, the derivation cache on or off for all of it."""
    from derive.engine.cache import enabled

    with enabled(cache):
        return _pipeline(derived, **how)


def _pipeline(derived, format, lang, method, standalone, emit, check, module, symbols, bold, claims):
    """The pipeline as text, in the worker: (the output, the check's report, exit code)."""
    from derive import api
    from derive.guard.budget import stage

    d = derived()
    claim, hessian, strict, claim_module, claim_function = claims
    if claim_module is not None:
        stage("checking your backward numerically")
        report = api.check_backward(d, claim_module, claim_function)
        return report.render(format.value), None, 0 if report.passed else 1
    if claim is not None:
        stage("deciding the claim")
        verdict = api.claim(d, claim, hessian=hessian)
        return api.render_claim(verdict, format.value, lang=lang.value), None, verdict.exit_code(strict)
    if emit is not None:
        stage("emitting code")
        result = api.emit(d, emit.value, symbols=symbols)
    else:
        stage(f"writing the {format.value} output")
        options = {} if format in (Format.text, Format.json) else dict(lang=lang.value, method=method.value)
        if format in (Format.latex, Format.markdown):
            options["standalone"] = standalone  # Markdown refuses it in one line rather than ignore it
        result = api.render(d, format.value, symbols=symbols, bold=bold, **options)
    if not check:
        return result, None, 0
    stage("checking the code numerically")
    report = api.check(d, (emit or Target.numpy).value, module_path=module)
    return result, str(report), 0 if report.passed else 1


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
