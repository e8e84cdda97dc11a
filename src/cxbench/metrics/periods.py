"""The run's reporting periods as small in-engine tables, for metrics measured at period boundaries
(MRR at the end of a month, customers active at its start) or against another period (growth)."""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from cxbench.core.calendar import bucket_start, instant_after, midnight, previous_day
from cxbench.core.registry import MetricContext, Period


def period_table(ctx: MetricContext) -> ir.Table:
    """The run's periods: key, first instant, end instant (exclusive), and their order."""
    rows = [
        {"_key": key, "_start": midnight(start), "_end": instant_after(end), "_index": i}
        for i, (key, start, end) in enumerate(ctx.periods)
    ]
    schema = {"_key": "date", "_start": "timestamp", "_end": "timestamp", "_index": "int64"}
    return ibis.memtable(rows, schema=schema)


def boundary_instants(ctx: MetricContext) -> list[dt.datetime]:
    """The start instant of each period, then the end of the last one (one more than there are periods)."""
    instants = [midnight(start) for _, start, _ in ctx.periods]
    if ctx.periods:
        instants.append(instant_after(ctx.periods[-1][2]))
    return instants


def boundary_table(ctx: MetricContext, lookback_days: int = 0) -> ir.Table:
    """The instants between periods: `_b` = i is the start of period i, and the last one is the end of the last
    period. `_from` is `lookback_days` before `_at` (the window in which an order keeps a customer active)."""
    rows = [{"_b": i, "_at": at, "_from": at - dt.timedelta(days=lookback_days)}
            for i, at in enumerate(boundary_instants(ctx))]
    return ibis.memtable(rows, schema={"_b": "int64", "_at": "timestamp", "_from": "timestamp"})


def previous_key(key: dt.date, period: Period) -> dt.date | None:
    """The start of the period before the one starting on `key` (None for `all`: there is no period before)."""
    before = previous_day(key)
    if period is Period.ALL or before is None:
        return None
    return bucket_start(before, period)


def period_key_of(day: dt.date, period: Period) -> dt.date | None:
    """The key of the reporting period holding `day` (None for `all`)."""
    if period is Period.ALL:
        return None
    return bucket_start(day, period)


def comparison_links(ctx: MetricContext, baseline: dt.date | None = None) -> ir.Table:
    """For each reported period P, which period's rows feed which part of P's record.

    Rows: `_source` (the key of the period whose rows are read), `_target` (P's first instant: the rows take
    it as their `ts`, so the engine files them under P), `_role`: `current` (P itself), `previous` (the
    calendar period before P) and `baseline` (the period holding the --baseline day).
    """
    rows = []
    for key, start, _ in ctx.periods:
        rows.append({"_source": key, "_target": midnight(start), "_role": "current"})
        before = previous_key(key, ctx.options.period)
        if before is not None:
            rows.append({"_source": before, "_target": midnight(start), "_role": "previous"})
        base = period_key_of(baseline, ctx.options.period) if baseline else None
        if base is not None:
            rows.append({"_source": base, "_target": midnight(start), "_role": "baseline"})
    return ibis.memtable(rows, schema={"_source": "date", "_target": "timestamp", "_role": "string"})
