"""Acquisition and value: customers won, CAC, capital expenditure, CLV (seed 003's formula) and what CLV says
against CAC and CapEx (METRICS.md §4; seeds 000, 003, 004).

CLV and the ratios are derived metrics: they are computed from the records of the metrics they combine
(AOV, purchase frequency, churn, CAC), so every number in the scorecard agrees with the ones beside it.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from cxbench.core.engine import record_span, span_length
from cxbench.core.records import MetricRecord
from cxbench.core.registry import DerivedMetric, Direction, Family, Metric, MetricContext, MetricUnavailable, Options, Unit
from cxbench.core.stats import ChangeTest, Estimate, Ratio, Span, Sum, periods_per_year
from cxbench.metrics.orders import AOV, PURCHASE_FREQUENCY, orders
from cxbench.metrics.subscriptions import ARPU, CHURN_RATE
from cxbench.metrics.tables import union_rows

# -- rows -----------------------------------------------------------------------------------------------


def won_customers(ctx: MetricContext) -> ir.Table:
    """One row per customer at the instant they were won: their first signup, order or subscription."""
    firsts: list[ir.Table] = []
    if "customers" in ctx.tables:
        c = ctx.table("customers")
        firsts.append(c.select(_cid=c.customer_id, _at=c.signup_at))
    if "orders" in ctx.tables:
        o = orders(ctx)
        o = o.filter(o.is_order)
        firsts.append(o.select(_cid=o.customer_id, _at=o.ts))
    if "subscriptions" in ctx.tables:
        s = ctx.table("subscriptions")
        firsts.append(s.select(_cid=s.customer_id, _at=s.start_at))
    if not firsts:
        raise MetricUnavailable("needs customers (signup_at), orders or subscriptions to know when customers were won")
    union = union_rows(*firsts)
    won = union.group_by("_cid").aggregate(ts=union._at.min())
    won = won.filter(won.ts.notnull())
    columns: dict[str, Any] = {"acquisition_channel": ibis.null("string"), "segment": ibis.null("string")}
    if "customers" in ctx.tables:
        c = ctx.table("customers")
        present = [k for k in columns if ctx.has_column("customers", k)]
        lookup = c.select("customer_id", *present)
        won = won.left_join(lookup, won._cid == lookup.customer_id).drop("customer_id")
        columns = {k: v for k, v in columns.items() if k not in present}
    return won.mutate(_entity=won._cid, won=ibis.literal(1.0), spend=ibis.literal(0.0), **columns)


def _won_rows(ctx: MetricContext) -> ir.Table:
    return won_customers(ctx)


def _spend(ctx: MetricContext) -> ir.Table:
    s = ctx.table("spend")
    if ctx.has_column("spend", "kind"):
        s = s.filter(s.kind.isnull() | s.kind.isin(("marketing", "sales")))
    channel = s.channel if ctx.has_column("spend", "channel") else ibis.null("string")
    segment = s.segment if ctx.has_column("spend", "segment") else ibis.null("string")
    return s.select(ts=s.date.cast("timestamp"), _entity=ibis.null("string"), won=ibis.literal(0.0),
                    spend=s.amount, acquisition_channel=channel, segment=segment)


def _cac_rows(ctx: MetricContext) -> ir.Table:
    spend = _spend(ctx)
    won = won_customers(ctx).select(*spend.columns)
    return union_rows(spend, won)


def _capex_rows(ctx: MetricContext) -> ir.Table:
    c = ctx.table("capex")
    return c.select(ts=c.date.cast("timestamp"), _entity=ibis.null("string"), amount=c.amount)


# -- derived values -------------------------------------------------------------------------------------

Parts = dict[str, MetricRecord | None]


def _value(record: MetricRecord | None) -> float | None:
    return None if record is None else record.value


def _required(parts: Parts, metric_id: str) -> MetricRecord:
    """A component the engine only combines when it has a value (not one of `optional_components`)."""
    record = parts[metric_id]
    if record is None or record.value is None:
        raise ValueError(f"{metric_id} has no value: the engine passes required components with one")
    return record


def _clv(parts: Parts, span: Span, options: Options, in_run: frozenset[str]) -> Estimate:
    aov, frequency, arpu = parts["aov"], parts["purchase_frequency"], parts["arpu"]
    per_year = periods_per_year(span)
    details: dict[str, object]
    yearly_value: float
    # The basis is the run's, not the period's: with orders anywhere, a period without orders has no CLV
    # rather than switching to ARPU (which would read as a jump between the two bases).
    if "aov" in in_run and (_value(aov) is None or _value(frequency) is None):
        return Estimate(None, 0, details={}, reason="needs aov and purchase_frequency: no orders in this period")
    buyer_based: float | None = None  # seed 003's literal variant: purchases per *buying* customer
    if aov is not None and aov.value is not None and frequency is not None and frequency.value is not None:
        # Seed 003: AOV × purchases per year × lifetime. Purchases per customer and churn must count the same
        # customers: churn is a share of the customers active at the period's start, so purchases are per customer
        # active in the period (those active at its start and those won in it, whose orders are in the count too),
        # not per customer who bought: per buyer, the customers who bought nothing that period would be left out
        # of one factor and kept in the other (CDNOW, June 1998: 172 orders by 138 buyers of the 344 customers
        # active at the start, none won: 2.5 × too high).
        churn_cohort, won = parts["churn_rate"], parts["new_customers"]
        seed_per_year = frequency.value * per_year
        if churn_cohort is not None and churn_cohort.value is not None and churn_cohort.n > 0:
            orders_in_period = frequency.value * frequency.n
            new = int(round(won.value)) if won is not None and won.value is not None else 0
            n = churn_cohort.n + new
            yearly_value = aov.value * orders_in_period / n * per_year
            details = {"value_from": "orders", "aov": aov.value, "purchases_per_year": orders_in_period / n * per_year,
                       "purchases_base": "customers active in the period: active at its start (churn_rate's base) "
                                         "and won in it (new_customers)",
                       "customers_active_at_start": churn_cohort.n, "customers_won": new,
                       "purchases_per_year_per_buying_customer": seed_per_year}
            buyer_based = aov.value * seed_per_year
        else:
            n = frequency.n
            yearly_value = aov.value * seed_per_year
            details = {"value_from": "orders", "aov": aov.value, "purchases_per_year": seed_per_year,
                       "purchases_base": "customers who ordered in the period (seed 003's formula: no customer was "
                                         "active at the period's start, so there is no churn base to share)"}
    elif arpu is not None and arpu.value is not None:
        # Subscriptions only: a year of ARPU (monthly), as subscription tools compute LTV (ARPA ÷ churn).
        n = arpu.n
        yearly_value = arpu.value * 12
        details = {"value_from": "subscriptions", "arpu": arpu.value, "revenue_per_year": yearly_value}
    else:
        return Estimate(None, 0, details={}, reason="needs aov and purchase_frequency (orders), or arpu "
                                                      "(subscriptions) for the value of a customer's year")
    if options.lifetime_years is not None:
        lifetime = options.lifetime_years
        details["lifetime_from"] = "--lifetime-years"
    else:
        churn_record = parts["churn_rate"]
        if churn_record is None or churn_record.value is None:
            return Estimate(None, 0, details=details,
                            reason="needs churn_rate for the expected lifetime, or --lifetime-years")
        churn = churn_record.value
        # A customer who leaves with probability c each period stays 1 ÷ c periods on average (geometric), so
        # the lifetime in years is 1 ÷ (c × periods per year): ChartMogul's and Baremetrics' 1 ÷ churn rate.
        # Churn is annualised over its own period (under --period all it may span other dates than AOV's).
        churn_span = record_span(churn_record)
        yearly = churn / 100 * periods_per_year(span_length(churn_span) if churn_span else span)
        # Lost per year as a share of the base (c × periods per year): above 100 % when customers stay under a year.
        details.update({"churn_rate": churn, "annualised_churn": 100 * yearly})
        if yearly <= 0:
            return Estimate(None, 0, details=details,
                            reason="no customer was lost in the period, so the lifetime is unbounded; give --lifetime-years")
        lifetime = 1 / yearly
        details["lifetime_from"] = "1 ÷ yearly churn"
    details["lifetime_years"] = lifetime
    if buyer_based is not None:
        details["clv_per_buying_customer"] = buyer_based * lifetime  # the seed's formula read literally, for comparison
    return Estimate(yearly_value * lifetime, n, details=details)


def _clv_cac(parts: Parts, span: Span, options: Options, in_run: frozenset[str]) -> Estimate:
    clv, cac = _required(parts, "clv"), _required(parts, "cac")
    details = {"clv": clv.value, "cac": cac.value}
    if not cac.value or clv.value is None:
        return Estimate(None, 0, details=details, reason="CAC is 0: no spend to compare with")
    return Estimate(clv.value / cac.value, cac.n, details=details)


def _profit(parts: Parts, span: Span, options: Options, in_run: frozenset[str]) -> Estimate:
    clv, cac = _required(parts, "clv"), _required(parts, "cac")
    assert clv.value is not None and cac.value is not None
    return Estimate(clv.value - cac.value, cac.n, details={"clv": clv.value, "cac": cac.value})


def _clv_per_capex(parts: Parts, span: Span, options: Options, in_run: frozenset[str]) -> Estimate:
    clv, won, capex = _required(parts, "clv"), _required(parts, "new_customers"), _required(parts, "capex")
    details = {"clv": clv.value, "new_customers": won.value, "capex": capex.value}
    if not capex.value or clv.value is None or won.value is None:
        return Estimate(None, 0, details=details, reason="no capital expenditure in the period")
    return Estimate(clv.value * won.value / capex.value, int(won.value), details=details)


# -- declarations ---------------------------------------------------------------------------------------

NEW_CUSTOMERS = Metric(
    id="new_customers", name="New customers", family=Family.REVENUE,
    formula="customers whose first signup, order or subscription falls in the period", unit=Unit.COUNT,
    direction=Direction.UP, inputs=("customers", "orders", "subscriptions"), rows=_won_rows,
    estimator=Sum("won", test=ChangeTest.POISSON), what_is_counted="customers won", accumulates=True,
    dimensions=("acquisition_channel",),
    period_tables=("customers", "orders", "subscriptions"),
    description="Customers won in the period: CAC's denominator. Per acquisition channel too.",
    notes="A customer is won at their earliest date among customers.signup_at, their first order (not a refund) "
          "and their first subscription's start.", source="004",
)

CAC = Metric(
    id="cac", name="Customer acquisition cost", family=Family.REVENUE,
    formula="marketing + sales spend in the period ÷ customers won in it", unit=Unit.MONEY,
    direction=Direction.DOWN, inputs=("spend", "customers", "orders", "subscriptions"), rows=_cac_rows,
    estimator=Ratio(lambda t: t.spend.sum(), lambda t: t.won.sum()), what_is_counted="customers won",
    dimensions=("acquisition_channel", "segment"), by_customer_segment=False,
    period_tables=("spend",), period_extend_tables=("customers", "orders", "subscriptions"),
    description="What winning one customer costs (seed 004), overall, per acquisition channel and per segment.",
    notes="Spend of kind marketing or sales (or no kind). Per channel: spend.channel against customers won with "
          "that customers.acquisition_channel; per segment: spend.segment against customers.segment. Customers "
          "are won as in new_customers. Spend belongs to no customer, so `--segment` gives no CAC records: use "
          "the segment breakdown. n is the number of customers won.", source="004, 001",
)

CAPEX = Metric(
    id="capex", name="Capital expenditure", family=Family.REVENUE,
    formula="sum of capex amounts in the period", unit=Unit.MONEY, direction=Direction.NONE, inputs=("capex",),
    rows=_capex_rows, estimator=Sum("amount"), what_is_counted="capex entries", by_customer_segment=False,
    accumulates=True,
    description="Capital expenditure: the denominator of CLV per CapEx dollar (seed 000).", source="000",
)

CLV = DerivedMetric(
    id="clv", name="Customer lifetime value", family=Family.REVENUE,
    formula="AOV × purchases per customer per year × expected lifetime in years; purchases per customer active at "
            "the period's start (churn's base) or won in it; lifetime = 1 ÷ yearly churn unless --lifetime-years",
    unit=Unit.MONEY, direction=Direction.UP,
    inputs=("orders", "subscriptions"), what_is_counted="customers",
    components=(AOV, PURCHASE_FREQUENCY, CHURN_RATE, ARPU, NEW_CUSTOMERS),
    combine=_clv, optional_components=("aov", "purchase_frequency", "churn_rate", "arpu", "new_customers"),
    description="Seed 003's CLV: average order value × purchase frequency × customer lifetime; its worked "
                "example is 20 × 12 × 3 = 720.",
    notes="Purchases per year = the period's orders ÷ the customers active in it (those active at its start, "
          "churn_rate's base and n, plus those won in it, new_customers) × periods per year (12 for a month, 4 for "
          "a quarter, 365.25 ÷ 7 for a week): both factors count the same customers, so CLV = the period's sales "
          "per active customer ÷ churn. Seed 003's purchase frequency per *buying* customer, read literally, "
          "leaves the customers who did not buy out of one factor and in the other and overstates retail CLV "
          "(about 2.5 × on CDNOW); it is kept as `details.clv_per_buying_customer`, and used (with "
          "`details.purchases_base` saying so) only when the period has no churn cohort (nobody active at its "
          "start, e.g. with --lifetime-years on a first month). Yearly churn = the period's churn_rate × periods "
          "per year, so the "
          "lifetime is 1 ÷ (period churn × periods per year): a customer who leaves with probability c each "
          "period stays 1 ÷ c periods on average. With a month's revenue per customer R and monthly churn c, "
          "CLV = R ÷ c, the LTV of ChartMogul and Baremetrics (ARPA ÷ customer churn rate). With subscriptions "
          "and no orders table, a customer's year is worth ARPU × 12 (`details.value_from`); with orders, a "
          "period without orders has no CLV. `details` shows every factor. Per acquisition channel: every factor "
          "is that of the customers with that customers.acquisition_channel (their orders, churn, ARPU and those "
          "won), the breakdown CAC has, so CLV:CAC compares each channel's value with its cost.", source="003",
)

METRICS: tuple[Metric, ...] = (
    NEW_CUSTOMERS,
    CAC,
    CAPEX,
    CLV,
    DerivedMetric(
        id="clv_cac_ratio", name="CLV : CAC", family=Family.REVENUE, formula="CLV ÷ CAC", unit=Unit.RATIO,
        direction=Direction.UP, inputs=tuple(dict.fromkeys((*CLV.inputs, *CAC.inputs))), 
        what_is_counted="customers won", components=(CLV, CAC), combine=_clv_cac,
        description="Whether acquisition pays (seed 004): at least 3:1 is good, 2:1 a thin profit, 1:1 or less "
                    "break-even or a loss; CAC should be a fifth to a third of CLV.",
        notes="CLV and CAC of the same period, as shown in their own records; per acquisition channel too (both "
              "have that breakdown; a channel without spend has CAC 0 and no ratio).", source="004",
    ),
    DerivedMetric(
        id="profit_per_customer", name="Profit per customer", family=Family.REVENUE, formula="CLV − CAC",
        unit=Unit.MONEY, direction=Direction.UP, inputs=tuple(dict.fromkeys((*CLV.inputs, *CAC.inputs))),
        what_is_counted="customers won", components=(CLV, CAC), combine=_profit,
        description="What a customer leaves after paying for their acquisition.",
        notes="Seed 004 writes this as CLV ÷ CAC, which is the ratio `clv_cac_ratio`; a profit is a difference, "
              "so cxbench computes CLV − CAC here.", source="004",
    ),
    DerivedMetric(
        id="clv_per_capex_dollar", name="CLV per CapEx dollar", family=Family.REVENUE,
        formula="CLV × customers won in the period ÷ capital expenditure in the period", unit=Unit.RATIO,
        direction=Direction.UP, inputs=tuple(dict.fromkeys((*CLV.inputs, *NEW_CUSTOMERS.inputs, "capex"))),
        what_is_counted="customers won", components=(CLV, NEW_CUSTOMERS, CAPEX), combine=_clv_per_capex,
        description="Seed 000's lesser-known benchmark: the lifetime value won per dollar of capital spent.",
        notes="The CLV of the customers won in the period is taken as CLV × new customers.", source="000",
    ),
)
