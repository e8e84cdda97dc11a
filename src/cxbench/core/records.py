"""Typed results: a scorecard is frozen `MetricRecord`s (with their `Rating`, `Change` and `WindowComparison`) and
`Finding`s. JSON, CSV, pandas, Arrow, the terminal and the report all render from these objects.

Each object is also the JSON object docs/contract.md gives it (`record["value"]`, `record.get("change")`): a read-only
dict holding `to_dict()`, so code written against the JSON document (json.dumps, pandas) works on the objects
unchanged. Changing one raises TypeError; `record.evolve(...)` makes a changed copy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

#: A period, segment and breakdown as a hashable key: (period_start, period_end, segment items, dimension items).
RecordKey = tuple[dt.date | None, dt.date | None, tuple[tuple[str, Any], ...], tuple[tuple[str, Any], ...]]


class FrozenMap(dict[str, Any]):
    """A read-only dict: what a record's segment, dimension and details are. Still a dict, so it serialises to
    JSON, pickles and copies like one; changing it raises TypeError."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a record's mappings are read-only: make a changed record with record.evolve(...)")

    __setitem__ = __delitem__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]
    __ior__ = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (dict(self),))


_EMPTY: Mapping[str, Any] = FrozenMap()


def frozen_mapping(values: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only copy (shallow) of `values`."""
    return FrozenMap(values) if values else _EMPTY


def _items(values: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((values or {}).items()))


def _plain(value: Any) -> Any:
    """Read-only mappings (and nested ones) back to plain dicts and lists for JSON."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class _JsonView(FrozenMap):
    """A typed result that is also its JSON object: a read-only dict holding `to_dict()`, so `obj["value"]`,
    `json.dumps(obj)`, `obj == {...}`, pandas and pickle work as they did on the JSON document's dicts, while
    the attributes (`obj.value`, `obj.change.p_value`) are typed. `obj["change"]` returns a copy of the nested
    object: changing it (`.pop("p_value")`) never changes the record."""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def __post_init__(self) -> None:
        dict.update(self, self.to_dict())

    def __getitem__(self, key: str) -> Any:
        return _plain(dict.__getitem__(self, key))

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from the fields (dict's own pickling would set the items one by one, which is refused).
        return (_rebuild, (type(self), {f.name: getattr(self, f.name) for f in fields(self)}))  # type: ignore[arg-type]

    __hash__ = None  # type: ignore[assignment]  # equal to dicts, so not hashable; use `key` for grouping


def _rebuild(cls: type, values: dict[str, Any]) -> Any:
    return cls(**values)


@dataclass(frozen=True, eq=False)
class Rating(_JsonView):
    """A value's benchmark: its band (`rating`, None when the value falls outside every band or the bands are for
    another period), the source, what was applied (library, vertical NAME or a --benchmarks file) and a target."""

    rating: str | None
    source: str
    applied: str
    target: float | None = None
    target_met: bool | None = None
    has_target: bool = False  # a --benchmarks file set a target (target_met may still be None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rating": self.rating, "source": self.source, "applied": self.applied}
        if self.has_target:
            out["target"] = self.target
            out["target_met"] = self.target_met
        return out


@dataclass(frozen=True, eq=False)
class Change(_JsonView):
    """The change from the previous period: its value, the delta and the test of the difference."""

    previous: float | None
    delta: float | None
    significant: bool | None = None
    p_value: float | None = None  # two-sided, full precision
    test: str | None = None  # the test's name (`ChangeTest`)

    def to_dict(self) -> dict[str, Any]:
        return {"previous": self.previous, "delta": self.delta, "significant": self.significant,
                "p_value": self.p_value, "test": self.test}


@dataclass(frozen=True, eq=False)
class WindowComparison(_JsonView):
    """`--compare FROM..TO`: the same metric, segment and breakdown over that window."""

    first: dt.date
    last: dt.date
    value: float | None = None
    delta: float | None = None
    significant: bool | None = None
    p_value: float | None = None
    test: str | None = None
    window_total: float | None = None  # a total over a window of another length: the window's own total ...
    scaled_to_days: int | None = None  # ... and the days `value` is scaled to

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"from": self.first.isoformat(), "to": self.last.isoformat(), "value": self.value,
                               "delta": self.delta, "significant": self.significant, "p_value": self.p_value,
                               "test": self.test}
        if self.scaled_to_days is not None:
            out["window_total"] = self.window_total
            out["scaled_to_days"] = self.scaled_to_days
        return out


@dataclass(frozen=True, eq=False)
class MetricRecord(_JsonView):
    """One metric's value for one period, segment and breakdown (docs/contract.md's record)."""

    id: str
    period_start: dt.date | None
    period_end: dt.date | None
    segment: Mapping[str, Any]
    dimension: Mapping[str, Any] | None
    value: float | None
    unit: str
    n: int
    ci_low: float | None = None
    ci_high: float | None = None
    benchmark: Rating | None = None
    change: Change | None = None
    status: str = "ok"  # or "unavailable", with a reason
    reason: str | None = None
    warning: str | None = None
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    compared_with: WindowComparison | None = None
    #: the data covers only part of the period (its first or last): details.covered_from/covered_to/covered_days
    partial: bool = False
    #: `value` before rounding to 6 decimals (not in the JSON): metrics combined from this one start from it, so
    #: CLV ÷ CAC of 75 ÷ 25 is 3, not 2.999999 from components rounded first
    exact_value: float | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segment", frozen_mapping(self.segment))
        if self.dimension is not None:
            object.__setattr__(self, "dimension", frozen_mapping(self.dimension))
        object.__setattr__(self, "details", frozen_mapping(self.details))
        super().__post_init__()

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def key(self) -> RecordKey:
        """Period, segment and breakdown, hashable."""
        return (self.period_start, self.period_end, _items(self.segment), _items(self.dimension))

    @property
    def series_key(self) -> tuple[str, tuple[tuple[str, Any], ...], tuple[tuple[str, Any], ...]]:
        """Metric, segment and breakdown: the series a record belongs to, whatever its period."""
        return (self.id, _items(self.segment), _items(self.dimension))

    def evolve(self, **changes: Any) -> MetricRecord:
        """A copy with some fields changed (the record itself never changes)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The record as docs/contract.md's JSON object (optional keys only when set)."""
        out: dict[str, Any] = {
            "id": self.id,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "segment": dict(self.segment),
        }
        if self.dimension is not None:
            out["dimension"] = dict(self.dimension)
        out.update({
            "value": self.value, "unit": self.unit, "n": self.n, "ci_low": self.ci_low, "ci_high": self.ci_high,
            "benchmark": self.benchmark.to_dict() if self.benchmark else None,
            "change": self.change.to_dict() if self.change else None,
            "status": self.status,
        })
        if self.reason is not None:
            out["reason"] = self.reason
        if self.warning is not None:
            out["warning"] = self.warning
        if self.partial:
            out["partial"] = True
        if self.details:
            out["details"] = _plain(self.details)
        if self.compared_with is not None:
            out["compared_with"] = self.compared_with.to_dict()
        return out


@dataclass(frozen=True, eq=False)
class Finding(_JsonView):
    """Something that needs attention, with the seed's advice (`cxbench.findings`)."""

    kind: str
    severity: float
    metric: str
    name: str
    period_start: dt.date | None
    period_end: dt.date | None
    segment: Mapping[str, Any]
    value: float | None
    unit: str
    message: str
    advice: str
    advice_source: str
    rank: int = 0  # 1 = most severe
    #: what a kind of finding adds: `rating`, `change`, `dimension`, `best`, `gap`
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segment", frozen_mapping(self.segment))
        object.__setattr__(self, "extra", frozen_mapping(self.extra))
        super().__post_init__()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, dt.date) else _plain(value)
        out.update({k: _plain(v) for k, v in self.extra.items()})
        return out
