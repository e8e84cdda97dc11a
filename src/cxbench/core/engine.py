"""The engine: runs every metric's expression per period, segment and breakdown, and builds the records.

Per metric, one query goes to the backend: the union of every (segment, breakdown) grouping, each grouped
by period, returning only the estimator's aggregates. Values, intervals, ratings and changes are then made
from those few numbers.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import sqlglot.expressions as sge

from cxbench.core.arrow import register_in_memory_tables, sql_to_arrow, to_arrow
from cxbench.core.benchmarks import BenchmarkLibrary
from cxbench.core.calendar import before_day_after, bucket_end, bucket_start, midnight, next_day
from cxbench.core.contract import TABLES_BY_NAME
from cxbench.core.errors import UsageError
from cxbench.core.event_names import event_details, missing_events, missing_events_reason
from cxbench.core.facts import table_days
from cxbench.core.options import Options, Period
from cxbench.core.records import Change, MetricRecord, Rating, RecordKey, WindowComparison
from cxbench.core.registry import DerivedMetric, Metric, MetricContext, MetricUnavailable
from cxbench.core.stats import ChangeTest, Comparison, Estimate, Span, Sum, Total

_DECIMALS = 6
_KEY_SEPARATOR = "\u241f"  # joins the columns of a multi-column breakdown (only its last column may hold it)

GroupKey = tuple[str | None, str | None, str | None, str | None]  # segment column, value, dimension column, value


@dataclass(frozen=True)
class PeriodSpan:
    """One reporting period: `key` is the engine's bucket start; start/end are cut by --from/--to only.

    `covered`: the days of the period the data covers, when that is not all of them (`partial`). The data covers
    the days from the first to the last day with data in the metric's tables (by their time columns, as the period
    grid is made), clipped by --from/--to; a gap inside that range is covered (a quiet day is a day of 0). Averages
    per day, week or month (DAU, WAU, MAU, stickiness) divide by the covered days, weeks and months; totals, the
    tests of a change and annualised figures keep the calendar length (a partial period's total reads low, and its
    record says it is partial). A period without any covered day (--to beyond the data) is partial with `covered`
    None and keeps its calendar length.
    """

    key: dt.date
    start: dt.date
    end: dt.date
    covered: tuple[dt.date, dt.date] | None = None
    partial: bool = False

    def covering(self, first: dt.date, last: dt.date) -> PeriodSpan:
        """This period with the part of it `first`..`last` (the data's days) covers."""
        lo, hi = max(self.start, first), min(self.end, last)
        if lo > hi:
            return replace(self, covered=None, partial=True)
        if (lo, hi) == (self.start, self.end):
            return self
        return replace(self, covered=(lo, hi), partial=True)


#: More periods than this in one run is refused (20,000 days is 55 years): it comes from a typo, not a question.
MAX_PERIODS = 20_000


def period_grid(first: dt.date, last: dt.date, options: Options) -> list[PeriodSpan]:
    """Every period from the one holding `first` to the one holding `last`."""
    # --from/--to, when given, set the range even beyond the data (those periods say "no answers").
    lo = options.start or first
    hi = options.end or last
    if lo > hi:
        # --from after the data (or --to before it): the asked-for period exists and has no data.
        lo, hi = (lo, lo) if options.start else (hi, hi)
    if options.period is Period.ALL:
        return [PeriodSpan(lo, lo, hi)]
    days = {Period.DAY: 1, Period.WEEK: 7, Period.MONTH: 30.4, Period.QUARTER: 91.3, Period.YEAR: 365.25}
    count = (hi - lo).days / days.get(options.period, 1)
    if count > MAX_PERIODS:
        # One date typed as 0001 or 2999 would otherwise make hundreds of thousands of empty periods (and a
        # JSON of hundreds of MB); say so instead.
        raise UsageError(f"--period {options.period.value} from {lo} to {hi} makes about {count:,.0f} periods, more than "
                         f"{MAX_PERIODS:,}: a date that far out is most likely a typo (cxbench validate lists the "
                         "tables' earliest dates); fix it, or narrow the run with --from/--to or a longer --period")
    spans = []
    key = bucket_start(lo, options.period)
    while key <= hi:
        end = bucket_end(key, options.period)
        # Calendar bounds (a month is the 1st to its last day); only --from/--to cut a period short.
        start = max(key, options.start) if options.start else key
        spans.append(PeriodSpan(key, start, min(end, options.end) if options.end else end))
        following = next_day(end)
        if following is None:  # the period holding 9999-12-31 is the calendar's last
            break
        key = following
    return spans


@functools.lru_cache(maxsize=4096)  # asked about 21,000 times per full scorecard, of a few dozen periods
def span_length(span: PeriodSpan) -> Span:
    """Calendar days, weeks and months a period covers, with those the data covers when it is partial."""
    length = _length(span.start, span.end)
    return replace(length, covered=_length(*span.covered)) if span.covered else length


def _length(start: dt.date, end: dt.date) -> Span:
    days = (end - start).days + 1
    # ISO weeks and calendar months the period overlaps (a month period overlaps 5 or 6 weeks).
    weeks = (bucket_start(end, Period.WEEK) - bucket_start(start, Period.WEEK)).days // 7 + 1
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    return Span(days=days, weeks=weeks, months=months)


def coverage_details(span: PeriodSpan | None) -> dict[str, Any]:
    """What a partial period's record says of its coverage (nothing for a whole period)."""
    if span is None or not span.partial:
        return {}
    if span.covered is None:
        return {"covered_from": None, "covered_to": None, "covered_days": 0}
    first, last = span.covered
    return {"covered_from": first.isoformat(), "covered_to": last.isoformat(), "covered_days": (last - first).days + 1}


def _bounds(ctx: MetricContext, name: str, columns: tuple[str, ...]) -> tuple[dt.date | None, dt.date | None]:
    """First and last day over `columns` (time columns of table `name`), from the table's facts."""
    days = table_days(ctx, name)
    stray = [c for c in columns if c in ctx.tables[name].present and c not in days]
    if stray:
        raise ValueError(f"{name}.{stray[0]} is not a time column: it has no first and last day")
    lo = [d for d in (days.get(c, (None, None))[0] for c in columns) if d is not None]
    hi = [d for d in (days.get(c, (None, None))[1] for c in columns) if d is not None]
    return (min(lo) if lo else None, max(hi) if hi else None)


def last_day(ctx: MetricContext, name: str) -> dt.date | None:
    """The last day of a table by its time column (None without one or without rows)."""
    if name not in ctx.tables or ctx.tables[name].spec.time_column is None:
        return None
    return _bounds(ctx, name, (ctx.tables[name].spec.time_column,))[1]


def data_range(ctx: MetricContext, tables: Iterable[str],
               columns: Iterable[tuple[str, str]] = ()) -> tuple[dt.date, dt.date] | None:
    """First and last day with data in `tables`, by each table's time column, and in the (table, column) pairs
    a metric adds (resolution times count by `resolved_at`).

    A table's `range_columns` (a subscription's end) stretch the range, but not beyond today or the dataset's
    last day (the latest time-column value over every table), whichever is later, and always reach that last
    day: running subscriptions are reported to the end of the data, the month one ends in is reported, and
    one that ends in 2030 does not add empty years.
    """
    days: list[dt.date] = []
    for name in sorted(set(tables)):
        if name not in ctx.tables or ctx.tables[name].spec.time_column is None:
            continue
        spec = ctx.tables[name].spec
        days.extend(d for d in _bounds(ctx, name, (spec.time_column,)) if d is not None)  # type: ignore[arg-type]
        extra = [c for c in spec.range_columns if c in ctx.tables[name].present]
        if extra:
            last = _bounds(ctx, name, tuple(extra))[1]
            as_of = max((hi for hi in (last_day(ctx, t) for t in ctx.tables) if hi is not None), default=None)
            if as_of is not None:
                days.append(as_of)  # subscriptions still running are reported up to the data's last day
            if last is not None:
                # An end date in the future (a contract to 2030) stops at today, or at the data's last day.
                days.append(min(last, max(as_of or last, ctx.options.today)))
    for name, column in columns:
        if name in ctx.tables and column in ctx.tables[name].present:
            # A resolution dated 2099 (a typo) stops at today or the data's last day, whichever is later.
            cap = max(max(days, default=ctx.options.today), ctx.options.today)
            days.extend(min(d, cap) for d in _bounds(ctx, name, (column,)) if d is not None)
    if not days:
        return None
    return min(days), max(days)


def _overflowed(stats: Mapping[str, Any]) -> list[str]:
    """The aggregates that came back infinite or not a number: a sum or a mean beyond the largest double."""
    return sorted(name for name, value in stats.items() if isinstance(value, float) and not math.isfinite(value))


def _overflow_reason(metric: Metric, names: Sequence[str]) -> str:
    return (f"overflow: a sum over the {metric.what_is_counted} ({', '.join(names)}) is beyond ±1.8e308, the largest "
            "number a double holds; a value in the input is far too large (a typo or a wrong unit?): look at the "
            "largest values")


def _count_of(stats: Mapping[str, Any]) -> int:
    n = stats.get("n")
    return int(n) if isinstance(n, int) or (isinstance(n, float) and n.is_integer()) else 0


_WHERE_COUNT = "_where_n"  # a shared query's count of the rows a metric's `where` keeps


def _restricted(value: ir.Scalar, predicate: ir.BooleanValue) -> ir.Scalar:
    """`value` with every aggregate in it over only the rows where `predicate` holds (SQL's FILTER clause), so
    that a metric with a `where` shares the query of the metrics that read all the rows."""
    condition = predicate.op()

    def restrict(node: ops.Node, kwargs: dict[str, Any]) -> ops.Node:
        new = node.copy(**kwargs) if kwargs else node
        if isinstance(new, ops.Reduction) and "where" in new.__argnames__:
            new = new.copy(where=condition if new.where is None else ops.And(new.where, condition))
        return new

    # Only the value's own nodes: the relation it reads is not rewritten (its windows hold reductions too).
    return value.op().replace(restrict, filter=ops.Value).to_expr()


def _clean(value: Any) -> Any:
    """Round floats for output; NaN and infinities become None (they never reach an output)."""
    if isinstance(value, float):
        return round(value, _DECIMALS) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class _Step:
    """What one metric's computation knows: the metric, its context (with its periods), its period grid and its
    run-level details. Made per metric and passed down; the engine keeps no per-metric state."""

    metric: Metric
    ctx: MetricContext
    grid: tuple[PeriodSpan, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)


#: What --compare needs of a record: its metric, estimate, aggregates and period (by metric id and record key).
_Tested = tuple[Metric, Estimate, dict[str, Any], PeriodSpan]


class Engine:
    """Computes typed records for a list of metrics over validated tables."""

    def __init__(self, ctx: MetricContext, metrics: Sequence[Metric], benchmarks: BenchmarkLibrary | None = None,
                 basis: dict[str, frozenset[str]] | None = None) -> None:
        """`basis`: per derived metric, the components that had a value in the main run; a --compare window
        takes the main run's (CLV from orders in both, not from ARPU in a window without orders)."""
        self.ctx = ctx
        self.basis: dict[str, frozenset[str]] = dict(basis or {})
        self.benchmarks = benchmarks or BenchmarkLibrary.builtin()
        self.metrics = list(metrics)
        self.options = ctx.options
        self._check_segments()
        self._done: dict[str, list[MetricRecord]] = {}  # records by metric id, for derived metrics
        self._tested: dict[tuple[str, RecordKey], _Tested] = {}  # for --compare
        #: aggregates computed ahead for metrics that share their rows (`_prefetch_shared_rows`), by metric id
        self._prefetched: dict[str, dict[GroupKey, dict[dt.date, dict[str, Any]]]] = {}

    def _grid_for(self, metric: Metric) -> tuple[PeriodSpan, ...]:
        """The periods a metric reports: from its own tables' first to last day (or --from/--to).

        A metric's `period_extend_tables` may carry the last day of `--period all` further (CAC: customers won
        after the last spend row, a month's budget booked on its first day, still count).
        """
        bounds = data_range(self.ctx, metric.period_tables or metric.inputs, metric.period_columns)
        if bounds is not None and self.options.period is Period.ALL and metric.period_extend_tables:
            # By the tables' own time columns only (the last customer won), not a subscription's end.
            lasts = [hi for hi in (last_day(self.ctx, t) for t in metric.period_extend_tables) if hi is not None]
            if lasts and max(lasts) > bounds[1]:
                bounds = (bounds[0], max(lasts))
        if bounds is None:
            first = self.options.start or self.options.end
            if first is None:
                return ()
            return tuple(period_grid(first, self.options.end or first, self.options))
        return tuple(span.covering(*bounds) for span in period_grid(*bounds, self.options))

    def _check_segments(self) -> None:
        for column in self.options.segments:
            if "customers" not in self.ctx.tables:
                raise UsageError(f"--segment {column} needs a customers table in the source (customers.csv or .parquet)")
            if column == "customer_id" or column not in self.ctx.tables["customers"].present:
                present = sorted(c for c in self.ctx.tables["customers"].present if c not in ("customer_id", "signup_at"))
                raise UsageError(f"--segment {column}: customers has no such column; "
                                 f"segment by one of: {', '.join(present) or 'none (add segment, plan or region)'}")

    def run(self, on_metric: Callable[[Metric], None] | None = None) -> list[MetricRecord]:
        """Every metric's records, in the order of the metrics given; `on_metric` is called after each one (the
        CLI's progress bar)."""
        self._prefetch_shared_rows(self.metrics)
        records: list[MetricRecord] = []
        for metric in self.metrics:
            records.extend(self._records_once(metric))
            if on_metric is not None:
                on_metric(metric)
        return records

    def segments_of(self, metric: Metric) -> tuple[str, ...]:
        """The --segment columns a metric is repeated for: none when its rows belong to no customer (campaigns,
        social posts, mentions, stock prices, capex: no input table has a customer column), where every segment
        would repeat the whole dataset's value under "plan None"."""
        if not metric.by_customer_segment:
            return ()
        tables = [TABLES_BY_NAME.get(t) for t in metric.inputs]
        if tables and all(t is not None and t.entity_column is None for t in tables):
            return ()
        return self.options.segments

    def _prefetch_shared_rows(self, metrics: Sequence[Metric]) -> None:
        """One query for the metrics that aggregate the same rows over the same periods and breakdowns (sessions,
        pages per session, session duration and time on site all read the session table; pageviews, time on page,
        exit rate and scroll depth the pageview window): their aggregates are computed side by side in one pass,
        instead of one pass per metric. Rows are the same when their expressions are (whichever function made
        them); a metric's `where` is applied inside its own aggregates."""
        groups: dict[tuple, list[tuple[Metric, MetricContext, tuple[PeriodSpan, ...], ir.Table]]] = {}
        for metric in metrics:
            if isinstance(metric, DerivedMetric) or metric.rows is None or metric.id in self._done:
                continue
            if missing_events(self.ctx, metric):
                continue  # unavailable on its own
            grid = self._grid_for(metric)
            if not grid:
                continue
            ctx = replace(self.ctx, periods=tuple((span.key, span.start, span.end) for span in grid))
            try:
                rows = metric.rows(ctx)
            except MetricUnavailable:
                continue  # says so on its own
            key = (rows.op(), grid, metric.dimensions, metric.by_customer_segment)
            groups.setdefault(key, []).append((metric, ctx, grid, rows))
        for members in groups.values():
            if len(members) < 2:
                continue
            first, ctx, grid, rows = members[0]

            def aggregates(t: ir.Table, members: list[Metric] = [m for m, *_ in members]) -> dict[str, ir.Scalar]:
                out: dict[str, ir.Scalar] = {}
                for i, m in enumerate(members):
                    measures = m.estimator.aggregates(t)
                    if m.where is not None:
                        predicate = m.where(t)
                        measures = {name: _restricted(value, predicate) for name, value in measures.items()}
                        measures[_WHERE_COUNT] = t.count(where=predicate)
                    out.update({f"m{i}_{name}": value for name, value in measures.items()})
                return out

            combined = self._aggregate(_Step(first, ctx, grid), rows, aggregates)
            for i, (metric, *_) in enumerate(members):
                prefix = f"m{i}_"
                split: dict[GroupKey, dict[dt.date, dict[str, Any]]] = {}
                for key, by_period in combined.items():
                    for period, row in by_period.items():
                        own = {name[len(prefix):]: value for name, value in row.items() if name.startswith(prefix)}
                        # A group with none of the metric's rows is absent, as when the rows are filtered first.
                        if metric.where is not None and not own.pop(_WHERE_COUNT):
                            continue
                        split.setdefault(key, {})[period] = own
                self._prefetched[metric.id] = split

    def _records_once(self, metric: Metric) -> list[MetricRecord]:
        """A metric's records, computed once per run (a derived metric's components are often also shown)."""
        if metric.id not in self._done:
            self._done[metric.id] = self.metric_records(metric)
        return self._done[metric.id]

    # -- one metric ---------------------------------------------------------------------------------

    def metric_records(self, metric: Metric) -> list[MetricRecord]:
        """One metric's records: every period, segment and breakdown."""
        if isinstance(metric, DerivedMetric):
            return self._derived_records(metric)
        grid = self._grid_for(metric)
        ctx = replace(self.ctx, periods=tuple((span.key, span.start, span.end) for span in grid))
        spans: tuple[PeriodSpan | None, ...] = grid or (None,)
        assert metric.rows is not None, f"{metric.id} declares no rows"
        missing = missing_events(ctx, metric)
        if missing:
            reason = missing_events_reason(ctx, missing)
            return [self._unavailable(metric, span, {}, None, reason, details=event_details(ctx, metric))
                    for span in spans]
        try:
            rows = metric.rows(ctx)
        except MetricUnavailable as exc:
            return [self._unavailable(metric, span, {}, None, str(exc)) for span in spans]
        if metric.where is not None:
            rows = rows.filter(metric.where(rows))
        if not grid:
            return [self._unavailable(metric, None, {}, None, f"no {metric.what_is_counted} in the source")]
        step = _Step(metric, ctx, grid)
        stats = self._prefetched.pop(metric.id, None)
        if stats is None:
            stats = self._aggregate(step, rows, metric.estimator.aggregates)
        extra = {**event_details(ctx, metric), **(metric.extra_details(ctx) if metric.extra_details else {})}
        if extra:
            step = replace(step, extra=extra)
        return self._build(step, stats)

    def _derived_records(self, metric: DerivedMetric) -> list[MetricRecord]:
        """Records of a metric combined from its components' records of the same period, segment and breakdown."""
        whole_run = self.options.period is Period.ALL

        def key_of(record: MetricRecord) -> RecordKey | tuple[str, str, Any, Any]:
            # Under --period all each component has one period over its own data: they are matched whatever its
            # dates, and the combined record takes the first component's (CLV's AOV, CLV:CAC's CLV).
            key = record.key
            return ("*", "*", key[2], key[3]) if whole_run and key[0] is not None else key

        by_component: dict[str, dict[Any, MetricRecord]] = {}
        for component in metric.components:
            by_component[component.id] = {key_of(r): r for r in self._records_once(component)}
        in_run = self.basis.setdefault(metric.id, frozenset(
            cid for cid, indexed in by_component.items() if any(r.ok for r in indexed.values())))
        # Every period and segment of any component. A breakdown (by its column names) only when every component
        # with a value in the run is broken down by it, and a value of it where every required component has a
        # record: CLV's components and CAC have acquisition channels, so CLV:CAC is reported per acquisition
        # channel; CAC's segments and AOV's sales channels are not shared, so not combined. An optional component
        # without a record for the value is passed as None (CLV of a channel that won nobody that month).
        broken_by = {cid: {tuple(name for name, _ in k[3]) for k in indexed if k[3]}
                     for cid, indexed in by_component.items()}
        required = [cid for cid in by_component if cid not in metric.optional_components]

        def combinable(k: Any) -> bool:
            names = tuple(name for name, _ in k[3])
            return (all(names in broken_by[cid] for cid in in_run | set(required))
                    and all(k in by_component[cid] for cid in required))

        keys = {k for indexed in by_component.values() for k in indexed if k[3] == () or combinable(k)}
        if any(k[0] is not None for k in keys):
            keys = {k for k in keys if k[0] is not None}  # a component without data has one period-less record
        order = sorted(keys, key=lambda k: (k[2] != (), _sortable_items(k[2]), k[3] != (), _sortable_items(k[3]),
                                            str(k[0] or "")))
        records: list[MetricRecord] = []
        previous: dict[tuple, tuple[Estimate, dict[str, Any]] | None] = {}
        for key in order:  # per segment and breakdown, periods oldest first
            segment, dimension = dict(key[2]), (dict(key[3]) or None)
            found = [indexed[key] for indexed in by_component.values() if key in indexed]
            span = record_span(found[0]) if key[0] is not None and found else None
            series = (key[2], key[3])
            parts: dict[str, MetricRecord | None] = {}
            missing = []
            for cid, indexed in by_component.items():
                record = indexed.get(key)
                if record is not None and record.ok:
                    # Combined from the unrounded value: rounding each component first shifts the result (CLV:CAC
                    # of exactly 3 read 2.999999, rated below the 3:1 line).
                    exact = record.exact_value
                    parts[cid] = record if exact is None or exact == record.value else record.evolve(value=exact)
                elif cid in metric.optional_components:
                    parts[cid] = None
                else:
                    reason = (record.reason if record else None) or "no record for this period, segment or breakdown"
                    missing.append(f"{cid}: {reason}")
            if span is None:  # no component has any period: say why each has none
                missing = [f"{cid}: {(indexed[key].reason if key in indexed else None) or 'no data'}"
                           for cid, indexed in by_component.items()]
            if span is None or missing:
                records.append(self._unavailable(metric, span, segment, dimension, "needs " + "; ".join(missing)))
                previous[series] = None
                continue
            estimate = metric.combine(parts, span_length(span), self.options, in_run)
            records.append(self._record(metric, span, segment, dimension, estimate, {}, previous.get(series)))
            previous[series] = (estimate, {}) if estimate.value is not None else None
        # A breakdown value without a value in any period is left out (the overall records say why there is none).
        valued = {r.series_key for r in records if r.ok}
        return [r for r in records if r.dimension is None or r.series_key in valued]

    def _aggregate(self, step: _Step, rows: ir.Table, aggregates: Callable[[ir.Table], dict[str, ir.Scalar]],
                   ) -> dict[GroupKey, dict[dt.date, dict[str, Any]]]:
        """The aggregates per period, for the whole dataset, each segment and each breakdown: one query, the union
        of every grouping, bringing back only the aggregates."""
        metric, ctx = step.metric, step.ctx
        lo, hi = step.grid[0].start, step.grid[-1].end
        start_ts = ibis.literal(midnight(lo), type="timestamp")
        rows = rows.filter((rows.ts >= start_ts) & before_day_after(rows.ts, hi))
        rows = rows.mutate(_period=ctx.period_key(rows.ts))
        dimensions = [d for d in metric.dimensions if all(c in rows.columns for c in _columns(d))]
        out: dict[GroupKey, dict[dt.date, dict[str, Any]]] = {}
        parts: list[ir.Table] = []
        segments = self.segments_of(metric)
        flat = [d for d in dimensions if not any(rows[c].type().is_array() for c in _columns(d))]
        grouping_sets = bool(flat) and _grouping_sets_supported(ctx.con)
        if grouping_sets:
            # The overall rows, every segment and every breakdown of plain columns in one pass (GROUPING SETS),
            # instead of one pass over the rows per breakdown: on 18.9 M events a breakdown cost as much as the
            # overall, and the pageview window would be made again for each.
            self._grouping_sets(ctx, rows, segments, flat, aggregates, out)
        for segment in (None, *segments):
            base = rows
            if segment is not None:
                base = _with_segment(ctx, rows, segment, "_seg_value")
            branches: list[Any] = [d for d in dimensions if d not in flat] if grouping_sets else [None, *dimensions]
            for dimension in branches:
                columns = () if dimension is None else _columns(dimension)
                t = base
                for column in columns:
                    if t[column].type().is_array():
                        # A list (a ticket's tags): the row counts once under each of its values.
                        t = t.mutate(**{column: t[column].unnest()})
                    t = t.filter(t[column].notnull())
                keys = [t._period]
                if segment is not None:
                    keys.append(t._seg_value)
                if columns:
                    # Several columns travel as one text key, split again when the records are built.
                    keys.append(_dimension_key(t, columns).name("_dim_value"))
                measures = aggregates(t)
                grouped = t.group_by(keys).aggregate(**measures)
                parts.append(grouped.select(
                    _period=grouped._period,
                    _seg_name=ibis.literal(segment, type="string"),
                    _seg_value=grouped._seg_value if segment is not None else ibis.null("string"),
                    _dim_name=ibis.literal(_KEY_SEPARATOR.join(columns) if columns else None, type="string"),
                    _dim_value=grouped._dim_value if columns else ibis.null("string"),
                    **{name: grouped[name] for name in measures},
                ))
        if parts:
            query = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
            for row in to_arrow(ctx.con, query).to_pylist():
                key = (row.pop("_seg_name"), row.pop("_seg_value"), row.pop("_dim_name"), row.pop("_dim_value"))
                period = row.pop("_period")
                out.setdefault(key, {})[period] = row
        return out

    @staticmethod
    def _grouping_sets(ctx: MetricContext, rows: ir.Table, segments: tuple[str, ...],
                       dimensions: list[str | tuple[str, ...]],
                       aggregates: Callable[[ir.Table], dict[str, ir.Scalar]],
                       out: dict[GroupKey, dict[dt.date, dict[str, Any]]]) -> None:
        """The aggregates per period overall, per segment value, per value of each dimension and per segment value
        and value of each dimension, in one query: Ibis compiles the finest grouping, whose GROUP BY becomes
        GROUPING SETS ((period), (period, dimension 1), ..., (period, segment), (period, segment, dimension 1)...).
        A value of a dimension is its columns as one text key, null when one of them is (those rows are in no
        breakdown, as when they are filtered out); a segment's null value is a segment value ("plan None"), as in
        a plain GROUP BY. GROUPING() tells which keys each result row is grouped by."""
        t = rows
        for j, segment in enumerate(segments):
            t = _with_segment(ctx, t, segment, f"_s{j}")  # a customer's value: one row each, no row repeated
        keys = {f"_d{i}": ibis.cases((ibis.and_(*[t[c].notnull() for c in _columns(d)]),
                                      _dimension_key(t, _columns(d))), else_=ibis.null("string"))
                for i, d in enumerate(dimensions)}
        t = t.mutate(**keys)
        segment_keys = [f"_s{j}" for j in range(len(segments))]
        names = ["_period", *segment_keys, *keys]
        measures = aggregates(t)
        grouped = t.group_by(names).aggregate(**measures)
        query = ctx.con.compiler.to_sqlglot(grouped)
        if not isinstance(query, sge.Select) or query.args.get("group") is None:
            raise AssertionError(f"unexpected SQL for GROUPING SETS: {query.sql()[:200]}")
        # The grouping keys are the select's first columns (Ibis groups by their positions).
        by_name = dict(zip(names, (e.unalias() for e in query.expressions[:len(names)]), strict=True))
        choices: list[tuple[str | None, str | None]] = [(s, d) for s in (None, *segment_keys) for d in (None, *keys)]
        sets = [sge.Tuple(expressions=[by_name[n].copy() for n in ("_period", s, d) if n is not None])
                for s, d in choices]
        query.set("group", sge.Group(grouping_sets=[sge.GroupingSets(expressions=sets)]))
        flagged = [*segment_keys, *keys]
        flags = [sge.Cast(this=sge.Anonymous(this="GROUPING", expressions=[by_name[n].copy()]),
                          to=sge.DataType.build("bigint")).as_(f"_g{n}") for n in flagged]
        query.set("expressions", [*query.expressions[:len(names)], *flags, *query.expressions[len(names):]])
        schema = ibis.schema({**{n: grouped.schema()[n] for n in names}, **{f"_g{n}": "int64" for n in flagged},
                              **{n: grouped.schema()[n] for n in measures}})
        register_in_memory_tables(ctx.con, grouped)
        dimension_names = dict(zip(keys, (_KEY_SEPARATOR.join(_columns(d)) for d in dimensions), strict=True))
        segment_names = dict(zip(segment_keys, segments, strict=True))
        for row in sql_to_arrow(ctx.con, query.sql(dialect=ctx.con.dialect), schema).to_pylist():
            period = row.pop("_period")
            values = {n: row.pop(n) for n in flagged}
            on = [n for n in flagged if row.pop(f"_g{n}") == 0]
            segment = next((n for n in on if n in segment_names), None)
            dimension = next((n for n in on if n in dimension_names), None)
            if dimension is not None and values[dimension] is None:
                continue  # the rows without a value of this dimension: in no breakdown
            key: GroupKey = (segment_names[segment] if segment else None, values[segment] if segment else None,
                             dimension_names[dimension] if dimension else None,
                             values[dimension] if dimension else None)
            out.setdefault(key, {})[period] = row

    def _build(self, step: _Step, stats: dict[GroupKey, dict[dt.date, dict[str, Any]]]) -> list[MetricRecord]:
        metric = step.metric
        records: list[MetricRecord] = []
        segment_keys: list[tuple[str | None, str | None]] = [(None, None)]
        for column in self.segments_of(metric):
            values = sorted({k[1] for k in stats if k[0] == column}, key=lambda v: (v is None, v or ""))
            segment_keys.extend((column, v) for v in values)
        for seg_name, seg_value in segment_keys:
            segment = {} if seg_name is None else {seg_name: seg_value}
            overall = stats.get((seg_name, seg_value, None, None), {})
            if metric.overall:
                records.extend(self._series(step, segment, None, overall, overall, every_period=True))
            names = [d if isinstance(d, str) else _KEY_SEPARATOR.join(d) for d in metric.dimensions]
            dim_keys = sorted((k for k in stats if k[0] == seg_name and k[1] == seg_value and k[2] is not None),
                              key=lambda k: (names.index(k[2]) if k[2] in names else 99, _sortable(k[2], k[3])))
            dimension_records: list[MetricRecord] = []
            for key in dim_keys:
                assert key[2] is not None
                dimension = dict(zip(key[2].split(_KEY_SEPARATOR), _typed_parts(key[2], key[3]), strict=True))
                dimension_records.extend(self._series(step, segment, dimension, stats[key], overall, every_period=False))
            if metric.rank_dimension:
                dimension_records = _ranked(dimension_records)
            records.extend(dimension_records)
            if not metric.overall and not dim_keys:
                # A metric reported only per breakdown still says, per period, that it has nothing to show.
                records.extend(self._unavailable(metric, span, segment, None, f"no {metric.what_is_counted} in this period")
                               for span in step.grid)
        return records

    def _series(self, step: _Step, segment: dict[str, Any], dimension: dict[str, Any] | None,
                by_period: dict[dt.date, dict[str, Any]], overall: dict[dt.date, dict[str, Any]],
                every_period: bool) -> list[MetricRecord]:
        metric = step.metric
        records = []
        previous: tuple[Estimate, dict[str, Any]] | None = None
        previous_span: Span | None = None  # the calendar length of the period `previous` belongs to
        previous_overall: dict[str, Any] | None = None  # and its group's aggregates without dimension
        # A count over an input that exists: a period without rows counts 0, it is not unknown. Per breakdown
        # too for counts of events (tickets per channel, pageviews per page): the period after a value was
        # seen gets a 0 record (3 → 0 is tested) and a value that reappears is compared with 0, without a
        # record for every page in every day.
        counts_events = getattr(metric.estimator, "test", None) is ChangeTest.POISSON
        # Totals carry zero aggregates, so --compare can test (counts) and scale (accumulating totals) them.
        zero = {"n": 0, "total": 0.0} if isinstance(metric.estimator, (Total, Sum)) else {}
        for span in step.grid:
            current = by_period.get(span.key)
            if current is None and counts_events and not every_period:
                if previous is not None and previous[0].value:
                    period_total = (overall.get(span.key) or {}).get("total") or 0
                    estimate = Estimate(0.0, 0, details={"share_pct": 0.0}
                                        if getattr(metric.estimator, "share_of_overall", False) and period_total else {})
                    records.append(self._record(metric, span, segment, dimension, estimate, zero, previous,
                                                previous_span))
                previous, previous_span, previous_overall = (Estimate(0.0, 0), zero), span_length(span), None
                continue
            if current is None and metric.estimator.empty_value is not None and every_period:
                estimate = Estimate(metric.estimator.empty_value, 0)
                records.append(self._record(metric, span, segment, dimension, estimate, zero, previous, previous_span))
                previous, previous_span, previous_overall = (estimate, zero), span_length(span), overall.get(span.key)
                continue
            if current is None:
                if every_period:
                    records.append(self._unavailable(metric, span, segment, dimension,
                                                     f"no {metric.what_is_counted} in this period"))
                previous = None
                continue
            overflowed = _overflowed(current)
            if overflowed:
                records.append(self._unavailable(
                    metric, span, segment, dimension, _overflow_reason(metric, overflowed), n=_count_of(current),
                    details={"overflowed": overflowed}))
                previous = None
                continue
            estimate = metric.estimator.estimate(current, overall.get(span.key), span_length(span))
            if step.extra:
                # Run-level details fill in; what the period's own estimate says wins (growth_vs_baseline).
                estimate = _clip_to_scale(replace(estimate, details={
                    **{k: v for k, v in step.extra.items() if k not in estimate.details}, **estimate.details}))
            records.append(self._record(metric, span, segment, dimension, estimate, current, previous, previous_span,
                                        (overall.get(span.key), previous_overall)))
            previous, previous_span, previous_overall = (estimate, current), span_length(span), overall.get(span.key)
        return records

    def _unavailable(self, metric: Metric, span: PeriodSpan | None, segment: dict[str, Any],
                     dimension: dict[str, Any] | None, reason: str, n: int = 0,
                     details: dict[str, Any] | None = None) -> MetricRecord:
        return MetricRecord(
            id=metric.id, period_start=span.start if span else None, period_end=span.end if span else None,
            segment=segment, dimension=dimension, value=None, unit=metric.unit.value, n=n,
            benchmark=self._benchmark(metric, None, {}, segment), status="unavailable", reason=reason,
            details=_clean({**(details or {}), **coverage_details(span)}), partial=bool(span and span.partial))

    def _benchmark(self, metric: Metric, value: float | None, details: Mapping[str, Any],
                   segment: dict[str, Any]) -> Rating | None:
        """The rating of a value: its band (or None), the source, what was applied (library, vertical NAME or
        file) and, when --benchmarks sets one, the target and whether it is met."""
        bench = self.benchmarks.lookup(metric.id, self.options.vertical, segment)
        if bench is None:
            return None
        scale = details.get(metric.benchmark_scale_detail) if metric.benchmark_scale_detail else None
        # Bands for one reporting period only (monthly pageviews) say nothing about a week.
        rating = bench.rate(value, scale) if bench.period in (None, self.options.period.value) else None
        met = None
        if bench.target is not None and value is not None and metric.direction.value in ("up", "down"):
            met = value >= bench.target if metric.direction.value == "up" else value <= bench.target
        return Rating(rating, bench.source, bench.applied, target=bench.target, target_met=met,
                      has_target=bench.target is not None)

    def _record(self, metric: Metric, span: PeriodSpan, segment: dict[str, Any], dimension: dict[str, Any] | None,
                estimate: Estimate, current: dict[str, Any],
                previous: tuple[Estimate, dict[str, Any]] | None, previous_span: Span | None = None,
                overall: tuple[dict[str, Any] | None, dict[str, Any] | None] | None = None) -> MetricRecord:
        value = _clean(estimate.value)
        if value is None and estimate.value is not None:
            # Finite aggregates, but the value made of them is not (a sum near the largest double × 100).
            return self._unavailable(metric, span, segment, dimension, _overflow_reason(metric, ["value"]),
                                     n=estimate.n, details={**estimate.details, "overflowed": ["value"]})
        if value is None:
            reason = estimate.reason or "nothing to divide by"
            if reason == "no answers":
                reason = f"no {metric.what_is_counted} in this period"
            return self._unavailable(metric, span, segment, dimension, reason, n=estimate.n, details=estimate.details)
        change = None
        if previous is not None and previous[0].value is not None and math.isfinite(previous[0].value):
            comparison = self._comparison(metric, estimate, current, previous, span, previous_span, overall)
            change = Change(
                previous=_clean(previous[0].value),
                delta=_clean(estimate.value - previous[0].value),
                significant=comparison.significant if comparison else None,
                # p in full precision: rounded to 6 decimals like values, 1.6e-7 would read as the p of 0.
                p_value=comparison.p_value if comparison else None,
                test=comparison.test.value if comparison else None,
            )
        warning = None
        if metric.estimator.sampled and estimate.n < self.options.min_sample:
            warning = (f"small sample: {estimate.n} {metric.what_is_counted}, fewer than "
                       f"{self.options.min_sample}; read the interval, not the point value")
        record = MetricRecord(
            id=metric.id, period_start=span.start, period_end=span.end, segment=segment, dimension=dimension,
            value=value, unit=metric.unit.value, n=estimate.n, ci_low=_clean(estimate.ci_low),
            ci_high=_clean(estimate.ci_high), benchmark=self._benchmark(metric, estimate.value, estimate.details, segment),
            change=change, status="ok", warning=warning, details=_clean({**estimate.details, **coverage_details(span)}),
            partial=span.partial, exact_value=estimate.value)
        if current:
            self._tested[(metric.id, record.key)] = (metric, estimate, current, span)
        return record

    def _comparison(self, metric: Metric, estimate: Estimate, current: dict[str, Any],
                    previous: tuple[Estimate, dict[str, Any]], span: PeriodSpan, previous_span: Span | None,
                    overall: tuple[dict[str, Any] | None, dict[str, Any] | None] | None) -> Comparison | None:
        """The test of the change from the previous period, or None: no test applies, or a large-sample test
        on fewer than --min-sample answers (or trials) in either period, where it would say nothing."""
        counts = metric.estimator.empty_value is not None  # a period without rows is 0, still testable
        if (not current or not previous[1]) and not counts:
            return None
        spans = (span_length(span), previous_span) if previous_span is not None else None
        comparison = metric.estimator.compare(current, previous[1], spans, overall)
        if comparison is None or not math.isfinite(comparison.p_value):
            return None
        if comparison.large_sample and min(estimate.n, previous[0].n) < self.options.min_sample:
            return None
        return comparison

    def compared(self, records: Sequence[MetricRecord], window: Engine, window_records: Sequence[MetricRecord],
                 first: dt.date, last: dt.date) -> list[MetricRecord]:
        """The records with `compared_with` on every one with a value: the same metric, segment and breakdown over
        the window first..last (`--compare`, e.g. a campaign's start and end), the delta and its test."""
        by_series = {r.series_key: r for r in window_records}
        out = []
        for record in records:
            if not record.ok or record.value is None:
                out.append(record)
                continue
            other = by_series.get(record.series_key)
            comparison = WindowComparison(first, last)
            if other is not None and other.ok and other.value is not None:
                comparison = replace(comparison, value=other.value, delta=_clean(record.value - other.value))
                mine, theirs = self._tested.get((record.id, record.key)), window._tested.get((other.id, other.key))
                if mine and theirs:
                    metric, estimate, stats, span = mine
                    test = self._comparison(metric, estimate, stats, (theirs[1], theirs[2]), span,
                                            span_length(theirs[3]), None)
                    if test is not None:
                        comparison = replace(comparison, significant=test.significant, p_value=test.p_value,
                                             test=test.test.value)
                    mine_days, theirs_days = span_length(span).days, span_length(theirs[3]).days
                    if metric.accumulates and mine_days != theirs_days:
                        # A total over a window of another length is compared per day (as the Poisson test
                        # does): the window's total scaled to this period's days, the total itself kept beside.
                        scaled = other.value * mine_days / theirs_days
                        comparison = replace(comparison, value=_clean(scaled), delta=_clean(record.value - scaled),
                                             window_total=other.value, scaled_to_days=mine_days)
            out.append(record.evolve(compared_with=comparison))
        return out


def record_span(record: MetricRecord) -> PeriodSpan | None:
    """The period a record covers (None for a period-less record), with the days its data covers when partial."""
    if record.period_start is None or record.period_end is None:
        return None
    span = PeriodSpan(record.period_start, record.period_start, record.period_end)
    if not record.partial:
        return span
    first, last = record.details.get("covered_from"), record.details.get("covered_to")
    if first is None or last is None:
        return replace(span, partial=True)
    return span.covering(dt.date.fromisoformat(first), dt.date.fromisoformat(last))


def _with_segment(ctx: MetricContext, rows: ir.Table, segment: str, name: str) -> ir.Table:
    """`rows` with their customer's `segment` value as text in column `name` (null without a customer)."""
    customers = ctx.tables["customers"].expr
    lookup = customers.select(_seg_id=customers.customer_id, **{name: customers[segment].cast("string")})
    return rows.left_join(lookup, rows._entity == lookup._seg_id).drop("_seg_id")


def _columns(dimension: str | tuple[str, ...]) -> tuple[str, ...]:
    return (dimension,) if isinstance(dimension, str) else dimension


def _dimension_key(t: ir.Table, columns: tuple[str, ...]) -> ir.StringValue:
    """A breakdown's columns as one text key, split again when the records are built."""
    return ibis.literal(_KEY_SEPARATOR).join([t[c].cast("string") for c in columns])


#: Ibis backends whose SQL has GROUPING SETS and GROUPING() (SQLite and MySQL have neither).
_GROUPING_SETS_BACKENDS = frozenset({"duckdb", "pyspark", "databricks", "postgres", "snowflake", "bigquery", "trino",
                                     "athena", "mssql", "oracle", "clickhouse"})


def _grouping_sets_supported(con: Any) -> bool:
    """Whether GROUPING SETS are written into the SQL Ibis compiles for this backend (through sqlglot). Any other
    backend gets one query per breakdown, unioned."""
    return (getattr(con, "name", None) in _GROUPING_SETS_BACKENDS and hasattr(con, "compiler")
            and hasattr(con.compiler, "to_sqlglot") and hasattr(con, "sql"))


def _sortable_items(items: tuple[tuple[str, Any], ...]) -> tuple:
    """Segment or breakdown items in a sortable form: a null value after the others (as in the records' order)."""
    return tuple((name, value is None, "" if value is None else str(value)) for name, value in items)


#: breakdown columns whose values are whole numbers (a cohort offset of 3, not "3")
INTEGER_DIMENSIONS = frozenset({"offset"})


def _typed_parts(names: str, key: str | None) -> list[Any]:
    """The values of a breakdown key, in the order of its column names."""
    parts: list[Any] = []
    columns = names.split(_KEY_SEPARATOR)
    # At most one cut per column boundary: a one-column value holding the separator (a page "a␟b") stays whole.
    for name, part in zip(columns, (key or "").split(_KEY_SEPARATOR, len(columns) - 1), strict=True):
        parts.append(int(part) if name in INTEGER_DIMENSIONS else part)
    return parts


def _sortable(names: str, key: str | None) -> tuple:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in _typed_parts(names, key))


