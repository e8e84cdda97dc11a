"""Orders: sales, growth, order value, purchase frequency, transaction mix, repeat purchases and historical
CLV (METRICS.md §4; seeds 000, 001, 003, 004).

Every amount is net of refunds: a `refund` row lowers the revenue of the period it falls in (whatever its
sign in the data) and is not an order. Orders without a `kind` are purchases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from cxbench.core.registry import Direction, Family, Metric, MetricContext, Unit
from cxbench.core.stats import ChangeTest, Comparison, Estimate, Growth, Proportion, Ratio, Span, Stats, Sum
from cxbench.metrics.periods import comparison_links, period_key_of, period_table
from cxbench.metrics.tables import with_acquisition_channel

NON_RECURRING = ("upsell", "cross_sell", "addon")  # seed 004's "upsell, cross-sell, add-ons"


# -- rows -----------------------------------------------------------------------------------------------

def orders(ctx: MetricContext) -> ir.Table:
    """Validated orders with `kind` (purchase when empty), `revenue` (negative for refunds), `is_order`."""
    o = ctx.table("orders")
    kind = o.kind.fill_null("purchase") if ctx.has_column("orders", "kind") else ibis.literal("purchase")
    o = o.mutate(kind=kind)
    refund = o.kind == "refund"
    return o.mutate(
        revenue=ibis.cases((refund, -o.amount.abs()), else_=o.amount),
        is_order=~refund,
        _entity=o.customer_id,
    )


def _order_rows(ctx: MetricContext) -> ir.Table:
    o = orders(ctx)
    return o.mutate(refunds=ibis.cases((o.is_order, 0.0), else_=-o.revenue))


def _order_rows_by_acquisition(ctx: MetricContext) -> ir.Table:
    """The orders with their customer's acquisition channel: CLV's inputs per channel, beside CAC's."""
    return with_acquisition_channel(ctx, _order_rows(ctx))


def compared_rows(ctx: MetricContext, rows: ir.Table) -> ir.Table:
    """`rows` (with `ts` and `revenue`) filed under each period they are compared in: their own (`current`),
    the next one (`previous`) and every period (`baseline`, when --baseline is given)."""
    links = comparison_links(ctx, ctx.options.baseline)
    joined = rows.join(links, ctx.period_key(rows.ts) == links._source)
    # The current period's own rows respect --from/--to; the period compared with is taken whole.
    joined = joined.filter((joined._role != "current") | ctx.in_range(joined.ts))
    role = joined._role
    return joined.mutate(
        ts=joined._target,
        is_current=(role == "current") & joined.is_order,
        is_baseline=role == "baseline",
        current=ibis.cases((role == "current", joined.revenue), else_=0.0),
        previous=ibis.cases((role == "previous", joined.revenue), else_=0.0),
        baseline=ibis.cases((role == "baseline", joined.revenue), else_=0.0),
    )


def _growth_rows(ctx: MetricContext) -> ir.Table:
    return compared_rows(ctx, orders(ctx))


def _baseline_details(ctx: MetricContext) -> dict[str, Any]:
    key = period_key_of(ctx.options.baseline, ctx.options.period) if ctx.options.baseline else None
    # When the baseline period has no sales, its total is 0 and the growth against it has no value: said, not
    # left out (a --baseline before the data).
    return {"baseline_period_start": key.isoformat(), "baseline": 0.0, "growth_vs_baseline": None} if key else {}


def _repeat_rows(ctx: MetricContext) -> ir.Table:
    o = orders(ctx)
    o = o.filter(o.is_order)
    per = o.group_by([o.customer_id, ctx.period_key(o.ts).name("_key")]).aggregate(
        in_period=o.count(), ts=o.ts.max())
    # Purchases up to the period's end over the customer's whole history, not only the periods reported.
    to_date = per.in_period.sum().over(ibis.window(group_by=per.customer_id, order_by=per._key, rows=(None, 0)))
    per = per.mutate(to_date=to_date)
    return per.mutate(_entity=per.customer_id, repeat=per.to_date >= 2, repeat_in_period=per.in_period >= 2)


