"""Funnels over ordered event steps (`cxbench funnel`): how many users reach each step within a conversion window,
with Wilson intervals, drop-off and the median time to convert, overall, per reporting period of the first step
and per customer segment.

Definitions (PostHog's funnel order modes, as PostHog's own reference states them: "Ordered — steps happen in
order; other events may occur between them. Strict — no other tracked event may occur between two steps. Any
order — steps in any sequence within the window"; the window is "max elapsed time from step 1 to the final step",
PostHog/skills `modeling-conversion-metrics/references/conversion-metric-definitions.md`):

- A user enters at their **earliest** step-1 event between --from and --to; the window runs from that instant
  (inclusive at its end: a step exactly `window` later still counts). PostHog also tries later step-1 events as
  starts and keeps the attempt that goes furthest; cxbench keeps the first attempt, so a user who only converts
  on a second try counts as dropped (the simpler, reproducible reading; said in docs/analyses.md).
- `ordered`: step k is the first step-k event after step k−1's event (events of one user ordered by time, then by
  their place in the data), before the window ends; other events may come between.
- `strict`: step k must be the user's very next event (of any name) after step k−1's.
- `any`: the window starts at the user's first event of any funnel step; step k is reached when steps 1..k have
  all occurred (in any sequence) within the window, at the latest of their first occurrences.
- Conversion of step k: users reaching k ÷ users reaching step 1 × 100, with the 95 % Wilson score interval
  (`core.stats.wilson_interval`); step conversion: ÷ users reaching step k−1; drop-off: users of step k−1 who did
  not reach step k. Time to convert: the median over the users reaching step k of (step k's time − step k−1's).

With --timezone, the events' times are local wall-clock times (as for every metric): periods and --from/--to are
local days and the window is measured on that clock; the medians are real elapsed seconds.

Everything up to the per-group counts and medians runs in the engine (one chain of aggregations and joins, one
union of group-bys); only those few rows are brought back.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.types as ir

from cxbench.core.calendar import before_day_after, bucket_end, midnight
from cxbench.core.errors import UsageError
from cxbench.core.options import Options, Period
from cxbench.core.registry import MetricContext
from cxbench.core.stats import wilson_interval

#: PostHog's default conversion window: 14 days.
DEFAULT_WINDOW = "14d"
MAX_STEPS = 20
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_WORDS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week"}
_DECIMALS = 6


class FunnelOrder(StrEnum):
    """How the steps must follow each other (PostHog's three modes)."""

    ORDERED = "ordered"
    STRICT = "strict"
    ANY = "any"


@dataclass(frozen=True)
class Window:
    """The conversion window, measured from the user's entry into the funnel."""

    seconds: int
    text: str  # as given, normalised: "7d"

    @property
    def interval(self) -> ir.IntervalScalar:
        return ibis.interval(seconds=self.seconds)


def parse_window(text: str | int | float) -> Window:
    """`7d`, `12h`, `30m`, `2w`, `90s`, or a plain number of days; UsageError names the fix."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        text = f"{text:g}d"
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw]?)\s*", str(text).lower())
    if not match or int(match.group(1)) <= 0:
        raise UsageError(f"--window {text!r}: give a positive whole number with a unit, e.g. 7d, 12h, 30m or 2w")
    number, unit = int(match.group(1)), match.group(2) or "d"
    seconds = number * _UNITS[unit]
    if seconds > 10 * 366 * 86400:
        raise UsageError(f"--window {text!r}: longer than ten years; give at most 3660d")
    return Window(seconds, f"{number}{unit}")


def window_start_words(order: FunnelOrder) -> str:
    """Where the window starts, in words."""
    return "the first event of any step" if order is FunnelOrder.ANY else "the first step"


def window_words(window: Window) -> str:
    number, unit = int(window.text[:-1]), window.text[-1]
    return f"{number} {_WORDS[unit]}{'' if number == 1 else 's'}"


def check_steps(steps: Sequence[str]) -> tuple[str, ...]:
    """The steps as given (comma-separated texts are split), checked: at least two, at most MAX_STEPS, none empty."""
    names = tuple(s.strip() for part in steps for s in str(part).split(","))
    if any(not n for n in names):
        raise UsageError("a funnel step is empty: give event names separated by commas, e.g. signup,activate,checkout")
    if len(names) < 2:
        raise UsageError(f"a funnel needs at least two steps, got {len(names)}: give them as EVENT,EVENT[,...]")
    if len(names) > MAX_STEPS:
        raise UsageError(f"a funnel of {len(names)} steps: give at most {MAX_STEPS}")
    return names


# -- results -------------------------------------------------------------------------------------------------------


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), _DECIMALS)


@dataclass(frozen=True)
class FunnelStep:
    """One step of one group: users reaching it and how they got there."""

    step: int  # 1-based
    event: str  # the step as given
    users: int
    conversion_pct: float | None  # users ÷ step-1 users × 100; None when nobody entered
    ci_low: float | None  # Wilson 95 % interval of conversion_pct
    ci_high: float | None
    step_conversion_pct: float | None  # users ÷ the previous step's users × 100 (100 for step 1)
    dropped: int  # users of the previous step who did not reach this one (0 for step 1)
    dropoff_pct: float | None  # dropped ÷ the previous step's users × 100
    median_seconds: float | None  # median time from the previous step, over the users who reached this one
    median_seconds_from_start: float | None  # median time from step 1
    reason: str | None = None  # why a value is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step, "event": self.event, "users": self.users,
            "conversion_pct": _round(self.conversion_pct), "ci_low": _round(self.ci_low),
            "ci_high": _round(self.ci_high), "step_conversion_pct": _round(self.step_conversion_pct),
            "dropped": self.dropped, "dropoff_pct": _round(self.dropoff_pct),
            "median_seconds": _round(self.median_seconds),
            "median_seconds_from_start": _round(self.median_seconds_from_start),
            **({"reason": self.reason} if self.reason else {}),
        }


@dataclass(frozen=True)
class FunnelGroup:
    """The funnel of one group of users: the whole data or a segment, all periods or the period of their entry."""

    segment: tuple[tuple[str, str], ...]  # () = whole dataset; (("plan", "pro"),)
    period_start: dt.date | None  # None = every period
    period_end: dt.date | None
    steps: tuple[FunnelStep, ...]

    @property
    def entered(self) -> int:
        return self.steps[0].users if self.steps else 0

    @property
    def converted(self) -> int:
        return self.steps[-1].users if self.steps else 0

    def to_dict(self) -> dict[str, Any]:
        return {"segment": dict(self.segment),
                "period_start": self.period_start.isoformat() if self.period_start else None,
                "period_end": self.period_end.isoformat() if self.period_end else None,
                "steps": [s.to_dict() for s in self.steps]}


@dataclass(frozen=True)
class Funnel:
    """A funnel's result: the settings it was computed with and one `FunnelGroup` per group."""

    steps: tuple[str, ...]  # as given
    events_read: tuple[str, ...]  # the data's names (--event-name)
    window: Window
    order: FunnelOrder
    period: Period
    start: dt.date | None
    end: dt.date | None
    segments: tuple[str, ...]
    groups: tuple[FunnelGroup, ...]
    timezone: str = "UTC"  # whose midnights cut the periods and the --from/--to days
    meta: dict[str, Any] = field(default_factory=dict, compare=False)  # source, generated_at, inputs, rejected

    def group(self, segment: dict[str, str] | None = None, period_start: dt.date | None = None) -> FunnelGroup | None:
        """The group of a segment ({} or None = whole dataset) and a period (None = every period)."""
        key = tuple(sorted((segment or {}).items()))
        return next((g for g in self.groups if g.segment == key and g.period_start == period_start), None)

    @property
    def overall(self) -> FunnelGroup | None:
        return self.group()

    def settings(self) -> dict[str, Any]:
        return {"steps": list(self.steps), "events_read": list(self.events_read), "window": self.window.text,
                "window_seconds": self.window.seconds, "order": self.order.value, "period": self.period.value,
                "from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None,
                "segments": list(self.segments), "timezone": self.timezone}

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: the run's facts, the settings and every group (no NaN: None with a reason)."""
        return {**self.meta, "analysis": "funnel", "settings": self.settings(),
                "groups": [g.to_dict() for g in self.groups]}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def records(self) -> list[dict[str, Any]]:
        """One flat row per group and step (the CSV)."""
        rows = []
        for g in self.groups:
            segment_column, segment_value = next(iter(g.segment), (None, None))
            for s in g.steps:
                rows.append({"segment_column": segment_column, "segment_value": segment_value,
                             "period_start": g.period_start.isoformat() if g.period_start else None,
                             "period_end": g.period_end.isoformat() if g.period_end else None,
                             **{k: v for k, v in s.to_dict().items() if k != "reason"}})
        return rows


# -- the engine part -------------------------------------------------------------------------------------------------


def _in_range(ts: ir.TimestampValue, options: Options) -> ir.BooleanValue:
    condition = ibis.literal(True)
    if options.start is not None:
        condition = condition & (ts >= ibis.literal(midnight(options.start), type="timestamp"))
    if options.end is not None:
        condition = condition & before_day_after(ts, options.end)
    return condition


def user_steps(events: ir.Table, names: Sequence[str], window: Window, order: FunnelOrder,
               options: Options) -> ir.Table:
    """One row per user who entered the funnel: `user_id`, `_start` (the window's start) and `_t1`..`_tN` (when
    each step was reached, null if not). Aggregations and joins only: no event leaves the engine."""
    e = events.select("user_id", "ts", "_row", "event")
    if order is FunnelOrder.ANY:
        return _any_order(e, names, window, options)
    if order is not FunnelOrder.STRICT:
        e = e.filter(e.event.isin(list(names)))  # strict needs every event: none may come between two steps
    # A user's events in order (time, then their place in the data): ties broken as the sessions are.
    e = e.mutate(_seq=ibis.row_number().over(ibis.window(group_by=e.user_id, order_by=[e.ts, e._row])))
    first = e.filter((e.event == names[0]) & _in_range(e.ts, options))
    users = first.group_by("user_id").aggregate(_s1=first._seq.min(), _t1=first.ts.min())
    users = users.mutate(_start=users._t1, _deadline=users._t1 + window.interval)
    for k in range(2, len(names) + 1):
        candidates = e.filter(e.event == names[k - 1]).select(_u=e.user_id, _cseq=e._seq, _cts=e.ts)
        joined = users.join(candidates, users.user_id == candidates._u)
        after = joined[f"_s{k - 1}"]
        follows = (joined._cseq == after + 1) if order is FunnelOrder.STRICT else (joined._cseq > after)
        hits = joined.filter(follows & (joined._cts <= joined._deadline))
        reached = hits.group_by(_hu=hits.user_id).aggregate(**{f"_s{k}": hits._cseq.min(), f"_t{k}": hits._cts.min()})
        users = users.left_join(reached, users.user_id == reached._hu).drop("_hu")
    return users.select("user_id", "_start", *(f"_t{k}" for k in range(1, len(names) + 1)))


def _any_order(e: ir.Table, names: Sequence[str], window: Window, options: Options) -> ir.Table:
    e = e.filter(e.event.isin(list(names)))
    starts = e.filter(_in_range(e.ts, options))
    users = starts.group_by("user_id").aggregate(_start=starts.ts.min())
    later = e.select(_u=e.user_id, _ets=e.ts, _event=e.event)
    joined = users.join(later, users.user_id == later._u)
    joined = joined.filter((joined._ets >= joined._start) & (joined._ets <= joined._start + window.interval))
    firsts = joined.group_by(["user_id", "_start"]).aggregate(
        **{f"_f{j}": joined._ets.min(where=joined._event == name) for j, name in enumerate(names, start=1)})
    columns: dict[str, ir.Value] = {}
    for k in range(1, len(names) + 1):
        parts = [firsts[f"_f{j}"] for j in range(1, k + 1)]
        all_done = ibis.and_(*(p.notnull() for p in parts))
        # The latest of the first occurrences; greatest() skips nulls on both engines, hence the guard.
        latest = parts[0] if k == 1 else ibis.greatest(*parts)
        columns[f"_t{k}"] = ibis.cases((all_done, latest), else_=ibis.null("timestamp"))
    return firsts.select("user_id", "_start", **columns)


Seconds = Callable[[ir.TimestampValue, ir.TimestampValue], ir.FloatingValue]


def _aggregates(t: ir.Table, n: int, seconds: Seconds) -> dict[str, ir.Scalar]:
    out: dict[str, ir.Scalar] = {}
    for k in range(1, n + 1):
        out[f"u{k}"] = t[f"_t{k}"].count()
        if k > 1:
            out[f"m{k}"] = seconds(t[f"_t{k}"], t[f"_t{k - 1}"]).median()
            out[f"f{k}"] = seconds(t[f"_t{k}"], t._t1).median()
    return out


def group_counts(per_user: ir.Table, n: int, period: Period, segments: Sequence[str],
                 customers: ir.Table | None, seconds: Seconds) -> ir.Table:
    """The counts and medians of every group, as one union of group-bys: `_col`, `_val` (segment), `_period`.
    `seconds(later, earlier)`: the real time between two timestamps (`MetricContext.elapsed_seconds`)."""
    t = per_user
    unit = {Period.DAY: "D", Period.WEEK: "W", Period.MONTH: "M", Period.QUARTER: "Q", Period.YEAR: "Y"}.get(period)
    t = t.mutate(_period=t._start.truncate(unit).date() if unit else ibis.null("date"))
    if segments and customers is not None:
        c = customers.select(_cid=customers.customer_id, **{f"_seg{i}": customers[s].cast("string")
                                                            for i, s in enumerate(segments)})
        t = t.left_join(c, t.user_id == c._cid).drop("_cid")
    parts = []
    groupings: list[tuple[str | None, int | None]] = [(None, None)] + [(s, i) for i, s in enumerate(segments)]
    for column, index in groupings:
        for by_period in (False, True) if unit else (False,):
            keys = ([f"_seg{index}"] if index is not None else []) + (["_period"] if by_period else [])
            source = t.filter(t[f"_seg{index}"].notnull()) if index is not None else t
            grouped = source.group_by(keys).aggregate(**_aggregates(source, n, seconds)) if keys \
                else source.aggregate(**_aggregates(source, n, seconds))
            grouped = grouped.mutate(
                _col=ibis.literal(column, type="string") if column else ibis.null("string"),
                _val=grouped[f"_seg{index}"] if index is not None else ibis.null("string"),
                **({} if by_period else {"_period": ibis.null("date")}))
            names = ["_col", "_val", "_period", *(f"u{k}" for k in range(1, n + 1)),
                     *(x for k in range(2, n + 1) for x in (f"m{k}", f"f{k}"))]
            parts.append(grouped.select(*names))
    return ibis.union(*parts)


def _steps(row: dict[str, Any], names: Sequence[str]) -> tuple[FunnelStep, ...]:
    entered = int(row["u1"] or 0)
    steps = []
    previous = entered
    for k, name in enumerate(names, start=1):
        users = int(row[f"u{k}"] or 0)
        conversion = ci_low = ci_high = step_conversion = dropoff = None
        reason = None
        if entered:
            conversion = 100 * users / entered
            lo, hi = wilson_interval(users, entered)
            ci_low, ci_high = 100 * lo, 100 * hi
        else:
            reason = "nobody entered the funnel"
        if previous:
            step_conversion = 100 * users / previous
            dropoff = 100 * (previous - users) / previous
        median = _round(row.get(f"m{k}")) if users and k > 1 else None
        from_start = _round(row.get(f"f{k}")) if users and k > 1 else (0.0 if users else None)
        if k > 1 and not users and reason is None:
            reason = "nobody reached this step"
        steps.append(FunnelStep(k, name, users, conversion, ci_low, ci_high,
                                step_conversion if k > 1 else (100.0 if entered else None),
                                (previous - users) if k > 1 else 0, dropoff if k > 1 else (0.0 if entered else None),
                                median if k > 1 else None, from_start, reason))
        previous = users
    return tuple(steps)


def compute_funnel(ctx: MetricContext, steps: Sequence[str], window: Window, order: FunnelOrder) -> Funnel:
    """The funnel of `steps` over the validated `events` of `ctx` (UsageError without them or without a step)."""
    names = check_steps(steps)
    options = ctx.options
    if "events" not in ctx.tables:
        raise UsageError("no events table: a funnel needs events (user_id, ts, event) as events.csv, "
                         "events.parquet or a database table")
    read = tuple(options.event_name(s) for s in names)
    if order is FunnelOrder.ANY and len(set(read)) < len(read):
        raise UsageError(f"--order any with a step given twice ({', '.join(names)}): in any order a repeated event "
                         "is the same step; give each event once, or use --order ordered")
    events = ctx.tables["events"].expr
    customers = None
    for column in options.segments:
        if "customers" not in ctx.tables:
            raise UsageError(f"--segment {column}: no customers table to read it from")
        if column not in ctx.tables["customers"].present:
            raise UsageError(f"--segment {column}: customers has no {column} column; its columns: "
                             + ", ".join(sorted(ctx.tables["customers"].present)))
        customers = ctx.tables["customers"].expr
    per_user = user_steps(events, read, window, order, options)
    if options.segments or options.period is not Period.ALL:
        per_user = ctx.cache(per_user)  # read by several group-bys: computed once
    table = ctx.con.to_pyarrow(group_counts(per_user, len(names), options.period, options.segments, customers,
                                            ctx.elapsed_seconds))
    groups = []
    for row in table.to_pylist():
        segment = ((row["_col"], row["_val"]),) if row["_col"] is not None else ()
        start = row["_period"]
        end = bucket_end(start, options.period) if start is not None else None
        groups.append(FunnelGroup(segment, start, end, _steps(row, names)))
    if not any(g.segment == () and g.period_start is None for g in groups):
        groups.append(FunnelGroup((), None, None, _steps({f"u{k}": 0 for k in range(1, len(names) + 1)}, names)))
    groups.sort(key=lambda g: (g.segment != (), g.segment, g.period_start is not None,
                               g.period_start or dt.date.min))
    return Funnel(names, read, window, order, options.period, options.start, options.end, options.segments,
                  tuple(groups), options.timezone)


__all__ = ["DEFAULT_WINDOW", "Funnel", "FunnelGroup", "FunnelOrder", "FunnelStep", "Window", "check_steps",
           "compute_funnel", "group_counts", "parse_window", "user_steps", "window_start_words", "window_words"]
