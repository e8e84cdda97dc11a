"""The Python API: `cxbench.compute(source, ...)` returns a `Scorecard`."""

from __future__ import annotations

import datetime as dt
import html
import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from ibis.backends import BaseBackend

from cxbench import __version__
from cxbench.core import arrow
from cxbench.core.engine import Engine
from cxbench.core.benchmarks import LABELS, BenchmarkLibrary
from cxbench.core.errors import UsageError
from cxbench.core.options import DEFAULTS, Options, Period, TimeUnit, make_options
from cxbench.core.records import Finding, MetricRecord
from cxbench.core.registry import DerivedMetric, Metric, MetricContext
from cxbench.core.reporting import prepare
from cxbench.core.sources import Dataset, IgnoredFile, describe, open_source
from cxbench.core.validation import Validation, validate
from cxbench.findings import findings, latest_records
from cxbench.metrics import METRICS_BY_ID, REGISTRY
from cxbench.output import redact

if TYPE_CHECKING:
    import pandas as pd

    from cxbench.analyses.drivers import KeyDrivers
    from cxbench.analyses.funnel import Funnel
    from cxbench.analyses.paths import TopPaths
    from cxbench.analyses.themes import CommentThemes
    from cxbench.lifetime_value import ClvForecast

#: Flat columns of `Scorecard.to_arrow()`, `to_pandas()` and the CSV output, in order.
FLAT_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("id", pa.string()),
    ("name", pa.string()),
    ("family", pa.string()),
    ("period_start", pa.string()),
    ("period_end", pa.string()),
    ("segment_column", pa.string()),
    ("segment_value", pa.string()),
    ("dimension_column", pa.string()),
    ("dimension_value", pa.string()),
    ("value", pa.float64()),
    ("unit", pa.string()),
    ("n", pa.int64()),
    ("ci_low", pa.float64()),
    ("ci_high", pa.float64()),
    ("benchmark_rating", pa.string()),
    ("benchmark_source", pa.string()),
    ("benchmark_applied", pa.string()),
    ("previous", pa.float64()),
    ("delta", pa.float64()),
    ("significant", pa.bool_()),
    ("p_value", pa.float64()),
    ("change_test", pa.string()),
    ("status", pa.string()),
    ("reason", pa.string()),
    ("warning", pa.string()),
    ("partial", pa.bool_()),
    ("benchmark_target", pa.float64()),
    ("benchmark_target_met", pa.bool_()),
    ("compared_from", pa.string()),
    ("compared_to", pa.string()),
    ("compared_value", pa.float64()),
    ("compared_delta", pa.float64()),
    ("compared_significant", pa.bool_()),
    ("compared_p_value", pa.float64()),
    ("compared_test", pa.string()),
    ("details", pa.string()),  # the record's details as JSON text
)

#: rows of the summary `repr(card)` and `_repr_html_` show
_REPR_ROWS = 8


