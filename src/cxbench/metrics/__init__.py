"""The metric registry: every metric cxbench computes, declared once, in one literal tuple.

The CLI, the report, the API and the docs all read `REGISTRY`; nothing lists metrics a second time.
"""

from __future__ import annotations

from cxbench.core.registry import Metric
from cxbench.metrics import (
    acquisition,
    advocacy,
    campaigns,
    engagement,
    events,
    orders,
    predicted_clv,
    social,
    subscriptions,
    surveys,
    tickets,
)

REGISTRY: tuple[Metric, ...] = (
    *surveys.METRICS, *events.METRICS, *campaigns.METRICS, *social.METRICS,
    *orders.METRICS, *subscriptions.METRICS, *acquisition.METRICS, *predicted_clv.METRICS,
    *tickets.METRICS, *advocacy.METRICS, *engagement.METRICS,
)

METRICS_BY_ID: dict[str, Metric] = {m.id: m for m in REGISTRY}

__all__ = ["METRICS_BY_ID", "REGISTRY"]
