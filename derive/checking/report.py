"""A check's result, and the report of every check of one module: str() is the table derive prints."""

from __future__ import annotations

from dataclasses import dataclass

from derive.checking.points import PARAMETER, POINTS, SEED, batch
from derive.show.templating import render_template


@dataclass(frozen=True)
class Check:
    """One check: its largest error over every point, and the tolerance it must meet."""

    name: str
    error: float
    tolerance: float
    note: str = ""

    @property
    def passed(self) -> bool:
        """Whether the error is within tolerance (a NaN error never is)."""
        return bool(self.error <= self.tolerance)


@dataclass(frozen=True)
class Report:
    """Every check of one generated module; str() is a table, passed says whether all held."""

    function: str
    module: str
    sizes: tuple
    checks: tuple
    parameters: tuple = ()  # names, each set to PARAMETER
    domain: str = ""  # "" for every real z; else the part that needs z > 0, and z was drawn positive

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return all(c.passed for c in self.checks)

    def __str__(self) -> str:
        shapes = [f"{'×'.join(map(str, batch(size)))}×{size}" for size in self.sizes]
        text = render_template(
            "check_report.txt.j2", report=self, points=POINTS, seed=SEED, shapes=shapes, value=PARAMETER
        )
        return text.rstrip("\n")
