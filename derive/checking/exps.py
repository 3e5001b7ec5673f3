"""The Numba module's own exp functions against NumPy's exp, over the whole domain each one serves."""

from __future__ import annotations

import numpy as np

from derive.checking.checks import said
from derive.checking.points import SEED
from derive.checking.report import Check
from derive.codegen import numba_exp

ULPS = 2.0  # NumPy's exp is itself within about half a unit; the kernels' exp within one


def checks(module) -> list[Check]:
    """One check per exp function the module defines: the largest error in units in the last place of
    its own format (float32's against exp rounded to float32)."""
    found = []
    for one_sided in (False, True):
        for precision in ("float64", "float32"):
            facts = numba_exp.function(one_sided, precision)
            function = getattr(module, facts.name, None)
            if function is None:
                continue
            domain = f", x ≤ {facts.highest:g}" if one_sided else ""
            label = f"{facts.name}(x) = np.exp(x){domain}, in ulps"
            try:
                error, note = _error(function, arguments(facts), np.dtype(precision))
            except Exception as failure:  # the code under test may fail in any way; that is the finding
                error, note = np.nan, said(failure)
            found.append(Check(label, error, ULPS, note))
    return found


def arguments(facts) -> np.ndarray:
    """Seeded arguments across the function's domain: beyond its clamps, the subnormal results, ±0, tiny
    arguments, −inf and NaN (inf too where it is two-sided)."""
    rng = np.random.default_rng(SEED)
    info = np.finfo(facts.precision)
    big = float(np.log(info.max))  # exp overflows just past it
    top = min(facts.highest, big + 90)
    low = facts.lowest
    spread = np.linspace(low - 60, top, 2001)
    # exp(x) is subnormal for x in (low, log of the smallest normal): each result there is rounded once.
    subnormal = np.linspace(low - 1, np.log(info.tiny) + 1, 501)
    tiny = -np.logspace(np.log10(info.smallest_subnormal), 0, 201)
    drawn = rng.uniform(low - 10, top, 1000)
    special = [0.0, -0.0, -np.inf, np.nan] + ([] if facts.one_sided else [np.inf, big, big + 1, 1e30])
    above = np.empty(0) if facts.one_sided else -tiny
    return np.concatenate([spread, subnormal, tiny, above, drawn, special]).astype(facts.precision)


def _error(function, x, dtype) -> tuple[float, str]:
    """The largest |found − exp x| in units of exp x's last place (0 where they are equal, NaN included);
    exp x computed in float64 and rounded to dtype."""
    found = np.array([function(v) for v in x], dtype=dtype)
    with np.errstate(all="ignore"):
        expected = np.exp(x.astype(np.float64)).astype(dtype)
        same = (found == expected) | (np.isnan(found) & np.isnan(expected))
        error = np.where(same, 0.0, np.abs(found - expected) / np.spacing(np.abs(expected)))
    worst = int(np.argmax(np.where(np.isnan(error), np.inf, error)))
    note = f"{x.size} arguments from {np.nanmin(x[np.isfinite(x)]):g} to {np.nanmax(x[np.isfinite(x)]):g}"
    if not np.isfinite(error[worst]):
        return np.nan, f"exp({x[worst]!r}) gave {found[worst]!r}"
    return float(error[worst]), note
