"""The several-input write-up's chain rule on disk: read back, checked again numerically; stale, corrupt,
foreign: rebuilt."""

import json

import pytest
from sympy import Integer

from derive.engine.derivation import derive
from derive.guard import trees
from derive.writeup import chained, chainstore
from tests.cacheruns import DAMAGES, cli, two_writers

NAME = "linear_softmax_cross_entropy"  # a loss through a layer the inputs feed: z = W x + b


@pytest.fixture(scope="module")
def loss():
    return derive(NAME, cache=False)


@pytest.fixture
def derived(monkeypatch):
    """How many times the chain was derived (not read from the cache) since the test began."""
    made = []
    original = chained._derived

    def counted(d, link):
        made.append(d.function.name)
        return original(d, link)

    monkeypatch.setattr(chained, "_derived", counted)
    return made


def _entries(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file() and "chains-v" in str(p))


def test_the_chain_is_read_back_instead_of_derived_again(cachedir, derived, loss):
    first = chained.chain(loss)
    assert derived == [NAME] and len(_entries(cachedir)) == 1
    assert chained.chain(loss) == first
    assert derived == [NAME]  # read, not derived
    assert first.outer.endswith("= s_{p} - y_{p}")


def test_a_stale_chain_is_not_read(cachedir, derived, loss, monkeypatch):
    chained.chain(loss)
    monkeypatch.setattr(chainstore, "_source", lambda: "a chain rule of another source")
    chained.chain(loss)
    assert derived == [NAME, NAME]


def _scaled(field: str, which: int | None = None):
    """A damage: the stored outer derivative (or the which-th input's inner one) off by a thousandth."""

    def damage(text):
        entry = json.loads(text)
        if which is None:
            entry["outer"] = trees.write(trees.read(entry["outer"]) * (1 + Integer(1) / 1000))
        else:
            name, inner = entry["inners"][which]
            entry["inners"][which] = [name, trees.write(trees.read(inner) * (1 + Integer(1) / 1000))]
        return json.dumps(entry)

    return damage


def _swapped(text):
    """A damage: two inputs' inner derivatives exchanged (each a right formula, for the wrong input)."""
    entry = json.loads(text)
    (a, first), (b, second), *rest = entry["inners"]
    entry["inners"] = [[a, second], [b, first], *rest]
    return json.dumps(entry)


@pytest.mark.parametrize(
    "damage",
    [
        *DAMAGES,
        lambda text: json.dumps(json.loads(text) | {"outer": ["__import__", ["Str", "os"]]}),
        lambda text: json.dumps(json.loads(text) | {"inners": json.loads(text)["inners"][:1]}),
        _scaled("outer"),
        _scaled("inner", 0),
        _scaled("inner", 1),
        _scaled("inner", 2),
        _swapped,
    ],
)
def test_a_corrupt_or_foreign_chain_is_ignored_and_rebuilt(cachedir, derived, loss, damage):
    first = chained.chain(loss)
    (entry,) = _entries(cachedir)
    entry.write_text(damage(entry.read_text()), encoding="utf-8", errors="surrogateescape")
    assert chained.chain(loss) == first
    assert derived == [NAME, NAME]
    chained.chain(loss)
    assert len(derived) == 2  # written whole again


def test_under_no_cache_the_chain_is_neither_read_nor_written(cachedir, derived, loss):
    from derive.engine import cache

    with cache.enabled(False):
        chained.chain(loss)
    assert not _entries(cachedir) if cachedir.exists() else True
    chained.chain(loss)
    with cache.enabled(False):
        chained.chain(loss)
    assert derived == [NAME, NAME, NAME]


def test_two_processes_writing_the_chain_at_once(tmp_path):
    cache = tmp_path / "cache"
    script = (
        "from derive.engine.derivation import derive\n"
        "from derive.writeup.chained import chain\n"
        f"d = derive({NAME!r}, wrt=['b'])\n"
        "first = chain(d)\n"
        "for _ in range(20):\n"
        "    assert chain(d) == first\n"
    )
    two_writers(script, cache)
    assert len(_entries(cache)) == 1  # no temporary left behind
    assert all(p.suffix == ".json" for p in _entries(cache))


def test_a_cached_document_prints_what_a_cold_one_prints(tmp_path):
    cache = tmp_path / "cache"
    args = (NAME, "--n", "64", "--format", "latex")
    cold = cli(*args, "--no-cache", cache=cache)
    assert cold.returncode == 0, cold.stderr
    assert not cache.exists() or not _entries(cache)  # --no-cache writes nothing
    first = cli(*args, cache=cache)
    assert len(_entries(cache)) == 1
    second = cli(*args, cache=cache)
    assert first.stdout == second.stdout == cold.stdout
