"""A module under test imported by path, and the sizes at which its function means something."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def defined(d, size: int) -> bool:
    """Whether the definition means something at this n (layer norm at n = 1 is 0/0)."""
    from sympy import nan, zoo

    from derive.notation.symbols import i, n

    value = d.definition.xreplace({i: 1, n: size}).doit()
    return not value.has(nan, zoo)


def _load(path: Path):
    """The module at path, imported under a private name so that nothing else sees it."""
    spec = importlib.util.spec_from_file_location(f"_derive_checked_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
