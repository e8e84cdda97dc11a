"""What the HTML report shows, built from a scorecard's typed records (never recomputed): the header facts, the
findings, one card per metric and the charts' data, per segment.

Every chart is a `Chart`: a kind the report's script knows how to draw (`trend`, `dots`, `lines`, `stack`,
`heatmap`, `nps`, `waterfall`, `strip`, `bars`) and its data per segment (index into `ReportModel.segments`). The
data are the records' own numbers, copied; the script only lays them out.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxbench.api import Scorecard, load_benchmarks
from cxbench.core.benchmarks import Benchmark, BenchmarkLibrary
from cxbench.core.records import Finding, MetricRecord
from cxbench.core.registry import Family, Metric, format_value
from cxbench.metrics import METRICS_BY_ID, REGISTRY

#: Most values a breakdown chart shows (the ones with the most answers, orders, visits...).
BREAKDOWN_LIMIT = 20
#: Most lines a per-value trend chart draws.
LINES_LIMIT = 8

#: The MRR bridge, in the order ProfitWell and ChartMogul draw it: (metric id, label, sign).
MRR_BRIDGE: tuple[tuple[str, str, int], ...] = (
    ("new_mrr", "new", 1),
    ("expansion_mrr_movement", "expansion", 1),
    ("reactivation_mrr", "reactivation", 1),
    ("contraction_mrr", "contraction", -1),
    ("churned_mrr", "churned", -1),
)
#: The web strip: the site's traffic and attention at a glance.
WEB_STRIP = ("unique_visitors", "sessions", "bounce_rate", "avg_session_duration")
#: CLV:CAC's rule of thumb (seed 004): a ratio of 3 : 1 or better.
CLV_CAC_LINE = 3.0

Json = dict[str, Any]

#: `Options` fields whose command-line flag has another name.
_FLAGS = {"start": "from", "end": "to", "segments": "segment", "metrics": "metric", "key_events": "key-event",
          "session_timeout_minutes": "session-timeout"}

if TYPE_CHECKING:
    from cxbench.analyses.drivers import KeyDrivers
    from cxbench.analyses.funnel import Funnel
    from cxbench.analyses.paths import TopPaths
    from cxbench.analyses.themes import CommentThemes
    from cxbench.lifetime_value import ClvForecast
    from cxbench.report.funnel_section import FunnelSection


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def segment_label(segment: dict[str, Any] | Any) -> str:
    """`all` for the whole dataset, else `column=value` (joined by `, ` for several columns)."""
    return ", ".join(f"{k}={v}" for k, v in sorted(dict(segment).items())) or "all"


def dimension_label(dimension: dict[str, Any] | Any) -> str:
    return ", ".join(str(v) for v in dict(dimension).values())


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def small_sample(record: MetricRecord) -> bool:
    return bool(record.warning and record.warning.startswith("small sample"))


@dataclass
class Chart:
    """One chart: `id` is its element id; `data` maps a segment index to the numbers drawn for it."""

    id: str
    kind: str
    title: str
    unit: str = ""
    metric: str | None = None
    data: dict[int, Json] = field(default_factory=dict)
    options: Json = field(default_factory=dict)

    def to_json(self) -> Json:
        return {"id": self.id, "kind": self.kind, "title": self.title, "unit": self.unit, "metric": self.metric,
                "options": self.options, "data": {str(k): v for k, v in self.data.items()}}


@dataclass
class Summary:
    """A card's headline for one segment: the latest value with everything said about it."""

    period: str
    value: str
    interval: str
    n: str
    rating: str | None
    rating_source: str
    change: str
    change_test: str
    significant: bool
    compared: str
    warning: str | None
    breakdown_count: int = 0
    unit: str = ""  # said beside the value when the formatting does not show it (score, ratio, money, count)


@dataclass
class ValueTable:
    """A card's values as text for the page without JavaScript (`<noscript>`): the whole dataset's periods, or the
    latest period's breakdown values for a metric reported only per breakdown."""

    caption: str
    head: list[str]
    rows: list[list[str]]


@dataclass
class Card:
    metric: Metric
    summaries: dict[int, Summary]
    charts: list[Chart]
    bands: str | None
    table: ValueTable | None = None


@dataclass
class FamilySection:
    family: Family
    anchor: str
    charts: list[Chart]
    cards: list[Card]


@dataclass
class Unavailable:
    metric: Metric
    reason: str


@dataclass
class ThemesSection:
    """'Why it moved: comment themes': the `cxbench.comment_themes` result as its JSON document, and its chart."""

    doc: Json
    chart: Chart | None


@dataclass
class ReportModel:
    source: str
    generated_at: str
    period: str
    first_day: str | None
    last_day: str | None
    options: list[tuple[str, str]]
    inputs: list[tuple[str, int, int, int, str]]
    set_aside: list[tuple[str, str, int]]
    set_aside_listed: int
    set_aside_total: int
    segments: list[str]
    findings: list[Finding]
    families: list[FamilySection]
    unavailable: list[Unavailable]
    compare: tuple[str, str] | None
    themes: ThemesSection | None = None
    drivers: DriversSection | None = None  # "Why it moved: key drivers" (cxbench report --drivers)
    funnel: FunnelSection | None = None  # "Why it moved: funnel" (cxbench report --funnel / --paths-entry)

    @property
    def charts(self) -> list[Chart]:
        charts = [c for f in self.families for c in (*f.charts, *(c for card in f.cards for c in card.charts))]
        if self.themes is not None and self.themes.chart is not None:
            charts.append(self.themes.chart)
        if self.funnel is not None:
            charts.extend(self.funnel.charts)
        return charts + (self.drivers.charts if self.drivers else [])

    def payload(self) -> Json:
        """The data the script draws from, embedded once in the page."""
        return {"segments": self.segments, "period": self.period, "compare": list(self.compare) if self.compare else None,
                "charts": [c.to_json() for c in self.charts]}


