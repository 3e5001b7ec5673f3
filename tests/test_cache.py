"""The derivation cache: entries re-checked when read; stale, corrupt and foreign ones ignored; atomic."""

import json

import pytest
from sympy import Integer

from derive.engine import cache as disk
from derive.engine.derivation import derive, names_of
from derive.guard import trees
from tests.cacheruns import DAMAGES, cli, two_writers


def _fields(d):
    keys = ("raw", "general", "cases", "form", "proofs")
    return {k: getattr(d, "matrix_form" if k == "form" else k) for k in keys} | {"assumed": d.assumed}


def _entries(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("name", ["softmax", "softmax_cross_entropy", "layer_norm"])
def test_an_entry_reads_back_as_the_derivation(cachedir, name):
    d = derive(name, cache=False)
    disk.save(d.spelled, _fields(d), names_of)
    (entry,) = _entries(cachedir)
    loaded = disk.load(d.spelled, names_of)
    assert loaded is not None
    assert loaded == _fields(d)
    assert json.loads(entry.read_text())["format"] == disk.FORMAT


def test_a_stale_version_is_not_read(cachedir, monkeypatch):
    d = derive("softmax", cache=False)
    disk.save(d.spelled, _fields(d), names_of)
    assert disk.load(d.spelled, names_of) is not None
    monkeypatch.setattr(disk, "__version__", "0.0.0-another")
    assert disk.load(d.spelled, names_of) is None
    monkeypatch.setattr(disk, "_source", lambda: "an engine of another source")
    assert disk.load(d.spelled, names_of) is None


@pytest.mark.parametrize(
    "damage",
    [
        *DAMAGES,
        lambda text: json.dumps(json.loads(text) | {"general": ["__import__", ["Str", "os"]]}),
        lambda text: json.dumps(json.loads(text) | {"proofs": [{"claim": "general", "holds": False}]}),
    ],
)
def test_a_corrupt_or_foreign_entry_is_ignored_and_rebuilt(cachedir, damage):
    d = derive("softmax", cache=False)
    disk.save(d.spelled, _fields(d), names_of)
    (entry,) = _entries(cachedir)
    entry.write_text(damage(entry.read_text()), encoding="utf-8", errors="surrogateescape")
    assert disk.load(d.spelled, names_of) is None
    disk.save(d.spelled, _fields(d), names_of)  # what a cold derivation does next
    assert disk.load(d.spelled, names_of) == _fields(d)


def test_a_wrong_formula_is_caught_by_the_recheck(cachedir):
    """A well-formed entry with a wrong general form or derivative (doubled, off by 1e-9) is refused."""
    d = derive("softmax", cache=False)
    fields = _fields(d)
    disk.save(d.spelled, fields, names_of)
    assert disk.load(d.spelled, names_of) == fields
    for tampered in (d.general * 2, d.general + Integer(1) / 10**9):
        disk._store(d.spelled, fields | {"general": tampered})  # as a tampered file would be
        assert disk.load(d.spelled, names_of) is None
    disk._store(d.spelled, fields | {"raw": d.raw * 2})
    assert disk.load(d.spelled, names_of) is None


def test_a_wrong_entry_is_never_written(cachedir):
    d = derive("softmax", cache=False)
    disk.save(d.spelled, _fields(d) | {"general": d.general * 2}, names_of)
    assert not cachedir.exists() or not _entries(cachedir)


def test_a_tampered_entry_cannot_name_an_assumption_the_function_lacks(cachedir):
    ce = derive("softmax_cross_entropy", cache=False)
    d = derive("softmax", cache=False)
    disk._store(d.spelled, _fields(d) | {"assumed": ce.assumed})
    assert disk.load(d.spelled, names_of) is None


def test_trees_build_only_allowed_classes():
    refused = [
        ["__import__", ["Str", "os"]],
        ["Poly", ["Str", "x"]],
        ["Symbol", "a b", {}],
        ["Symbol", "x", {"evil": True}],
        ["Pow", ["Integer", 10], ["Integer", 10**6]],
        ["Integer", 10**40],
        ["Add", ["Symbol", "x", {}], ["Symbol", "x", {}]],  # not as SymPy writes x + x
        "x",
    ]
    deep = ["Integer", 1]
    for _ in range(1000):
        deep = ["exp", deep]
    for tree in [*refused, deep]:
        with pytest.raises(trees.Unreadable):
            trees.read(tree)


def test_trees_read_with_a_shared_memo_build_each_subtree_once():
    from sympy import IndexedBase, Sum, Symbol, exp

    k, m = Symbol("k", integer=True), Symbol("n", integer=True, positive=True)
    z = IndexedBase("z")
    total = Sum(exp(z[k]), (k, 1, m))
    forms = [total, 2 * total, total + 1 / total, (total, total)]
    memo, built = {}, []
    exp_new = exp.__new__

    def counted(cls, *args, **options):
        built.append(args)
        return exp_new(cls, *args, **options)

    read = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(exp, "__new__", counted)
        for as_written in (True, False):
            read += [trees.read(trees.write(f), as_written=as_written, memo=memo) for f in forms]
    assert read == forms * 2
    assert len(built) == 2  # exp(z[k]) once for each way of reading, not once per tree
    assert read[0] is read[1].args[1] is read[3][0]  # shared
    # A memo changes what is built, never what is refused.
    with pytest.raises(trees.Unreadable):
        trees.read(["Add", ["Symbol", "x", {}], ["Symbol", "x", {}]], memo=memo)
    bad = ["Mul", ["Integer", 2], trees.write(total)]
    trees.read(["Mul", ["Integer", 3], trees.write(total)], memo=memo)
    with pytest.raises(trees.Unreadable):
        trees.read(["Add", bad, bad], memo=memo)  # 2S + 2S is not how SymPy writes 4S


def test_a_cached_run_prints_what_a_cold_run_prints(tmp_path):
    cache = tmp_path / "cache"
    commands = (
        ("softmax_cross_entropy", "--n", "4", "--format", "latex"),
        ("softmax_t", "--format", "json"),
        ("logsumexp", "--n", "64", "--format", "json"),  # its gradient recognised as softmax: stored
    )
    for args in commands:
        before = _entries(cache) if cache.exists() else []
        cold = cli(*args, "--no-cache", cache=cache)
        assert cold.returncode == 0, cold.stderr
        assert (_entries(cache) if cache.exists() else []) == before  # --no-cache writes nothing
        first = cli(*args, cache=cache)
        stored = _entries(cache)
        assert len(stored) > len(before)
        second = cli(*args, cache=cache)
        assert first.stdout == second.stdout == cold.stdout
        assert _entries(cache) == stored
    with open(stored[0]) as f:
        json.load(f)


def test_two_processes_writing_at_once(tmp_path):
    cache = tmp_path / "cache"
    script = (
        "from derive.engine import cache as disk\n"
        "from derive.engine.derivation import derive, names_of\n"
        "d = derive('softmax', cache=False)\n"
        "f = dict(raw=d.raw, general=d.general, cases=d.cases, form=d.matrix_form, proofs=d.proofs,"
        " assumed=d.assumed)\n"
        "for _ in range(40):\n"
        "    disk.save(d.spelled, f, names_of)\n"
        "    assert disk.load(d.spelled, names_of) == f\n"
    )
    two_writers(script, cache)
    (entry,) = _entries(cache)  # one whole entry, no temporary left behind
    assert entry.suffix == ".json"
    both = [cli("softmax", "--n", "3", cache=cache) for _ in range(2)]
    assert both[0].returncode == 0 and both[0].stdout == both[1].stdout


def test_an_unwritable_cache_directory_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(blocker / "cache"))
    d = derive("sigmoid", cache=False)
    disk.save(d.spelled, _fields(d), names_of)
    assert disk.load(d.spelled, names_of) is None


