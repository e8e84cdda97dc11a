"""Findings: from the scorecard's numbers to what needs attention, ranked, each with the seeds' advice.

Read from the records alone (the latest period of each metric), so they agree with the numbers shown:
metrics rated below their benchmark, significant changes for the worse, CLV:CAC under 3 (004), customers
buying more often but spending less per order (000), and the widest gaps between touchpoints or channels (004).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from cxbench.core.records import Finding, MetricRecord
from cxbench.core.registry import Direction, Family, Metric, Unit, format_value

#: what the seeds advise, per metric family (paraphrased; the seed is named)
FAMILY_ADVICE: dict[Family, tuple[str, str]] = {
    Family.SURVEYS: ("Read the comments behind the low scores and close the loop with those customers; compare "
                     "the score per touchpoint to find the step that hurts (a good product score but a poor "
                     "checkout score points at the checkout); offer a high-quality experience from the product to "
                     "how service problems are handled.", "004, 000"),
    Family.PRODUCT: ("Measure engagement consistently and find which features keep customers active; improve the "
                     "first week after signup, where habits form; use social channels to learn your audience's "
                     "language and build content that brings them back.", "000, 003"),
    Family.WEBSITE: ("Work on the pages and steps where visitors leave: make content relevant to the visitor's "
                     "intent, shorten the path to checkout, and remove effort from the purchase.", "003, 004"),
    Family.REVENUE: ("Re-engage past customers before chasing new ones (it costs less and they become promoters); "
                     "use automation to make each touchpoint relevant; watch CAC against CLV over the whole "
                     "campaign.", "004"),
    Family.SUPPORT: ("Resolve more at first contact and shorten resolution times; look at the channels with the "
                     "slowest or least successful resolutions first.", "001"),
    Family.ADVOCACY: ("Give satisfied customers reasons and easy ways to recommend you; referred customers convert "
                      "better and are worth more.", "004"),
}
CLV_CAC_ADVICE = ("CAC should be a fifth to a third of CLV. High CAC often comes from paid advertising and cold "
                  "e-mail aimed at everyone: score leads and drop unqualified ones early, invest in loyalty, and "
                  "measure CAC and CLV at the start and end of a growth campaign.", "004")
MIX_ADVICE = ("Customers buying more often but spending less per purchase may be getting bored with your offers or "
              "finding cheaper options elsewhere: review the offer, bundles and prices.", "000")
GAP_ADVICE = ("Track each touchpoint separately and compare like with like: a wide gap shows where the experience "
              "breaks; fix the weakest touchpoint first.", "004")

_SEVERITY = {"poor": 4.0, "fair": 2.0}
_GAP_DIMENSIONS = ("touchpoint", "channel")
_MAX_GAPS = 5
_GAP_FAMILIES = (Family.SURVEYS, Family.SUPPORT, Family.WEBSITE, Family.PRODUCT)
_GAP_UNITS = (Unit.PERCENT, Unit.SCORE, Unit.SECONDS)


def latest_records(records: Iterable[MetricRecord], with_dimensions: bool = False) -> list[MetricRecord]:
    """Each (metric, segment, breakdown)'s record of its latest period with a value."""
    newest: dict[tuple, MetricRecord] = {}
    for r in records:
        if not r.ok or r.period_start is None or (r.dimension and not with_dimensions):
            continue
        current = newest.get(r.series_key)
        if current is None or r.period_start > current.period_start:  # type: ignore[operator]
            newest[r.series_key] = r
    return list(newest.values())


def segment_phrase(segment: Mapping[str, Any]) -> str:
    """How a finding names its segment: " for plan pro"; customers without a value are "with no plan"."""
    if not segment:
        return ""
    return " for customers " + " and ".join(f"with no {k}" if v is None or v == "" else f"with {k} {v}"
                                             for k, v in segment.items())


def _finding(kind: str, severity: float, metric: Metric, record: MetricRecord, message: str,
             advice: tuple[str, str], **extra: Any) -> Finding:
    return Finding(kind=kind, severity=round(severity, 3), metric=metric.id, name=metric.name,
                   period_start=record.period_start, period_end=record.period_end, segment=record.segment,
                   value=record.value, unit=record.unit, message=message, advice=advice[0], advice_source=advice[1],
                   extra=extra)


def _when(record: MetricRecord) -> str:
    """The period as people name it: 2026-10-01..2026-10-31 is "2026-10-01 to 2026-10-31"."""
    start, end = record.period_start, record.period_end
    return str(start) if not end or end == start else f"{start} to {end}"


def _p(change: Mapping[str, Any]) -> str:
    p = change.get("p_value")
    return "n/a" if p is None else "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _gap_text(gap: float, unit: str) -> str:
    return f"{gap:.1f} points" if unit == Unit.PERCENT else format_value(gap, unit)