def _bands_for(benchmark: Benchmark | None, records: Sequence[MetricRecord], metric: Metric,
               period: str) -> list[Json]:
    """The bands to shade behind a trend, when they hold for this reporting period (and this answer scale)."""
    if benchmark is None or (benchmark.period and benchmark.period != period):
        return []
    bands = benchmark.bands
    if benchmark.by_scale:
        scales = [r.details.get(metric.benchmark_scale_detail) for r in records if metric.benchmark_scale_detail]
        scale = next((s for s in reversed(scales) if s is not None), None)
        bands = dict(benchmark.by_scale).get(int(scale)) if scale is not None else None
        if not bands:
            return []
    return [{"label": b.label, "low": b.low, "high": b.high} for b in bands]


def _summary(record: MetricRecord, period: str) -> Summary:
    from cxbench.render import period_label

    unit = record.unit
    change, rating = record.change, record.benchmark
    change_text, test, significant = _change_text(record), "", False
    if change is not None and change.delta is not None:
        if change.p_value is not None:
            test = f"p = {change.p_value:.3g}" + (f", {change.test}" if change.test else "")
        significant = bool(change.significant)
    compared = ""
    window = record.compared_with
    if window is not None and window.value is not None:
        delta = window.delta or 0.0
        compared = (f"{'+' if delta > 0 else ''}{f'{delta:.1f} pt' if unit == 'percent' else format_value(delta, unit)}"
                    f" vs {format_value(window.value, unit)} in {window.first}..{window.last}")
        if window.p_value is not None:
            compared += f" (p = {window.p_value:.3g}{', significant' if window.significant else ''})"
    return Summary(period=period_label(record, period), value=format_value(record.value, unit),
                   interval=_interval(record), n=f"{record.n:,}", rating=rating.rating if rating else None,
                   rating_source=(rating.source if rating else ""), change=change_text, change_test=test,
                   significant=significant, compared=compared, warning=record.warning,
                   unit={"money": "in the dataset's currency", "score": "score", "ratio": "ratio",
                         "count": "count"}.get(unit, ""))


def _interval(record: MetricRecord) -> str:
    if record.ci_low is None or record.ci_high is None:
        return ""
    return f"{format_value(record.ci_low, record.unit)} – {format_value(record.ci_high, record.unit)}"


def _change_text(record: MetricRecord) -> str:
    """The change from the previous period, as the card says it: "+2.0 pt vs 40.0 %"."""
    change = record.change
    if change is None or change.delta is None:
        return ""
    delta, unit = change.delta, record.unit
    text = ("+" if delta > 0 else "") + (f"{delta:.1f} pt" if unit == "percent" else format_value(delta, unit))
    return text + f" vs {format_value(change.previous, unit)}"


def _latest(records: Iterable[MetricRecord]) -> MetricRecord | None:
    ok = [r for r in records if r.ok and r.value is not None]
    return max(ok, key=lambda r: r.period_start or dt.date.min) if ok else None


