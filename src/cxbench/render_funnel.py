"""Turning a funnel (`cxbench funnel`) and top paths (`cxbench paths`) into text: terminal reports and CSV."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cxbench.analyses.funnel import Funnel, FunnelGroup, window_start_words, window_words
from cxbench.analyses.paths import TopPaths
from cxbench.core.registry import format_value
from cxbench.output import csv_safe, terminal_text


def _csv(records: list[dict[str, Any]], empty: str) -> str:
    sink = io.BytesIO()
    table = pa.Table.from_pylist(records) if records else pa.table({empty: pa.array([], pa.string())})
    pacsv.write_csv(csv_safe(table), sink)
    return sink.getvalue().decode("utf-8")


def funnel_csv(result: Funnel) -> str:
    """One row per group (segment, period) and step; an event name a spreadsheet would run is neutralised."""
    return _csv(result.records(), "step")


def paths_csv(result: TopPaths) -> str:
    """One row per path: rank, step_1..step_N, sessions, share_pct."""
    return _csv(result.records(), "rank")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def _interval(low: float | None, high: float | None) -> str:
    return "—" if low is None or high is None else f"{low:.1f}–{high:.1f} %"


def _weakest(group: FunnelGroup) -> str:
    """The step that loses the largest share of the users who reached the one before."""
    steps = [s for s in group.steps[1:] if s.dropoff_pct is not None]
    if not steps:
        return "—"
    worst = max(steps, key=lambda s: s.dropoff_pct or 0.0)
    return f"{worst.step}. {worst.event} (−{worst.dropoff_pct:.0f} %)"


def _summary_table(title: str, first_header: str, rows: list[tuple[str, FunnelGroup]]) -> Table:
    table = Table(title=title, title_justify="left")
    for header in (first_header, "entered", "converted", "conversion", "95 % interval", "largest drop-off"):
        table.add_column(header, justify="left" if header in (first_header, "largest drop-off") else "right")
    for label, group in rows:
        last = group.steps[-1]
        table.add_row(Text(terminal_text(label)), f"{group.entered:,}", f"{group.converted:,}",
                      _pct(last.conversion_pct), _interval(last.ci_low, last.ci_high),
                      Text(terminal_text(_weakest(group))))
    return table


def funnel_renderable(result: Funnel, source: str) -> Group:
    """`cxbench funnel`: the steps of the whole data, then every period of entry and every segment in one line."""
    head = Text.assemble(
        (f"Funnel of {terminal_text(source)}\n", "bold"),
        terminal_text(f"{' → '.join(result.steps)} · order: {result.order.value} · window: "
                      f"{window_words(result.window)} from {window_start_words(result.order)}"
                      + (f" · first step from {result.start or 'the start'} to {result.end or 'the end'}"
                         if result.start or result.end else "")),
    )
    parts: list[Any] = [head]
    overall = result.overall
    if overall is None or not overall.entered:
        parts.append(Text(terminal_text(f"Nobody did the first step ({result.events_read[0]}) in the events read."),
                          style="yellow"))
        return Group(*parts)
    steps = Table(title=f"Whole dataset: {overall.entered:,} users entered", title_justify="left")
    for header in ("step", "users", "conversion", "95 % interval", "of previous", "dropped", "median time"):
        steps.add_column(header, justify="left" if header == "step" else "right")
    for s in overall.steps:
        read = result.events_read[s.step - 1]
        name = s.event if read == s.event else f"{s.event} ({read})"
        steps.add_row(Text(terminal_text(f"{s.step}. {name}")), f"{s.users:,}", _pct(s.conversion_pct),
                      _interval(s.ci_low, s.ci_high) if s.step > 1 else "",
                      _pct(s.step_conversion_pct) if s.step > 1 else "",
                      f"{s.dropped:,}" if s.step > 1 else "",
                      format_value(s.median_seconds, "seconds") if s.step > 1 else "")
    parts.append(steps)
    parts.append(Text("conversion: of the users who entered, Wilson 95 % interval; median time: from the previous "
                      "step", style="dim"))
    periods = [(g.period_start.isoformat(), g) for g in result.groups if not g.segment and g.period_start]
    if len(periods) > 1:
        parts.append(_summary_table(f"By {result.period.value} of the first step", result.period.value, periods))
    for column in result.segments:
        rows = [(str(g.segment[0][1]), g) for g in result.groups
                if g.segment and g.segment[0][0] == column and g.period_start is None]
        if rows:
            parts.append(_summary_table(f"By {column} (customers not found or without a {column} are in the whole "
                                        "dataset only)", column, rows))
    return Group(*parts)


def paths_renderable(result: TopPaths, source: str) -> Group:
    """`cxbench paths`: the most frequent next pages after the entry page."""
    head = Text.assemble(
        (f"Top paths after {terminal_text(result.entry)} in {terminal_text(source)}\n", "bold"),
        f"the next {result.length} pages after a session's first view of it · {result.sessions:,} sessions, "
        f"{result.distinct_paths:,} distinct paths",
    )
    if not result.sessions:
        return Group(head, Text(terminal_text(f"No session viewed {result.entry}."), style="yellow"))
    table = Table(title=f"The {len(result.paths)} most frequent", title_justify="left")
    for header in ("#", "next pages", "sessions", "share"):
        table.add_column(header, justify="left" if header == "next pages" else "right")
    for rank, path in enumerate(result.paths, start=1):
        table.add_row(str(rank), Text(terminal_text(path.label)), f"{path.sessions:,}", _pct(path.share_pct))
    return Group(head, table)


__all__ = ["funnel_csv", "funnel_renderable", "paths_csv", "paths_renderable"]
