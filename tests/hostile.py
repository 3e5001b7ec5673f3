"""An attacker's corpus: texts that try to run code or live markup through derive, and the run that counts.

`PYTHONPATH=$PWD python -m tests.hostile` runs every payload through every format and target of the
command line (in process, each under its --timeout), then prints the corpus size and the counts of
executions (a canary file appeared), hangs (an invocation outlived its budget's wall-clock backstop)
and internal errors
(a traceback, "internal error", or more than one error line): all must be 0.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DEFINITION = "exp(z[i]) / sum(exp(z[k]), k)"

# What ends a line, a string, a comment or a shell word somewhere derive writes the user's text.
SEPARATORS = (
    "\n",
    "\r",
    "\r\n",
    "\u2028",
    "\u2029",
    "\x85",
    "\x00",
    "\x0b",
    "\x0c",
    "\t",
    "\x1b[2J",
    "\x7f",
    "#",
    " #\n",
    '"""',
    "'''",
    "\\",
    "\\\n",
    "-->",
    "--!>",
    "<script>",
    "</script><script>",
    "$(",
    "`",
    "'",
    '"',
    "%\n",
    "}\n",
)


def payloads(canary: str) -> list[str]:
    """Every separator with every kind of code after it, each trying to create the file canary."""
    codes = (
        f'open("{canary}", "w").write("x")',  # Python, the exploit
        f"__import__('pathlib').Path('{canary}').touch()",
        f"<img src=x onerror=\"fetch('{canary}')\">",  # HTML in Markdown or a notebook
        f"\\immediate\\write18{{touch {canary}}}",  # LaTeX with shell escape
        f"$(touch {canary})",  # a shell, if the regenerate line is pasted
    )
    texts = [f"{DEFINITION} {sep}{code}{sep}" for sep in SEPARATORS for code in codes]
    texts += [f"{DEFINITION} #\n{codes[0]} #", f"{DEFINITION}\r\n{codes[1]}", f"{codes[0]} and z[i]"]
    return texts


# Accepted definitions with characters that matter to the places the text is written: '--' inside an
# HTML comment, '^', a parameter. They go through the whole pipeline.
ACCEPTED = ("z[i]--exp(z[i])", "z[i] - -z[i]^2", "exp(z[i]/T) / sum(exp(z[k]/T), k)")

# Short texts known to make SymPy work for minutes (issues 14 and 17): each must end within its budget.
SLOW = (
    "tanh((-sum(z[q], q) * z[i]))",
    "sin(sum((z[k] * z[k]),k))",
    "(z[i] - sum(z[k], k)/n) / sqrt(sum((z[k] - sum(z[l], l)/n)**2, k)/n + 1/100000)",
    "z[i]**63 / sum(z[k]**63, k)",
    "exp(exp(exp(exp(z[i])))) / sum(exp(exp(exp(exp(z[k])))), k)",
    "max(z[i], sum(max(z[k], z[i]**2), k))**(1/63)",
)

# Each payload through every output and target: (arguments after the text, writes a file to import).
INVOCATIONS = (
    ((), False),
    (("--format", "json"), False),
    (("--format", "latex"), False),
    (("--format", "latex", "--standalone", "--lang", "zh"), False),
    (("--format", "markdown"), False),
    (("--emit", "numpy"), False),
    (("--emit", "numba"), False),
    (("--n", "3", "--check"), False),
    (("--n", "3", "--emit", "numpy", "-o", "{out}"), True),
    (("--n", "3", "--emit", "numba", "-o", "{out}"), True),
    (("--name", "f\nimport os", "--emit", "numpy"), False),
    (("--param", "T=1\nimport os", "--emit", "numpy"), False),
)
TIMEOUT = 20.0  # seconds of CPU per invocation
# A hang: an invocation that outlives its budget's wall-clock backstop (3 × budget + 10 s) by more than
# this, time enough to kill and reap the worker and print one line on a loaded machine.
HANG_SLACK = 10.0


