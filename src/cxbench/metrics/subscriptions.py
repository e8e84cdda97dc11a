"""Subscriptions and churn: MRR, ARPU, MRR movements, MRR churn, net revenue retention, customer churn and
retention (METRICS.md §4; seeds 001, 003, 004; the movement categories of subscription-analytics tools).

A subscription is active at instant t when start_at ≤ t < end_at (end_at empty: still active). A state "at the
end of a period" is the state at its last instant, so a subscription ending at midnight on the 1st still
counts at the end of the month before, and one starting then counts from the new month. A customer's MRR is
the sum of their active subscriptions' `mrr`.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cxbench.core.registry import Direction, Family, Metric, MetricContext, MetricUnavailable, Unit
from cxbench.core.stats import Proportion, Ratio, Sum
from cxbench.metrics.orders import NON_RECURRING, orders
from cxbench.metrics.periods import boundary_table, period_table
from cxbench.metrics.tables import union_rows, with_acquisition_channel


# -- customer states at the period boundaries ------------------------------------------------------------

def _subscription_states(ctx: MetricContext) -> ir.Table:
    """(customer, boundary): MRR and active subscriptions just before each boundary instant."""
    subs = ctx.table("subscriptions")
    b = boundary_table(ctx)
    # Active at the instant just before `_at`: start_at < _at ≤ end_at.
    joined = subs.join(b, (subs.start_at < b._at) & (subs.end_at.isnull() | (subs.end_at >= b._at)))
    return joined.group_by([joined.customer_id, joined._b]).aggregate(
        mrr=joined.mrr.sum(), active=joined.count())


def _order_states(ctx: MetricContext) -> ir.Table:
    """(customer, boundary): active when they ordered within --inactive-days before the boundary."""
    o = orders(ctx)
    o = o.filter(o.is_order)
    b = boundary_table(ctx, ctx.options.inactive_days)
    joined = o.join(b, (o.ts < b._at) & (o.ts >= b._from))
    states = joined.group_by([joined.customer_id, joined._b]).aggregate(active=joined.count())
    return states.mutate(mrr=ibis.literal(0.0))


def _period_movements(ctx: MetricContext, states: ir.Table) -> ir.Table:
    """One row per customer and period with the state at its start (`mrr_start`, `active_start`) and end."""
    last = len(ctx.periods)
    at_start = states.filter(states._b < last).select(
        customer_id=states.customer_id, _index=states._b, mrr_start=states.mrr, mrr_end=ibis.literal(0.0),
        active_start=states.active, active_end=ibis.literal(0, type="int64"))
    at_end = states.filter(states._b > 0).select(
        customer_id=states.customer_id, _index=states._b - 1, mrr_start=ibis.literal(0.0), mrr_end=states.mrr,
        active_start=ibis.literal(0, type="int64"), active_end=states.active)
    both = union_rows(at_start, at_end)
    per = both.group_by([both.customer_id, both._index]).aggregate(
        mrr_start=both.mrr_start.sum(), mrr_end=both.mrr_end.sum(),
        active_start=both.active_start.sum() > 0, active_end=both.active_end.sum() > 0)
    periods = period_table(ctx)
    per = per.join(periods, per._index == periods._index)
    return per.mutate(ts=per._start, _entity=per.customer_id)


def mrr_movements(ctx: MetricContext) -> ir.Table:
    """Per customer and period: MRR at the start and end, and the movement it makes (each customer's change
    falls in exactly one of new, expansion, contraction, churned, reactivation)."""
    if "subscriptions" not in ctx.tables:
        raise MetricUnavailable("needs the subscriptions table (MRR is the sum of active subscriptions' mrr)")
    return ctx.remember(f"mrr_movements:{ctx.options.period}:{ctx.periods}", lambda: ctx.cache(_mrr_movements(ctx)))


def _mrr_movements(ctx: MetricContext) -> ir.Table:
    subs = ctx.table("subscriptions")
    t = _period_movements(ctx, _subscription_states(ctx))
    # Paid before: a paying subscription started before this period (reactivation, not new, when they return).
    first_paid = subs.filter(subs.mrr > 0).group_by(_fid=subs.customer_id).aggregate(_first=subs.start_at.min())
    t = t.left_join(first_paid, t.customer_id == first_paid._fid)
    paid_before = t._first.notnull() & (t._first < t._start)
    start, end = t.mrr_start, t.mrr_end
    zero = ibis.literal(0.0)
    return t.mutate(
        new=ibis.cases(((start == 0) & (end > 0) & ~paid_before, end), else_=zero),
        reactivation=ibis.cases(((start == 0) & (end > 0) & paid_before, end), else_=zero),
        expansion=ibis.cases(((start > 0) & (end > start), end - start), else_=zero),
        contraction=ibis.cases(((start > 0) & (end > 0) & (end < start), start - end), else_=zero),
        churned=ibis.cases(((start > 0) & (end == 0), start), else_=zero),
        paying_end=end > 0,
    ).drop("_fid", "_first")


def _expansion_rows(ctx: MetricContext) -> ir.Table:
    m = mrr_movements(ctx).select("ts", "_entity", "mrr_end", "paying_end", non_recurring=ibis.literal(0.0))
    if "orders" not in ctx.tables:
        return m
    o = orders(ctx)
    o = o.filter(o.kind.isin(NON_RECURRING))
    extra = o.select(ts=o.ts, _entity=o._entity, mrr_end=ibis.literal(0.0), paying_end=ibis.literal(False),
                     non_recurring=o.amount)
    return union_rows(m, extra)


def _churn_cohort(ctx: MetricContext) -> ir.Table:
    """Customers active at a period's start, and whether they are still active at its end."""
    if "subscriptions" in ctx.tables:
        t = ctx.remember(f"churn_subs:{ctx.options.period}:{ctx.periods}", lambda: _period_movements(ctx, _subscription_states(ctx)))
    elif "orders" in ctx.tables:
        t = _period_movements(ctx, _order_states(ctx))
    else:
        raise MetricUnavailable("needs the subscriptions table, or orders to judge activity by purchases")
    t = t.filter(t.active_start)
    return with_acquisition_channel(ctx, t.mutate(lost=~t.active_end, kept=t.active_end))


