"""Turning a scorecard into text: the Rich terminal scorecard, CSV, and the validation report."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from typing import Any

import pyarrow.csv as pacsv
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cxbench.api import Scorecard
from cxbench.core.benchmarks import BenchmarkLibrary
from cxbench.core.registry import Family, Metric, format_value
from cxbench.core.validation import Validation
from cxbench.metrics import METRICS_BY_ID, REGISTRY

_FINDINGS_SHOWN = 10

_BREAKDOWN_ROWS = 6
_RATING_STYLE = {"excellent": "bold green", "great": "green", "good": "green", "fair": "yellow", "poor": "red"}


def _interval(record: dict[str, Any]) -> str:
    if record.get("ci_low") is None or record.get("ci_high") is None:
        return ""
    unit = record["unit"]
    low, high = format_value(record["ci_low"], unit), format_value(record["ci_high"], unit)
    return f"{low.removesuffix(' %')}–{high}"


def _change(record: dict[str, Any], metric: Metric, key: str = "change") -> Text:
    """The delta of `record[key]` (`change` or `compared_with`), * when significant, coloured by direction."""
    change = record.get(key)
    if not change or change.get("delta") is None:
        return Text("")
    delta = change["delta"]
    good = (delta > 0 and metric.direction.value == "up") or (delta < 0 and metric.direction.value == "down")
    bad = (delta < 0 and metric.direction.value == "up") or (delta > 0 and metric.direction.value == "down")
    unit = record["unit"]
    text = ("+" if delta > 0 else "") + (f"{delta:.1f} pt" if unit == "percent" else format_value(delta, unit))
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


def scorecard_renderable(card: Scorecard) -> Group:
    """The terminal scorecard: one table per family, the latest period of each metric."""
    doc = card.document
    parts: list[Any] = []
    inputs = doc.get("inputs", {})
    summary = ", ".join(f"{name} {r['used']:,}/{r['rows']:,}" for name, r in inputs.items()) or "no tables found"
    rejected = sum(r["rejected"] for r in inputs.values())
    parts.append(Text.assemble(("cxbench scorecard", "bold"), f"  {escape(doc['source'])}  period: {doc['period']}"))
    parts.append(Text(f"rows used/read: {summary}" + (f"  ({rejected:,} set aside: see `cxbench validate`)" if rejected else "")))
    latest = latest_records(card.records)
    window = _compare_window(card.records)
    for family in Family:
        metrics = [m for m in REGISTRY if m.family is family]
        rows = []
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
            rows.extend((m, r) for r in found)
        if not rows:
            continue
        segmented = bool(doc.get("segments"))
        table = Table(title=family.value, title_justify="left", expand=False)
        headers = [("metric", "left")] + ([("segment", "left")] if segmented else []) + [
            ("period", "left"), ("value", "right"), ("95 % interval", "right"), ("n", "right"),
            ("benchmark", "left"), ("change", "right")] + ([(f"vs {window}", "right")] if window else [])
        for header, justify in headers:
            table.add_column(header, justify=justify, no_wrap=header in ("metric", "period", "value"))  # type: ignore[arg-type]
        for metric, record in rows:
            if "hidden" in record:
                table.add_row(Text(f"{metric.id} … {record['hidden']} more in JSON/CSV", style="dim"),
                              *([""] * (len(headers) - 1)))
                continue
            segment = [", ".join(f"{k}={v}" for k, v in record["segment"].items()) or "all"] if segmented else []
            label = Text(metric.id + "".join(f" [{v}]" for v in (record.get("dimension") or {}).values()))
            period = period_label(record, doc["period"])
            if record["status"] != "ok":
                table.add_row(label, *segment, period, Text("—", style="dim"),
                              Text(record.get("reason", ""), style="dim"), *([""] * (len(headers) - len(segment) - 4)))
                continue
            bench = record.get("benchmark") or {}
            rating = bench.get("rating")
            table.add_row(
                label, *segment, period, format_value(record["value"], record["unit"]), _interval(record),
                f"{record['n']:,}", Text(f"{rating} ({bench['source']})" if rating else "", style=_RATING_STYLE.get(rating or "", "")),
                _change(record, metric), *([_change(record, metric, "compared_with")] if window else []),
            )
        parts.append(table)
    if card.findings:
        table = Table(title="Findings: what needs attention first", title_justify="left", expand=False)
        for header in ("#", "finding", "what the seeds advise"):
            table.add_column(header, overflow="fold")
        for finding in card.findings[:_FINDINGS_SHOWN]:
            table.add_row(str(finding["rank"]), finding["message"],
                          Text(f"{finding['advice']} ({finding['advice_source']})", style="dim"))
        if len(card.findings) > _FINDINGS_SHOWN:
            table.add_row("", Text(f"… {len(card.findings) - _FINDINGS_SHOWN} more in the JSON output", style="dim"), "")
        parts.append(table)
    warnings = sum(1 for r in card.records if r.get("warning"))
    if window:
        parts.append(Text(f"vs {window}: the latest value against that window computed as one period (counts of "
                          "events per day, scaled to the period's length).", style="dim"))
    parts.append(Text(f"* significant change at 5 %.  {len(card.records):,} records in all (every period, "
                      f"segment and breakdown: use --format json or csv); {warnings:,} with a small-sample warning.",
                      style="dim"))
    return Group(*parts)


def to_csv(card: Scorecard) -> str:
    """The flat records as CSV text."""
    sink = io.BytesIO()
    pacsv.write_csv(card.to_arrow(), sink)
    return sink.getvalue().decode("utf-8")


def validation_renderable(validation: Validation, source: str) -> Group:
    """`cxbench validate`: per table rows/used/rejected, then the rejected rows."""
    table = Table(title=f"Validation of {source}", title_justify="left")
    for header in ("table", "file", "rows", "used", "rejected", "note"):
        table.add_column(header, justify="right" if header in ("rows", "used", "rejected") else "left")
    for name, report in validation.reports.items():
        note = "; ".join(([report.note] if report.note else []) + list(report.warnings))
        table.add_row(name, report.origin, f"{report.rows:,}", f"{report.used:,}",
                      Text(f"{report.rejected:,}", style="red" if report.rejected else ""), Text(note))
    parts: list[Any] = [table]
    if validation.ignored:
        parts.append(Text("Not read: " + "; ".join(f"{i.name} ({i.reason})" for i in validation.ignored),
                          style="dim"))
    if validation.unusable:
        parts.append(Text(f"No usable row in: {', '.join(validation.unusable)}; see the reasons below.", style="red"))
    if validation.rejected:
        rejected = Table(title="Rows set aside", title_justify="left")
        for header in ("table", "row", "reason"):
            rejected.add_column(header)
        for r in validation.rejected:
            rejected.add_row(r.table, str(r.row) + (f" ({r.file})" if r.file else ""), r.reason)
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
        table.add_row(m.id, m.name, m.formula, m.unit.value, m.direction.value, bench)
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
    """Print a Rich renderable to the terminal, or as plain text to `path`."""
    if path is None:
        console = Console(width=width)
        if width is None and not console.is_terminal and "COLUMNS" not in os.environ:
            console = Console(width=140)  # piped or logged: no terminal width to follow, so a readable one
        console.print(renderable)
        return
    with open(path, "w", encoding="utf-8") as handle:
        Console(file=handle, width=width or 160, no_color=True).print(renderable)


__all__ = ["catalog_records", "catalog_renderable", "format_value", "latest_records",
           "print_to", "scorecard_renderable", "to_csv", "validation_renderable"]