def _worse(metric: Metric, delta: float) -> bool:
    return (metric.direction is Direction.UP and delta < 0) or (metric.direction is Direction.DOWN and delta > 0)


def findings(records: Sequence[MetricRecord], metrics: Mapping[str, Metric]) -> list[Finding]:
    """What needs attention, most severe first (`rank` 1 = first)."""
    found: list[Finding] = []
    for r in latest_records(records):
        metric = metrics.get(r["id"])
        if metric is None:
            continue
        where = segment_phrase(r["segment"])
        rating = (r.get("benchmark") or {}).get("rating")
        if metric.id == "clv_cac_ratio":
            if r["value"] < 3:
                found.append(_finding(
                    "clv_cac_below_3", 5.0 if r["value"] <= 1 else 3.0, metric, r,
                    f"CLV is {r['value']:.2f} × CAC{where} ({_when(r)}): under the 3:1 that pays for "
                    "acquisition" + (" — acquisition loses money" if r["value"] <= 1 else ""), CLV_CAC_ADVICE))
        elif rating in _SEVERITY:
            found.append(_finding(
                "below_benchmark", _SEVERITY[rating], metric, r,
                f"{metric.name} is {format_value(r['value'], r['unit'])}{where} ({_when(r)}), rated {rating} (benchmark: "
                f"{r['benchmark']['source']})", FAMILY_ADVICE[metric.family], rating=rating))
        change = r.get("change") or {}
        if change.get("significant") and change.get("delta") is not None and _worse(metric, change["delta"]):
            found.append(_finding(
                "significant_drop", 3.5, metric, r,
                f"{metric.name} went from {format_value(change['previous'], r['unit'])} to "
                f"{format_value(r['value'], r['unit'])}{where} ({_when(r)}, p {_p(change)}), "
                "a significant change for the worse", FAMILY_ADVICE[metric.family], change=change))
        if metric.id == "transaction_mix" and (r.get("details") or {}).get("more_often_but_less_per_order"):
            d = r["details"]
            found.append(_finding(
                "more_often_less_per_order", 2.5, metric, r,
                f"Customers bought more often ({d['previous_purchase_frequency']:.2f} → {d['purchase_frequency']:.2f} "
                f"orders each) but spent less per order ({d['previous_aov']:.2f} → {d['aov']:.2f}){where}",
                MIX_ADVICE))
    found.extend(_gaps(records, metrics))
    found.sort(key=lambda f: (-f.severity, list(Family).index(metrics[f.metric].family), f.metric))
    return [replace(finding, rank=rank) for rank, finding in enumerate(found, start=1)]


def _gaps(records: Sequence[MetricRecord], metrics: Mapping[str, Metric]) -> list[Finding]:
    """The widest gaps between touchpoints or channels of one metric in its latest period (004)."""
    groups: dict[tuple, list[MetricRecord]] = {}
    for r in latest_records(records, with_dimensions=True):
        dimension = r.get("dimension") or {}
        metric = metrics.get(r["id"])
        if (len(dimension) != 1 or next(iter(dimension)) not in _GAP_DIMENSIONS or metric is None
                or metric.family not in _GAP_FAMILIES or metric.unit not in _GAP_UNITS
                or metric.direction not in (Direction.UP, Direction.DOWN) or r.get("warning")):
            continue  # experience measures only (not sales per channel); small samples say too little
        groups.setdefault((r.id, r.series_key[1], next(iter(dimension)), r.period_start), []).append(r)
    gaps = []
    for (metric_id, _, column, _), rows in groups.items():
        if len(rows) < 2:
            continue
        metric = metrics[metric_id]
        ordered = sorted(rows, key=lambda r: r["value"], reverse=metric.direction is Direction.UP)
        best, worst = ordered[0], ordered[-1]
        gap = abs(best["value"] - worst["value"])
        scale = max(abs(best["value"]), abs(worst["value"]), 1e-9)
        if gap == 0:
            continue
        gaps.append(_finding(
            "touchpoint_gap", 1.0 + min(gap / scale, 1.0), metric, worst,
            f"{metric.name}: {column} {worst['dimension'][column]} ({format_value(worst['value'], worst['unit'])}) "
            f"trails {best['dimension'][column]} ({format_value(best['value'], best['unit'])}) by "
            f"{_gap_text(gap, worst['unit'])}{segment_phrase(worst.segment)} ({_when(worst)})", GAP_ADVICE,
            dimension=worst["dimension"], best={"dimension": best["dimension"], "value": best["value"]}, gap=gap))
    gaps.sort(key=lambda f: -f.severity)
    return gaps[:_MAX_GAPS]
