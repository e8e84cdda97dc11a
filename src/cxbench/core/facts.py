"""What a run asks of a validated table before its metrics' queries, each fact asked once per table and run, and
only when a metric of the run needs it.

The engine needs each table's first and last day (its periods), the sessions need to know whether any event lacks
a `session_id` (the 30-minute rule then applies), and the event metrics whether the events they read occur at all.
A table's time columns' bounds come from one aggregate (not one per column, as each metric asked before), and
whether a row exists from a query that stops at the first one. A table read as validated from Parquet files that
the validation cache knows keeps its facts beside that cache's entry, so the next run on the same files asks none
(0.4 s of a 3 s one-metric run on 18.9 M events).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir

from cxbench.core.arrow import to_arrow
from cxbench.core.contract import ColumnType
from cxbench.core.options import EVENT_NAMES
from cxbench.core.registry import MetricContext

#: a time column's first and last day (None for both without a value)
Days = tuple[dt.date | None, dt.date | None]


def _day(value: Any) -> dt.date | None:
    if value is None or value != value:  # NaT != NaT
        return None
    return value.date() if isinstance(value, dt.datetime) else value


def _exists(ctx: MetricContext, rows: ir.Table) -> bool:
    # A query that stops at the first row (LIMIT 1): DuckDB also skips the row groups whose statistics rule the value
    # out. A scan with `any()` read the whole column (0.14 s per event name on 18.9 M events; these take 0.01-0.03 s,
    # or a scan when no row is found).
    return to_arrow(ctx.con, rows.select(_one=ibis.literal(1)).limit(1)).num_rows > 0


#: part of every kept fact's key: a change to how a fact is worked out here makes the kept ones stale
_FACTS_VERSION = 1


def _fact(ctx: MetricContext, name: str, key: str, query: Callable[[], Any], encode: Callable[[Any], Any],
          decode: Callable[[Any], Any]) -> Any:
    """`query()` once per run; kept between runs (JSON, through `encode` and `decode`) for a table read as validated
    whose files the validation cache knows."""
    table = ctx.tables[name]
    store = table.cache if table.cache is not None and table.as_validated() else None
    kept_as = f"{_FACTS_VERSION}:{key}"

    def compute() -> Any:
        if store is not None and (found := store.fact(kept_as)) is not None:
            return decode(found)
        value = query()
        if store is not None:
            store.save_fact(kept_as, encode(value))
        return value

    return ctx.remember(f"facts:{key}:{name}", compute)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _from_iso(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text is not None else None


def table_days(ctx: MetricContext, name: str) -> dict[str, Days]:
    """Each time column of validated table `name` (those present) with its first and last day, from one aggregate
    queried once per run (a table no metric reads is never scanned)."""

    def query() -> dict[str, Days]:
        table = ctx.tables[name]
        temporal = [c.name for c in table.spec.columns
                    if c.name in table.present and c.type in (ColumnType.TIMESTAMP, ColumnType.DATE)]
        if not temporal:
            return {}
        expr = table.expr
        # Dates, through Arrow: pandas' nanosecond timestamps end in 2262, and Spark's results come via pandas.
        bounds = {**{f"lo{i}": expr[c].min().cast("date") for i, c in enumerate(temporal)},
                  **{f"hi{i}": expr[c].max().cast("date") for i, c in enumerate(temporal)}}
        (row,) = to_arrow(ctx.con, expr.aggregate(**bounds)).to_pylist()
        return {c: (_day(row[f"lo{i}"]), _day(row[f"hi{i}"])) for i, c in enumerate(temporal)}

    days: dict[str, Days] = _fact(
        ctx, name, "days", query, encode=lambda d: {c: [_iso(lo), _iso(hi)] for c, (lo, hi) in d.items()},
        decode=lambda d: {c: (_from_iso(lo), _from_iso(hi)) for c, (lo, hi) in d.items()})
    return days


def has_nulls(ctx: MetricContext, name: str, column: str) -> bool:
    """Whether `column` of validated table `name` holds a null (False when the table lacks the column); asked once
    per run. The sessions ask it of the events' session_id: a null there brings in the 30-minute rule."""
    if column not in ctx.tables[name].present:
        return False

    def query() -> bool:
        expr = ctx.tables[name].expr
        return _exists(ctx, expr.filter(expr[column].isnull()))

    found: bool = _fact(ctx, name, f"nulls:{column}", query, encode=bool, decode=bool)
    return found


def events_seen(ctx: MetricContext) -> frozenset[str]:
    """The names of `EVENT_NAMES`, as the data calls them (--event-name), that occur in the validated events, from
    one query per run that stops at each name's first row. Every event a metric reads is one of these (`Metric`)."""

    table = ctx.tables["events"]
    if "event" not in table.present:
        return frozenset()
    asked = sorted({ctx.event(c) for c in EVENT_NAMES})

    def query() -> frozenset[str]:
        expr = table.expr
        found = ibis.union(*(expr.filter(expr.event == n).select("event").limit(1) for n in asked))
        return frozenset(to_arrow(ctx.con, found).column("event").to_pylist())

    # Keyed on the names asked: --event-name changes them.
    seen: frozenset[str] = _fact(ctx, "events", "seen:" + json.dumps(asked), query, encode=sorted,
                                 decode=frozenset)
    return seen