def _arpu_rows(ctx: MetricContext) -> ir.Table:
    """The MRR movements with the customer's acquisition channel (CLV per channel, from subscriptions)."""
    return with_acquisition_channel(ctx, mrr_movements(ctx))


def _churn_basis(ctx: MetricContext) -> dict[str, object]:
    if "subscriptions" in ctx.tables:
        return {"basis": "subscriptions"}
    return {"basis": "orders", "inactive_days": ctx.options.inactive_days}


# -- declarations ---------------------------------------------------------------------------------------

_STATE = ("MRR at a period's end is the sum of `mrr` over subscriptions active at its last instant "
          "(start_at ≤ t < end_at). Periods run to the last day of the subscriptions or orders.")
_MOVES = ("Per customer, MRR at the end of the previous period against MRR at the end of this one: new (first "
          "time paying), expansion (up), contraction (down, still paying), churned (to 0), reactivation (paying "
          "again after having paid before). A customer who starts and cancels inside one period makes no "
          "movement. As ChartMogul and Baremetrics classify them.")


def _movement(metric_id: str, name: str, column: str, description: str, direction: Direction) -> Metric:
    return Metric(
        id=metric_id, name=name, family=Family.REVENUE,
        formula=f"sum over customers of the {description} between the previous period's end and this one's",
        unit=Unit.MONEY, direction=direction, inputs=("subscriptions",), optional_inputs=("orders",), rows=mrr_movements,
        estimator=Sum(column, count=None), what_is_counted="subscribers", notes=_MOVES, accumulates=True,
        description=f"MRR movement: {description}.", source="ChartMogul/Baremetrics MRR movements",
    )


