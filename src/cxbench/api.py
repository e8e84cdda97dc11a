"""The Python API: `cxbench.compute(source, ...)` returns a `Scorecard`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from ibis.backends import BaseBackend

from cxbench import __version__
from cxbench.core.engine import Engine
from cxbench.core.benchmarks import LABELS, BenchmarkLibrary
from cxbench.core.errors import UsageError
from cxbench.core.options import Options, Period, make_options
from cxbench.core.registry import Metric, MetricContext
from cxbench.core.sources import describe, open_source
from cxbench.core.validation import Validation, validate
from cxbench.lifetime_value import DEFAULT_DISCOUNT_RATE, ClvForecast, TimeUnit, make_settings, predict
from cxbench.findings import findings, latest_records
from cxbench.metrics import METRICS_BY_ID, REGISTRY

if TYPE_CHECKING:
    import pandas as pd

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
)


@dataclass
class Scorecard:
    """The result of a run: the JSON document of CONTRACT.md, with flat views of its metric records."""

    document: dict[str, Any]

    @property
    def records(self) -> list[dict[str, Any]]:
        return self.document["metrics"]

    def to_dict(self) -> dict[str, Any]:
        return self.document

    def to_json(self, indent: int | None = 2) -> str:
        """The scorecard as CONTRACT.md's JSON document (never NaN or Infinity)."""
        return json.dumps(self.document, indent=indent, ensure_ascii=False, allow_nan=False)

    def to_arrow(self) -> pa.Table:
        """One row per metric record, flat columns (`FLAT_COLUMNS`)."""
        rows = [_flatten(r) for r in self.records]
        return pa.Table.from_pylist(rows, schema=pa.schema(list(FLAT_COLUMNS)))

    def to_pandas(self) -> pd.DataFrame:
        """The flat records as a pandas DataFrame."""
        return self.to_arrow().to_pandas()

    def get(self, metric_id: str, *, segment: dict[str, Any] | None = None,
            dimension: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The records of one metric, for one segment ({} = whole dataset) and breakdown (None = overall)."""
        return [r for r in self.records if r["id"] == metric_id and r["segment"] == (segment or {})
                and r.get("dimension") == dimension]


    @property
    def findings(self) -> list[dict[str, Any]]:
        """What needs attention, most severe first (see `cxbench.findings`)."""
        return self.document.get("findings", [])

    def latest(self) -> list[dict[str, Any]]:
        """Each metric's records of its latest period with a value, overall and per segment (no breakdowns)."""
        return latest_records(self.records)

    def rated_at_or_below(self, label: str) -> list[dict[str, Any]]:
        """Latest records whose benchmark rating is `label` or worse (`--fail-on`)."""
        if label not in LABELS:
            raise UsageError(f"--fail-on {label}: use one of {', '.join(LABELS)}")
        limit = LABELS.index(label)
        return [r for r in self.latest() if (r.get("benchmark") or {}).get("rating") in LABELS
                and LABELS.index(r["benchmark"]["rating"]) <= limit]


def _flatten(record: dict[str, Any]) -> dict[str, Any]:
    metric = METRICS_BY_ID.get(record["id"])
    segment = record.get("segment") or {}
    dimension = record.get("dimension") or {}
    change = record.get("change") or {}
    benchmark = record.get("benchmark") or {}
    seg_col, seg_val = next(iter(segment.items()), (None, None))
    dim_col, dim_val = next(iter(dimension.items()), (None, None))
    return {
        "id": record["id"],
        "name": metric.name if metric else None,
        "family": metric.family.value if metric else None,
        "period_start": record.get("period_start"),
        "period_end": record.get("period_end"),
        "segment_column": seg_col,
        "segment_value": None if seg_val is None else str(seg_val),
        "dimension_column": dim_col,
        "dimension_value": None if dim_val is None else str(dim_val),
        "value": record.get("value"),
        "unit": record.get("unit"),
        "n": record.get("n"),
        "ci_low": record.get("ci_low"),
        "ci_high": record.get("ci_high"),
        "benchmark_rating": benchmark.get("rating"),
        "benchmark_source": benchmark.get("source"),
        "benchmark_applied": benchmark.get("applied"),
        "previous": change.get("previous"),
        "delta": change.get("delta"),
        "significant": change.get("significant"),
        "p_value": change.get("p_value"),
        "change_test": change.get("test"),
        "status": record.get("status"),
        "reason": record.get("reason"),
        "warning": record.get("warning"),
    }


def select_metrics(ids: Sequence[str] | None) -> list[Metric]:
    """The registry's metrics, or the ones named (in registry order)."""
    if not ids:
        return list(REGISTRY)
    unknown = [i for i in ids if i not in METRICS_BY_ID]
    if unknown:
        raise UsageError(f"unknown metric {', '.join(unknown)}; `cxbench metrics` lists them all")
    return [m for m in REGISTRY if m.id in set(ids)]


def load_benchmarks(path: str | Path | None = None, vertical: str | None = None) -> BenchmarkLibrary:
    """The built-in benchmark library, with a --benchmarks file's bands and targets, checked for a vertical."""
    library = BenchmarkLibrary.builtin()
    if vertical is not None and vertical not in library.vertical_names:
        raise UsageError(f"--vertical {vertical}: no benchmarks for it; known verticals: "
                         + ", ".join(library.vertical_names))
    return library.with_file(path) if path is not None else library


def check(source: str | Path | BaseBackend, *, engine: str | BaseBackend | None = None,
          rejected_cap: int = 1000) -> Validation:
    """Validate a source against the contract without computing metrics (`cxbench validate`)."""
    dataset = open_source(source, engine)
    return validate(dataset, rejected_cap=rejected_cap)


def compute(source: str | Path | BaseBackend, *, period: str | Period = Period.MONTH,
            segment: str | Sequence[str] | None = None, start: str | dt.date | None = None,
            end: str | dt.date | None = None, metrics: Sequence[str] | None = None,
            engine: str | BaseBackend | None = None, benchmarks: str | Path | None = None,
            **settings: Any) -> Scorecard:
    """Compute the scorecard of `source`.

    `source`: a folder of CSV/Parquet/JSON files, a DuckDB file, a connection URL, or an Ibis connection.
    `period`: day, week, month, quarter, year or all. `segment`: customers column(s) to repeat the metrics by.
    `start`/`end`: inclusive dates. `metrics`: ids to compute (default all). `engine`: duckdb (default),
    spark, or an Ibis connection that reads the folder. `benchmarks`: a YAML file of your own bands and
    targets (see the README). `settings`: any field of `Options`
    (e.g. `min_sample=50`, `nps_detractor_max=5`).
    """
    options = make_options(period=period, start=start, end=end, segment=segment, metrics=metrics, **settings)
    library = load_benchmarks(benchmarks, options.vertical)
    selected = select_metrics(options.metrics)
    dataset = open_source(source, engine)
    needed = None
    if options.metrics:
        # Only the tables the chosen metrics read (and customers for segments): no time spent on the rest.
        needed = {t for m in selected for t in (*m.inputs, *m.optional_inputs)} | ({"customers"} if options.segments else set())
    validation = validate(dataset, rejected_cap=options.rejected_cap, only=needed)
    ctx = MetricContext(con=dataset.con, tables=validation.tables, options=options)
    engine = Engine(ctx, selected, library)
    records = engine.run()
    if options.compare:
        first, last = options.compare
        window_options = replace(options, period=Period.ALL, start=first, end=last, compare=None)
        window = Engine(MetricContext(con=dataset.con, tables=validation.tables, options=window_options),
                        selected, library, basis=engine.basis)
        engine.attach_comparison(records, window, window.run(), first, last)
    document = {
        "cxbench_version": __version__,
        "source": describe(source),
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "period": options.period.value,
        **validation.to_dict(),
        "metrics": records,
        "findings": findings(records, METRICS_BY_ID),
    }
    if dataset.ignored:
        document["ignored_files"] = dataset.ignored
    if options.start or options.end:
        document["from"] = options.start.isoformat() if options.start else None
        document["to"] = options.end.isoformat() if options.end else None
    if options.segments:
        document["segments"] = list(options.segments)
    return Scorecard(document)


def predict_clv(source: str | Path | BaseBackend, *, calibration_end: str | dt.date,
                time_unit: str | TimeUnit = TimeUnit.DAY, horizon: float | None = None,
                discount_rate: float = DEFAULT_DISCOUNT_RATE, engine: str | BaseBackend | None = None,
                rejected_cap: int = 1000) -> ClvForecast:
    """Predicted customer lifetime value from the `orders` table of `source` (`cxbench clv`).

    The BG/NBD purchase model and the Gamma-Gamma spend model (Fader, Hardie & Lee 2005) are fitted on the
    orders up to `calibration_end` (inclusive). `time_unit`: day or week, the unit of recency, T and `horizon`
    (default: 12 months). `discount_rate`: per month (default 0.01). Orders after the calibration end are the
    holdout the forecast is checked on. Raises ModelFitError (a CxbenchError) when the models cannot be fitted.
    """
    settings = make_settings(calibration_end, time_unit, horizon, discount_rate)
    dataset = open_source(source, engine)
    validation = validate(dataset, rejected_cap=rejected_cap, only={"orders"})
    if "orders" not in validation.tables:
        raise UsageError(f"{describe(source)}: no orders table; cxbench clv needs orders "
                         "(order_id, customer_id, ts, amount, kind?) as orders.csv, orders.parquet or a database table")
    result = predict(dataset.con, validation.tables["orders"].expr, settings)
    result.meta = {
        "cxbench_version": __version__,
        "source": describe(source),
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        **validation.to_dict(),
    }
    return result
