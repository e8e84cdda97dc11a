"""Benchmark bands: the library of sourced figures each metric is rated against, the user's own targets,
and the rating a value gets.

The library is data (`cxbench/data/benchmarks.toml`); `--benchmarks FILE` (YAML) overrides or adds bands and
targets per metric and per segment; `--vertical NAME` picks a vertical's bands where a source gives them.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from cxbench.core.errors import UsageError
from cxbench.core.options import health_weights
from cxbench.core.small_files import read_small_text

#: the rating scale, worst to best; a metric uses only the labels its source supports
LABELS: tuple[str, ...] = ("poor", "fair", "good", "great", "excellent")


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
    """Bands with their source (a seed article's id such as "003", or a public report with its year) and the
    figure as the source states it.

    `by_scale`: bands that depend on the answer scale (CES: 5- or 7-point), keyed by the scale's top point.
    `applied`: which bands these are: "library", "vertical NAME" or "file" (--benchmarks).
    `target`: the user's own target, from --benchmarks.
    """

    source: str
    statement: str
    bands: tuple[Band, ...] = ()
    by_scale: tuple[tuple[int, tuple[Band, ...]], ...] = ()
    period: str | None = None  # the bands hold for this reporting period only (pageviews: per month)
    applied: str = "library"
    target: float | None = None

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

    def all_bands(self) -> list[tuple[int | None, tuple[Band, ...]]]:
        """Every band set: (scale or None, bands)."""
        return [(None, self.bands)] if not self.by_scale else [(s, b) for s, b in self.by_scale]


def _bands(raw: list[dict[str, Any]], where: str) -> tuple[Band, ...]:
    bands = []
    for item in raw:
        unknown = set(item) - {"label", "low", "high", "low_inclusive", "high_inclusive"}
        if unknown or "label" not in item:
            raise UsageError(f"{where}: a band has label, low, high, low_inclusive, high_inclusive; "
                             f"found {', '.join(sorted(item))}")
        if item["label"] not in LABELS:
            raise UsageError(f"{where}: band label {item['label']!r} is not one of {', '.join(LABELS)}")
        bands.append(Band(str(item["label"]), _number(item.get("low"), where, "low"),
                          _number(item.get("high"), where, "high"),
                          bool(item.get("low_inclusive", True)), bool(item.get("high_inclusive", True))))
    return tuple(bands)


def _number(value: Any, where: str, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{where}: {key} is a number; found {value!r}")
    if not math.isfinite(value):
        raise UsageError(f"{where}: {key} is {value!r}; give a finite number (.nan and .inf are not values a "
                         "metric can be rated against)")
    return float(value)


def _benchmark(raw: dict[str, Any], where: str, applied: str) -> Benchmark:
    if "source" not in raw:
        raise UsageError(f"{where}: say where the bands come from with `source` (a report and its year, or "
                         "'our own target')")
    scales = tuple((int(k), _bands(v.get("bands", []), f"{where}, scale {k}"))
                   for k, v in sorted(raw.get("scales", {}).items(), key=lambda kv: int(kv[0])))
    return Benchmark(source=str(raw["source"]), statement=str(raw.get("statement", "")),
                     bands=_bands(raw.get("bands", []), where), by_scale=scales, period=raw.get("period"),
                     applied=applied, target=_number(raw.get("target"), where, "target"))


def ordering_problems(benchmark: Benchmark, direction: str) -> list[str]:
    """What is wrong with a benchmark's bands: out of order, overlapping, or better labels on the worse side
    (direction "up": higher is better; "down": lower is better; anything else: no side)."""
    problems = []
    for scale, bands in benchmark.all_bands():
        name = f" (scale {scale})" if scale else ""
        for before, after in zip(bands, bands[1:], strict=False):
            if before.high is None or after.low is None or after.low < before.high or (
                    after.low == before.high and before.high_inclusive and after.low_inclusive):
                problems.append(f"bands {before.describe()} and {after.describe()}{name} are out of order or overlap")
            rank_before, rank_after = LABELS.index(before.label), LABELS.index(after.label)
            if (direction == "up" and rank_after < rank_before) or (direction == "down" and rank_after > rank_before):
                problems.append(f"{after.label!r} above {before.label!r}{name} contradicts the direction ({direction})")
    return problems


@dataclass(frozen=True)
class BenchmarkLibrary:
    """The bands of every metric: the built-in library, a vertical's variants, and the user's file."""

    defaults: dict[str, Benchmark]
    verticals: dict[str, dict[str, Benchmark]] = field(default_factory=dict)  # vertical → metric → bands
    overrides: dict[str, Benchmark] = field(default_factory=dict)  # --benchmarks, per metric
    segment_overrides: dict[tuple[str, str], Benchmark] = field(default_factory=dict)  # (metric, "col=value")
    #: customer_health_score's signal weights from --benchmarks (`customer_health_score: weights:`), None: defaults
    health_weights: tuple[tuple[str, float], ...] | None = None

    @classmethod
    def builtin(cls) -> BenchmarkLibrary:
        """The library shipped with cxbench: read on first use, then shared (it is never changed in place;
        `with_file` returns a new library)."""
        return _builtin_library()

    @classmethod
    def _read_builtin(cls) -> BenchmarkLibrary:
        text = resources.files("cxbench").joinpath("data/benchmarks.toml").read_text(encoding="utf-8")
        raw = tomllib.loads(text)
        defaults, verticals = {}, {}
        for metric_id, entry in raw.items():
            defaults[metric_id] = _benchmark(entry, f"benchmarks.toml [{metric_id}]", "library")
            for name, variant in entry.get("verticals", {}).items():
                verticals.setdefault(name, {})[metric_id] = _benchmark(
                    variant, f"benchmarks.toml [{metric_id}.verticals.{name}]", f"vertical {name}")
        return cls(defaults, verticals)

    @property
    def vertical_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.verticals))

    def with_file(self, path: str | Path) -> BenchmarkLibrary:
        """The library with the bands and targets of a --benchmarks YAML file (see README: own benchmarks)."""
        import yaml

        try:
            raw = yaml.safe_load(read_small_text(Path(path), "--benchmarks"))
        except FileNotFoundError as exc:
            raise UsageError(f"--benchmarks {path}: no such file") from exc
        except OSError as exc:
            raise UsageError(f"--benchmarks {path}: cannot read the file ({exc.strerror or exc})") from exc
        except UnicodeDecodeError as exc:
            raise UsageError(f"--benchmarks {path}: is not UTF-8 text (bad byte at offset {exc.start}); "
                             "save it as UTF-8") from exc
        except yaml.YAMLError as exc:
            first = str(exc).strip().splitlines()
            raise UsageError(f"--benchmarks {path}: not valid YAML ({' '.join(first[:3])}); "
                             "see the README's example") from exc
        except RecursionError as exc:  # PyYAML builds nested values recursively
            raise UsageError(f"--benchmarks {path}: nested too deeply to be a benchmarks file; metric ids are "
                             "top-level keys with bands, source and target under them") from exc
        if not isinstance(raw, dict):
            raise UsageError(f"--benchmarks {path}: expected metric ids as top-level keys, e.g. `nps:`")
        overrides, segments = dict(self.overrides), dict(self.segment_overrides)
        weights = self.health_weights
        known = self._known_ids()
        for metric_id, entry in raw.items():
            where = f"--benchmarks {path}, {metric_id}"
            if metric_id not in known:
                close = difflib.get_close_matches(str(metric_id), sorted(known), n=3)
                hint = f"did you mean {', '.join(close)}?" if close else "see `cxbench metrics` for the ids"
                raise UsageError(f"--benchmarks {path}: {metric_id!r} is not a metric id; {hint}")
            if not isinstance(entry, dict):
                raise UsageError(f"{where}: expected bands, source and/or target under the metric id")
            if "weights" in entry:
                weights = self._weights(metric_id, entry["weights"], where)
                entry = {key: value for key, value in entry.items() if key != "weights"}
                if not entry:
                    continue  # only weights: the bands stay the library's
            base = self.defaults.get(metric_id)
            overrides[metric_id] = self._entry(entry, base, where)
            for segment, seg_entry in (entry.get("segments") or {}).items():
                if "=" not in str(segment):
                    raise UsageError(f"{where}: segments are written COLUMN=VALUE, e.g. plan=pro; found {segment!r}")
                segments[(metric_id, str(segment))] = self._entry(seg_entry, overrides[metric_id],
                                                                  f"{where}, segment {segment}")
        return replace(self, overrides=overrides, segment_overrides=segments, health_weights=weights)

    @staticmethod
    def _weights(metric_id: str, raw: Any, where: str) -> tuple[tuple[str, float], ...]:
        """`weights:` under customer_health_score: signal → weight (the only metric whose value is weighted)."""
        if metric_id != "customer_health_score":
            raise UsageError(f"{where}: weights apply to customer_health_score only; remove them here")
        if not isinstance(raw, dict):
            raise UsageError(f"{where}: weights maps each signal to its weight, "
                             "e.g. weights: {activity: 40, nps: 20}")
        return health_weights(raw, f"{where}, weights")

    def _known_ids(self) -> set[str]:
        """The metric ids a benchmarks file may name: the registry's and the library's."""
        from cxbench.metrics import METRICS_BY_ID  # lazily: the core is imported by the metrics

        return set(METRICS_BY_ID) | set(self.defaults)

    @staticmethod
    def _entry(entry: dict[str, Any], base: Benchmark | None, where: str) -> Benchmark:
        unknown = set(entry) - {"source", "statement", "bands", "scales", "target", "period", "segments"}
        if unknown:
            raise UsageError(f"{where}: unknown key {', '.join(sorted(unknown))}; use source, statement, bands, "
                             "target, period, segments (and weights for customer_health_score)")
        if "bands" in entry or "scales" in entry or base is None:
            source = dict(entry)
            source.setdefault("source", "your benchmarks file")
            return _benchmark(source, where, "file")
        # Only a target (and maybe a source): the library's bands stay.
        return replace(base, applied="file" if "source" in entry else base.applied,
                       source=str(entry.get("source", base.source)),
                       target=_number(entry.get("target"), where, "target"))

    def lookup(self, metric_id: str, vertical: str | None = None,
               segment: dict[str, Any] | None = None) -> Benchmark | None:
        """The bands that apply: the file's for this segment, the file's, the vertical's, the library's."""
        for column, value in (segment or {}).items():
            found = self.segment_overrides.get((metric_id, f"{column}={value}"))
            if found is not None:
                return found
        if metric_id in self.overrides:
            return self.overrides[metric_id]
        if vertical and metric_id in self.verticals.get(vertical, {}):
            return self.verticals[vertical][metric_id]
        return self.defaults.get(metric_id)


@cache
def _builtin_library() -> BenchmarkLibrary:
    return BenchmarkLibrary._read_builtin()