def _ranked(records: list[MetricRecord]) -> list[MetricRecord]:
    """The records with details.rank per (dimension name, period): 1 = highest value."""
    groups: dict[tuple, list[int]] = {}
    for position, record in enumerate(records):
        if record.value is not None:
            groups.setdefault((tuple(record.dimension or {}), record.period_start), []).append(position)
    ranks: dict[int, int] = {}
    for members in groups.values():
        ordered = sorted(members, key=lambda i: -records[i].value)  # type: ignore[operator]
        for place, index in enumerate(ordered, start=1):
            # Ties share the better rank (1, 1, 3): competition ranking.
            earlier = ordered[place - 2] if place > 1 else None
            tied = earlier is not None and records[earlier].value == records[index].value
            ranks[index] = ranks[earlier] if tied and earlier is not None else place
    return [r.evolve(details={**r.details, "rank": ranks[i]}) if i in ranks else r for i, r in enumerate(records)]


def _clip_to_scale(estimate: Estimate) -> Estimate:
    """A mean's interval cannot leave its answer scale (a CES interval below 1 on a 1-7 scale)."""
    low, high = estimate.details.get("scale_min"), estimate.details.get("scale_max")
    if low is None or high is None or estimate.ci_low is None or estimate.ci_high is None:
        return estimate
    return replace(estimate, ci_low=max(float(low), estimate.ci_low), ci_high=min(float(high), estimate.ci_high))
