"""The metric declaration: one frozen record per metric, read by the engine, the CLI, the report and the docs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from cxbench.core.arrow import register_in_memory_tables
from cxbench.core.calendar import before_day_after, midnight
from cxbench.core.errors import CxbenchError
from cxbench.core.options import EVENT_NAMES, Options, Period
from cxbench.core.stats import Derived, Estimate, Estimator, Span

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from cxbench.core.records import MetricRecord
    from cxbench.core.reporting import LocalClock

    from cxbench.core.validation import ValidTable


class Family(StrEnum):
    """Metric families, in the order the scorecard shows them."""

    SURVEYS = "Voice of the customer (surveys)"
    PRODUCT = "Product engagement (events)"
    WEBSITE = "Website (pageviews, sessions, campaigns, carts, social)"
    REVENUE = "Revenue and loyalty (orders, subscriptions, spend)"
    SUPPORT = "Support (tickets)"
    ADVOCACY = "Advocacy, social and company"


class Unit(StrEnum):
    """A value's unit; percentages are 0-100, durations seconds, money the reporting currency (core/reporting.py)."""

    PERCENT = "percent"
    SCORE = "score"
    SECONDS = "seconds"
    MONEY = "money"
    COUNT = "count"
    RATIO = "ratio"


def format_value(value: float | None, unit: str) -> str:
    """A value for people, by its unit (`Unit`): 80.0 %, 41.7, 1m 05s, 1,234.50; None is a dash."""
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:.1f} %"
    if unit == "seconds":
        sign, whole = ("-" if value < 0 else ""), abs(round(value))
        minutes, seconds = divmod(whole, 60)
        hours, minutes = divmod(minutes, 60)
        days, hours = divmod(hours, 24)
        if days:
            return f"{sign}{days}d {hours:02d}h"
        if hours:
            return f"{sign}{hours}h {minutes:02d}m"
        return f"{sign}{minutes}m {seconds:02d}s" if minutes else f"{value:.1f} s"
    if unit == "money":
        return f"{value:,.2f}"
    if unit == "count":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


class Direction(StrEnum):
    """Which way is better."""

    UP = "up"
    DOWN = "down"
    BAND = "band"
    NONE = "none"


class MetricUnavailable(CxbenchError):
    """Raised by a metric's rows function when its inputs cannot give it (the message is the reason)."""


