"""The chain rule of a several-input write-up kept on disk between runs: ∂L/∂c_p and each input's ∂c_p/∂X as
JSON trees, every equality the write-up shows checked again numerically when read (central differences at
small sizes, engine/floats.py); an entry that fails, or cannot be read, is derived again."""

from __future__ import annotations

from itertools import product
from pathlib import Path

from sympy import Sum, Symbol

from derive.engine import blocks, blockstore, cache
from derive.engine.floats import Point
from derive.guard import trees
from derive.notation.symbols import DIMENSIONS, p

FORMAT = 1  # of an entry; a change of layout bumps it
_FAILURES = (*blockstore._FAILURES, OSError)


def derived(d, link, derive_it):
    """(outer, inners): ∂L/∂c_p in the later intermediates and each block's ∂c_p/∂X (by input name), as
    stored when every step they make passes its re-check, else derive_it() (which proves them), stored
    when it passes the same re-check. link: (the layer c, its body at i, the later intermediates, L in c)."""
    if not cache.is_enabled():
        return derive_it()
    try:
        ident, path = _where(d)
    except _FAILURES:
        return derive_it()
    entry = blockstore._read(path, ident)
    if entry is not None:
        found = _decoded(d, entry)
        if found is not None and holds(d, link, *found):
            return found
    made = derive_it()
    if holds(d, link, *made):
        try:
            outer, inners = made
            fields = {"outer": trees.write(outer), "inners": [[k, trees.write(v)] for k, v in inners.items()]}
        except _FAILURES:  # a form no tree holds: not stored
            return made
        blockstore._write(path, ident, fields)
    return made


def _decoded(d, entry):
    try:
        outer = trees.read(entry["outer"])
        inners = {k: trees.read(v) for k, v in entry["inners"]}
    except _FAILURES:
        return None
    if list(inners) != [b.input.name for b in d.blocks]:
        return None
    return outer, inners


def holds(d, link, outer, inners) -> bool:
    """Whether ∂L/∂c_p = outer (c held as the input), ∂c_p/∂X = inner and Σ_p outer · inner = the block's
    general form, for every block, at every entry at n, d, h = 3, 2, 4 and two seeded points."""
    layer, body, later, in_layer = link
    spelled = d.spelled
    sizes = dict(zip(DIMENSIONS, blockstore.SIZES, strict=True))
    size, dims = sizes[DIMENSIONS[0]], {k: v for k, v in sizes.items() if k != DIMENSIONS[0]}
    top = blocks.shapes_of(spelled)[layer.name][0]
    output = Symbol(spelled.function.output)
    through = {**dict(later), output: in_layer}  # L in c and the intermediates after it: c is the input
    within = dict(spelled.substitutions)  # every intermediate, c too, in the inputs
    try:
        if set(inners) != {b.input.name for b in d.blocks}:
            return False
        positions = range(1, int(top.subs(sizes)) + 1)
        for seed in blockstore.SEEDS:
            point = Point(through, seed, size, dims=dims)
            for at in positions:
                if not _close(point.value(outer, {p: at}), point.derivative(output, layer[at], {})):
                    return False
            point = Point(within, seed, size, dims=dims)
            for b in d.blocks:
                inner = inners[b.input.name]
                total = Sum(outer * inner, (p, 1, top))
                for pick in product(*blockstore._ranges(spelled, b, sizes)):
                    bound = dict(zip(b.index, pick, strict=True))
                    if not _close(point.value(total, bound), point.value(b.general, bound)):
                        return False
                    wrt = b.wrt.xreplace(bound)
                    for at in positions:
                        want = point.derivative(layer[at], wrt, {})
                        if not _close(point.value(inner, {**bound, p: at}), want):
                            return False
    except blockstore._FAILURES:
        return False
    return True


def _close(got, want) -> bool:
    return abs(got - want) <= blockstore.ABSOLUTE + blockstore.RELATIVE * max(abs(got), abs(want))


def _where(d) -> tuple[str, Path]:
    """An entry's identity: the derivation's, the inputs as declared, the blocks asked for, the source that
    derives the chain; its file, named by its hash."""
    fn = d.spelled.function
    derivation, _ = cache.where(d.spelled)
    declared = [[x.name, list(x.dims), x.data] for x in fn.declared_inputs]
    parts = {
        "derivation": derivation,
        "inputs": declared,
        "dim": fn.dim,
        "blocks": [b.input.name for b in d.blocks],
        "source": _source(),
    }
    return cache.entry(f"chains-v{FORMAT}", parts)


def _source() -> str:
    """chained.py's and this module's source: a changed chain rule never reads an older entry."""
    return cache.source_digest("writeup/chained.py", "writeup/chainstore.py")
