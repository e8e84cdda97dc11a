"""Benchmark bands: the figures the seed articles give, and the rating a value gets from them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Band:
    """A labelled range of values; a bound of None is open."""

    label: str
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True

    def contains(self, value: float) -> bool:
        if self.low is not None and (value < self.low or (value == self.low and not self.low_inclusive)):
            return False
        if self.high is not None and (value > self.high or (value == self.high and not self.high_inclusive)):
            return False
        return True

    def describe(self) -> str:
        if self.low is None and self.high is None:
            return "any value"
        if self.low is None:
            return f"{'≤' if self.high_inclusive else '<'} {self.high:g}"
        if self.high is None:
            return f"{'≥' if self.low_inclusive else '>'} {self.low:g}"
        return f"{self.low:g}–{self.high:g}"


@dataclass(frozen=True)
class Benchmark:
    """Bands with their source (a seed article's id, e.g. "003") and the figure as the source states it.

    `by_scale`: bands that depend on the answer scale (CES: 5- or 7-point), keyed by the scale's top point.
    """

    source: str
    statement: str
    bands: tuple[Band, ...] = ()
    by_scale: tuple[tuple[int, tuple[Band, ...]], ...] = ()
    period: str | None = None  # the bands hold for this reporting period only (pageviews: per month)

    def rate(self, value: float | None, scale_max: float | None = None) -> str | None:
        """The label of the band holding `value` (None when no band applies)."""
        if value is None:
            return None
        bands = self.bands
        if self.by_scale:
            bands = dict(self.by_scale).get(int(scale_max)) if scale_max is not None else None  # type: ignore[assignment]
            if bands is None:
                return None
        for band in bands:
            if band.contains(value):
                return band.label
        return None
