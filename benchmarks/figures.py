"""What a measurement yields: a figure, its samples, its baseline and its target."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["Figure", "Target", "median"]


def median(samples: Sequence[float]) -> float:
    return float(statistics.median(samples))


@dataclass(frozen=True)
class Target:
    """A bound the figure must stay within: on its ratio to the baseline, or on its value."""

    limit: float
    on: Literal["ratio", "value"]
    text: str

    def met_by(self, value: float, ratio: float | None) -> bool:
        measured = ratio if self.on == "ratio" else value
        return measured is not None and measured <= self.limit


@dataclass(frozen=True)
class Figure:
    """One measured figure (the median of its samples) beside its baseline.

    `ratio` is always cost over baseline cost: time over time (rows per second are shown,
    but the ratio is of the seconds), so above 1 means slower than the baseline.
    """

    section: str
    key: str
    name: str
    size: int | None
    unit: str
    samples: list[float]
    baseline_name: str | None = None
    baseline_samples: list[float] = field(default_factory=list)
    target: Target | None = None
    #: Figures shown as a rate (rows per second) are computed from seconds over this count.
    per: int | None = None
    note: str = ""

    @property
    def value(self) -> float:
        return median(self.samples)

    @property
    def baseline(self) -> float | None:
        return median(self.baseline_samples) if self.baseline_samples else None

    @property
    def ratio(self) -> float | None:
        baseline = self.baseline
        if baseline is None or baseline <= 0:
            return None
        return self.value / baseline

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.target.met_by(self.value, self.ratio)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(value=self.value, baseline=self.baseline, ratio=self.ratio, met=self.met)
        return data