# The explicit proof at a given n: stored by the derivation's key and n, re-checked in float64 when read.


def _explicit_entries(folder):
    return [p for p in _entries(folder) if "explicit-v" in str(p)]


@pytest.fixture
def proofs_made(monkeypatch):
    """How many explicit proofs were made (not read from the cache) since the test began."""
    from derive.engine import derivation

    made = []
    original = derivation.prove.explicit

    def counted(*args, **kwargs):
        made.append(args[2])
        return original(*args, **kwargs)

    monkeypatch.setattr(derivation.prove, "explicit", counted)
    return made


@pytest.mark.parametrize("name,size", [("softmax", 64), ("layer_norm", 12), ("softmax_cross_entropy", 5)])
def test_an_explicit_proof_is_read_back_instead_of_proven_again(cachedir, proofs_made, name, size):
    first = derive(name, n=size)
    made = len(proofs_made)
    assert made == (2 if first.hessian is not None else 1)  # a scalar's Hessian has its own
    assert len(_explicit_entries(cachedir)) == made
    again = derive(name, n=size)
    assert len(proofs_made) == made  # read, not proven
    assert again.proofs == first.proofs and again.proofs[-1].claim == "explicit"
    assert again.hessian is None or again.hessian.proofs == first.hessian.proofs
    derive(name, n=size, cache=False)
    assert len(proofs_made) == 2 * made  # --no-cache proves


