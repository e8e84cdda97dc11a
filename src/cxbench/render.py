"""Turning a scorecard into text: the Rich terminal scorecard, CSV, and the validation report."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from rich import box
from rich.console import Console, Group
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from cxbench.api import Scorecard
from cxbench.core.benchmarks import BenchmarkLibrary
from cxbench.core.registry import Family, Metric, format_value
from cxbench.core.validation import Validation
from cxbench.metrics import METRICS_BY_ID, REGISTRY
from cxbench.output import csv_safe, terminal_text, write_atomically

_FINDINGS_SHOWN = 10

_BREAKDOWN_ROWS = 6
_RATING_STYLE = {"excellent": "bold green", "great": "green", "good": "green", "fair": "yellow", "poor": "red"}


def _interval(record: dict[str, Any]) -> str:
    if record.get("ci_low") is None or record.get("ci_high") is None:
        return ""
    unit = record["unit"]
    low, high = format_value(record["ci_low"], unit), format_value(record["ci_high"], unit)
    return f"{low.removesuffix(' %')}–{high.removesuffix(' %')}"


def _short(value: float | None, unit: str) -> str:
    """A value for the 100-column table: money from 10,000 up without cents (JSON and CSV keep every digit)."""
    if unit == "money" and value is not None and abs(value) >= 10_000:
        return f"{value:,.0f}"
    return format_value(value, unit)


def _change(record: dict[str, Any], metric: Metric, key: str = "change") -> Text:
    """The delta of `record[key]` (`change` or `compared_with`), * when significant, coloured by direction."""
    change = record.get(key)
    if not change or change.get("delta") is None:
        return Text("")
    delta = change["delta"]
    good = (delta > 0 and metric.direction.value == "up") or (delta < 0 and metric.direction.value == "down")
    bad = (delta < 0 and metric.direction.value == "up") or (delta > 0 and metric.direction.value == "down")
    unit = record["unit"]
    text = ("+" if delta > 0 else "") + (f"{delta:.1f} pt" if unit == "percent" else _short(delta, unit))
    if change.get("significant"):
        text += " *"
    return Text(text, style="green" if good else "red" if bad else "")


def latest_records(records: Iterable[dict[str, Any]]) -> dict[tuple[str, tuple], dict[str, Any]]:
    """Per (metric, segment): the record of the latest period with a value, else the latest record."""
    chosen: dict[tuple[str, tuple], dict[str, Any]] = {}
    for record in records:
        metric = METRICS_BY_ID.get(record["id"])
        if "dimension" in record and (metric is None or metric.overall):
            continue  # breakdowns are in the JSON/CSV; metrics reported only per breakdown show each value
        key = (record["id"], tuple(sorted((record.get("segment") or {}).items(), key=str))
               + tuple((record.get("dimension") or {}).items()))
        current = chosen.get(key)
        if current is None or record["status"] == "ok" or current["status"] != "ok":
            chosen[key] = record
    return chosen


def period_label(record: dict[str, Any], period: str) -> str:
    """2026-10 for a month, 2026-Q4, 2026-W40, 2026; the dates for a day or the whole range."""
    import datetime as dt

    if not record.get("period_start"):
        return ""
    start = dt.date.fromisoformat(record["period_start"])
    if period == "month":
        return f"{start:%Y-%m}"
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if period == "year":
        return str(start.year)
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "day":
        return record["period_start"]
    return f"{record['period_start']} … {record['period_end']}"


def _compare_window(records: Iterable[dict[str, Any]]) -> str | None:
    """The --compare window as FROM..TO, when the records carry `compared_with`."""
    for record in records:
        if record.get("compared_with"):
            return f"{record['compared_with']['from']}..{record['compared_with']['to']}"
    return None


#: one line on how the three CLVs differ, shown under the revenue table when more than one is there
CLV_DIFFERENCE = ("The three CLVs: clv is a formula, AOV × purchases a year per active customer × expected lifetime "
                  "(1 ÷ yearly churn; seed 003); clv_historical is the revenue per customer so far (004), looking "
                  "back; clv_predicted is the mean of each customer's BG/NBD and Gamma-Gamma forecast.")
_SMALL_SAMPLE = "†"
_PARTIAL = "~"  # the data covers the period only in part


def _t(value: Any, style: str = "") -> Text:
    """Data as text: never read as Rich markup, control characters escaped."""
    return Text(terminal_text("" if value is None else value), style=style)


def _segment_label(segment: dict[str, Any], values_only: bool = False) -> str:
    def shown(v: Any) -> str:
        return "(none)" if v is None else str(v)

    if values_only:
        return ", ".join(shown(v) for v in segment.values()) or "all"
    return ", ".join(f"{k}={shown(v)}" for k, v in segment.items()) or "all"


def scorecard_renderable(card: Scorecard, show_unavailable: bool = False) -> Group:
    """The terminal scorecard: one table per family, the latest period of each metric; fits 100 columns.

    Metrics unavailable in every period are listed by id on one line per family (with `show_unavailable`, one
    line each with its reason); the benchmark sources and the marks are explained under the tables."""
    doc = card.document
    parts: list[Any] = []
    inputs = doc.get("inputs", {})
    summary = ", ".join(f"{name} {r['used']:,}/{r['rows']:,}" for name, r in inputs.items()) or "no tables found"
    rejected = sum(r["rejected"] for r in inputs.values())
    # Which currency money is in and which zone's midnights cut the periods, when either is said (--currency, the
    # data's one currency, --timezone).
    money = f"  money: {doc['currency']}" if doc.get("currency") else ""
    zone = f"  time zone: {terminal_text(doc['timezone'])}" if doc.get("timezone") else ""
    parts.append(Text.assemble(("cxbench scorecard", "bold"),
                               f"  {terminal_text(doc['source'])}  period: {doc['period']}{money}{zone}"))
    parts.append(Text(f"rows used/read: {summary}" + (f"  ({rejected:,} set aside: see `cxbench validate`)" if rejected else "")))
    for name, report in card.validation.reports.items():  # dates that look like typos, kept but worth a look
        for warning in report.warnings:
            parts.append(_t(f"warning: {name}: {warning}", "yellow"))
    latest = latest_records(card.records)
    window = _compare_window(card.records)
    segmented = bool(doc.get("segments"))
    # One --segment column: its name is the header and each cell its value; several: column=value pairs.
    segment_header = doc["segments"][0] if segmented and len(doc["segments"]) == 1 else "segment"
    sources: dict[str, list[str]] = {}
    small = 0
    for family in Family:
        metrics = [m for m in REGISTRY if m.family is family]
        rows = []
        unavailable: list[str] = []
        reasons: list[Text] = []
        for m in metrics:
            found = [r for (mid, _), r in latest.items() if mid == m.id]
            if not m.overall:
                # Per-breakdown metrics: the latest period's values, highest first, at most a few.
                newest = max((r["period_start"] or "" for r in found), default="")
                found = sorted((r for r in found if (r["period_start"] or "") == newest),
                               key=lambda r: -(r["value"] if r["value"] is not None else -1))
                hidden = len(found) - _BREAKDOWN_ROWS
                found = found[:_BREAKDOWN_ROWS]
                if hidden > 0:
                    found.append({"id": m.id, "hidden": hidden})
            if found and all(r.get("status") == "unavailable" for r in found):
                unavailable.append(m.id)
                reasons.append(_t(f"{m.id}: {found[0].get('reason', '')}", "dim"))
                continue
            rows.extend((m, r) for r in found if r.get("status") != "unavailable")
        if not rows and not unavailable:
            continue
        if not rows:
            parts.append(Text.assemble((family.value, "italic"),
                                       (f": unavailable ({len(unavailable)})" + (
                                           ":" if show_unavailable else ": " + ", ".join(unavailable)), "dim")))
            parts.extend(reasons if show_unavailable else [])
            continue
        table = Table(title=family.value, title_justify="left", expand=False, box=box.SIMPLE_HEAD,
                      pad_edge=False, padding=(0, 1), show_edge=False)
        headers = [("metric", "left")] + ([(segment_header, "left")] if segmented else []) + [
            ("period", "left"), ("value", "right"), ("95 % CI", "right"), ("n", "right"),
            ("rating", "left"), ("Δ prev", "right")] + ([("vs window", "right")] if window else [])
        for header, justify in headers:
            table.add_column(header, justify=justify, overflow="fold",  # type: ignore[arg-type]
                             no_wrap=header not in ("metric", segment_header), max_width=34 if header == "metric" else None,
                             min_width=14 if header == "metric" else None)
        for metric, record in rows:
            if "hidden" in record:
                table.add_row(Text(f"{metric.id} … {record['hidden']} more in JSON/CSV", style="dim"),
                              *([""] * (len(headers) - 1)))
                continue
            segment = [_t(_segment_label(record["segment"], len(doc["segments"]) == 1))] if segmented else []
            label = _t(metric.id + "".join(f" [{v}]" for v in (record.get("dimension") or {}).values()))
            period = period_label(record, doc["period"]) + (_PARTIAL if record.get("partial") else "")
            if record["status"] != "ok":
                table.add_row(label, *segment, period, Text("—", style="dim"),
                              _t(record.get("reason", ""), "dim"), *([""] * (len(headers) - len(segment) - 4)))
                continue
            bench = record.get("benchmark") or {}
            rating = bench.get("rating")
            if rating:
                sources.setdefault(bench["source"], []).append(metric.id)
            n = f"{record['n']:,}"
            if record.get("warning"):
                small += 1
                n += _SMALL_SAMPLE
            table.add_row(
                label, *segment, period, _short(record["value"], record["unit"]), _interval(record),
                n, Text(rating or "", style=_RATING_STYLE.get(rating or "", "")),
                _change(record, metric), *([_change(record, metric, "compared_with")] if window else []),
            )
        parts.append(table)
        if unavailable and show_unavailable:
            parts.append(Text(f"unavailable ({len(unavailable)}):", style="dim"))
            parts.extend(reasons)
        elif unavailable:
            parts.append(Text(f"unavailable ({len(unavailable)}): " + ", ".join(unavailable) + "  (reasons: "
                              "--show-unavailable, or `reason` in JSON/CSV)", style="dim"))
        if family is Family.REVENUE and len({m.id for m, _ in rows if m.id in _CLV_IDS}) > 1:
            parts.append(Text(CLV_DIFFERENCE, style="dim"))
    if card.findings:
        table = Table(title="Findings: what needs attention first", title_justify="left", expand=False)
        for header in ("#", "finding", "what the seeds advise"):
            table.add_column(header, overflow="fold")
        for finding in card.findings[:_FINDINGS_SHOWN]:
            table.add_row(str(finding["rank"]), _t(finding["message"]),
                          _t(f"{finding['advice']} ({finding['advice_source']})", "dim"))
        if len(card.findings) > _FINDINGS_SHOWN:
            table.add_row("", Text(f"… {len(card.findings) - _FINDINGS_SHOWN} more in the JSON output", style="dim"), "")
        parts.append(table)
    warnings = sum(1 for r in card.records if r.get("warning"))
    if sources:
        listed = "; ".join(f"{_source_name(source)}: {', '.join(dict.fromkeys(ids))}"
                           for source, ids in sorted(sources.items()))
        parts.append(_t(f"rating sources: {listed}.", "dim"))
    if window:
        parts.append(Text(f"vs window = vs {window}: the latest value against that window computed as one period "
                          "(counts of events per day, scaled to the period's length).", style="dim"))
    parts.append(Text(f"* significant change at 5 %.  {_SMALL_SAMPLE} fewer answers than --min-sample: read the "
                      f"interval.  {_PARTIAL} the data covers the period only in part (details.covered_days).  "
                      f"{small:,} small samples shown; {len(card.records):,} records in all (every period, segment and "
                      f"breakdown: use --format json or csv); {warnings:,} with a small-sample warning.",
                      style="dim"))
    return Group(*parts)


_CLV_IDS = ("clv", "clv_historical", "clv_predicted")


def _source_name(source: str) -> str:
    return f"seed {source}" if source.replace(",", "").replace(" ", "").isdigit() else source


def to_csv(card: Scorecard) -> str:
    """The flat records as CSV text; text cells that a spreadsheet would run as a formula are neutralised."""
    return _csv(csv_safe(card.to_arrow()))


def _csv(table: pa.Table) -> str:
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    return sink.getvalue().decode("utf-8")


def validation_csv(validation: Validation) -> str:
    """`cxbench validate --format csv`: one row per table (kind `table`), then one per row set aside (`rejected`)."""
    rows: list[dict[str, Any]] = [
        {"kind": "table", "table": name, "file": report.origin, "rows": report.rows, "used": report.used,
         "rejected": report.rejected, "row": None,
         "reason": "; ".join(([report.note] if report.note else []) + list(report.warnings)) or None}
        for name, report in validation.reports.items()]
    rows += [{"kind": "rejected", "table": r.table, "file": r.file, "rows": None, "used": None, "rejected": None,
              "row": r.row, "reason": r.reason} for r in validation.rejected]
    rows += [{"kind": "ignored", "table": None, "file": i.name, "rows": None, "used": None, "rejected": None,
              "row": None, "reason": i.reason} for i in validation.ignored]
    schema = pa.schema([("kind", pa.string()), ("table", pa.string()), ("file", pa.string()), ("rows", pa.int64()),
                        ("used", pa.int64()), ("rejected", pa.int64()), ("row", pa.int64()), ("reason", pa.string())])
    return _csv(csv_safe(pa.Table.from_pylist(rows, schema=schema)))


def catalog_csv() -> str:
    """`cxbench metrics --format csv`: one row per metric."""
    rows = [{**{k: v for k, v in r.items() if k not in ("benchmark", "inputs", "dimensions")},
             "inputs": " ".join(r["inputs"]),
             "dimensions": " ".join(d if isinstance(d, str) else "+".join(d) for d in r["dimensions"]),
             "benchmark": r["benchmark"]["statement"] if r["benchmark"] else None,
             "benchmark_source": r["benchmark"]["source"] if r["benchmark"] else None} for r in catalog_records()]
    return _csv(csv_safe(pa.Table.from_pylist(rows)))


def validation_renderable(validation: Validation, source: str) -> Group:
    """`cxbench validate`: per table rows/used/rejected, then the rejected rows."""
    table = Table(title=_t(f"Validation of {source}"), title_justify="left")
    for header in ("table", "file", "rows", "used", "rejected", "note"):
        table.add_column(header, justify="right" if header in ("rows", "used", "rejected") else "left")
    for name, report in validation.reports.items():
        note = "; ".join(([report.note] if report.note else []) + list(report.warnings))
        table.add_row(_t(name), _t(f"{len(report.files)} files:" if report.files else report.origin),
                      f"{report.rows:,}", f"{report.used:,}",
                      Text(f"{report.rejected:,}", style="red" if report.rejected else ""), _t(note))
        for file, rows, rejected in report.files:  # a table an adapter made from several export files
            table.add_row("", _t("  " + file), f"{rows:,}", f"{rows - rejected:,}",
                          Text(f"{rejected:,}", style="red" if rejected else ""), "")
    parts: list[Any] = [table]
    if validation.currency:
        parts.append(_t(f"Money in {validation.currency}."))
    if validation.ignored:
        parts.append(_t("Not read: " + "; ".join(f"{i.name} ({i.reason})" for i in validation.ignored),
                        style="dim"))
    if validation.unusable:
        parts.append(Text(f"No usable row in: {', '.join(validation.unusable)}; see the reasons below.", style="red"))
    if validation.rejected:
        rejected = Table(title="Rows set aside", title_justify="left")
        for header in ("table", "row", "reason"):
            rejected.add_column(header)
        for r in validation.rejected:
            rejected.add_row(_t(r.table), _t(str(r.row) + (f" ({r.file})" if r.file else "")), _t(r.reason))
        parts.append(rejected)
        total = sum(r.rejected for r in validation.reports.values())
        if total > len(validation.rejected):
            parts.append(Text(f"{len(validation.rejected):,} of {total:,} rows set aside are listed.", style="dim"))
    return Group(*parts)


def catalog_renderable() -> Table:
    """`cxbench metrics`: the catalog from the registry."""
    table = Table(title="cxbench metrics", title_justify="left", show_lines=True)
    for header in ("id", "name", "formula", "unit", "better", "benchmark (source)"):
        table.add_column(header, overflow="fold")
    for m in REGISTRY:
        b = BenchmarkLibrary.builtin().lookup(m.id)
        bench = f"{b.statement} ({b.source})" if b else "—"
        table.add_row(m.id, m.name, _t(m.formula), m.unit.value, m.direction.value, _t(bench))
    return table


def _catalog_benchmark(metric_id: str) -> dict[str, Any] | None:
    b = BenchmarkLibrary.builtin().lookup(metric_id)
    if b is None:
        return None
    return {"statement": b.statement, "source": b.source,
            "verticals": {name: {"statement": v[metric_id].statement, "source": v[metric_id].source}
                          for name, v in BenchmarkLibrary.builtin().verticals.items() if metric_id in v}}


def catalog_records() -> list[dict[str, Any]]:
    """The catalog as data (`cxbench metrics --format json`)."""
    return [
        {
            "id": m.id, "name": m.name, "family": m.family.value, "formula": m.formula, "unit": m.unit.value,
            "direction": m.direction.value, "inputs": list(m.inputs), "dimensions": list(m.dimensions),
            "interval": m.estimator.interval,
            "benchmark": _catalog_benchmark(m.id),
            "source": m.source,
        }
        for m in REGISTRY
    ]


def print_to(renderable: Any, path: str | None, width: int | None = None) -> None:
    """Print a Rich renderable to the terminal, or as plain text to `path` (written atomically)."""
    if path is None:
        console = Console(width=width)
        if width is None and not console.is_terminal and "COLUMNS" not in os.environ:
            console = Console(width=140)  # piped or logged: no terminal width to follow, so a readable one
        console.print(renderable)
        return
    write_atomically(Path(path), plain_text(renderable, width or 160))


def plain_text(renderable: Any, width: int = 160) -> str:
    """A Rich renderable as plain text (no colours), as written by --out with --format table."""
    sink = io.StringIO()
    Console(file=sink, width=width, no_color=True, force_terminal=False, color_system=None).print(renderable)
    return sink.getvalue()


@contextmanager
def metric_progress(console: Console, after_seconds: float = 2.0) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar on `console` (standard error) while a run computes its metrics, one step per metric; none
    when that stream is not a terminal (a pipe, a log, a test), so output stays clean. Shown only once a run has
    taken `after_seconds`, so a quick run does not flash one."""
    if not console.is_terminal:
        yield None
        return
    progress = Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
    task = progress.add_task("reading the tables", total=None)
    # Started from a timer, so a long read of the tables before the first metric shows the bar too.
    timer = threading.Timer(after_seconds, progress.start)
    timer.daemon = True

    def update(step: str, done: int, total: int) -> None:
        progress.update(task, description=escape(terminal_text(step)), completed=done, total=total or None)

    timer.start()
    try:
        yield update
    finally:
        timer.cancel()
        timer.join()
        progress.stop()


__all__ = ["CLV_DIFFERENCE", "catalog_csv", "catalog_records", "catalog_renderable", "format_value", "latest_records",
           "metric_progress", "plain_text", "print_to", "scorecard_renderable", "to_csv", "validation_csv",
           "validation_renderable"]
