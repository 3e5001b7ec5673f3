"""The Numba module's own exp functions against NumPy's exp, over the whole domain each one serves."""

from __future__ import annotations

import numpy as np

from derive.checking.checks import said
from derive.checking.points import SEED
from derive.checking.report import Check
from derive.codegen import numba_exp

ULPS = 2.0  # NumPy's exp is itself within about half a unit; the kernels' exp within one


def checks(module) -> list[Check]:
    """One check per exp function the module defines: the largest error in units in the last place."""
    found = []
    for one_sided in (False, True):
        facts = numba_exp.function(one_sided)
        function = getattr(module, facts.name, None)
        if function is None:
            continue
        domain = f", x ≤ {facts.highest:g}" if one_sided else ""
        label = f"{facts.name}(x) = np.exp(x){domain}, in ulps"
        try:
            error, note = _error(function, arguments(facts))
        except Exception as failure:  # the code under test may fail in any way; that is the finding
            error, note = np.nan, said(failure)
        found.append(Check(label, error, ULPS, note))
    return found


def arguments(facts) -> np.ndarray:
    """Seeded arguments across the function's domain: beyond its clamps, the subnormal results, ±0, tiny
    arguments, −inf and NaN (inf too where it is two-sided)."""
    rng = np.random.default_rng(SEED)
    top = min(facts.highest, 800.0)
    low = facts.lowest
    spread = np.linspace(low - 60, top, 2001)
    # exp(x) is subnormal for x in (low, −708.4): every result there is rounded once, to 2^−1074's multiples.
    subnormal = np.linspace(low - 1, np.log(np.finfo(np.float64).tiny) + 1, 501)
    tiny = -np.logspace(-320, 0, 201)
    drawn = rng.uniform(low - 10, top, 1000)
    special = [0.0, -0.0, -np.inf, np.nan] + ([] if facts.one_sided else [np.inf, 709.78, 710.0, 1e300])
    above = np.empty(0) if facts.one_sided else -tiny
    return np.concatenate([spread, subnormal, tiny, above, drawn, special])


def _error(function, x) -> tuple[float, str]:
    """The largest |found − exp x| in units of exp x's last place (0 where they are equal, NaN included)."""
    found = np.array([function(float(v)) for v in x])
    with np.errstate(all="ignore"):
        expected = np.exp(x)
        same = (found == expected) | (np.isnan(found) & np.isnan(expected))
        error = np.where(same, 0.0, np.abs(found - expected) / np.spacing(np.abs(expected)))
    worst = int(np.argmax(np.where(np.isnan(error), np.inf, error)))
    note = f"{x.size} arguments from {np.nanmin(x[np.isfinite(x)]):g} to {np.nanmax(x[np.isfinite(x)]):g}"
    if not np.isfinite(error[worst]):
        return np.nan, f"exp({x[worst]!r}) gave {found[worst]!r}"
    return float(error[worst]), note
