"""Helpers for the document tests: functions of several shapes, math blocks, and KaTeX run once over many."""

import json
import re
import shutil
import subprocess
from pathlib import Path

from sympy import exp, log, tanh

from derive.notation.function import Function
from derive.notation.symbols import i, k, parameter, total, vector, z

ROOT = Path(__file__).resolve().parent.parent
KATEX = ROOT / "node_modules" / "katex"

# Registered by the tests, never by a template: each must come out whole in every format and language.
SHAPES = {
    "test_softmax_t": exp(z[i] / parameter("T")) / total(exp(z[k] / parameter("T")), k),  # quotient, log
    "test_square_share": z[i] ** 2 / total(z[k] ** 2, k),  # quotient; not positive, so no log route
    "test_sigmoid": 1 / (1 + exp(-z[i])),  # quotient with a constant numerator; elementwise
    "test_tanh": tanh(z[i]),  # no denominator: the quotient rule falls back to the chain rule
    "test_log_of_p": log(vector("p")[i]),  # written with an intermediate p, the softmax
}
WHERE = {"test_log_of_p": (("p", exp(z[i]) / total(exp(z[k]), k)),)}


def shape(name: str) -> Function:
    return Function(
        name=name,
        title=name.removeprefix("test_"),
        description="Registered by a test.",
        definition=SHAPES[name],
        where=WHERE.get(name, ()),
    )


def math_blocks(text: str, fmt: str) -> list[dict]:
    """Every display and inline math block of a document, as KaTeX would be handed it."""
    # LaTeX sets a chain of steps as alignat*, whole, and any other display in \[ \].
    display = (
        r"\$\$\n(.*?)\n\$\$"
        if fmt == "markdown"
        else r"\\\[\n(.*?)\n\\\]|(\\begin\{alignat\*\}.*?\\end\{alignat\*\})"
    )
    found = [b if isinstance(b, str) else "".join(b) for b in re.findall(display, text, re.S)]
    blocks = [{"tex": b, "display": True} for b in found]
    prose = re.sub(display, "", text, flags=re.S)
    prose = "\n".join(line for line in prose.splitlines() if not line.startswith(("%", "<!--")))
    blocks += [{"tex": b, "display": False} for b in re.findall(r"\$([^$]+)\$", prose)]
    return blocks


def katex_available() -> bool:
    return shutil.which("node") is not None and KATEX.is_dir()


def katex_failures(blocks: list[dict]) -> list[dict]:
    """The blocks KaTeX refuses (throwOnError, strict), from one node process for all of them."""
    done = subprocess.run(
        ["node", str(ROOT / "tests" / "katex_check.js")],
        input=json.dumps(blocks),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(done.stdout)