class _Builder:
    def __init__(self, card: Scorecard, library: BenchmarkLibrary, clv: ClvForecast | None = None,
                 themes: CommentThemes | None = None, funnel: Funnel | None = None, paths: TopPaths | None = None):
        self.card = card
        self.library = library
        self.clv = clv
        self.themes = themes
        self.funnel, self.paths = funnel, paths
        self.period = card.period.value
        # Segment 0 is the whole dataset; the others in the order the records first name them.
        labels: dict[str, int] = {"all": 0}
        self.segment_values: list[dict[str, Any]] = [{}]
        for r in card.records:
            if segment_label(r.segment) not in labels:
                labels[segment_label(r.segment)] = len(labels)
                self.segment_values.append(dict(r.segment))
        self.segments = list(labels)
        self.seg_index = labels
        # metric → segment → list of records (overall: dimension None) and breakdown records
        self.overall: dict[str, dict[int, list[MetricRecord]]] = defaultdict(lambda: defaultdict(list))
        self.breakdown: dict[str, dict[int, list[MetricRecord]]] = defaultdict(lambda: defaultdict(list))
        for r in card.records:
            target = self.overall if r.dimension is None else self.breakdown
            target[r.id][labels[segment_label(r.segment)]].append(r)
        for store in (self.overall, self.breakdown):
            for per_segment in store.values():
                for rows in per_segment.values():
                    rows.sort(key=lambda r: r.period_start or dt.date.min)
        self._ids: Counter[str] = Counter()

    def chart_id(self, stem: str) -> str:
        self._ids[stem] += 1
        return f"chart-{stem}" + (f"-{self._ids[stem]}" if self._ids[stem] > 1 else "")

    def has_value(self, metric_id: str) -> bool:
        return any(r.ok and r.value is not None
                   for store in (self.overall, self.breakdown)
                   for rows in store.get(metric_id, {}).values() for r in rows)

    # -- per-metric charts -------------------------------------------------------------------------------------

    def trend(self, metric: Metric) -> Chart | None:
        per_segment = self.overall.get(metric.id, {})
        if not any(r.ok and r.value is not None for rows in per_segment.values() for r in rows):
            return None
        all_records = [r for rows in per_segment.values() for r in rows]
        bench = self.library.lookup(metric.id, self.card.options.vertical)
        chart = Chart(self.chart_id(f"{metric.id}-trend"), "trend", f"{metric.name}: every period",
                      metric.unit.value, metric.id,
                      options={"bands": _bands_for(bench, all_records, metric, self.period),
                               "direction": metric.direction.value})
        if metric.id == "clv_cac_ratio":
            chart.options["line"] = {"y": CLV_CAC_LINE, "label": "3 : 1"}
        for seg, rows in per_segment.items():
            chart.data[seg] = {
                "x": [_day(r.period_start) for r in rows],
                "y": [_finite(r.value) if r.ok else None for r in rows],
                "lo": [_finite(r.ci_low) for r in rows],
                "hi": [_finite(r.ci_high) for r in rows],
                "n": [r.n for r in rows],
                "small": [small_sample(r) for r in rows],
                "sig": [bool(r.change and r.change.significant) for r in rows],
            }
            # A --benchmarks file may give a segment bands and a target of its own.
            own = self.library.lookup(metric.id, self.card.options.vertical, self.segment_values[seg])
            if own is not bench:
                chart.data[seg]["bands"] = _bands_for(own, rows, metric, self.period)
            if own is not None and own.target is not None:
                chart.data[seg]["target"] = own.target
        return chart

    def _columns(self, metric: Metric) -> list[str]:
        columns: list[str] = []
        for rows in self.breakdown.get(metric.id, {}).values():
            for r in rows:
                key = ", ".join(dict(r.dimension or {}))
                if key not in columns:
                    columns.append(key)
        return columns

    def dots(self, metric: Metric, *, whiskers: bool = True) -> list[Chart]:
        """Per breakdown column: the latest period's value per breakdown value, with its interval."""
        charts = []
        for column in self._columns(metric):
            if "," in column:
                continue  # cohort × offset: the heatmap
            chart = Chart(self.chart_id(f"{metric.id}-by-{column}"), "dots",
                          f"{metric.name} by {column.replace('_', ' ')}: latest period", metric.unit.value, metric.id,
                          options={"whiskers": whiskers, "dimension": column})
            for seg, rows in self.breakdown[metric.id].items():
                latest, shown, hidden = self._latest_values(column, rows)
                if not shown:
                    continue
                chart.data[seg] = {
                    "period": _day(latest), "labels": [dimension_label(r.dimension) for r in shown],
                    "y": [_finite(r.value) for r in shown], "lo": [_finite(r.ci_low) for r in shown],
                    "hi": [_finite(r.ci_high) for r in shown], "n": [r.n for r in shown],
                    "hidden": hidden,
                }
            if chart.data:
                charts.append(chart)
        return charts

    @staticmethod
    def _latest_values(column: str, rows: Sequence[MetricRecord]) -> tuple[dt.date | None, list[MetricRecord], int]:
        """The latest period with a value broken down by `column`, its values (the `BREAKDOWN_LIMIT` with the
        largest n, lowest value first) and how many more were left out."""
        rows = [r for r in rows if r.ok and r.value is not None and list(dict(r.dimension or {})) == [column]]
        if not rows:
            return None, [], 0
        latest = max(r.period_start or dt.date.min for r in rows)
        rows = sorted((r for r in rows if (r.period_start or dt.date.min) == latest), key=lambda r: -r.n)
        shown = rows[:BREAKDOWN_LIMIT]
        shown.sort(key=lambda r: r.value or 0.0)
        return latest, shown, len(rows) - len(shown)

    def lines(self, metric: Metric, kind: str = "lines", title: str | None = None) -> Chart | None:
        """One line (or stacked bar) per breakdown value over the periods, the values with the most rows."""
        column = next((c for c in self._columns(metric) if "," not in c), None)
        if column is None:
            return None
        chart = Chart(self.chart_id(f"{metric.id}-{kind}"), kind,
                      title or f"{metric.name} by {column.replace('_', ' ')}: every period", metric.unit.value,
                      metric.id)
        for seg, rows in self.breakdown[metric.id].items():
            rows = [r for r in rows if list(dict(r.dimension or {})) == [column]]
            weight: Counter[str] = Counter()
            for r in rows:
                weight[dimension_label(r.dimension)] += r.n
            names = [name for name, _ in weight.most_common(LINES_LIMIT)]
            x = sorted({_day(r.period_start) for r in rows if r.period_start})
            by = {(dimension_label(r.dimension), _day(r.period_start)): r for r in rows}
            series = []
            for name in names:
                ys = [by.get((name, day)) for day in x]
                series.append({"name": name, "y": [_finite(r.value) if r is not None and r.ok else None for r in ys]})
            if x and series:
                chart.data[seg] = {"x": x, "series": series, "hidden": max(0, len(weight) - len(names))}
        return chart if chart.data else None

    def metric_card(self, metric: Metric) -> Card:
        summaries = {}
        for seg in range(len(self.segments)):
            latest = _latest(self.overall.get(metric.id, {}).get(seg, []))
            if latest is not None:
                summaries[seg] = _summary(latest, self.period)
            elif not metric.overall:
                rows = [r for r in self.breakdown.get(metric.id, {}).get(seg, []) if r.ok]
                if rows:
                    newest = max(r.period_start or dt.date.min for r in rows)
                    count = sum(1 for r in rows if r.period_start == newest)
                    first = max(rows, key=lambda r: (r.period_start or dt.date.min))
                    summary = _summary(first, self.period)
                    summaries[seg] = Summary(period=summary.period, value="", interval="", n="", rating=None,
                                             rating_source="", change="", change_test="", significant=False,
                                             compared="", warning=None, breakdown_count=count)
        charts: list[Chart] = []
        trend = self.trend(metric)
        if trend is not None:
            charts.append(trend)
        if any(isinstance(d, tuple) for d in metric.dimensions):
            pass  # cohort × offset: drawn as the family's heatmap
        elif not metric.overall:
            # The lifecycle as PostHog draws it: stacked bars, dormant users below zero.
            line = self.lines(metric, kind="stack" if metric.id == "user_lifecycle" else "lines")
            if line is not None:
                charts.append(line)
            charts.extend(self.dots(metric, whiskers=True))
        elif metric.id not in ("contact_volume_by_channel", "transaction_mix", "clv_cac_ratio"):
            # (CLV:CAC per channel is the family's chart, beside CAC per channel, with the 3 : 1 line)
            charts.extend(self.dots(metric, whiskers=True))
        bench = self.library.lookup(metric.id, self.card.options.vertical)
        return Card(metric, summaries, charts, f"{bench.statement} (source {bench.source})" if bench else None,
                    self.value_table(metric))

    def value_table(self, metric: Metric) -> ValueTable | None:
        """The card's values for the page without JavaScript: every period of the whole dataset, or the latest
        period's values per breakdown when the metric has no overall value."""
        from cxbench.render import period_label

        records = self.overall.get(metric.id, {}).get(0, [])
        valued = [i for i, r in enumerate(records) if r.ok and r.value is not None]
        if valued:
            # From the first period with a value to the last (as the trend's view), newest first: the latest
            # shows without scrolling.
            shown = records[valued[0]:valued[-1] + 1][::-1]
            head = ["period", "value", "95 % interval", "n", "change"]
            rows = [[period_label(r, self.period), format_value(r.value if r.ok else None, r.unit),
                     _interval(r), f"{r.n:,}", _change_text(r)] for r in shown]
            if not any(row[2] for row in rows):  # no interval (a total, a derived value): no empty column
                head.pop(2)
                rows = [row[:2] + row[3:] for row in rows]
            return ValueTable("Every period with a value, newest first (whole dataset)", head, rows)
        for column in self._columns(metric):
            latest, shown, _ = self._latest_values(column, self.breakdown.get(metric.id, {}).get(0, []))
            if shown:
                rows = [[dimension_label(r.dimension), format_value(r.value, r.unit), _interval(r), f"{r.n:,}"]
                        for r in shown]
                caption = f"{period_label(shown[0], self.period)}, whole dataset, by {column.replace('_', ' ')}"
                return ValueTable(caption, [column.replace("_", " "), "value", "95 % interval", "n"], rows)
        return None

    # -- family charts ----------------------------------------------------------------------------------------

    def nps_stack(self, metric_id: str, title: str) -> Chart | None:
        rows_by_seg = self.overall.get(metric_id, {})
        chart = Chart(self.chart_id(f"{metric_id}-mix"), "nps", title, "percent", metric_id)
        for seg, rows in rows_by_seg.items():
            rows = [r for r in rows if r.ok and "positive_pct" in r.details]
            if rows:
                chart.data[seg] = {
                    "x": [_day(r.period_start) for r in rows],
                    "promoters": [_finite(r.details["positive_pct"]) for r in rows],
                    "passives": [_finite(r.details.get("neutral_pct")) for r in rows],
                    "detractors": [_finite(r.details.get("negative_pct")) for r in rows],
                    "n": [r.n for r in rows],
                }
        return chart if chart.data else None

    def cohort_heatmap(self, metric_id: str = "retention_cohorts",
                       title: str = "Retention by signup cohort (% of the cohort active, by months since signup)",
                       axis: str = "months since signup") -> Chart | None:
        """A cohort × offset metric's records as a heatmap: one row per cohort, one column per offset. The colour
        scale runs 0-100, or to the largest value when a cohort grew beyond 100 % (net MRR retention)."""
        chart = Chart(self.chart_id(metric_id.replace("_", "-")), "heatmap", title, "percent", metric_id)
        for seg, rows in self.breakdown.get(metric_id, {}).items():
            rows = [r for r in rows if r.ok and r.value is not None]
            if not rows:
                continue
            cohorts = sorted({str(r.dimension["cohort"]) for r in rows if r.dimension})
            offsets = sorted({int(r.dimension["offset"]) for r in rows if r.dimension})
            cell = {(str(r.dimension["cohort"]), int(r.dimension["offset"])): r for r in rows if r.dimension}
            z = [[_finite(cell[(c, o)].value) if (c, o) in cell else None for o in offsets] for c in cohorts]
            chart.data[seg] = {
                "cohorts": cohorts, "offsets": offsets, "z": z,
                "n": [cell[(c, 0)].n if (c, 0) in cell else None for c in cohorts],
                "zmax": max([100.0, *(v for row in z for v in row if v is not None)]), "axis": axis,
            }
        return chart if chart.data else None

    def health_bands(self) -> Chart | None:
        """customer_health_score's customers per band (details.green_pct, yellow_pct, red_pct), every period."""
        chart = Chart(self.chart_id("customer-health-bands"), "stack",
                      "Customer health: % of paying customers per band, every period", "percent",
                      "customer_health_score")
        # Okabe-Ito green, yellow and vermilion (report.js COLORS 2, 6, 5).
        bands = (("green (70 and up)", "green_pct", 2), ("yellow (40 to 70)", "yellow_pct", 6),
                 ("red (below 40)", "red_pct", 5))
        for seg, rows in self.overall.get("customer_health_score", {}).items():
            rows = [r for r in rows if r.ok and r.value is not None]
            if rows:
                chart.data[seg] = {
                    "x": [_day(r.period_start) for r in rows],
                    "series": [{"name": name, "color": colour, "y": [_finite(r.details.get(key)) for r in rows]}
                               for name, key, colour in bands],
                    "hidden": 0,
                }
        return chart if chart.data else None

    def mrr_bridge(self) -> list[Chart]:
        charts = []
        waterfall = Chart(self.chart_id("mrr-bridge"), "waterfall", "MRR bridge: the latest period's movements",
                          "money", "net_new_mrr")
        movements = Chart(self.chart_id("mrr-movements"), "stack",
                          "MRR movements: gains above zero, losses below, every period", "money", "net_new_mrr",
                          options={"relative": True})
        for seg in range(len(self.segments)):
            parts = {mid: {r.period_start: r for r in self.overall.get(mid, {}).get(seg, []) if r.ok}
                     for mid, _, _ in MRR_BRIDGE}
            net = {r.period_start: r for r in self.overall.get("net_new_mrr", {}).get(seg, []) if r.ok}
            periods = sorted(set.intersection(*(set(p) for p in parts.values())) if all(parts.values()) else set(),
                             key=lambda d: d or dt.date.min)
            if not periods:
                continue
            last = periods[-1]
            steps = [[label, sign * (_finite(parts[mid][last].value) or 0.0)] for mid, label, sign in MRR_BRIDGE]
            waterfall.data[seg] = {"period": _day(last), "steps": steps,
                                   "total": _finite(net[last].value) if last in net else None}
            movements.data[seg] = {
                "x": [_day(p) for p in periods],
                "series": [{"name": label, "y": [sign * (_finite(parts[mid][p].value) or 0.0) for p in periods]}
                           for mid, label, sign in MRR_BRIDGE],
                "hidden": 0,
            }
        charts.extend(c for c in (waterfall, movements) if c.data)
        return charts

    def cac_by_channel(self) -> list[Chart]:
        cac = METRICS_BY_ID.get("cac")
        if cac is None:
            return []
        charts = [c for c in self.dots(cac, whiskers=False)]
        for c in charts:
            c.kind = "bars"
            c.title = c.title.replace("Customer acquisition cost", "CAC")
        return charts

    def clv_cac_by_channel(self) -> Chart | None:
        """CLV:CAC per acquisition channel in the latest period with one, against seed 004's 3 : 1 line, with the
        CLV and CAC each ratio divides (from the record's details)."""
        column = "acquisition_channel"  # CAC's channel breakdown: spend.channel against customers won by channel
        chart = Chart(self.chart_id("clv-cac-by-channel"), "ratio",
                      "CLV : CAC by acquisition channel: latest period, against the 3 : 1 rule of thumb (seed 004)",
                      "ratio", "clv_cac_ratio",
                      options={"line": {"y": CLV_CAC_LINE, "label": "3 : 1"}, "dimension": column})
        for seg, rows in self.breakdown.get("clv_cac_ratio", {}).items():
            latest, shown, hidden = self._latest_values(column, rows)
            if not shown:
                continue
            # The channels CAC shows that period without a ratio: no spend (CAC 0) or no CLV for them.
            labels = {dimension_label(r.dimension) for r in shown}
            cac = [r for r in self.breakdown.get("cac", {}).get(seg, []) if r.ok and r.period_start == latest
                   and list(dict(r.dimension or {})) == [column] and dimension_label(r.dimension) not in labels]
            chart.data[seg] = {
                "period": _day(latest), "labels": [dimension_label(r.dimension) for r in shown],
                "y": [_finite(r.value) for r in shown], "n": [r.n for r in shown],
                "clv": [_finite(r.details.get("clv")) for r in shown],
                "cac": [_finite(r.details.get("cac")) for r in shown], "hidden": hidden,
                "without": sorted(f"{dimension_label(r.dimension)} ({'CAC 0' if r.value == 0 else 'no CLV'})"
                                  for r in cac),
            }
        return chart if chart.data else None

    def support_volume(self) -> list[Chart]:
        charts: list[Chart] = []
        metric = METRICS_BY_ID.get("contact_volume_by_channel")
        if metric is not None:
            stack = self.lines(metric, kind="stack", title="Support contacts by channel, every period")
            if stack is not None:
                charts.append(stack)
        mean, median = METRICS_BY_ID.get("avg_resolution_time"), METRICS_BY_ID.get("median_resolution_time")
        if mean is not None and median is not None:
            chart = Chart(self.chart_id("resolution-by-channel"), "grouped",
                          "Resolution time by channel, latest period: its distribution (10th, 25th, 50th, 75th and "
                          "90th percentiles) and the mean (a long tail pulls the mean up)",
                          "seconds", "median_resolution_time")
            for seg in range(len(self.segments)):
                # Per channel only: the tickets' other breakdowns (priority, group, agent, tag) have their own charts.
                rows = {mid: [r for r in self.breakdown.get(mid, {}).get(seg, []) if r.ok and r.value is not None
                              and list(dict(r.dimension or {})) == ["channel"]]
                        for mid in (mean.id, median.id)}
                if not rows[median.id]:
                    continue
                latest = max(r.period_start or dt.date.min for r in rows[median.id])
                labels = sorted({dimension_label(r.dimension) for r in rows[median.id] if r.period_start == latest})
                values = {mid: {dimension_label(r.dimension): _finite(r.value) for r in rs if r.period_start == latest}
                          for mid, rs in rows.items()}
                spread = {dimension_label(r.dimension): r.details or {} for r in rows[median.id]
                          if r.period_start == latest}

                def percentile(name: str, key: str) -> dict[str, Any]:
                    return {"name": name, "y": [_finite((spread.get(k) or {}).get(key)) for k in labels]}

                chart.data[seg] = {"period": _day(latest), "labels": labels,
                                   "series": [percentile("10th percentile", "p10"), percentile("25th", "p25"),
                                              {"name": "median", "y": [values[median.id].get(k) for k in labels]},
                                              percentile("75th", "p75"), percentile("90th", "p90"),
                                              {"name": "mean", "y": [values[mean.id].get(k) for k in labels]}]}
            if chart.data:
                charts.append(chart)
        return charts

    def web_strip(self) -> Chart | None:
        chart = Chart(self.chart_id("web-strip"), "strip", "The website at a glance: visitors, sessions, bounce, "
                      "session duration", "", "sessions", options={"full": True})
        for seg in range(len(self.segments)):
            panels = []
            for mid in WEB_STRIP:
                metric = METRICS_BY_ID.get(mid)
                rows = [r for r in self.overall.get(mid, {}).get(seg, [])]
                if metric is None or not any(r.ok for r in rows):
                    continue
                panels.append({"metric": mid, "title": metric.name, "unit": metric.unit.value,
                               "x": [_day(r.period_start) for r in rows],
                               "y": [_finite(r.value) if r.ok else None for r in rows]})
            if panels:
                chart.data[seg] = {"panels": panels}
        return chart if chart.data else None

    def clv_holdout(self) -> Chart | None:
        """Predicted against actual purchases in the holdout, by calibration purchases (Fader, Hardie & Lee 2005,
        figure 4), from `cxbench clv`'s forecast: for the whole dataset, whatever the segment chosen."""
        if self.clv is None:
            return None
        holdout = self.clv.holdout()
        if holdout.get("status") != "ok":
            return None
        groups = holdout["by_frequency"]
        chart = Chart(self.chart_id("clv-holdout"), "holdout",
                      f"Predicted CLV check: purchases per customer {holdout['start']} to {holdout['end']}, predicted "
                      "and actual, by purchases before (whole dataset)", "count", "clv_predicted",
                      options={"allSegments": True})
        chart.data[0] = {"labels": [g["frequency"] for g in groups], "customers": [g["customers"] for g in groups],
                         "actual": [g["actual_mean"] for g in groups], "predicted": [g["predicted_mean"] for g in groups],
                         "error_pct": holdout["error_pct"]}
        return chart

    def themes_section(self) -> ThemesSection | None:
        """The comment themes' section: each theme's score difference with its interval (whole dataset, whatever
        the segment chosen), copied from the `cxbench.comment_themes` result."""
        if self.themes is None:
            return None
        doc = self.themes.to_dict()
        if not doc["themes"]:
            return ThemesSection(doc, None)
        chart = Chart(self.chart_id("themes"), "themes",
                      f"{doc['score_name']} of the answers whose comment has the theme minus that of the other commented "
                      "answers, with 95 % intervals (whole dataset)", "points", options={"allSegments": True})
        chart.data[0] = {"labels": [f"{t['id']}. {t['label']}" for t in doc["themes"]],
                         "impact": [t["impact"] for t in doc["themes"]], "low": [t["ci_low"] for t in doc["themes"]],
                         "high": [t["ci_high"] for t in doc["themes"]],
                         "comments": [t["comments"] for t in doc["themes"]],
                         "share": [t["share_pct"] for t in doc["themes"]],
                         "with": [t["score_with"] for t in doc["themes"]],
                         "without": [t["score_without"] for t in doc["themes"]],
                         "sentiment": [t["sentiment"] for t in doc["themes"]], "score_name": doc["score_name"]}
        return ThemesSection(doc, chart)

    def family_charts(self, family: Family) -> list[Chart]:
        charts: list[Chart | None] = []
        if family is Family.SURVEYS:
            charts += [self.nps_stack("nps", "NPS answers: promoters, passives and detractors (% of answers)"),
                       self.nps_stack("enps", "eNPS answers: promoters, passives and detractors (% of answers)")]
        elif family is Family.PRODUCT:
            charts.append(self.cohort_heatmap())
        elif family is Family.WEBSITE:
            charts.append(self.web_strip())
        elif family is Family.REVENUE:
            # CLV:CAC per acquisition channel right after CAC per acquisition channel: side by side in the grid.
            cac = self.cac_by_channel()
            by_channel = [c for c in cac if c.options.get("dimension") == "acquisition_channel"]
            charts += [*self.mrr_bridge(), *by_channel, self.clv_cac_by_channel(),
                       *(c for c in cac if c not in by_channel), self.clv_holdout(), self.health_bands(),
                       self.cohort_heatmap("net_mrr_retention_cohorts",
                                           f"Net MRR retention by cohort (% of the cohort's first-{self.period} MRR, "
                                           f"by {self.period}s since its first payment)",
                                           f"{self.period}s since the first payment")]
        elif family is Family.SUPPORT:
            charts += self.support_volume()
        return [c for c in charts if c is not None]

    # -- the whole report ------------------------------------------------------------------------------------

    def build(self) -> ReportModel:
        card = self.card
        families, unavailable = [], []
        for family in Family:
            cards = []
            for metric in (m for m in REGISTRY if m.family is family):
                if not any(metric.id in store for store in (self.overall, self.breakdown)):
                    continue
                if self.has_value(metric.id):
                    cards.append(self.metric_card(metric))
                else:
                    reasons = Counter(r.reason or "no value" for store in (self.overall, self.breakdown)
                                      for rows in store.get(metric.id, {}).values() for r in rows)
                    unavailable.append(Unavailable(metric, reasons.most_common(1)[0][0]))
            charts = self.family_charts(family)
            if cards or charts:
                families.append(FamilySection(family, "family-" + family.name.lower(), charts, cards))
        days = [d for r in card.records for d in (r.period_start, r.period_end) if d is not None]
        validation = card.validation.to_dict()
        inputs = [(name, v["rows"], v["used"], v["rejected"], str(v.get("file") or v.get("origin") or ""))
                  for name, v in validation.get("inputs", {}).items()]
        reasons: Counter[tuple[str, str]] = Counter((r["table"], r["reason"]) for r in validation.get("rejected", []))
        options = self.options()
        compare = card.options.compare
        return ReportModel(
            source=card.source, generated_at=card.generated_at, period=self.period,
            first_day=min(days).isoformat() if days else None, last_day=max(days).isoformat() if days else None,
            options=options, inputs=inputs,
            set_aside=[(table, reason, count) for (table, reason), count in sorted(reasons.items())],
            set_aside_listed=len(validation.get("rejected", [])),
            set_aside_total=sum(v[3] for v in inputs), segments=self.segments, findings=list(card.findings),
            families=families, unavailable=unavailable,
            compare=(compare[0].isoformat(), compare[1].isoformat()) if compare else None,
            themes=self.themes_section(), funnel=self.funnel_section())

    def funnel_section(self) -> FunnelSection | None:
        from cxbench.report.funnel_section import funnel_section

        return funnel_section(self.funnel, self.paths, self.chart_id, self.seg_index, segment_label, Chart)


    def options(self) -> list[tuple[str, str]]:
        """The run's options that differ from the defaults, as text."""
        from dataclasses import fields

        from cxbench.core.options import DEFAULTS

        shown = [("period", self.period)]
        for f in fields(self.card.options):
            if f.name == "period":
                continue
            value, default = getattr(self.card.options, f.name), getattr(DEFAULTS, f.name, None)
            if value == default or value in (None, (), ""):
                continue
            if f.name == "health_weights":
                continue  # set in the --benchmarks file, shown with it; no flag of its own
            if isinstance(value, tuple) and value and isinstance(value[0], dt.date) and f.name == "compare":
                text = f"{value[0]}..{value[1]}"
            elif f.name == "fx":  # the rates read from the file: a summary, not every (date, currency, rate)
                codes = ", ".join(sorted({code for _, code, _ in value}))
                text = f"{len(value):,} rate{'s' if len(value) != 1 else ''} for {codes}, {value[0][0]} to {value[-1][0]}"
            elif f.name == "sla_targets":  # as given: PRIORITY=FIRST/RESOLUTION, in hours
                text = ",".join(f"{priority}={first:g}h/{resolution:g}h" for priority, first, resolution in value)
            elif isinstance(value, tuple):
                text = ", ".join(str(v) for v in value)
            else:
                text = str(getattr(value, "value", value))
            shown.append((_FLAGS.get(f.name, f.name.replace("_", "-")), text))
        return shown