@dataclass(frozen=True)
class MetricContext:
    """What a metric's rows function sees: the validated tables, the options and the periods being computed.

    Frozen: the engine makes one per metric with `replace(ctx, periods=...)`. `memo` is the run's shared cache of
    helper results (session and visitor-day tables...), the same dict in every copy.
    """

    con: BaseBackend
    tables: dict[str, ValidTable]
    options: Options
    memo: dict[str, Any] = field(default_factory=dict)
    #: the metric's reporting periods as (key, first day, last day), oldest first; set by the engine
    periods: tuple[tuple[dt.date, dt.date, dt.date], ...] = ()
    #: --timezone other than UTC: the tables' timestamps are wall-clock times in that zone (core/reporting.py);
    #: durations between two of them go through `elapsed_seconds`
    clock: LocalClock | None = None
    #: whether helper tables several metrics read (visitor-days, MRR movements) are stored once per run (`shared`);
    #: False when the run computes one metric, whose one query reads them where they are made
    store_shared: bool = True

    def elapsed_seconds(self, later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.FloatingValue:
        """Real seconds from `earlier` to `later` (a night the clocks go forward has 23 hours)."""
        if self.clock is not None:
            return self.clock.elapsed_seconds(later, earlier)
        # Milliseconds, then seconds: the one time difference DuckDB and Spark compute alike (IBIS-NOTES trap 2).
        return later.delta(earlier, unit="millisecond").cast("float64") / 1000

    @property
    def period_keys(self) -> tuple[dt.date, ...]:
        return tuple(p[0] for p in self.periods)

    def in_range(self, ts: ir.TimestampValue) -> ir.BooleanValue:
        """Whether `ts` falls in the run's periods: for rows a metric aggregates before the engine filters
        (distinct users per day, active customers per period), so --from/--to bound them too."""
        if not self.periods:
            return ibis.literal(False)
        start = ibis.literal(midnight(self.periods[0][1]), type="timestamp")
        return (ts >= start) & before_day_after(ts, self.periods[-1][2])

    def period_key(self, ts: ir.TimestampValue) -> ir.DateValue:
        """The reporting period holding `ts`, as the date the period starts (the engine groups by the same)."""
        if self.options.period is Period.ALL:
            return ibis.literal(self.period_keys[0] if self.period_keys else dt.date(1970, 1, 1), type="date")
        unit = {Period.DAY: "D", Period.WEEK: "W", Period.MONTH: "M", Period.QUARTER: "Q", Period.YEAR: "Y"}
        return ts.truncate(unit[self.options.period]).date()

    def event(self, canonical: str) -> str:
        """The data's name of an event the metrics read (`--event-name`)."""
        return self.options.event_name(canonical)

    def table(self, name: str) -> ir.Table:
        if name not in self.tables:
            raise MetricUnavailable(f"needs the {name} table, which the source does not have")
        return self.tables[name].expr

    def has_column(self, table: str, column: str) -> bool:
        return table in self.tables and column in self.tables[table].present

    def cache(self, expr: ir.Table) -> ir.Table:
        """`expr.cache()` with the in-memory tables it reads registered first: Ibis 12's PySpark backend caches
        without registering them and fails with TABLE_OR_VIEW_NOT_FOUND."""
        register_in_memory_tables(self.con, expr)
        return expr.cache()

    def shared(self, expr: ir.Table) -> ir.Table:
        """`expr` stored on the backend for the run's other metrics to read (`cache`), unless the run computes one
        metric (`store_shared`): storing it would then cost a pass of its own for a single reader (DAU alone on
        18.9 M events: 2.1 s to store the visitor-days before the one query that reads them)."""
        return self.cache(expr) if self.store_shared else expr

    def remember(self, key: str, compute: Callable[[], Any]) -> Any:
        """Compute a small helper result once per run (e.g. a survey's most common scale)."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


RowsFunction = Callable[[MetricContext], ir.Table]


@dataclass(frozen=True)
class Metric:
    """One metric, declared once.

    `rows` returns one row per measured unit (an answer, an event...) with `ts` (timestamp), `_entity`
    (the customer id used for segments, or null), the measure columns the estimator reads, and one string
    column per entry of `dimensions` (an array column, such as a ticket's tags, counts the row once under each of
    its values). The engine adds periods, segments and breakdowns.
    """

    id: str
    name: str
    family: Family
    formula: str
    unit: Unit
    direction: Direction
    inputs: tuple[str, ...]
    rows: RowsFunction | None  # None only for a DerivedMetric
    estimator: Estimator
    what_is_counted: str  # "nps answers": said when a period has none
    description: str = ""
    notes: str = ""
    source: str = ""  # the seed articles and references behind the formula
    dimensions: tuple[str | tuple[str, ...], ...] = ()  # a tuple groups columns into one breakdown (cohort × offset)
    overall: bool = True  # False: only the per-dimension records are reported (a share per value)
    benchmark_scale_detail: str | None = None  # a details key holding the scale the benchmark depends on
    extra_details: Callable[[MetricContext], dict[str, Any]] | None = None  # run-level facts, e.g. the scale used
    rank_dimension: bool = False  # rank the breakdown's values per period (details.rank, 1 = highest value)
    optional_inputs: tuple[str, ...] = ()  # tables read when present (subscriptions for who pays)
    #: the tables whose dates set the periods reported (default: `inputs`); cohort metrics use events only, so
    #: customers who signed up before the event data starts do not show as inactive
    period_tables: tuple[str, ...] | None = None
    #: False when the rows are not all per customer (spend): --segment then gives no records for this metric
    by_customer_segment: bool = True
    #: further (table, column) pairs whose dates also set the periods: resolution times count by `resolved_at`,
    #: so a month with resolutions but no new ticket is still reported
    period_columns: tuple[tuple[str, str], ...] = ()
    #: tables that may carry the last day of `--period all` beyond the metric's own (CAC: customers won)
    period_extend_tables: tuple[str, ...] = ()
    #: a total that grows with the period's length (sales, pageviews, customers won): `--compare` scales a
    #: window of another length to the period's days before taking the delta
    accumulates: bool = False
    #: the `events.event` names the metric reads, as cxbench names them (`options.EVENT_NAMES`; `--event-name`
    #: maps them to the data's names); records say which names were read in `details.events`
    events: tuple[str, ...] = ()
    #: those of `events` without which the value would be wrong rather than empty (no `checkout` event: every cart
    #: abandoned): when one never occurs in the events, the metric is unavailable and says which one and how to map it
    required_events: tuple[str, ...] = ()
    #: tables read instead of `events` when present (carts): the events are then not read and not required
    events_replaced_by: tuple[str, ...] = ()
    #: the rows counted, of those `rows` returns (timed pageviews of all pageviews): applied inside the aggregates
    #: when metrics reading the same rows are aggregated in one query, so the rows are made once for all of them
    where: Callable[[ir.Table], ir.BooleanValue] | None = None

    def __post_init__(self) -> None:
        unknown = [e for e in (*self.events, *self.required_events) if e not in EVENT_NAMES]
        if unknown:
            # The table facts ask whether each of EVENT_NAMES occurs, and --event-name maps only those.
            raise ValueError(f"metric {self.id} reads event {unknown[0]!r}, which is not one of options.EVENT_NAMES "
                             f"({', '.join(EVENT_NAMES)}): add it there")

    def reads_events(self, tables: Mapping[str, Any]) -> bool:
        """Whether the metric reads `events` given the tables a source has (not when a replacement is there)."""
        return bool(self.events) and not any(t in tables for t in self.events_replaced_by)


#: How a derived metric's value is made: (its components' records of one period, segment and breakdown by
#: component id, None for an optional one without a value; the period's span; the options; the components with
#: a value in some period of the run, so the basis is chosen once per run, not per period) → the estimate.
Combine = Callable[[dict[str, "MetricRecord | None"], Span, Options, frozenset[str]], Estimate]


@dataclass(frozen=True, kw_only=True)
class DerivedMetric(Metric):
    """A metric combined from other metrics' records of the same period, segment and breakdown (CLV ÷ CAC), so it
    always agrees with the numbers shown beside it. It has no rows of its own: the engine aggregates nothing."""

    rows: None = None
    estimator: Estimator = field(default_factory=Derived)
    components: tuple[Metric, ...]
    combine: Combine
    optional_components: tuple[str, ...] = ()  # component ids the combine can do without (passed as None)