@dataclass
class Counts:
    """What the corpus did."""

    payloads: int = 0
    invocations: int = 0
    executions: int = 0
    hangs: int = 0
    internal_errors: int = 0
    findings: list = field(default_factory=list)

    def __str__(self):
        return (
            f"corpus: {self.payloads} texts, {self.invocations} invocations; executions {self.executions}, "
            f"hangs {self.hangs}, internal errors {self.internal_errors}"
        )


def one_line_error(stderr: str) -> bool:
    """Whether stderr is one 'derive: error:' line, with at most the text and a caret under it."""
    lines = stderr.splitlines()
    errors = [line for line in lines if line.startswith("derive: error:")]
    rest = [line for line in lines if not line.startswith("derive: error:") and line.strip()]
    return len(errors) == 1 and all(line.startswith("    ") for line in rest) and len(rest) <= 2


def attack(run, texts, invocations=INVOCATIONS, folder: Path | None = None, timeout=TIMEOUT) -> Counts:
    """Run texts through invocations with run (the CLI runner); count what happened."""
    from derive.guard.budget import WALL_EXTRA, WALL_FACTOR

    folder = Path(folder or tempfile.mkdtemp(prefix="derive-attack-"))
    canary = folder / "derive-canary"
    counts = Counts(payloads=len(texts))
    for number, text in enumerate(texts):
        text = text.replace("{canary}", str(canary))
        for k, (extra, writes) in enumerate(invocations):
            out = folder / f"module_{number}_{k}.py"
            args = [a.replace("{out}", str(out)) for a in extra]
            start = time.monotonic()
            result = run("expr", text, *args, "--timeout", str(timeout))
            took = time.monotonic() - start
            counts.invocations += 1
            stderr = result.stderr or ""
            if took > WALL_FACTOR * timeout + WALL_EXTRA + HANG_SLACK:
                counts.hangs += 1
                counts.findings.append(("hang", text, args, took))
            internal = (
                "Traceback" in stderr or "internal error" in stderr or result.exit_code not in (0, 1, 2)
            )
            failed_checks = result.exit_code == 1 and "--check" in args and "checks FAILED" in result.output
            if internal or (result.exit_code != 0 and not failed_checks and not one_line_error(stderr)):
                counts.internal_errors += 1
                counts.findings.append(("internal", text, args, stderr[-300:]))
            if writes and result.exit_code == 0 and out.exists() and "--emit" in args:
                target = args[args.index("--emit") + 1]
                if target == "numpy" or importlib.util.find_spec("numba"):
                    _import(out)
            if canary.exists():
                counts.executions += 1
                counts.findings.append(("execution", text, args))
                canary.unlink()
    return counts


def _import(path: Path):
    spec = importlib.util.spec_from_file_location(f"attacked_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    from typer.testing import CliRunner

    from derive.cli import app

    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, list(args), prog_name="derive")

    with tempfile.TemporaryDirectory(prefix="derive-attack-") as folder:
        os.chdir(folder)  # a payload writing a relative path would land here: checked as well
        texts = payloads("{canary}") + list(ACCEPTED)
        counts = attack(run, texts, folder=Path(folder))
        both = ((("--n", "4"), False), (("--format", "latex"), False))
        slow = attack(run, list(SLOW), both, Path(folder), timeout=5.0)
        for name in ("payloads", "invocations", "executions", "hangs", "internal_errors"):
            setattr(counts, name, getattr(counts, name) + getattr(slow, name))
        counts.findings += slow.findings
        stray = [p for p in Path(folder).iterdir() if "canary" in p.name]
    counts.executions += len(stray)
    print(counts)
    for finding in counts.findings[:20]:
        print("  ", finding)
    return 1 if counts.executions or counts.hangs or counts.internal_errors else 0


if __name__ == "__main__":
    sys.exit(main())