def _historical_rows(ctx: MetricContext) -> ir.Table:
    o = orders(ctx)
    periods = period_table(ctx)
    # Every order up to each period's end: the relationship so far.
    joined = o.join(periods, o.ts < periods._end)
    per = joined.group_by([joined.customer_id, joined._start]).aggregate(
        revenue=joined.revenue.sum(), purchases=joined.is_order.cast("int64").sum())
    per = per.filter(per.purchases > 0)
    return per.mutate(ts=per._start, _entity=per.customer_id)


# -- transaction mix --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TransactionMix:
    """Revenue of the period (per kind in the breakdown), with orders, purchase frequency and order value, and
    the flag of seed 000: customers buy more often but spend less per order than in the previous period."""

    interval: str | None = None
    sampled: bool = False
    empty_value: float | None = None
    test: ChangeTest | None = None

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        return {
            "n": t.is_current.cast("int64").sum(),
            "revenue": t.current.sum(),
            "customers": t._entity.nunique(where=t.is_current),
            "previous_revenue": t.previous.sum(),
            "previous_orders": ((t._role == "previous") & t.is_order).cast("int64").sum(),
            "previous_customers": t._entity.nunique(where=(t._role == "previous") & t.is_order),
        }

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        orders_now, customers_now = int(s["n"] or 0), int(s["customers"] or 0)
        revenue = float(s["revenue"] or 0)
        if orders_now == 0 and revenue == 0:
            return Estimate(None, 0, reason="no orders in this period")
        details: dict[str, object] = {"orders": orders_now}
        total = float((overall or s)["revenue"] or 0)
        all_orders = int((overall or s)["n"] or 0)
        if total:
            details["share_of_revenue"] = 100 * revenue / total
        if all_orders:
            details["share_of_orders"] = 100 * orders_now / all_orders
        frequency = orders_now / customers_now if customers_now else None
        value = revenue / orders_now if orders_now else None
        details.update({"purchase_frequency": frequency, "aov": value})
        before_orders, before_customers = int(s["previous_orders"] or 0), int(s["previous_customers"] or 0)
        if before_orders and before_customers and frequency is not None and value is not None:
            before_frequency = before_orders / before_customers
            before_value = float(s["previous_revenue"] or 0) / before_orders
            details.update({"previous_purchase_frequency": before_frequency, "previous_aov": before_value})
            details["more_often_but_less_per_order"] = frequency > before_frequency and value < before_value
        return Estimate(revenue, orders_now, details=details)

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        return None  # revenue: money, no count to test


def _mix_rows(ctx: MetricContext) -> ir.Table:
    return compared_rows(ctx, orders(ctx))


# -- declarations ---------------------------------------------------------------------------------------

_NET = "Refunds (kind refund) lower the revenue of the period they fall in and are not orders."


def _revenue(t: ir.Table) -> ir.Scalar:
    return t.revenue.sum()


def _order_count(t: ir.Table) -> ir.Scalar:
    return t.is_order.cast("int64").sum()


def _buyers(t: ir.Table) -> ir.Scalar:
    return t._entity.nunique(where=t.is_order)


SALES = Metric(
    id="sales", name="Sales", family=Family.REVENUE,
    formula="sum of order amounts in the period − refunds", unit=Unit.MONEY, direction=Direction.UP,
    inputs=("orders",), rows=_order_rows, estimator=Sum("revenue", count="is_order", details=("refunds",)),
    what_is_counted="orders", dimensions=("channel",), accumulates=True,
    description="Revenue of the period, net of refunds; n is the number of orders. Per sales channel too.",
    notes=_NET + " `details.refunds` is the refunded amount.", source="001",
)

AOV = Metric(
    id="aov", name="Average order value", family=Family.REVENUE,
    formula="sales ÷ orders", unit=Unit.MONEY, direction=Direction.UP, inputs=("orders",),
    rows=_order_rows_by_acquisition, estimator=Ratio(_revenue, _order_count), what_is_counted="orders",
    dimensions=("channel", "acquisition_channel"), optional_inputs=("customers",),
    description="What an order brings in, on average (seed 003's CLV input). Per sales channel and per the "
                "customer's acquisition channel too (CLV per acquisition channel).",
    notes=_NET + " n is the number of orders.", source="003",
)

