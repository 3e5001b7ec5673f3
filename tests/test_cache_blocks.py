"""Several inputs' blocks on disk: read back, checked again numerically; stale, corrupt, wrong: rebuilt."""

import json

import pytest
from sympy import Integer

from derive.engine import blocks, blockstore
from derive.engine import cache as disk
from derive.engine.derivation import derive
from tests.cacheruns import DAMAGES, cli, two_writers


@pytest.fixture
def derived(monkeypatch):
    """The blocks and proofs at sizes derived (not read from the cache) since the test began."""
    made = []
    block, at_sizes = blocks._block, blocks._at_sizes

    def counted_block(spelled, inp):
        made.append(inp.name)
        return block(spelled, inp)

    def counted_at_sizes(spelled, derived, sizes):
        made.append((derived.block.input.name, tuple(sorted(sizes.items()))))
        return at_sizes(spelled, derived, sizes)

    monkeypatch.setattr(blocks, "_block", counted_block)
    monkeypatch.setattr(blocks, "_at_sizes", counted_at_sizes)
    return made


def _entries(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file() and "blocks-v" in str(p))


def test_blocks_are_read_back_instead_of_derived_again(cachedir, derived):
    first = derive("rms_norm", n=16)
    assert derived == ["z", "gamma", ("z", (("n", 16),)), ("gamma", (("n", 16),))]
    assert len(_entries(cachedir)) == 4
    again = derive("rms_norm", n=16)
    assert len(derived) == 4  # read, not derived
    assert again == first
    derive("rms_norm", n=16, cache=False)
    assert len(derived) == 8


def test_a_stale_block_is_not_read(cachedir, derived, monkeypatch):
    derive("rms_norm")
    monkeypatch.setattr(disk, "_source", lambda: "an engine of another source")
    derive("rms_norm")
    assert derived == ["z", "gamma", "z", "gamma"]


@pytest.mark.parametrize(
    "damage",
    [
        *DAMAGES,
        lambda text: json.dumps(json.loads(text) | {"general": ["__import__", ["Str", "os"]]}),
        lambda text: json.dumps(json.loads(text) | {"proofs": json.loads(text)["proofs"][:2]}),
        lambda text: json.dumps(json.loads(text) | {"wrt": json.loads(text)["raw_before"]}),
    ],
)
def test_a_corrupt_block_is_ignored_and_rebuilt(cachedir, derived, damage):
    first = derive("rms_norm", wrt=["gamma"])
    (entry,) = _entries(cachedir)
    entry.write_text(damage(entry.read_text()), encoding="utf-8", errors="surrogateescape")
    assert derive("rms_norm", wrt=["gamma"]) == first
    assert derived == ["gamma", "gamma"]
    derive("rms_norm", wrt=["gamma"])
    assert len(derived) == 2  # written whole again


def test_a_block_off_by_a_thousandth_fails_its_recheck():
    for name in ("rms_norm", "attention", "linear_softmax_cross_entropy", "layer_norm_affine"):
        d = derive(name, cache=False)
        for b in d.blocks:
            assert blockstore._holds(d.spelled, b, b.raw), (name, b.input.name)
            wrong = b.general * (1 + Integer(1) / 1000)
            assert not blockstore._holds(d.spelled, type(b)(**{**b.__dict__, "general": wrong}), b.raw)
            assert not blockstore._holds(d.spelled, b, b.raw * (1 + Integer(1) / 1000))


def test_a_wrong_stored_block_is_not_taken(cachedir, derived):
    first = derive("rms_norm", wrt=["gamma"])
    b = first.blocks[0]
    (entry,) = _entries(cachedir)
    stored = json.loads(entry.read_text())
    from derive.guard import trees

    entry.write_text(json.dumps(stored | {"general": trees.write(b.general * (1 + Integer(1) / 1000))}))
    assert derive("rms_norm", wrt=["gamma"]) == first
    assert derived == ["gamma", "gamma"]


def test_two_processes_writing_blocks_at_once(tmp_path):
    cache = tmp_path / "cache"
    script = (
        "from derive.engine import blocks\n"
        "from derive.engine.derivation import derive\n"
        "first = derive('rms_norm', n=8, wrt=['gamma'])\n"
        "for _ in range(20):\n"
        "    assert derive('rms_norm', n=8, wrt=['gamma']) == first\n"
    )
    two_writers(script, cache)
    assert len(_entries(cache)) == 2  # the block and its proof at n = 8, no temporary left behind
    assert all(p.suffix == ".json" for p in _entries(cache))


@pytest.mark.parametrize(
    "args",
    [("attention", "--n", "64", "--format", "json"), ("rms_norm", "--n", "64", "--format", "latex")],
)
def test_cached_blocks_print_what_cold_ones_print(tmp_path, args):
    cache = tmp_path / "cache"
    cold = cli(*args, "--no-cache", cache=cache)
    assert cold.returncode == 0, cold.stderr
    assert not cache.exists() or not _entries(cache)  # --no-cache writes nothing
    first = cli(*args, cache=cache)
    stored = _entries(cache)
    assert stored
    second = cli(*args, cache=cache)
    assert first.stdout == second.stdout == cold.stdout
    assert _entries(cache) == stored
