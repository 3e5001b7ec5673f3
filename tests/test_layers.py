"""The package stays laid out by its stages: no import cycles, imports running downward only."""

import importlib
import sys
from pathlib import Path

import pytest

from tests import importgraph
from tests.importgraph import LAYERS, PACKAGE, cycles, imports, top_level, upward


def test_no_module_imports_itself_back():
    assert cycles(imports()) == []


def test_imports_run_downward_only_and_every_module_has_a_layer():
    # (module, None): a module no layer holds; put it in a stage, or add it to LAYERS and pyproject.toml.
    assert upward(imports()) == []


def test_the_top_level_holds_at_most_eight_modules():
    assert len(top_level()) <= 8, top_level()


@pytest.mark.parametrize("stage", sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")))
def test_each_stage_says_what_it_takes_and_gives(stage):
    sign = importgraph.ast.get_docstring(importgraph.ast.parse((PACKAGE / stage / "__init__.py").read_text()))
    assert sign and "takes" in sign and "gives" in sign, stage


def test_no_stage_shadows_the_public_api():
    # `from derive import check` must give the function even after derive.<stage> was imported: a
    # subpackage named like a public name becomes an attribute of derive and hides the lazy API.
    import derive

    stages = {name.split(".")[1] for name in imports() if name.count(".") >= 1}
    assert stages.isdisjoint(derive.__all__)
    for name in sorted(set(imports()) - {"derive.__main__"}):  # __main__ would run the CLI
        importlib.import_module(name)
    assert all(callable(getattr(derive, name)) for name in derive.__all__)


def test_the_graph_finds_a_cycle_and_an_upward_import(tmp_path):
    root = tmp_path / "derive"
    for folder, text in {
        "engine/low.py": "from derive.checking import high\n",
        "checking/high.py": "def f():\n    from derive.engine.low import g\n",
        "stray.py": "",
    }.items():
        (root / folder).parent.mkdir(parents=True, exist_ok=True)
        (root / folder).write_text(text)
    for package in (root, root / "engine", root / "checking"):
        (package / "__init__.py").write_text('"""A package."""\n')
    graph = imports(root)
    assert graph["derive.engine.low"] == {"derive.checking.high"}
    assert cycles(graph) == [["derive.checking.high", "derive.engine.low"]]
    assert ("derive.engine.low", "derive.checking.high") in upward(graph)
    assert ("derive.stray", None) in upward(graph)


def test_import_linter_keeps_the_same_contract():
    lint = pytest.importorskip("importlinter.cli")  # in the test extra; tests above need nothing
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = config["tool"]["importlinter"]["contracts"]
    declared = tuple(tuple(name.strip() for name in layer.split("|")) for layer in contract["layers"])
    assert declared == LAYERS[1:]  # LAYERS[0] is the package itself, which import-linter does not layer
    assert Path(__import__("derive").__file__).parent == PACKAGE  # lint the package under test, no other
    assert lint.lint_imports(config_filename=str(PACKAGE.parent / "pyproject.toml"), no_cache=True) == 0


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
