"""The write-up cache: every stored step checked again numerically when read; stale, corrupt and wrong
entries ignored and rebuilt; atomic under two writers; documents the same cached as cold."""

import dataclasses
import json

import pytest
from sympy import Integer

from derive.engine import cache as disk
from derive.engine.derivation import Derivation, derive
from derive.guard import trees
from derive.writeup import recheck, stored
from derive.writeup import writeup as laid
from derive.writeup.steps import Step
from tests.cacheruns import DAMAGES, cli, two_writers

KINDS = (laid.Writeup, laid.ScalarWriteup)


def _cold(name, n=4):
    d = derive(name, n=n, cache=False)
    written = laid._scalar(d, "quotient") if d.kind == "scalar" else laid._writeup(d, "quotient")
    return d, written


def _entries(folder):
    return sorted(p for p in (folder / f"writeup-v{stored.FORMAT}").rglob("*") if p.is_file())


def _with_step(written, old: Step, new: Step):
    """written with the step old (found by identity) replaced by new, everywhere."""

    def swap(obj):
        if obj is old:
            return new
        if isinstance(obj, tuple):
            return tuple(swap(x) for x in obj)
        if dataclasses.is_dataclass(obj) and not isinstance(obj, (Step, laid.Facts)):
            return dataclasses.replace(
                obj, **{f.name: swap(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
            )
        return obj

    return swap(written)


@pytest.mark.parametrize("name", ["softmax", "softmax_cross_entropy", "layer_norm"])
def test_a_writeup_reads_back_as_written(cachedir, name):
    d, written = _cold(name)
    stored.save(d, "quotient", written)
    (entry,) = _entries(cachedir)
    loaded = stored.load(d, "quotient", KINDS)
    assert loaded == written
    assert [s.facts for s in stored.steps_in(loaded)] == [s.facts for s in stored.steps_in(written)]
    assert json.loads(entry.read_text())["format"] == stored.FORMAT


def test_every_step_of_every_function_passes_the_numeric_check():
    from derive.engine.registry import summaries

    for name in summaries():
        if not isinstance(derive(name, cache=False), Derivation):
            continue  # several inputs: written out by chained.py from the blocks, not cached here
        _, written = _cold(name)  # n = 64 is covered by the documents below, read back
        steps = stored.steps_in(written)
        assert steps and recheck.all_hold(steps), name


def test_a_stale_version_is_not_read(cachedir, monkeypatch):
    d, written = _cold("softmax")
    stored.save(d, "quotient", written)
    assert stored.load(d, "quotient", KINDS) is not None
    monkeypatch.setattr(stored, "_source", lambda: "a write-up of another source")
    assert stored.load(d, "quotient", KINDS) is None
    monkeypatch.undo()
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(cachedir))
    monkeypatch.setattr(disk, "__version__", "0.0.0-another")
    assert stored.load(d, "quotient", KINDS) is None


def _facts_index_out_of_range(text):
    return text.replace('{"facts":0}', '{"facts":99999}', 1)


@pytest.mark.parametrize(
    "damage",
    [
        *DAMAGES,
        lambda text: text.replace('"class":"Step"', '"class":"Popen"', 1),
        lambda text: text.replace('["Symbol","s",{"real":true}]', '["__import__",["Str","os"]]', 1),
        lambda text: text.replace('["Integer",-1]', '["Integer",-2]', 1),  # a wrong step
        _facts_index_out_of_range,
    ],
)
def test_a_corrupt_entry_is_ignored_and_rebuilt(cachedir, damage):
    d, written = _cold("softmax")
    stored.save(d, "quotient", written)
    (entry,) = _entries(cachedir)
    text = entry.read_text()
    damaged = damage(text)
    assert damaged != text
    entry.write_text(damaged, encoding="utf-8", errors="surrogateescape")
    assert stored.load(d, "quotient", KINDS) is None
    stored.save(d, "quotient", written)  # what a cold write-up does next
    assert stored.load(d, "quotient", KINDS) == written


@pytest.mark.parametrize("change", ["doubled", "off by 1e-3", "condition dropped"])
def test_a_wrong_step_is_caught_on_load(cachedir, change):
    """A well-formed entry whose one step is wrong (its right side doubled or off by 1e-3, or a case
    shown without its condition) is refused; save never writes one."""
    d, written = _cold("softmax")
    steps = stored.steps_in(written)
    if change == "condition dropped":
        old = next(s for s in steps if s.condition is not None and s.rule == "delta_zero")
        new = dataclasses.replace(old, condition=None)
    else:
        old = next(s for s in steps if s.rule == "outputs")
        after = old.after * 2 if change == "doubled" else old.after + Integer(1) / 1000
        new = dataclasses.replace(old, after=after)
    tampered = _with_step(written, old, new)
    assert tampered != written
    stored.save(d, "quotient", tampered)
    assert not cachedir.exists() or not _entries(cachedir)  # never written
    stored._store(d, "quotient", tampered)  # as a tampered file would be
    assert len(_entries(cachedir)) == 1
    assert stored.load(d, "quotient", KINDS) is None


def test_trees_read_as_written_keeps_unevaluated_products():
    from sympy import Mul, Symbol, UnevaluatedExpr

    a, b = Symbol("a"), Symbol("b")
    product = Mul(2, UnevaluatedExpr(a / b), UnevaluatedExpr(b / a), evaluate=False)
    tree = trees.write(product)
    assert trees.read(tree, as_written=True) == product
    for bad in (["Float", 0, 5, 0, 2, 53], ["Float", 2, 1, 0, 1, 53], ["Symbol", "\\\\x y", {}]):
        with pytest.raises(trees.Unreadable):
            trees.read(bad)


@pytest.mark.parametrize(
    "args",
    [
        ("softmax", "--n", "64", "--format", "latex"),
        ("softmax", "--n", "64", "--format", "latex", "--lang", "zh"),
        ("softmax_cross_entropy", "--n", "4", "--format", "markdown", "--lang", "zh"),
        ("layer_norm", "--format", "latex"),
    ],
)
def test_a_cached_document_is_the_cold_one_byte_for_byte(tmp_path, args):
    cache = tmp_path / "cache"
    cold = cli(*args, "--no-cache", cache=cache)
    assert cold.returncode == 0, cold.stderr
    assert not cache.exists() or not _entries(cache)  # --no-cache writes nothing
    first = cli(*args, cache=cache)
    (entry,) = _entries(cache)
    written = entry.read_bytes()
    assert b'"class":"Example"' not in written  # the example's numbers are computed again, never read
    second = cli(*args, cache=cache)  # reads the entry
    assert first.stdout == second.stdout == cold.stdout
    assert entry.read_bytes() == written  # read, not rewritten


def test_two_processes_writing_at_once(tmp_path):
    cache = tmp_path / "cache"
    script = (
        "from derive.engine.derivation import derive\n"
        "from derive.writeup import stored, writeup as laid\n"
        "d = derive('softmax', n=3, cache=False)\n"
        "w = laid._writeup(d, 'quotient')\n"
        "for _ in range(10):\n"
        "    stored._store(d, 'quotient', w)\n"
        "    assert stored.load(d, 'quotient', (laid.Writeup, laid.ScalarWriteup)) == w\n"
    )
    two_writers(script, cache)
    (entry,) = _entries(cache)  # one whole entry, no temporary left behind
    assert entry.suffix == ".json"