def build_model(card: Scorecard, benchmarks: str | Path | BenchmarkLibrary | None = None,
                clv: ClvForecast | None = None, themes: CommentThemes | None = None,
                drivers: KeyDrivers | None = None, funnel: Funnel | None = None,
                paths: TopPaths | None = None) -> ReportModel:
    """The report's content from `card`; `benchmarks` is a --benchmarks file whose bands are shaded (default: the
    library the card was rated with, else the built-in one); `clv` a `cxbench.predict_clv` forecast whose holdout
    check is drawn; `themes` a `cxbench.comment_themes` result shown as the section 'Why it moved: comment themes';
    `drivers` a `cxbench.key_drivers` result, shown as the "Why it moved: key drivers" section; `funnel`
    (`cxbench.funnel`) and `paths` (`cxbench.top_paths`) make the section 'Why it moved: funnel'."""
    if isinstance(benchmarks, BenchmarkLibrary):
        library = benchmarks
    elif benchmarks is None and card.benchmarks is not None:
        library = card.benchmarks
    else:
        library = load_benchmarks(benchmarks, None)
    model = _Builder(card, library, clv, themes, funnel, paths).build()
    if drivers is not None:
        model.drivers = drivers_section(drivers)
    return model


# -- why it moved: key drivers ---------------------------------------------------------------------------


