"""Load a generated module from its source, by path, as a user would import the emitted file."""

import importlib.util
import itertools

_count = itertools.count()


def load(source: str, folder, name: str = "generated"):
    """Write source to folder/name.py and import it under a private module name."""
    path = folder / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"_test_generated_{next(_count)}_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