PURCHASE_FREQUENCY = Metric(
    id="purchase_frequency", name="Purchase frequency", family=Family.REVENUE,
    formula="orders ÷ customers who ordered in the period", unit=Unit.RATIO, direction=Direction.UP,
    inputs=("orders",), rows=_order_rows_by_acquisition, estimator=Ratio(_order_count, _buyers),
    what_is_counted="orders", dimensions=("acquisition_channel",), optional_inputs=("customers",),
    description="Orders per purchasing customer in the period (seed 003's CLV input). Per the customer's "
                "acquisition channel too (CLV per acquisition channel).",
    notes="Refunds are not orders. n is the number of purchasing customers.", source="003",
)

METRICS: tuple[Metric, ...] = (
    SALES,
    Metric(
        id="sales_growth", name="Sales growth", family=Family.REVENUE,
        formula="(sales − sales of the previous period) ÷ sales of the previous period × 100; also against the "
                "period holding --baseline", unit=Unit.PERCENT, direction=Direction.UP,
        inputs=("orders",), rows=_growth_rows, estimator=Growth(), what_is_counted="orders",
        dimensions=("channel",), extra_details=_baseline_details,
        description="How sales moved against the period before, and against a baseline such as the start of a "
                    "CX initiative (seed 001: compare sales before and after).",
        notes="The previous period is the whole calendar period before (the month before a month). With "
              "`--baseline DATE`, `details.growth_vs_baseline` compares with the reporting period holding that "
              "day (`details.baseline_period_start`); to compare with the last month before an initiative that "
              "starts mid-June, give a day in May. " + _NET, source="001",
    ),
    AOV,
    PURCHASE_FREQUENCY,
    Metric(
        id="transaction_mix", name="Transaction mix", family=Family.REVENUE,
        formula="revenue and orders per kind of transaction; flag: purchase frequency up and order value down "
                "against the previous period", unit=Unit.MONEY, direction=Direction.NONE, inputs=("orders",),
        rows=_mix_rows, estimator=TransactionMix(), what_is_counted="orders", dimensions=("kind",), accumulates=True,
        description="Which kinds of transaction carry the revenue (purchase, recurring, upsell, cross_sell, "
                    "addon, refund), and seed 000's warning sign: customers buying more often but spending less "
                    "per transaction may be bored with the offer or finding cheaper options elsewhere.",
        notes="Per kind: `details.share_of_revenue`, `share_of_orders`, `purchase_frequency`, `aov`. "
              "`details.more_often_but_less_per_order` is true when purchase frequency rose and order value fell "
              "against the previous period (both computed the same way). " + _NET, source="000",
    ),
    Metric(
        id="repeat_purchase_rate", name="Repeat purchase rate", family=Family.REVENUE,
        formula="customers who ordered in the period and have 2+ purchases to date ÷ customers who ordered in "
                "the period × 100", unit=Unit.PERCENT, direction=Direction.UP, inputs=("orders",),
        rows=_repeat_rows, estimator=Proportion("repeat", also_mean="repeat_in_period"),
        what_is_counted="purchasing customers",
        description="Loyalty as seed 001 puts it: customers coming back for a second purchase.",
        notes="Purchases to date count the customer's whole order history up to the period's end (a customer "
              "whose first order was last year and who buys again this month is a repeat customer), as Shopify's "
              "returning-customer rate does. `details.mean_repeat_in_period` is the share (0-1) with 2+ orders "
              "within the period alone. Refunds are not purchases. Interval: Wilson.", source="001",
    ),
    Metric(
        id="clv_historical", name="Historical customer lifetime value", family=Family.REVENUE,
        formula="revenue of all customers up to the period's end ÷ customers who ordered up to then",
        unit=Unit.MONEY, direction=Direction.UP, inputs=("orders",), rows=_historical_rows,
        estimator=Ratio(lambda t: t.revenue.sum(), lambda t: t.count()), what_is_counted="customers",
        description="Seed 004's CLV: the revenue each customer has brought over the relationship so far.",
        notes="Cumulative: each period counts every order since the data begins, net of refunds. n is the "
              "number of customers with at least one purchase.", source="004",
    ),
)
