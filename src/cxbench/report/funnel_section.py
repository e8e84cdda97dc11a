"""The report's "Why it moved: funnel" section, from a `cxbench.funnel` result (and `cxbench.top_paths`, if given):
the funnel of the whole dataset (and of each segment the report shows), conversion per period of the first step, a
table per segment and the top paths. Only the results' own numbers are copied; nothing is recomputed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cxbench.core.registry import format_value

if TYPE_CHECKING:
    from cxbench.analyses.funnel import Funnel, FunnelGroup
    from cxbench.analyses.paths import TopPaths
    from cxbench.report.model import Chart


@dataclass
class FunnelSection:
    """What `_funnel.html.j2` shows."""

    title: str
    settings: str
    charts: list[Chart]
    segment_rows: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    segment_column: str = ""
    paths_title: str = ""
    path_rows: list[tuple[int, str, str, str]] = field(default_factory=list)
    #: the whole dataset's steps as text, for the page without JavaScript (the charts are not drawn there)
    step_rows: list[tuple[str, str, str, str, str, str, str]] = field(default_factory=list)
    anchor: str = "why-funnel"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def _step_data(group: FunnelGroup) -> dict[str, Any]:
    return {"labels": [f"{s.step}. {s.event}" for s in group.steps], "users": [s.users for s in group.steps],
            "conversion": [s.conversion_pct for s in group.steps], "lo": [s.ci_low for s in group.steps],
            "hi": [s.ci_high for s in group.steps], "previous": [s.step_conversion_pct for s in group.steps],
            "dropped": [s.dropped for s in group.steps], "median": [s.median_seconds for s in group.steps]}


def funnel_section(funnel: Funnel | None, paths: TopPaths | None, chart_id: Callable[[str], str],
                   segment_index: dict[str, int], segment_label: Callable[[dict[str, Any]], str],
                   chart: type[Chart]) -> FunnelSection | None:
    """The section, or None without a funnel and paths. `segment_index` maps the report's segment labels to their
    index: the funnel of a segment the report also shows is drawn when that segment is chosen."""
    if funnel is None and paths is None:
        return None
    from cxbench.analyses.funnel import FunnelOrder, window_start_words, window_words

    charts: list[Chart] = []
    title, settings = "top paths", ""
    segment_rows: list[tuple[str, str, str, str, str, str]] = []
    step_rows: list[tuple[str, str, str, str, str, str, str]] = []
    column = ""
    if funnel is not None:
        title = f"funnel {' → '.join(funnel.steps)}"
        entry = "event of any step" if funnel.order is FunnelOrder.ANY else "step-1 event"
        settings = (f"Order: {funnel.order.value}; window: {window_words(funnel.window)} from "
                    f"{window_start_words(funnel.order)}; a user enters at their first {entry}. Conversion is of the "
                    "users who entered, with its 95 % Wilson interval; the median time is from the previous step.")
        whole_only = not funnel.segments
        steps = chart(chart_id("funnel-steps"), "funnel",
                      "Funnel: users reaching each step, every period" + (" (whole dataset)" if whole_only else ""),
                      "count", None, options={"allSegments": whole_only})
        for group in funnel.groups:
            if group.period_start is None:
                index = segment_index.get(segment_label(dict(group.segment)))
                if index is not None and group.entered:
                    steps.data[index] = _step_data(group)
        if steps.data:
            charts.append(steps)
        overall = funnel.overall
        for s in overall.steps if overall is not None and overall.entered else ():
            first = s.step == 1
            interval = "" if first or s.ci_low is None or s.ci_high is None \
                else f"{s.ci_low:.1f} – {s.ci_high:.1f} %"
            step_rows.append((f"{s.step}. {s.event}", f"{s.users:,}", _pct(s.conversion_pct), interval,
                              "" if first else _pct(s.step_conversion_pct), "" if first else f"{s.dropped:,}",
                              "" if first else format_value(s.median_seconds, "seconds")))
        trend = chart(chart_id("funnel-periods"), "lines",
                      f"Funnel: conversion by {funnel.period.value} of the first step (% of the users who entered)"
                      + (" (whole dataset)" if whole_only else ""), "percent", None,
                      options={"allSegments": whole_only})
        for label, index in segment_index.items():
            groups = [g for g in funnel.groups
                      if g.period_start is not None and segment_label(dict(g.segment)) == label]
            if len(groups) > 1:
                trend.data[index] = {
                    "x": [g.period_start.isoformat() for g in groups if g.period_start],
                    "series": [{"name": f"{k + 1}. {name}", "y": [g.steps[k].conversion_pct for g in groups]}
                               for k, name in enumerate(funnel.steps) if k > 0],
                    "hidden": 0}
        if trend.data:
            charts.append(trend)
        if funnel.segments:
            column = funnel.segments[0]
            for group in funnel.groups:
                if group.segment and group.segment[0][0] == column and group.period_start is None:
                    last = group.steps[-1]
                    interval = "—" if last.ci_low is None or last.ci_high is None \
                        else f"{last.ci_low:.1f} – {last.ci_high:.1f} %"
                    worst = max(group.steps[1:], key=lambda s: s.dropoff_pct or 0.0)
                    segment_rows.append((str(group.segment[0][1]), f"{group.entered:,}", f"{group.converted:,}",
                                         _pct(last.conversion_pct), interval,
                                         f"{worst.step}. {worst.event} ({_pct(worst.dropoff_pct)} lost)"))
    path_rows: list[tuple[int, str, str, str]] = []
    paths_title = ""
    if paths is not None:
        paths_title = (f"Top paths after {paths.entry}: the next {paths.length} pages after a session's first view of "
                       f"it ({paths.sessions:,} sessions, whole dataset)")
        path_rows = [(i, p.label, f"{p.sessions:,}", _pct(p.share_pct)) for i, p in enumerate(paths.paths, start=1)]
        if funnel is None:
            settings = format_value(float(paths.sessions), "count") + " sessions reached the page."
    return FunnelSection(title, settings, charts, segment_rows, column, paths_title, path_rows, step_rows)


__all__ = ["FunnelSection", "funnel_section"]
