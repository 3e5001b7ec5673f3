"""Every name a JSON document or a generated module prints is defined there (issue 10, item 3).

A JSON formula (SymPy syntax) may name SymPy's functions and constants, the function's input, output,
data and parameters, its where-clauses, its dimensions and summation indices, and entries such as z1 or
s3 of those vectors; any other name is undefined. A module is checked statically by ruff's undefined-name
rules (F821–F823), so functions the corpus does not call (the VJP and JVP of the any-n module) count too.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess

import sympy

INDICES = {"i", "j", "k", "l", "m", "p", "q", "u", "v", "w"}
DIMENSIONS = {"n", "d", "h"}
FORMULAS = {"definition", "raw", "general", "matrix_form", "jacobian", "explicit"}
ENTRY = re.compile(r"^([A-Za-z_]+?)(\d+)$")


def formulas(document, key=None):
    """Every formula string in a JSON document (dicts and lists walked; prose fields skipped)."""
    if isinstance(document, dict):
        for name, value in document.items():
            if name in ("cases", "where"):
                yield from (v for v in value.values() if isinstance(v, str))
            elif name != "proofs":
                yield from formulas(value, name)
    elif isinstance(document, list):
        for value in document:
            yield from formulas(value, key)
    elif isinstance(document, str) and key in FORMULAS:
        yield document


def undefined_names(document: dict, data=()) -> set:
    """The names in document's formulas that it does not define."""
    bases = {document.get("input"), document.get("output"), *data}
    bases |= set(document.get("where") or {}) | set(document.get("parameters") or {})
    for nested in ("gradient", "hessian"):
        part = document.get(nested)
        if isinstance(part, dict):
            bases |= {part.get("vector"), part.get("output")} | set(part.get("where") or {})
    bases.discard(None)
    known = bases | INDICES | DIMENSIONS
    missing = set()
    for text in formulas(document):
        tree = ast.parse(text, mode="eval")
        called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Name):
                continue
            name = node.id
            if name in called or name in known:
                if name in called and not hasattr(sympy, name):
                    missing.add(name)
                continue
            entry = ENTRY.match(name)
            if entry and entry.group(1) in bases:
                continue
            if isinstance(getattr(sympy, name, None), sympy.Basic):  # pi, E, oo
                continue
            missing.add(name)
    return missing


def undefined_in_module(source: str) -> list[str]:
    """ruff's undefined-name findings in a module's source, one line each (empty when it has none)."""
    ruff = shutil.which("ruff")
    if ruff is None:  # the test extra installs it: a check that cannot run must not pass silently
        raise RuntimeError("ruff is needed to check generated modules for undefined names")
    found = subprocess.run(
        [
            ruff,
            "check",
            "--no-cache",
            "--isolated",
            "--select",
            "F821,F822,F823",
            "--output-format",
            "concise",
            "--stdin-filename",
            "generated.py",
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in found.stdout.splitlines() if "F82" in line]
