"""The engagement index: seed 000's "customer engagement = satisfaction + loyalty + advocacy" as one number
(METRICS.md §1). The composite is cxbench's own; seed 000 names the three parts, not how to add them."""

from __future__ import annotations

from cxbench.core.records import MetricRecord
from cxbench.core.registry import DerivedMetric, Direction, Family, Metric, Options, Unit
from cxbench.core.stats import Estimate, Span
from cxbench.metrics import orders, subscriptions, surveys


def _metric(metrics: tuple[Metric, ...], metric_id: str) -> Metric:
    return next(m for m in metrics if m.id == metric_id)


CSAT = _metric(surveys.METRICS, "csat")
NPS = _metric(surveys.METRICS, "nps")
REPEAT = _metric(orders.METRICS, "repeat_purchase_rate")
RETENTION = _metric(subscriptions.METRICS, "retention_rate")


def _index(parts: dict[str, MetricRecord | None], span: Span, options: Options, in_run: frozenset[str]) -> Estimate:
    csat, nps = parts["csat"], parts["nps"]
    loyalty_record, loyalty_from = parts["repeat_purchase_rate"], "repeat_purchase_rate"
    if loyalty_record is None and "repeat_purchase_rate" not in in_run:
        # Retention only when the run has no repeat purchases at all: one basis for every period.
        loyalty_record, loyalty_from = parts["retention_rate"], "retention_rate"
    missing = [name for name, record in (("satisfaction (csat)", csat), ("advocacy (nps)", nps),
                                         ("loyalty (repeat_purchase_rate or retention_rate)", loyalty_record))
               if record is None]
    details: dict[str, object] = {}
    if csat is not None and csat.value is not None:
        details["satisfaction"] = csat.value
    if loyalty_record is not None and loyalty_record.value is not None:
        details["loyalty"] = loyalty_record.value
        details["loyalty_from"] = loyalty_from
    if nps is not None and nps.value is not None:
        details["advocacy"] = (nps.value + 100) / 2  # NPS −100..100 onto 0..100
    if csat is None or nps is None or loyalty_record is None or csat.value is None or nps.value is None \
            or loyalty_record.value is None:
        return Estimate(None, 0, details=details, reason="needs " + ", ".join(missing))
    value = (csat.value + loyalty_record.value + (nps.value + 100) / 2) / 3
    return Estimate(value, min(csat.n, nps.n), details=details)


METRICS: tuple[Metric, ...] = (
    DerivedMetric(
        id="engagement_index", name="Engagement index", family=Family.SURVEYS,
        formula="(CSAT + loyalty + (NPS + 100) ÷ 2) ÷ 3, each part on 0-100; loyalty = repeat purchase rate, or "
                "retention rate without orders", unit=Unit.SCORE, direction=Direction.UP,
        inputs=("surveys", "orders", "subscriptions"), what_is_counted="answers", components=(CSAT, REPEAT, RETENTION, NPS), combine=_index,
        optional_components=("csat", "nps", "repeat_purchase_rate", "retention_rate"),
        description="Seed 000's customer engagement (satisfaction + loyalty + advocacy) as one 0-100 score. A "
                    "composite of cxbench's own: the seed names the parts, not the weights; the three are equal.",
        notes="`details` shows the three parts (`satisfaction`, `loyalty` with `loyalty_from`, `advocacy`). "
              "Unavailable, naming the missing part, when a period lacks one of them. n is the smaller of the "
              "CSAT and NPS answer counts. No interval: the parts come from different samples.", source="000",
    ),
)