def test_a_stale_explicit_proof_is_not_read(cachedir, proofs_made, monkeypatch):
    derive("softmax", n=16)
    monkeypatch.setattr(disk, "_source", lambda: "an engine of another source")
    derive("softmax", n=16)
    assert len(proofs_made) == 2


@pytest.mark.parametrize(
    "damage",
    [
        *DAMAGES,
        lambda text: json.dumps(json.loads(text) | {"proof": json.loads(text)["proof"] | {"cases": 999}}),
        lambda text: json.dumps(json.loads(text) | {"proof": json.loads(text)["proof"] | {"holds": False}}),
        lambda text: json.dumps(json.loads(text) | {"proof": {"claim": "explicit"}}),
    ],
)
def test_a_corrupt_explicit_proof_is_ignored_and_rebuilt(cachedir, proofs_made, damage):
    first = derive("softmax", n=16)
    (entry,) = _explicit_entries(cachedir)
    entry.write_text(damage(entry.read_text()), encoding="utf-8", errors="surrogateescape")
    again = derive("softmax", n=16)
    assert len(proofs_made) == 2 and again.proofs == first.proofs
    assert json.loads(entry.read_text())["proof"] == first.proofs[-1].__dict__  # written whole again
    derive("softmax", n=16)
    assert len(proofs_made) == 2


class _Perturbed:
    """A table with the entry at pick off by 1e-3 of its value."""

    def __init__(self, table, pick):
        self.table, self.pick, self.size, self.bases = table, pick, table.size, table.bases

    def entry(self, *pick):
        value = self.table.entry(*pick)
        return value * (1 + Integer(1) / 1000) if pick == self.pick else value


def test_an_entry_off_by_a_thousandth_fails_the_explicit_recheck():
    from dataclasses import replace

    from derive.engine import spot

    for name in ("softmax", "layer_norm", "softmax_cross_entropy"):
        d = derive(name, cache=False)
        names = d.hessian.spelled if d.hessian is not None else None
        table = replace(d, n=64).table
        picks = table.samples()
        assert spot.explicit_agrees(d.spelled, names, table, picks), name

        assert not spot.explicit_agrees(d.spelled, names, _Perturbed(table, picks[-1]), picks), name


def test_a_wrong_explicit_matrix_is_never_taken_from_the_cache(cachedir, proofs_made, monkeypatch):
    """A stored proof whose matrix at n fails its re-check is proven again, and the failing proof raised."""
    from derive.engine import spot
    from derive.errors import ProofFailed

    derive("softmax", n=16)
    agrees = spot.explicit_agrees
    monkeypatch.setattr(spot, "explicit_agrees", lambda *args: False)
    derive("softmax", n=16)
    assert len(proofs_made) == 2  # not read: proven again (and then not stored)
    monkeypatch.setattr(spot, "explicit_agrees", agrees)
    from derive.engine import derivation

    monkeypatch.setattr(derivation.prove, "explicit", lambda *a, **k: disk.Proof("explicit", False, "m"))
    with pytest.raises(ProofFailed):  # a proof that fails is raised, and never stored
        derive("softmax", n=17)
    assert len(_explicit_entries(cachedir)) == 1


def test_two_processes_writing_an_explicit_proof_at_once(tmp_path):
    cache = tmp_path / "cache"
    script = (
        "from dataclasses import replace\n"
        "from derive.engine import cache as disk, prove\n"
        "from derive.engine.derivation import derive\n"
        "d = derive('softmax', cache=False)\n"
        "table = replace(d, n=32).table\n"
        "made = []\n"
        "def proven():\n"
        "    made.append(1)\n"
        "    return prove.explicit(table, d.spelled, 32)\n"
        "for _ in range(30):\n"
        "    assert disk.explicit(d.spelled, table, None, proven).holds\n"
        "assert len(made) < 30\n"
    )
    two_writers(script, cache)
    (entry,) = [p for p in _entries(cache) if "explicit-v" in str(p)]  # no temporary left behind
    assert entry.suffix == ".json"


def test_a_scalar_entry_naming_another_function_as_its_gradient_is_refused(cachedir):
    d = derive("logsumexp", cache=False)
    disk.save(d.spelled, _fields(d), names_of)
    (entry,) = _entries(cachedir)
    assert json.loads(entry.read_text())["recognized"] == "softmax"
    assert disk.load(d.spelled, names_of) == _fields(d)
    for wrong in ("sigmoid", "log_softmax", "logsumexp", "no_such_function", 3):
        entry.write_text(json.dumps(json.loads(entry.read_text()) | {"recognized": wrong}))
        assert disk.load(d.spelled, names_of) is None, wrong