@dataclass(frozen=True)
class Scorecard:
    """The result of a run: typed, frozen records and findings, the validation counts and the run's facts.

    `to_dict()`/`to_json()` give docs/contract.md's JSON document; `to_arrow()`, `to_pandas()` and the CSV give one
    flat row per record. Every view is rendered from the same objects.
    """

    records: tuple[MetricRecord, ...]
    findings: tuple[Finding, ...]
    validation: Validation
    source: str
    period: Period
    options: Options
    generated_at: str
    ignored_files: tuple[IgnoredFile, ...] = ()  # entries of the source folder not read, with why
    #: the benchmark library the records were rated with (built-in, --vertical, --benchmarks file): the report
    #: shades the same bands by default
    benchmarks: BenchmarkLibrary | None = field(default=None, repr=False, compare=False)

    @property
    def document(self) -> dict[str, Any]:
        """The JSON document as a dict (see `to_dict`)."""
        return self.to_dict()

    def to_dict(self) -> dict[str, Any]:
        """docs/contract.md's JSON document."""
        document: dict[str, Any] = {
            "cxbench_version": __version__,
            "source": self.source,
            "generated_at": self.generated_at,
            "period": self.period.value,
            **self.validation.to_dict(),
            "metrics": [r.to_dict() for r in self.records],
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.ignored_files:
            document["ignored_files"] = [i.to_dict() for i in self.ignored_files]
        if self.options.start or self.options.end:
            document["from"] = self.options.start.isoformat() if self.options.start else None
            document["to"] = self.options.end.isoformat() if self.options.end else None
        if self.options.segments:
            document["segments"] = list(self.options.segments)
        if self.options.timezone != "UTC":
            document["timezone"] = self.options.timezone  # the zone whose local midnights cut the periods
        return document

    def to_json(self, indent: int | None = 2) -> str:
        """The scorecard as docs/contract.md's JSON document (never NaN or Infinity)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def to_html(self, benchmarks: str | Path | None = None, clv: ClvForecast | None = None,
                themes: CommentThemes | None = None, drivers: KeyDrivers | None = None, *,
                funnel: Funnel | None = None, paths: TopPaths | None = None) -> str:
        """The report: one self-contained HTML page (charts inlined, no network) drawn from these records.
        `benchmarks`: a --benchmarks file whose bands are shaded behind the trends (default: the benchmarks these
        records were rated with, `compute(benchmarks=...)` included); `clv`: a `predict_clv` forecast, whose
        holdout check is drawn too; `themes`: a `comment_themes` result, shown as the section 'Why it moved: comment
        themes'; `drivers`: a `key_drivers` result, shown as the section "Why it moved: key drivers"; `funnel`,
        `paths`: `cxbench.funnel` and `cxbench.top_paths` results, shown as 'Why it moved: funnel'."""
        from cxbench.report import render_html  # the report imports this module: imported when asked for

        return render_html(self, benchmarks, clv, themes=themes, drivers=drivers, funnel=funnel, paths=paths)

    def to_arrow(self) -> pa.Table:
        """One row per metric record, flat columns (`FLAT_COLUMNS`)."""
        return pa.Table.from_pylist([flat_row(r) for r in self.records], schema=pa.schema(list(FLAT_COLUMNS)))

    def to_pandas(self) -> pd.DataFrame:
        """The flat records as a pandas DataFrame."""
        return self.to_arrow().to_pandas()

    def get(self, metric_id: str, *, segment: dict[str, Any] | None = None,
            dimension: dict[str, Any] | None = None) -> list[MetricRecord]:
        """The records of one metric, for one segment ({} = whole dataset) and breakdown (None = overall).

        Raises KeyError for a metric id that is neither in the registry nor in this scorecard; a known metric
        with no record for that segment or breakdown gives []."""
        if metric_id not in METRICS_BY_ID and not any(r.id == metric_id for r in self.records):
            known = sorted({r.id for r in self.records})
            raise KeyError(f"no metric {metric_id!r} in this scorecard; its metrics: {', '.join(known) or 'none'}")
        return [r for r in self.records if r.id == metric_id and dict(r.segment) == (segment or {})
                and (None if r.dimension is None else dict(r.dimension)) == dimension]

    def _summary_rows(self) -> list[MetricRecord]:
        """The latest overall value of the first metrics with a value (the head of `repr`)."""
        return [r for r in self.latest() if not r.segment][:_REPR_ROWS]

    def __repr__(self) -> str:
        ok = sum(1 for r in self.records if r.ok)
        lines = [f"<Scorecard {self.source!r} period={self.period.value}: {len(self.records):,} records "
                 f"({ok:,} with a value), {len(self.findings):,} findings>"]
        lines += [f"  {r.id} {r.period_start}: {r.value:.4g} {r.unit}" for r in self._summary_rows()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """A small summary table for notebooks (the whole scorecard is `to_pandas()`)."""
        e = html.escape
        ok = sum(1 for r in self.records if r.ok)
        rows = "".join(
            f"<tr><td>{e(r.id)}</td><td>{e(str(r.period_start))}</td><td>{r.value:.4g}</td><td>{e(r.unit)}</td>"
            f"<td>{e((r.benchmark.rating if r.benchmark else None) or '')}</td></tr>" for r in self._summary_rows())
        return (f"<p><b>Scorecard</b> of {e(self.source)}, period {e(self.period.value)}: {len(self.records):,} "
                f"records ({ok:,} with a value), {len(self.findings):,} findings. The first latest values:</p>"
                "<table><thead><tr><th>metric</th><th>period</th><th>value</th><th>unit</th><th>rating</th></tr>"
                f"</thead><tbody>{rows}</tbody></table><p>All records: <code>card.to_pandas()</code></p>")

    def latest(self) -> list[MetricRecord]:
        """Each metric's records of its latest period with a value, overall and per segment (no breakdowns)."""
        return latest_records(self.records)

    def rated_at_or_below(self, label: str) -> list[MetricRecord]:
        """Latest records whose benchmark rating is `label` or worse (`--fail-on`)."""
        if label not in LABELS:
            raise UsageError(f"--fail-on {label}: use one of {', '.join(LABELS)}")
        limit = LABELS.index(label)
        return [r for r in self.latest() if r.benchmark is not None and r.benchmark.rating in LABELS
                and LABELS.index(r.benchmark.rating) <= limit]


def flat_row(record: MetricRecord) -> dict[str, Any]:
    """A record as one flat row (`FLAT_COLUMNS`): the first segment and breakdown column, change and benchmark
    fields side by side."""
    metric = METRICS_BY_ID.get(record.id)
    seg_col, seg_val = next(iter(record.segment.items()), (None, None))
    dim_col, dim_val = next(iter((record.dimension or {}).items()), (None, None))
    change, benchmark, compared = record.change, record.benchmark, record.compared_with
    return {
        "id": record.id,
        "name": metric.name if metric else None,
        "family": metric.family.value if metric else None,
        "period_start": record.period_start.isoformat() if record.period_start else None,
        "period_end": record.period_end.isoformat() if record.period_end else None,
        "segment_column": seg_col,
        "segment_value": None if seg_val is None else str(seg_val),
        "dimension_column": dim_col,
        "dimension_value": None if dim_val is None else str(dim_val),
        "value": record.value,
        "unit": record.unit,
        "n": record.n,
        "ci_low": record.ci_low,
        "ci_high": record.ci_high,
        "benchmark_rating": benchmark.rating if benchmark else None,
        "benchmark_source": benchmark.source if benchmark else None,
        "benchmark_applied": benchmark.applied if benchmark else None,
        "previous": change.previous if change else None,
        "delta": change.delta if change else None,
        "significant": change.significant if change else None,
        "p_value": change.p_value if change else None,
        "change_test": change.test if change else None,
        "status": record.status,
        "reason": record.reason,
        "warning": record.warning,
        "partial": record.partial,
        "benchmark_target": benchmark.target if benchmark else None,
        "benchmark_target_met": benchmark.target_met if benchmark else None,
        "compared_from": compared.first.isoformat() if compared else None,
        "compared_to": compared.last.isoformat() if compared else None,
        "compared_value": compared.value if compared else None,
        "compared_delta": compared.delta if compared else None,
        "compared_significant": compared.significant if compared else None,
        "compared_p_value": compared.p_value if compared else None,
        "compared_test": compared.test if compared else None,
        "details": json.dumps(record["details"], ensure_ascii=False, allow_nan=False, sort_keys=True)
        if record.details else None,
    }


def select_metrics(ids: Sequence[str] | None) -> list[Metric]:
    """The registry's metrics, or the ones named (in registry order)."""
    if not ids:
        return list(REGISTRY)
    unknown = [i for i in ids if i not in METRICS_BY_ID]
    if unknown:
        raise UsageError(f"unknown metric {', '.join(unknown)}; `cxbench metrics` lists them all")
    return [m for m in REGISTRY if m.id in set(ids)]


def tables_read(metric: Metric) -> set[str]:
    """Every table a metric reads: its inputs, optional inputs and, for a derived metric, its components'."""
    tables = {*metric.inputs, *metric.optional_inputs}
    for component in getattr(metric, "components", ()):
        tables |= tables_read(component)
    return tables


def load_benchmarks(path: str | Path | None = None, vertical: str | None = None) -> BenchmarkLibrary:
    """The built-in benchmark library, with a --benchmarks file's bands and targets, checked for a vertical."""
    library = BenchmarkLibrary.builtin()
    if vertical is not None and vertical not in library.vertical_names:
        raise UsageError(f"--vertical {vertical}: no benchmarks for it; known verticals: "
                         + ", ".join(library.vertical_names))
    return library.with_file(path) if path is not None else library


def open_dataset(source: str | Path | BaseBackend, engine: str | BaseBackend | None = None, *,
                 only: set[str] | None = None, memory_limit: str | None = None, from_format: str | None = None,
                 mapping: str | Path | None = None) -> Dataset:
    """The source's tables: a folder of contract tables, or a vendor's export read by an adapter (`from_format`,
    e.g. "ga4", or a `mapping` YAML file; docs/adapters.md)."""
    if from_format is None and mapping is None:
        return open_source(source, engine, only=only, memory_limit=memory_limit)
    if isinstance(source, BaseBackend):
        raise UsageError("--from-format and --mapping read a folder of export files, not a connection")
    from cxbench.adapters import open_export

    return open_export(source, from_format=from_format, mapping=mapping, engine=engine, only=only,
                       memory_limit=memory_limit)


def check(source: str | Path | BaseBackend, *, engine: str | BaseBackend | None = None,
          rejected_cap: int = 1000, memory_limit: str | None = None,
          as_of: str | dt.date | None = None, from_format: str | None = None,
          mapping: str | Path | None = None, currency: str | None = None,
          fx: str | Path | Sequence[Any] | None = None, timezone: str = "UTC") -> Validation:
    """Validate a source against the contract without computing metrics (`cxbench validate`).

    Rows dated after `as_of` (default: today) plus a day are set aside as typos. `from_format`/`mapping`: read a
    vendor's export (docs/adapters.md). `currency`/`fx`: the reporting currency and exchange rates (as
    `compute`): mixed currencies without them are an error, and rows without a rate are set aside; `timezone`: the
    zone whose days pick the rates, as in `compute`."""
    options = make_options(as_of=as_of, currency=currency, fx=fx or (), timezone=timezone, rejected_cap=rejected_cap)
    dataset = open_dataset(source, engine, memory_limit=memory_limit, from_format=from_format, mapping=mapping)
    validation = validate(dataset, rejected_cap=rejected_cap, as_of=options.as_of)
    return prepare(dataset.con, validation, options)[0]


def convert(source: str | Path, out: str | Path, *, from_format: str | None = None, mapping: str | Path | None = None,
            as_of: str | dt.date | None = None, rejected_cap: int = 1000,
            memory_limit: str | None = None) -> tuple[Validation, list[Path]]:
    """The contract tables of a vendor's export (`cxbench convert`), validated and written by the engine as
    `out/TABLE.parquet` (the rows used, typed), with the validation of what was read."""
    day = make_options(as_of=as_of).as_of if as_of is not None else None
    dataset = open_dataset(source, None, memory_limit=memory_limit, from_format=from_format, mapping=mapping)
    result = validate(dataset, rejected_cap=rejected_cap, as_of=day)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in result.tables.items():
        path = folder / f"{name}.parquet"
        part = folder / f".{name}.parquet.tmp"
        columns = [c.name for c in table.spec.columns if c.name in table.present]
        dataset.con.to_parquet(table.expr.select(*columns), part)
        part.replace(path)  # a reader never sees half a file
        written.append(path)
    return result, written


def compute(source: str | Path | BaseBackend, *, period: str | Period = Period.MONTH,
            segment: str | Sequence[str] | None = None, from_: str | dt.date | None = None,
            to: str | dt.date | None = None, metrics: Sequence[str] | None = None,
            engine: str | BaseBackend | None = None, benchmarks: str | Path | None = None,
            memory_limit: str | None = None, progress: Callable[[str, int, int], None] | None = None,
            start: str | dt.date | None = None, end: str | dt.date | None = None, from_format: str | None = None,
            mapping: str | Path | None = None, **settings: Any) -> Scorecard:
    """Compute the scorecard of `source`.

    `source`: a folder of CSV/Parquet/JSON files, a DuckDB file, a connection URL, or an Ibis connection.
    `period`: day, week, month, quarter, year or all. `segment`: customers column(s) to repeat the metrics by.
    `from_`/`to`: inclusive dates, as the CLI's --from and --to (`start`/`end` still work, with a
    DeprecationWarning). `metrics`: ids to compute (default all). `engine`: duckdb (default),
    spark (`SPARK_MASTER`, else local), a Spark master URL such as "spark://host:7077" (the folder must be at
    the same path on the cluster's workers), or an Ibis connection that reads the folder. `benchmarks`: a YAML
    file of your own bands and targets (see the README). `memory_limit`: what DuckDB may use before it spills to
    disk, e.g. "6GB" (default `$CXBENCH_MEMORY_LIMIT`, else a quarter of the machine's memory). `settings`: any
    field of `Options` (e.g. `min_sample=50`, `nps_detractor_max=5`). `progress`: called as
    `progress(step, done, total)` while the run reads the tables and computes each metric (the CLI's progress bar).
    `from_format` (e.g. "stripe") or `mapping` (a YAML file): read a vendor's export folder directly
    (docs/adapters.md).
    """
    from_ = _renamed("start", start, "from_", from_)
    to = _renamed("end", end, "to", to)
    options = make_options(period=period, start=from_, end=to, segment=segment, metrics=metrics, **settings)
    library = load_benchmarks(benchmarks, options.vertical)
    if library.health_weights is not None and "health_weights" not in settings:
        # The --benchmarks file's customer_health_score weights, unless the call gives its own.
        options = replace(options, health_weights=library.health_weights)
    selected = select_metrics(options.metrics)
    needed = None
    if options.metrics:
        # Only the tables the chosen metrics read (and customers for segments): the rest are not even opened.
        needed = {t for m in selected for t in tables_read(m)} | ({"customers"} if options.segments else set())
    total = len(selected) * (2 if options.compare else 1)
    done = 0

    def advance(metric: Metric) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(metric.id, done, total)

    if progress is not None:
        progress("reading the tables", 0, total)
    dataset = open_dataset(source, engine, only=needed, memory_limit=memory_limit, from_format=from_format,
                           mapping=mapping)
    validation = validate(dataset, rejected_cap=options.rejected_cap, only=needed, as_of=options.today)
    # The report's time zone and currency (--timezone, --currency, --fx), once for every metric.
    validation, clock = prepare(dataset.con, validation, options)
    # One metric (not combined from others, no --compare window) reads the shared helper tables once: not stored.
    alone = len(selected) == 1 and not isinstance(selected[0], DerivedMetric) and not options.compare
    ctx = MetricContext(con=dataset.con, tables=validation.tables, options=options, clock=clock, store_shared=not alone)
    engine = Engine(ctx, selected, library)
    records = engine.run(advance)
    if options.compare:
        first, last = options.compare
        window_options = replace(options, period=Period.ALL, start=first, end=last, compare=None)
        # The window shares the run's cache (sessions, visitor-days...): they do not depend on the period.
        window = Engine(replace(ctx, options=window_options), selected, library, basis=engine.basis)
        records = engine.compared(records, window, window.run(advance), first, last)
    return Scorecard(records=tuple(records), findings=tuple(findings(records, METRICS_BY_ID)), validation=validation,
                     source=redact(describe(source)), period=options.period, options=options,
                     generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
                     ignored_files=tuple(dataset.ignored), benchmarks=library)


def _renamed(old: str, old_value: Any, new: str, new_value: Any) -> Any:
    """An argument under its old name (`start`, `end`): still accepted, with a DeprecationWarning."""
    if old_value is None:
        return new_value
    if new_value is not None:
        raise UsageError(f"give {new}= or the older {old}=, not both")
    warnings.warn(f"compute({old}=...) is now compute({new}=...), as the CLI's --{new.rstrip('_')}",
                  DeprecationWarning, stacklevel=3)
    return old_value


def predict_clv(source: str | Path | BaseBackend, *, calibration_end: str | dt.date | None = None,
                time_unit: str | TimeUnit = TimeUnit.DAY, horizon: float | None = None,
                discount_rate: float = DEFAULTS.clv_discount_rate, engine: str | BaseBackend | None = None,
                rejected_cap: int = 1000, memory_limit: str | None = None, from_format: str | None = None,
                mapping: str | Path | None = None, currency: str | None = None,
                fx: str | Path | Sequence[Any] | None = None, timezone: str = "UTC") -> ClvForecast:
    """Predicted customer lifetime value from the `orders` table of `source` (`cxbench clv`).

    The BG/NBD purchase model and the Gamma-Gamma spend model (Fader, Hardie & Lee 2005) are fitted on the
    orders up to `calibration_end` (inclusive; default: the last day of the month before the last third of the
    orders' history, `holdout_calibration_end`, as `cxbench report` checks the forecast). `time_unit`: day or week,
    the unit of recency, T and `horizon` (default: 12 months). `discount_rate`: per month (default 0.01). Orders
    after the calibration end are the holdout the forecast is checked on. Raises ModelFitError (a CxbenchError)
    when the models cannot be fitted.
    `currency`/`fx`: the reporting currency and exchange rates; `timezone`: the IANA zone whose days the orders
    fall on (as `compute`).
    """
    from cxbench.lifetime_value import holdout_calibration_end, make_settings, predict

    if calibration_end is not None:
        make_settings(calibration_end, time_unit, horizon, discount_rate)  # bad arguments fail before any reading
    options = make_options(currency=currency, fx=fx or (), timezone=timezone, rejected_cap=rejected_cap)
    dataset = open_dataset(source, engine, only={"orders"}, memory_limit=memory_limit, from_format=from_format,
                           mapping=mapping)
    validation = validate(dataset, rejected_cap=rejected_cap, only={"orders"})
    validation = prepare(dataset.con, validation, options)[0]
    if "orders" not in validation.tables:
        raise UsageError(f"{describe(source)}: no orders table; cxbench clv needs orders "
                         "(order_id, customer_id, ts, amount, kind?) as orders.csv, orders.parquet or a database table")
    orders = validation.tables["orders"].expr
    if calibration_end is None:
        # The orders' first and last day, in the engine (two numbers back).
        (span,) = arrow.to_arrow(dataset.con, orders.aggregate(first=orders.ts.min().cast("date"),
                                                               last=orders.ts.max().cast("date"))).to_pylist()
        if span["first"] is None:
            raise UsageError(f"{describe(source)}: the orders table has no usable rows to forecast from")
        calibration_end = holdout_calibration_end(span["first"], span["last"])
    settings = make_settings(calibration_end, time_unit, horizon, discount_rate)
    result = predict(dataset.con, orders, settings, within_orders=True)
    result.meta = {
        "cxbench_version": __version__,
        "source": redact(describe(source)),
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        **validation.to_dict(),
        **({"timezone": options.timezone} if options.timezone != "UTC" else {}),
    }
    return result


def key_drivers(source: str | Path | BaseBackend, *, targets: Sequence[str] | None = None,
                from_: str | dt.date | None = None, to: str | dt.date | None = None, bootstrap: int | None = None,
                seed: int | None = None, min_coverage: float | None = None, engine: str | BaseBackend | None = None,
                rejected_cap: int = 1000, memory_limit: str | None = None, from_format: str | None = None,
                mapping: str | Path | None = None, **settings: Any) -> KeyDrivers:
    """Key-driver analysis (`cxbench drivers`): which customer signals go with a higher NPS or CSAT answer, or with
    churn (docs/analyses.md). Associations, not causes.

    `targets`: any of "nps", "csat", "churn" (default all three). `from_`/`to`: the days whose answers, tickets and
    events count (churn is judged at the end of `to`, else at the last subscription date). `bootstrap`: samples of
    the importance intervals (default 500), `seed` their seed; `min_coverage`: the share of a target's customers a
    driver must be measured for (default 0.3). `settings`: `Options` fields the drivers' definitions read
    (`business_hours`, `timezone`, `holidays`, `event_names`...).
    """
    from cxbench.analyses import drivers

    options = make_options(start=from_, end=to, **settings)
    targets = tuple(targets or drivers.TARGETS)
    bootstrap = drivers.DEFAULT_BOOTSTRAP if bootstrap is None else bootstrap
    min_coverage = drivers.MIN_COVERAGE if min_coverage is None else min_coverage
    drivers.check_settings(targets, bootstrap, min_coverage)  # before reading any data
    tables = {"customers", "surveys", "tickets", "events", "subscriptions"}
    dataset = open_dataset(source, engine, only=tables, memory_limit=memory_limit, from_format=from_format,
                           mapping=mapping)
    validation = validate(dataset, rejected_cap=rejected_cap, only=tables, as_of=options.today)
    if not {"customers", "surveys"} & set(validation.tables):
        raise UsageError(f"{describe(source)}: key drivers need a surveys table (nps or csat answers) or a customers "
                         "table with subscriptions, as surveys.csv, customers.csv... (docs/contract.md)")
    ctx = MetricContext(con=dataset.con, tables=validation.tables, options=options)
    result = drivers.key_drivers(
        ctx, targets=targets, window=drivers.Window(options.start, options.end), bootstrap=bootstrap,
        seed=drivers.DEFAULT_SEED if seed is None else seed, min_coverage=min_coverage)
    result.meta.update({
        "cxbench_version": __version__,
        "source": redact(describe(source)),
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        **validation.to_dict(),
    })
    return result


def comment_themes(source: str | Path | BaseBackend, *, survey: str = "nps", themes: int | None = None,
                   start: str | dt.date | None = None, end: str | dt.date | None = None,
                   max_comments: int | None = None, nps_promoter_min: float = DEFAULTS.nps_promoter_min,
                   nps_detractor_max: float = DEFAULTS.nps_detractor_max, engine: str | BaseBackend | None = None,
                   as_of: str | dt.date | None = None, rejected_cap: int = 1000, memory_limit: str | None = None,
                   from_format: str | None = None, mapping: str | Path | None = None) -> CommentThemes:
    """Themes of the survey comments of `source` (`cxbench themes`, docs/analyses.md): per theme its terms,
    frequency, score-group mix, the score (NPS by default) with and without it with the difference's 95 %
    interval, mean VADER sentiment and three verbatims.

    `survey`: nps, enps or csat. `themes`: the number of themes (default: chosen by the documented rule).
    `start`/`end`: the answers' days, inclusive. `max_comments`: the most recent commented answers analysed
    (default 50,000). Associations, not causes.
    """
    from cxbench.analyses import themes as analysis

    days = make_options(start=start, end=end, as_of=as_of, nps_promoter_min=nps_promoter_min,
                        nps_detractor_max=nps_detractor_max)
    kind = analysis.score_kind(survey, nps_promoter_min, nps_detractor_max)
    if themes is not None and not analysis.MIN_THEMES <= themes <= 50:
        raise UsageError(f"--themes {themes}: give a number of themes from {analysis.MIN_THEMES} to 50")
    cap = analysis.MAX_COMMENTS if max_comments is None else max_comments
    if cap < 1:
        raise UsageError(f"--max-comments {cap}: give a positive number of comments")
    dataset = open_dataset(source, engine, only={"surveys"}, memory_limit=memory_limit, from_format=from_format,
                           mapping=mapping)
    validation = validate(dataset, rejected_cap=rejected_cap, only={"surveys"},
                          as_of=days.as_of if as_of is not None else None)
    if "surveys" not in validation.tables:
        raise UsageError(f"{describe(source)}: no surveys table; cxbench themes needs surveys (response_id, "
                         "respondent_id, ts, survey, score, comment) as surveys.csv, surveys.parquet or a database table")
    rows = analysis.comment_rows(validation.tables["surveys"].expr, kind, promoter_min=nps_promoter_min,
                                 detractor_max=nps_detractor_max, start=days.start, end=days.end)
    table = analysis.fetch_comments(dataset.con, rows, cap)
    result = analysis.find_themes(table, kind, themes=themes, cap=cap, start=days.start, end=days.end,
                                  promoter_min=nps_promoter_min, detractor_max=nps_detractor_max)
    result.meta.update({
        "cxbench_version": __version__,
        "source": redact(describe(source)),
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "as_of": days.as_of.isoformat() if days.as_of else None,
        **validation.to_dict(),
    })
    return result


# -- why it moved: funnels and paths (issue 18) ------------------------------------------------------------------


def _events_context(source: str | Path | BaseBackend, engine: str | BaseBackend | None, options: Options,
                    tables: set[str], rejected_cap: int, memory_limit: str | None, from_format: str | None,
                    mapping: str | Path | None) -> tuple[MetricContext, dict[str, Any]]:
    """The validated tables an analysis reads, as a MetricContext, and the run's facts for its JSON."""
    dataset = open_dataset(source, engine, only=tables, memory_limit=memory_limit, from_format=from_format,
                           mapping=mapping)
    validation = validate(dataset, rejected_cap=rejected_cap, only=tables, as_of=options.today)
    validation, clock = prepare(dataset.con, validation, options)  # --timezone: the tables' clocks made local
    meta = {"cxbench_version": __version__, "source": redact(describe(source)),
            "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            **validation.to_dict()}
    return MetricContext(con=dataset.con, tables=validation.tables, options=options, clock=clock), meta


def funnel(source: str | Path | BaseBackend, steps: Sequence[str] | str, *, window: str | int = "14d",
           order: str = "ordered", period: str | Period = Period.MONTH, segment: str | Sequence[str] | None = None,
           from_: str | dt.date | None = None, to: str | dt.date | None = None,
           event_names: Any = None, timezone: str = "UTC", engine: str | BaseBackend | None = None,
           rejected_cap: int = 1000, memory_limit: str | None = None, from_format: str | None = None,
           mapping: str | Path | None = None) -> Funnel:
    """The funnel of `steps` (event names in order, a list or "a,b,c") over `source`'s events (`cxbench funnel`).

    `window`: the conversion window from the first step ("7d", "12h", "30m", "2w"; default 14 days, PostHog's).
    `order`: ordered (default; other events may come between steps), strict (none may) or any (steps in any
    sequence within the window). `period`: the funnel is also given per period of the user's first step.
    `segment`: customers column(s) to repeat it by. `from_`/`to`: bound the first step's day. `event_names`: the
    --event-name mapping (CANONICAL=NAME) applied to the step names. `timezone`: the IANA zone whose midnights
    cut the periods and the --from/--to days (as `compute`'s). docs/analyses.md defines it all."""
    from cxbench.analyses.funnel import FunnelOrder, check_steps, compute_funnel, parse_window

    names = check_steps([steps] if isinstance(steps, str) else steps)
    try:
        mode = FunnelOrder(order)
    except ValueError as exc:
        raise UsageError(f"--order {order!r}: use ordered, strict or any") from exc
    size = parse_window(window)
    options = make_options(period=period, start=from_, end=to, segment=segment, timezone=timezone,
                           **({"event_names": event_names} if event_names else {}))
    tables = {"events"} | ({"customers"} if options.segments else set())
    ctx, meta = _events_context(source, engine, options, tables, rejected_cap, memory_limit, from_format, mapping)
    result = compute_funnel(ctx, names, size, mode)
    result.meta.update(meta)
    return result


def top_paths(source: str | Path | BaseBackend, entry: str, *, length: int = 3, limit: int = 10,
              from_: str | dt.date | None = None, to: str | dt.date | None = None, event_names: Any = None,
              session_timeout_minutes: float = DEFAULTS.session_timeout_minutes, timezone: str = "UTC",
              engine: str | BaseBackend | None = None, rejected_cap: int = 1000, memory_limit: str | None = None,
              from_format: str | None = None, mapping: str | Path | None = None) -> TopPaths:
    """The most frequent sequences of the next `length` pages (default 3) viewed in a session after the first view
    of the page `entry` (`cxbench paths --entry /pricing`), the `limit` most frequent with their count and share.
    Sessions as the scorecard makes them (session_id, else 30 minutes without an event); `timezone` gives the
    --from/--to days. docs/analyses.md."""
    from cxbench.analyses.paths import compute_paths

    options = make_options(start=from_, end=to, session_timeout_minutes=session_timeout_minutes, timezone=timezone,
                           **({"event_names": event_names} if event_names else {}))
    ctx, meta = _events_context(source, engine, options, {"events"}, rejected_cap, memory_limit, from_format, mapping)
    result = compute_paths(ctx, entry, length=length, limit=limit)
    result.meta.update(meta)
    return result
