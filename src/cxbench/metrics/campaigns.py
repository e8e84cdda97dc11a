"""Campaigns and carts: click-through rate and cart abandonment (METRICS.md §3)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cxbench.core.registry import Direction, Family, Metric, MetricContext, Unit
from cxbench.core.stats import ChangeTest, Ratio
from cxbench.metrics.sessions import session_rows


def _campaign_rows(ctx: MetricContext) -> ir.Table:
    c = ctx.table("campaigns")
    return c.mutate(ts=c.date, _entity=ibis.null("string"))  # campaigns belong to no customer


def _cart_rows(ctx: MetricContext) -> ir.Table:
    if "carts" in ctx.tables:
        carts = ctx.table("carts")
        return carts.mutate(ts=carts.created_at, _entity=carts.user_id, abandoned=carts.checked_out_at.isnull())
    # No carts table: a session with an add_to_cart event is a cart (`_in_a_cart`); it is abandoned without a
    # checkout event (`abandoned`). The session rows themselves, so the metric shares the sessions' query.
    return session_rows(ctx)


def _in_a_cart(t: ir.Table) -> ir.BooleanValue:
    """The rows that are carts: every row of the carts table, or the sessions with an add_to_cart event."""
    return t.add_to_cart > 0 if "add_to_cart" in t.columns else ibis.literal(True)


def _cart_source(ctx: MetricContext) -> dict[str, object]:
    if "carts" in ctx.tables:
        return {"from": "carts"}
    return {"from": f"events (sessions with {ctx.event('add_to_cart')}; {ctx.event('checkout')} = bought)"}


METRICS: tuple[Metric, ...] = (
    Metric(
        id="ctr", name="Click-through rate", family=Family.WEBSITE,
        formula="clicks ÷ impressions × 100, per campaign, per channel and overall", unit=Unit.PERCENT,
        direction=Direction.UP, inputs=("campaigns",), rows=_campaign_rows,
        estimator=Ratio(lambda t: t.clicks.sum(), lambda t: t.impressions.sum(), factor=100,
                        test=ChangeTest.TWO_PROPORTION),
        what_is_counted="campaign days",
        description="Seed 003's worked example: a newsletter opened by 200 people, 50 of whom clicked → 25 %.",
        notes="Impressions are whatever the channel counts as a view (opens for e-mail).",
        source="003", dimensions=("campaign", "channel"),
    ),
    Metric(
        id="cart_abandonment_rate", name="Cart abandonment rate", family=Family.WEBSITE,
        formula="carts not checked out ÷ carts created × 100", unit=Unit.PERCENT, direction=Direction.DOWN,
        inputs=("carts", "events"), rows=_cart_rows, where=_in_a_cart,
        estimator=Ratio(lambda t: t.abandoned.cast("int64").sum(), lambda t: t.count(), factor=100,
                        test=ChangeTest.TWO_PROPORTION),
        what_is_counted="carts",
        description="Carts left without buying; from the carts table, or from events when there is none.",
        notes="Without a carts table, each session with an `add_to_cart` event is a cart, abandoned when the session "
              "has no `checkout` event (`--event-name checkout=purchase` when the data says purchase; unavailable "
              "when either event never occurs). `details.from` says which was used.",
        source="001", extra_details=_cart_source,
        events=("add_to_cart", "checkout"), required_events=("add_to_cart", "checkout"), events_replaced_by=("carts",),
    ),
)
