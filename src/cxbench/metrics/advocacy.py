"""Advocacy and company: referral rate from `referrals` and `customers`, stock price change from
`stock_prices` (METRICS.md §6, seed 001)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from cxbench.core.calendar import instant_after
from cxbench.core.registry import Direction, Family, Metric, MetricContext, Unit
from cxbench.core.stats import ChangeTest, PercentChange, Ratio


def _periods(ctx: MetricContext) -> ir.Table:
    """The run's periods: key, first instant and end instant (exclusive)."""
    rows = [{"_key": key, "_start": dt.datetime.combine(start, dt.time()),
             "_end": instant_after(end)} for key, start, end in ctx.periods]
    return ibis.memtable(rows, schema={"_key": "date", "_start": "timestamp", "_end": "timestamp"})


# -- referral rate --------------------------------------------------------------------------------------

def _successful_referrals(ctx: MetricContext) -> ir.Table:
    r = ctx.table("referrals")
    # converted says whether the referred person became a customer; where it is empty (or the column is absent),
    # a referral that names the referred customer counts as one that brought them.
    return r.filter(r.converted.fill_null(r.referred_id.notnull()))


def _referral_rows(ctx: MetricContext) -> ir.Table:
    """Two kinds of rows, summed separately by the estimator.

    Base rows: one per (customer signed up before the period's end, period), `referrer` = 1 when the customer
    made a referral in the period that brought a customer. New rows: one per customer at signup, `by_referral`
    = 1 when they came by referral.
    """
    customers = ctx.table("customers")
    periods = _periods(ctx)
    successful = _successful_referrals(ctx)
    referrers = successful.select(_rid=successful.referrer_id, _rkey=ctx.period_key(successful.ts)).distinct()
    grid = customers.cross_join(periods)
    grid = grid.filter(grid.signup_at < grid._end)
    base = grid.left_join(referrers, (grid.customer_id == referrers._rid) & (grid._key == referrers._rkey))
    base = base.select(ts=base._start.cast("timestamp"), _entity=base.customer_id, base=ibis.literal(1, type="int64"),
                       referrer=base._rid.notnull().cast("int64"), new=ibis.literal(0, type="int64"),
                       by_referral=ibis.literal(0, type="int64"))
    r = ctx.table("referrals")
    referred = r.filter(r.referred_id.notnull()).select(_referred=r.referred_id).distinct()
    new = customers.left_join(referred, customers.customer_id == referred._referred)
    came_by_referral = new._referred.notnull()
    if ctx.has_column("customers", "acquisition_channel"):
        came_by_referral = came_by_referral | (new.acquisition_channel.lower() == "referral").fill_null(False)
    new = new.select(ts=new.signup_at.cast("timestamp"), _entity=new.customer_id, base=ibis.literal(0, type="int64"),
                     referrer=ibis.literal(0, type="int64"), new=ibis.literal(1, type="int64"),
                     by_referral=came_by_referral.cast("int64"))
    return ibis.union(base, new, distinct=False)


def _sum(column: str) -> Callable[[ir.Table], ir.Scalar]:
    """The sum of `column` over the group's rows."""

    def total(t: ir.Table) -> ir.Scalar:
        return t[column].sum()

    return total


# -- stock price change -----------------------------------------------------------------------------------

def _stock_rows(ctx: MetricContext) -> ir.Table:
    """One row per period with a close in it: the close it changes from and the close it reaches."""
    s = ctx.table("stock_prices")
    periods = _periods(ctx)
    grid = s.cross_join(periods)
    inside = grid.filter((grid.date >= grid._start) & (grid.date < grid._end))
    reached = inside.group_by(["_key", "_start"]).aggregate(
        closes=inside.count(), to_close=inside.close.argmax(inside.date), to_date=inside.date.max(),
        first_close=inside.close.argmin(inside.date), first_date=inside.date.min(),
    )
    earlier = grid.filter(grid.date < grid._start)
    previous = earlier.group_by(earlier._key.name("_pkey")).aggregate(
        previous_close=earlier.close.argmax(earlier.date), previous_date=earlier.date.max())
    joined = reached.left_join(previous, reached._key == previous._pkey)
    # From the last close before the period; for the first period of the data there is none, and the period's
    # own first close is the base.
    from_close = joined.previous_close.fill_null(joined.first_close)
    from_date = joined.previous_date.fill_null(joined.first_date)
    return joined.select(ts=joined._start, _entity=ibis.null("string"), count=joined.closes,
                         from_value=from_close, to_value=joined.to_close,
                         from_label=from_date.date().cast("string"), to_label=joined.to_date.date().cast("string"))


METRICS: tuple[Metric, ...] = (
    Metric(
        id="referral_rate", name="Referral rate", family=Family.ADVOCACY,
        formula="customers who referred at least one new customer in the period ÷ active customers × 100; "
                "details: new customers who came by referral ÷ new customers × 100",
        unit=Unit.PERCENT, direction=Direction.UP, inputs=("referrals", "customers"), rows=_referral_rows,
        estimator=Ratio(_sum("referrer"), _sum("base"), factor=100,
                        also=(("new_by_referral_pct", _sum("by_referral"), _sum("new")),),
                        test=ChangeTest.TWO_PROPORTION),
        what_is_counted="customers", period_tables=("referrals",),
        description="Whether customers actually recommend the company (seed 001: NPS asks if they would; this "
                    "counts who did). The value: referrers ÷ active customers. `details.new_by_referral_pct`: new "
                    "customers of the period who came by referral ÷ the period's new customers.",
        notes="Active customers of a period: the customer base at its end, i.e. every customer in `customers` "
              "who signed up before the period's end (the customers table carries no end date; n is that "
              "count). A referrer counts when a referral they made in the period brought a customer: `converted` "
              "true, or, where `converted` is empty, a `referred_id` is given; referrers missing from customers "
              "are not counted. A new customer (signed up in the period) came by referral when a referral names "
              "them as `referred_id` or their `acquisition_channel` is referral.",
        source="001",
    ),
    Metric(
        id="stock_price_change", name="Stock price change", family=Family.ADVOCACY,
        formula="(last close of the period − last close before the period) ÷ last close before the period × 100",
        unit=Unit.PERCENT, direction=Direction.UP, inputs=("stock_prices",), rows=_stock_rows,
        estimator=PercentChange(), what_is_counted="closing prices",
        description="The company's value over the period (seed 001): the % change of the closing price, "
                    "close to close as a period's return is quoted. `details` gives both closes (`from`, `to`) and their dates; n is the "
                    "number of closes in the period.",
        notes="The base is the last close before the period starts (before --from too); for the first period of "
              "the data, which has none, it is the period's own first close. A period without a close is "
              "unavailable.",
        source="001",
    ),
)