@dataclass
class DriverRow:
    """One line of a target's driver table, as text."""

    label: str
    importance: str
    effect: str
    direction: str
    affected: str
    performance: str
    quadrant: str


@dataclass
class DriverTarget:
    """One target's part of the section: its facts, its table, the quadrant chart and what was left out."""

    target: str
    title: str
    status: str
    reason: str | None
    facts: str
    effect_head: str
    rows: list[DriverRow]
    chart: Chart | None
    dropped: list[tuple[str, str]]
    warnings: list[str]
    method: str


@dataclass
class DriversSection:
    """The "Why it moved: key drivers" section, built from a `KeyDrivers` result (never recomputed)."""

    anchor: str
    note: str
    settings: str
    targets: list[DriverTarget]

    @property
    def charts(self) -> list[Chart]:
        return [t.chart for t in self.targets if t.chart is not None]


def _ci(value: float | None, low: float | None, high: float | None, digits: int, signed: bool) -> str:
    if value is None:
        return "—"
    head = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return head if low is None or high is None else f"{head} ({low:.{digits}f} to {high:.{digits}f})"


def drivers_section(result: KeyDrivers) -> DriversSection:
    """The section's text and quadrant charts (kind `quadrant`: importance × performance, lines at the drivers'
    means) from the analyses' own numbers."""
    from cxbench.analyses.drivers import POPULATIONS, TARGET_LABELS

    doc = result.to_dict()
    s = doc["settings"]
    window = f"{s['from'] or 'the start'} to {s['to'] or 'the end'}" if s["from"] or s["to"] else "all the data"
    settings = (f"Answers, tickets and events of {window}; importance: Shapley decomposition of R² (LMG) with 95 % "
                f"intervals from {s['bootstrap_samples']} bootstrap samples (seed {s['seed']}).")
    targets = []
    for a in doc["analyses"]:
        title = TARGET_LABELS[a["target"]]
        churn = a["target"] == "churn"
        if a["status"] != "ok":
            targets.append(DriverTarget(a["target"], title, a["status"], a.get("reason"), "", "", [], None,
                                        [(d["label"], d["reason"]) for d in a["dropped"]], [], ""))
            continue
        rows = []
        points = []
        for d in a["drivers"]:
            importance = "—" if d["importance_pct"] is None else f"{d['importance_pct']:.0f} %"
            if d["importance_pct"] is not None and d["importance_ci_low"] is not None:
                importance += f" ({d['importance_ci_low']:.0f}–{d['importance_ci_high']:.0f})"
            for i, e in enumerate(d["effects"]):
                label = d["label"] if d["kind"] != "category" else f"{d['label']}: {e['term'].split(' = ', 1)[1]}"
                first = i == 0
                rows.append(DriverRow(label, importance if first else "",
                                      _ci(e["estimate"], e["ci_low"], e["ci_high"], 2, not churn),
                                      d["direction"] if first else "",
                                      "" if d["affected_pct"] is None or not first else f"{d['affected_pct']:.0f} %",
                                      "" if d["performance_pct"] is None or not first
                                      else f"{d['performance_pct']:.0f} % {d['good_means']}",
                                      (d["quadrant"] or "") if first else ""))
            if d["performance_pct"] is not None and d["importance_pct"] is not None:
                points.append({"label": d["label"], "x": d["importance_pct"], "x_low": d["importance_ci_low"],
                               "x_high": d["importance_ci_high"], "y": d["performance_pct"],
                               "affected": d["affected_pct"], "good": d["good_means"], "quadrant": d["quadrant"]})
        chart = None
        if points:
            chart = Chart(f"chart-drivers-{a['target']}", "quadrant",
                          f"Key drivers of {title}: importance (share of R²) × performance (% of customers doing "
                          "well), whole dataset", "percent", None, options={"allSegments": True})
            chart.data[0] = {"points": points, "x_line": sum(p["x"] for p in points) / len(points),
                             "y_line": sum(p["y"] for p in points) / len(points)}
        mean = f"{100 * a['mean_target']:.1f} % churned" if churn else f"mean {a['mean_target']:.2f}"
        fit = f"R² {a['r2']:.3f}" + (f", McFadden pseudo-R² {a['pseudo_r2_mcfadden']:.3f}"
                                     if churn and a.get("pseudo_r2_mcfadden") is not None else "")
        facts = (f"{a['analysed']:,} of the {a['customers']:,} {POPULATIONS[a['target']]} ({mean}; {fit}); "
                 f"{a['left_out_missing_driver']:,} lack a driver and are left out.")
        targets.append(DriverTarget(a["target"], title, "ok", None, facts,
                                    "odds ratio (95 % CI)" if churn else "standardised coefficient (95 % CI)", rows,
                                    chart, [(d["label"], d["reason"]) for d in a["dropped"]], list(a["warnings"]),
                                    a["method"]))
    return DriversSection("why-drivers", doc["note"], settings, targets)