def _paying_at_start(t: ir.Table) -> ir.Scalar:
    return (t.mrr_start > 0).cast("int64").sum()


def _sum(column: str):
    return lambda t: t[column].sum()


CHURN_RATE = Metric(
    id="churn_rate", name="Customer churn rate", family=Family.REVENUE,
    formula="customers active at the period's start who are not active at its end ÷ customers active at its "
            "start × 100", unit=Unit.PERCENT, direction=Direction.DOWN,
    inputs=("subscriptions", "orders"), rows=_churn_cohort, estimator=Proportion("lost"),
    what_is_counted="customers active at the start", extra_details=_churn_basis,
    period_tables=("subscriptions", "orders"), dimensions=("acquisition_channel",), optional_inputs=("customers",),
    description="Customers lost in the period; customers won during it are not in the denominator (seed 004: "
                "100 at the start, 5 lost, 10 won → 5 %, not 5/110). Per acquisition channel too.",
    notes="With a subscriptions table, active = at least one active subscription (any mrr). With orders only, "
          "active = an order within `--inactive-days` (90) before the instant; a period whose end lies after the "
          "data's last day counts customers as lost who may still buy. `details.basis` says which. Interval: "
          "Wilson.", source="004, 001, 003",
)

ARPU = Metric(
    id="arpu", name="Average revenue per user", family=Family.REVENUE,
    formula="MRR ÷ paying customers at the period's end", unit=Unit.MONEY, direction=Direction.UP,
    inputs=("subscriptions",), optional_inputs=("orders", "customers"), rows=_arpu_rows,
    estimator=Ratio(_sum("mrr_end"), lambda t: t.paying_end.cast("int64").sum()), what_is_counted="subscribers",
    dimensions=("acquisition_channel",),
    description="Seed 004's average revenue per customer (MRR = monthly active customers × ARPU). Per "
                "acquisition channel too.",
    notes=_STATE + " Paying: MRR above 0.", source="004",
)

