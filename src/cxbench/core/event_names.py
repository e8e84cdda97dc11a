"""The event names metrics read: whether the data has them, and what to say when it does not.

A clickstream that says `purchase` where cxbench reads `checkout` made cart abandonment 100 % in every month: a
metric whose required event never occurs in `events` is unavailable instead, naming the event, what the data has
that looks like it, and the `--event-name` mapping (`Options.event_names`) that fixes it.
"""

from __future__ import annotations

import difflib
from typing import Any

from cxbench.core.arrow import to_arrow
from cxbench.core.facts import events_seen
from cxbench.core.options import EVENT_NAMES
from cxbench.core.registry import Metric, MetricContext

#: names other trackers use for the events cxbench reads (GA4, Segment, PostHog, Snowplow): suggested when present
ALIASES: dict[str, tuple[str, ...]] = {
    "pageview": ("page_view", "$pageview", "page", "page_viewed", "screen_view"),
    "pageleave": ("page_leave", "$pageleave", "page_exit"),
    "add_to_cart": ("add_to_basket", "product_added", "added_to_cart", "cart_add", "addtocart"),
    "checkout": ("purchase", "begin_checkout", "order_completed", "checkout_completed", "order_placed",
                 "transaction"),
}

_SUGGESTION_SCAN = 200  # the most frequent event names looked at for suggestions


def event_details(ctx: MetricContext, metric: Metric) -> dict[str, Any]:
    """`details.events` of a metric's records: each event it reads and the data's name it was read as."""
    if not metric.reads_events(ctx.tables):
        return {}
    return {"events": {name: ctx.event(name) for name in metric.events}}


def missing_events(ctx: MetricContext, metric: Metric) -> list[str]:
    """The metric's required events (canonical names) that never occur in `events`, by the data's names.

    One query per run (`events_seen`) answers for every event of `EVENT_NAMES`.
    """
    if not metric.required_events or "events" not in ctx.tables or not metric.reads_events(ctx.tables):
        return []
    seen = events_seen(ctx)  # every event a metric reads is one of EVENT_NAMES (Metric)
    return [c for c in metric.required_events if ctx.event(c) not in seen]


def _frequent_names(ctx: MetricContext) -> list[str]:
    def query() -> list[str]:
        e = ctx.tables["events"].expr
        counts = e.group_by("event").aggregate(_n=e.count())
        top = counts.order_by([counts._n.desc(), counts.event]).limit(_SUGGESTION_SCAN)
        return [str(row["event"]) for row in to_arrow(ctx.con, top).to_pylist() if row["event"] is not None]

    return ctx.remember("events_frequent_names", query)


def missing_events_reason(ctx: MetricContext, missing: list[str]) -> str:
    """Why a metric is unavailable: which events never occur, what the data has like them, and the mapping."""
    present = _frequent_names(ctx)
    lowered = {p.lower(): p for p in present}
    parts, fixes = [], []
    for canonical in missing:
        name = ctx.event(canonical)
        mapped = f", mapped from {canonical} by --event-name," if name != canonical else ""
        like = [lowered[a] for a in ALIASES.get(canonical, ()) if a in lowered]
        like += [p for p in difflib.get_close_matches(name, present, n=3, cutoff=0.75) if p not in like]
        hint = f"; the data has {', '.join(f'`{p}`' for p in like[:3])}" if like else ""
        parts.append(f"no `{name}` event{mapped} in events ({EVENT_NAMES[canonical]}){hint}")
        fixes.append(f"--event-name {canonical}={like[0] if like else 'NAME'}")
    return ("; ".join(parts) + ". Without it the value would be wrong, not empty: if the data names it otherwise, "
            f"map it with {' '.join(fixes)} (Options.event_names)")