METRICS: tuple[Metric, ...] = (
    Metric(
        id="mrr", name="Monthly recurring revenue", family=Family.REVENUE,
        formula="sum of active subscriptions' monthly amounts at the period's end (= paying customers × ARPU)",
        unit=Unit.MONEY, direction=Direction.UP, inputs=("subscriptions",), optional_inputs=("orders",), rows=mrr_movements,
        estimator=Sum("mrr_end", count="paying_end"), what_is_counted="subscribers",
        description="Seed 004: the revenue you know you will get every month; n is the paying customers.",
        notes=_STATE, source="004",
    ),
    ARPU,
    Metric(
        id="expansion_mrr", name="Expansion MRR (seed 004)", family=Family.REVENUE,
        formula="MRR + the average monthly non-recurring revenue (upsell, cross_sell and addon orders)",
        unit=Unit.MONEY, direction=Direction.UP, inputs=("subscriptions",), optional_inputs=("orders",),
        rows=_expansion_rows, estimator=Sum("mrr_end", count="paying_end", per_month="non_recurring"),
        what_is_counted="subscribers",
        description="Seed 004's expansion MRR: recurring revenue plus what customers spend on top of it.",
        notes=_STATE + " Non-recurring revenue is the orders of kind upsell, cross_sell and addon in the period, "
              "divided by the calendar months it covers (a quarter: 3). Not the movement of the same name: that "
              "is `expansion_mrr_movement`.", source="004",
    ),
    _movement("new_mrr", "New MRR", "new", "MRR of customers paying for the first time", Direction.UP),
    _movement("expansion_mrr_movement", "Expansion MRR (movement)", "expansion",
              "MRR added by customers who pay more (upgrades, more seats)", Direction.UP),
    _movement("contraction_mrr", "Contraction MRR", "contraction",
              "MRR lost by customers who pay less but still pay (downgrades)", Direction.DOWN),
    _movement("churned_mrr", "Churned MRR", "churned", "MRR lost by customers who stopped paying",
              Direction.DOWN),
    _movement("reactivation_mrr", "Reactivation MRR", "reactivation",
              "MRR of customers paying again after having stopped", Direction.UP),
    Metric(
        id="net_new_mrr", name="Net new MRR", family=Family.REVENUE,
        formula="new + expansion + reactivation − contraction − churned (= MRR at the end − MRR at the start)",
        unit=Unit.MONEY, direction=Direction.UP, inputs=("subscriptions",), optional_inputs=("orders",), rows=mrr_movements,
        estimator=Ratio(lambda t: t.mrr_end.sum() - t.mrr_start.sum(), empty_value=0.0),
        what_is_counted="subscribers", description="How much MRR grew in the period, all movements together.",
        notes=_MOVES, source="ChartMogul/Baremetrics MRR movements",
    ),
    Metric(
        id="gross_mrr_churn_rate", name="Gross MRR churn rate", family=Family.REVENUE,
        formula="(churned MRR + contraction MRR) ÷ MRR at the period's start × 100", unit=Unit.PERCENT,
        direction=Direction.DOWN, inputs=("subscriptions",), optional_inputs=("orders",), rows=mrr_movements,
        estimator=Ratio(lambda t: t.churned.sum() + t.contraction.sum(), _sum("mrr_start"), factor=100, count=_paying_at_start),
        what_is_counted="subscribers", description="Share of recurring revenue lost, before any expansion.",
        notes=_MOVES, source="ChartMogul",
    ),
    Metric(
        id="net_mrr_churn_rate", name="Net MRR churn rate", family=Family.REVENUE,
        formula="(churned + contraction − expansion − reactivation MRR) ÷ MRR at the period's start × 100",
        unit=Unit.PERCENT, direction=Direction.DOWN, inputs=("subscriptions",), optional_inputs=("orders",), rows=mrr_movements,
        estimator=Ratio(lambda t: t.churned.sum() + t.contraction.sum() - t.expansion.sum() - t.reactivation.sum(),
                        _sum("mrr_start"), factor=100, count=_paying_at_start),
        what_is_counted="subscribers",
        description="Revenue lost net of what customers added; negative when expansion outgrows churn.",
        notes=_MOVES + " As ChartMogul defines it, reactivation counts against churn here but not in net revenue "
              "retention, so the two need not add up to 100.", source="ChartMogul",
    ),
    Metric(
        id="net_revenue_retention", name="Net revenue retention", family=Family.REVENUE,
        formula="(MRR at the start + expansion − contraction − churned) ÷ MRR at the start × 100",
        unit=Unit.PERCENT, direction=Direction.UP, inputs=("subscriptions",), optional_inputs=("orders",), rows=mrr_movements,
        estimator=Ratio(lambda t: t.mrr_start.sum() + t.expansion.sum() - t.contraction.sum() - t.churned.sum(),
                        _sum("mrr_start"), factor=100, count=_paying_at_start),
        what_is_counted="subscribers",
        description="What the customers paying at the start pay at the end, per 100 of their starting MRR; new "
                    "and reactivated customers are left out. Above 100: existing customers grow the business.",
        notes=_MOVES, source="ChartMogul; KeyBanc SaaS survey definition",
    ),
    CHURN_RATE,
    Metric(
        id="retention_rate", name="Customer retention rate", family=Family.REVENUE,
        formula="100 − churn rate, on the same cohort: customers active at the start and still active at the "
                "end ÷ customers active at the start × 100", unit=Unit.PERCENT, direction=Direction.UP,
        inputs=("subscriptions", "orders"), rows=_churn_cohort, estimator=Proportion("kept"),
        what_is_counted="customers active at the start", extra_details=_churn_basis,
        period_tables=("subscriptions", "orders"), dimensions=("acquisition_channel",), optional_inputs=("customers",),
        description="Customers kept (seed 001: retention is the opposite of churn). Per acquisition channel too.",
        notes="Same cohort and activity rule as churn_rate. Interval: Wilson.", source="001",
    ),
)
