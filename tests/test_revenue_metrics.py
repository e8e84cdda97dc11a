"""Revenue and loyalty metrics (orders, subscriptions, spend, capex) against hand-worked values and the seeds'
worked examples.

Every test runs on DuckDB and on Spark through the `backend` fixture. The expected values are written out
with their working in comments, never produced by cxbench. Sources: METRICS.md §4 and the issue text; seed
003 (CLV 20 × 12 × 3 = 720), seed 004 (churn: 100 at the start, 5 lost, 10 won → 5 %; CLV:CAC bands), the
MRR movement categories of ChartMogul and Baremetrics.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import pick

AUG, SEP, OCT, NOV = "2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"


def order(order_id: str, customer: str, ts: str, amount: float, kind: str = "", **columns: Any) -> dict[str, Any]:
    return {"order_id": order_id, "customer_id": customer, "ts": ts, "amount": amount, "kind": kind, **columns}


def sub(sub_id: str, customer: str, start: str, end: str, mrr: float) -> dict[str, Any]:
    return {"subscription_id": sub_id, "customer_id": customer, "start_at": start, "end_at": end, "mrr": mrr}


# -- orders ---------------------------------------------------------------------------------------------

ORDERS = [
    order("o6", "c3", "2026-09-15T10:00:00Z", 80),
    order("o1", "c1", "2026-10-02T10:00:00Z", 100, "purchase", channel="web"),
    order("o2", "c1", "2026-10-10T10:00:00Z", 50, "purchase", channel="store"),
    order("o3", "c2", "2026-10-05T10:00:00Z", 200, channel="web"),  # no kind: a purchase
    order("o4", "c2", "2026-10-20T10:00:00Z", -30, "refund"),
    order("o5", "c3", "2026-10-25T10:00:00Z", 20, "refund"),  # a refund written as a positive amount
    order("o7", "c3", "2026-11-03T10:00:00Z", 40),
]


def test_sales_aov_and_frequency_net_of_refunds_which_are_not_orders(run_case):
    # October: purchases 100 + 50 + 200 = 350, refunds 30 + 20 = 50 → sales 300 from 3 orders.
    # AOV = 300 / 3 = 100. Purchase frequency = 3 orders / 2 buyers (c1, c2; c3 only had a refund) = 1.5.
    # Per channel: web = 100 + 200 = 300, store = 50.
    card = run_case({"orders": ORDERS}, metrics=["sales", "aov", "purchase_frequency"])
    sales = pick(card, "sales", period_start=OCT)
    assert sales["value"] == pytest.approx(300)
    assert sales["n"] == 3
    assert sales["details"]["refunds"] == pytest.approx(50)
    assert pick(card, "sales", period_start=OCT, dimension={"channel": "web"})["value"] == pytest.approx(300)
    assert pick(card, "sales", period_start=OCT, dimension={"channel": "store"})["value"] == pytest.approx(50)
    assert pick(card, "aov", period_start=OCT)["value"] == pytest.approx(100)
    frequency = pick(card, "purchase_frequency", period_start=OCT)
    assert frequency["value"] == pytest.approx(1.5)
    assert frequency["n"] == 2


def test_sales_growth_against_previous_period_and_baseline(run_case):
    # Sales: June 100, September 80, October 300.
    # October against September: (300 − 80) / 80 × 100 = 275 %. Against the baseline period (June, which holds
    # 15 June): (300 − 100) / 100 × 100 = 200 %. September against August (no sales): unavailable.
    rows = [*ORDERS, order("o0", "c9", "2026-06-10T10:00:00Z", 100)]
    card = run_case({"orders": rows}, metrics=["sales_growth"], baseline="2026-06-15")
    october = pick(card, "sales_growth", period_start=OCT)
    assert october["value"] == pytest.approx(275)
    assert october["details"]["growth_vs_baseline"] == pytest.approx(200)
    assert october["details"]["baseline_period_start"] == "2026-06-01"
    september = pick(card, "sales_growth", period_start=SEP)
    assert september["status"] == "unavailable"
    assert september["value"] is None


def test_sales_growth_against_a_baseline_before_the_data_says_there_is_nothing_to_compare(run_case):
    # --baseline 2026-01-15: January has no sales, so its total is 0 and the growth against it has no value;
    # the details say so instead of leaving the baseline out. October against September is still 275 %.
    card = run_case({"orders": ORDERS}, metrics=["sales_growth"], baseline="2026-01-15")
    october = pick(card, "sales_growth", period_start=OCT)
    assert october["value"] == pytest.approx(275)
    assert october["details"]["baseline_period_start"] == "2026-01-01"
    assert october["details"]["baseline"] == 0
    assert october["details"]["growth_vs_baseline"] is None


def test_repeat_purchase_rate_counts_purchases_before_the_period(run_case):
    # October buyers: c1 (2 orders) and c2 (1 order; its refund is no purchase) → 1 of 2 = 50 %.
    # November: c3 buys; with its September order it has 2 purchases to date → 1 of 1 = 100 %.
    card = run_case({"orders": ORDERS}, metrics=["repeat_purchase_rate"])
    assert pick(card, "repeat_purchase_rate", period_start=OCT)["value"] == pytest.approx(50)
    november = pick(card, "repeat_purchase_rate", period_start=NOV)
    assert november["value"] == pytest.approx(100)
    assert november["details"]["mean_repeat_in_period"] == pytest.approx(0)  # one November order only


def test_historical_clv_is_revenue_per_customer_up_to_the_period_end(run_case):
    # End of September: 80 from c3 → 80 / 1 = 80. End of October: 80 + 300 = 380 over c1, c2, c3 = 126.667.
    # End of November: 380 + 40 = 420 / 3 = 140.
    card = run_case({"orders": ORDERS}, metrics=["clv_historical"])
    assert pick(card, "clv_historical", period_start=SEP)["value"] == pytest.approx(80)
    assert pick(card, "clv_historical", period_start=OCT)["value"] == pytest.approx(380 / 3)
    assert pick(card, "clv_historical", period_start=NOV)["value"] == pytest.approx(140)


def test_transaction_mix_flags_buying_more_often_but_spending_less(run_case):
    # September: c1 and c2 buy once for 100 each → frequency 1, AOV 100.
    # October: each buys twice for 40 → frequency 2, AOV 40: more often, less per order (seed 000).
    # October per kind: purchase 3 orders = 120 (share of revenue 120/160 = 75 %), upsell 1 order = 40.
    rows = [
        order("s1", "c1", "2026-09-03T10:00:00Z", 100), order("s2", "c2", "2026-09-04T10:00:00Z", 100),
        order("t1", "c1", "2026-10-03T10:00:00Z", 40), order("t2", "c1", "2026-10-13T10:00:00Z", 40, "upsell"),
        order("t3", "c2", "2026-10-04T10:00:00Z", 40), order("t4", "c2", "2026-10-14T10:00:00Z", 40),
    ]
    card = run_case({"orders": rows}, metrics=["transaction_mix"])
    october = pick(card, "transaction_mix", period_start=OCT)
    assert october["value"] == pytest.approx(160)
    assert october["details"]["purchase_frequency"] == pytest.approx(2)
    assert october["details"]["aov"] == pytest.approx(40)
    assert october["details"]["more_often_but_less_per_order"] is True
    assert "more_often_but_less_per_order" not in pick(card, "transaction_mix", period_start=SEP)["details"]
    purchase = pick(card, "transaction_mix", period_start=OCT, dimension={"kind": "purchase"})
    assert purchase["value"] == pytest.approx(120)
    assert purchase["details"]["share_of_revenue"] == pytest.approx(75)
    assert pick(card, "transaction_mix", period_start=OCT, dimension={"kind": "upsell"})["value"] == pytest.approx(40)


# -- subscriptions --------------------------------------------------------------------------------------

SUBSCRIPTIONS = [
    # A upgrades on 15 October: one row ends, the next starts (a plan change).
    sub("a1", "A", "2026-08-10T00:00:00Z", "2026-10-15T00:00:00Z", 100),
    sub("a2", "A", "2026-10-15T00:00:00Z", "", 150),
    # B pays from 1 August, cancels on 20 September, comes back on 5 November: a reactivation.
    sub("b1", "B", "2026-08-01T00:00:00Z", "2026-09-20T00:00:00Z", 50),
    sub("b2", "B", "2026-11-05T00:00:00Z", "", 60),
    # C is new in September.
    sub("c1", "C", "2026-09-03T00:00:00Z", "", 80),
    # D ends at midnight on 1 October: still paying at the end of September, churned in October.
    sub("d1", "D", "2026-08-05T00:00:00Z", "2026-10-01T00:00:00Z", 200),
    # E joins and leaves inside October: paying at no period's end, so no movement.
    sub("e1", "E", "2026-10-05T00:00:00Z", "2026-10-25T00:00:00Z", 70),
    # F downgrades on 10 October.
    sub("f1", "F", "2026-08-20T00:00:00Z", "2026-10-10T00:00:00Z", 120),
    sub("f2", "F", "2026-10-10T00:00:00Z", "", 90),
]
# MRR at each month's end (subscriptions active at its last instant):
#   August    A 100 + B 50 + D 200 + F 120           = 470  (all new)
#   September A 100 + C 80 + D 200 + F 120           = 500  (C new 80, B churned 50)
#   October   A 150 + C 80 + F 90                    = 320  (A +50, F −30, D churned 200; E nothing)
#   November  A 150 + B 60 + C 80 + F 90             = 380  (B reactivated 60)
MOVEMENTS = ["mrr", "arpu", "new_mrr", "expansion_mrr_movement", "contraction_mrr", "churned_mrr",
             "reactivation_mrr", "net_new_mrr", "gross_mrr_churn_rate", "net_mrr_churn_rate", "net_revenue_retention"]


def test_mrr_and_its_movements_month_by_month(run_case):
    card = run_case({"subscriptions": SUBSCRIPTIONS}, metrics=MOVEMENTS)

    def value(metric: str, month: str) -> float:
        return pick(card, metric, period_start=month)["value"]

    assert [value("mrr", m) for m in (AUG, SEP, OCT, NOV)] == pytest.approx([470, 500, 320, 380])
    assert value("new_mrr", AUG) == pytest.approx(470)
    assert value("new_mrr", SEP) == pytest.approx(80)
    assert value("churned_mrr", SEP) == pytest.approx(50)
    assert value("net_new_mrr", SEP) == pytest.approx(30)
    # October: expansion 50 (A), contraction 30 (F), churned 200 (D), nothing new (E came and went).
    assert value("expansion_mrr_movement", OCT) == pytest.approx(50)
    assert value("contraction_mrr", OCT) == pytest.approx(30)
    assert value("churned_mrr", OCT) == pytest.approx(200)
    assert value("new_mrr", OCT) == pytest.approx(0)
    assert value("net_new_mrr", OCT) == pytest.approx(-180)
    # Gross MRR churn: (200 + 30) / 500 = 46 %. Net MRR churn: (200 + 30 − 50 − 0) / 500 = 36 %.
    # Net revenue retention: (500 + 50 − 30 − 200) / 500 = 64 %.
    assert value("gross_mrr_churn_rate", OCT) == pytest.approx(46)
    assert value("net_mrr_churn_rate", OCT) == pytest.approx(36)
    assert value("net_revenue_retention", OCT) == pytest.approx(64)
    assert pick(card, "gross_mrr_churn_rate", period_start=OCT)["n"] == 4  # A, C, D, F paid at the start
    # November: B pays again after paying before → reactivation, not new. Net MRR churn = (0 − 60) / 320.
    assert value("reactivation_mrr", NOV) == pytest.approx(60)
    assert value("new_mrr", NOV) == pytest.approx(0)
    assert value("net_mrr_churn_rate", NOV) == pytest.approx(-18.75)
    assert value("net_revenue_retention", NOV) == pytest.approx(100)
    # ARPU in November: 380 / 4 paying customers = 95.
    assert value("arpu", NOV) == pytest.approx(95)
    assert pick(card, "mrr", period_start=NOV)["n"] == 4


def test_churn_and_retention_on_subscriptions_leave_new_customers_out(run_case):
    # September: active at the start A, B, D, F; B is lost → 1/4 = 25 %; C, won in September, is not counted.
    # October: A, C, D, F at the start; D is lost (E joined and left, never at the start) → 25 %.
    # November: A, C, F at the start, all still active → 0 %. August: nobody at the start → unavailable.
    card = run_case({"subscriptions": SUBSCRIPTIONS}, metrics=["churn_rate", "retention_rate"])
    september = pick(card, "churn_rate", period_start=SEP)
    assert september["value"] == pytest.approx(25)
    assert september["n"] == 4
    assert september["details"]["basis"] == "subscriptions"
    assert pick(card, "churn_rate", period_start=OCT)["value"] == pytest.approx(25)
    assert pick(card, "churn_rate", period_start=NOV)["value"] == pytest.approx(0)
    assert pick(card, "retention_rate", period_start=SEP)["value"] == pytest.approx(75)
    assert pick(card, "churn_rate", period_start=AUG)["status"] == "unavailable"


def test_churn_matches_seed_004_example_of_100_customers_5_lost_10_won(run_case):
    # Seed 004: 100 customers at the start of the period, 5 lost, 10 won → 5/100 = 5 %, not 5/110.
    rows = [sub(f"s{i}", f"k{i}", "2026-08-01T10:00:00Z", "2026-09-15T00:00:00Z" if i < 5 else "", 30)
            for i in range(100)]
    rows += [sub(f"n{i}", f"new{i}", "2026-09-10T00:00:00Z", "", 30) for i in range(10)]
    card = run_case({"subscriptions": rows}, metrics=["churn_rate"])
    september = pick(card, "churn_rate", period_start=SEP)
    assert september["value"] == pytest.approx(5)
    assert september["n"] == 100
    assert september["benchmark"] == {"rating": "good", "source": "003", "applied": "library"}  # 2-8 % healthy (003)


def test_churn_from_orders_uses_the_inactivity_window(run_case):
    # Orders only. x ordered 15 July, y 20 August, z 10 September, w 1 June.
    # --inactive-days 60, September: active on 1 Sep = an order in [3 Jul, 1 Sep) → x, y. Active on 1 Oct =
    # an order in [2 Aug, 1 Oct) → y, z. x is lost → 1/2 = 50 %.
    # Default 90 days: on 1 Sep [3 Jun, 1 Sep) → x, y; on 1 Oct [3 Jul, 1 Oct) → x, y, z → 0 %.
    rows = [order("1", "x", "2026-07-15T10:00:00Z", 10), order("2", "y", "2026-08-20T10:00:00Z", 10),
            order("3", "z", "2026-09-10T10:00:00Z", 10), order("4", "w", "2026-06-01T10:00:00Z", 10)]
    short = run_case({"orders": rows}, metrics=["churn_rate"], inactive_days=60)
    default = run_case({"orders": rows}, metrics=["churn_rate"])
    september = pick(short, "churn_rate", period_start=SEP)
    assert september["value"] == pytest.approx(50)
    # The last order is on 10 September: September is partial, covered 1-10 September (10 days).
    assert september["details"] == {"count": 1, "basis": "orders", "inactive_days": 60, "covered_from": "2026-09-01",
                                    "covered_to": "2026-09-10", "covered_days": 10}
    assert pick(default, "churn_rate", period_start=SEP)["value"] == pytest.approx(0)


def test_expansion_mrr_of_seed_004_adds_monthly_non_recurring_revenue(run_case):
    # October: MRR 320 + upsell 60 + addon 30 (the recurring order is MRR already) = 410.
    # Quarter Q4: MRR at the quarter's end (1 January) 380 + (60 + 30) / 3 months = 410.
    rows = [order("u", "A", "2026-10-03T10:00:00Z", 60, "upsell"), order("x", "C", "2026-10-12T10:00:00Z", 30, "addon"),
            order("r", "C", "2026-10-03T10:00:00Z", 80, "recurring")]
    tables = {"subscriptions": SUBSCRIPTIONS, "orders": rows}
    monthly = run_case(tables, metrics=["expansion_mrr"])
    october = pick(monthly, "expansion_mrr", period_start=OCT)
    assert october["value"] == pytest.approx(410)
    assert october["details"]["non_recurring_monthly"] == pytest.approx(90)
    assert october["n"] == 3  # paying subscribers at October's end (A, C, F); the orders are not subscribers
    quarterly = run_case(tables, metrics=["expansion_mrr"], period="quarter")
    q4 = pick(quarterly, "expansion_mrr", period_start=OCT)
    assert q4["value"] == pytest.approx(410)
    assert q4["details"]["months"] == 3


# -- acquisition and value ------------------------------------------------------------------------------

def test_cac_per_acquisition_channel_and_segment(run_case):
    # October spend: 600 (ads, smb) + 400 sales (no channel) + 300 (email, smb) = 1300.
    # Won in October: k1 (ads, smb), k2 (email, enterprise), k4 (ads, smb), and k6, whose first order
    # (20 Oct) comes before its signup (2 Nov) → 4 customers. k3 signed up in September.
    # CAC = 1300 / 4 = 325. Ads: 600 / 2 = 300. Email: 300 / 2 (k2, k6) = 150. smb: 900 / 3 (k1, k4, k6) = 300;
    # enterprise: no spend / 1 won = 0.
    spend = [
        {"date": "2026-10-01", "amount": 600, "kind": "marketing", "channel": "ads", "segment": "smb"},
        {"date": "2026-10-02", "amount": 400, "kind": "sales", "channel": "", "segment": ""},
        {"date": "2026-10-03", "amount": 300, "kind": "marketing", "channel": "email", "segment": "smb"},
    ]
    customers = [
        {"customer_id": "k1", "signup_at": "2026-10-05T00:00:00Z", "acquisition_channel": "ads", "segment": "smb"},
        {"customer_id": "k2", "signup_at": "2026-10-08T00:00:00Z", "acquisition_channel": "email", "segment": "enterprise"},
        {"customer_id": "k3", "signup_at": "2026-09-20T00:00:00Z", "acquisition_channel": "ads", "segment": "smb"},
        {"customer_id": "k4", "signup_at": "2026-10-09T00:00:00Z", "acquisition_channel": "ads", "segment": "smb"},
        {"customer_id": "k6", "signup_at": "2026-11-02T00:00:00Z", "acquisition_channel": "email", "segment": "smb"},
    ]
    orders = [order("1", "k6", "2026-10-20T00:00:00Z", 50), order("2", "k3", "2026-10-21T00:00:00Z", 50)]
    card = run_case({"spend": spend, "customers": customers, "orders": orders}, metrics=["cac", "new_customers"])
    cac = pick(card, "cac", period_start=OCT)
    assert cac["value"] == pytest.approx(325)
    assert cac["n"] == 4
    assert pick(card, "cac", period_start=OCT, dimension={"acquisition_channel": "ads"})["value"] == pytest.approx(300)
    assert pick(card, "cac", period_start=OCT, dimension={"acquisition_channel": "email"})["value"] == pytest.approx(150)
    assert pick(card, "cac", period_start=OCT, dimension={"segment": "smb"})["value"] == pytest.approx(300)
    assert pick(card, "cac", period_start=OCT, dimension={"segment": "enterprise"})["value"] == pytest.approx(0)
    assert pick(card, "new_customers", period_start=OCT)["value"] == pytest.approx(4)


def _clv_case(customers: int = 4, spend: float = 240) -> dict[str, Any]:
    # Seed 003's example: every customer orders once a month for 20 → AOV 20, 12 purchases a year.
    rows = [order(f"o{i}", f"p{i}", "2026-10-05T10:00:00Z", 20) for i in range(customers)]
    return {"orders": rows, "spend": [{"date": "2026-10-01", "amount": spend, "kind": "marketing"}],
            "capex": [{"date": "2026-10-01", "amount": 2880}]}


def test_clv_matches_seed_003_worked_example_and_feeds_cac_ratios(run_case):
    # Seed 003: CLV = 20 × 12 × 3 = 720 (lifetime 3 years given). CAC = 240 / 4 won = 60.
    # CLV:CAC = 720 / 60 = 12 → good (≥ 3, seed 004). Profit per customer = 720 − 60 = 660.
    # CLV per CapEx dollar = 720 × 4 new customers / 2880 = 1.0.
    card = run_case(_clv_case(), lifetime_years=3,
                    metrics=["clv", "cac", "clv_cac_ratio", "profit_per_customer", "clv_per_capex_dollar"])
    clv = pick(card, "clv", period_start=OCT)
    assert clv["value"] == pytest.approx(720)
    assert clv["details"]["purchases_per_year"] == pytest.approx(12)
    ratio = pick(card, "clv_cac_ratio", period_start=OCT)
    assert ratio["value"] == pytest.approx(12)
    assert ratio["benchmark"] == {"rating": "good", "source": "004", "applied": "library"}
    assert pick(card, "profit_per_customer", period_start=OCT)["value"] == pytest.approx(660)
    assert pick(card, "clv_per_capex_dollar", period_start=OCT)["value"] == pytest.approx(1.0)


# The rating of a value is the same Python on either engine (the ratio itself is checked on Spark above).
@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
@pytest.mark.parametrize(("spend", "ratio", "rating"), [(1152, 2.5, "fair"), (2880, 1.0, "poor")])
def test_clv_cac_ratio_bands_of_seed_004(run_case, spend, ratio, rating):
    # CAC = spend / 4: 288 → 720 / 288 = 2.5 (thin profit); 720 → 720 / 720 = 1 (break-even or loss).
    card = run_case(_clv_case(spend=spend), lifetime_years=3, metrics=["clv_cac_ratio"])
    record = pick(card, "clv_cac_ratio", period_start=OCT)
    assert record["value"] == pytest.approx(ratio)
    assert record["benchmark"]["rating"] == rating


def test_clv_lifetime_from_churn_is_one_over_the_annualised_rate(run_case):
    # Subscriptions: 4 customers paying at the start of October, 1 cancels → monthly churn 25 %.
    # A customer stays 1 / 0.25 = 4 months on average → lifetime 4 / 12 = 1/3 year (annualised churn 25 × 12 = 300 %).
    # Orders: AOV 20, 1 order per customer in October → CLV = 20 × 12 × 1/3 = 80, which is ChartMogul's
    # LTV = monthly revenue per customer ÷ churn = 20 / 0.25 = 80.
    subs = [sub(f"s{i}", f"p{i}", "2026-09-01T00:00:00Z", "2026-10-20T00:00:00Z" if i == 0 else "", 20)
            for i in range(4)]
    card = run_case({**_clv_case(), "subscriptions": subs}, metrics=["clv"])
    clv = pick(card, "clv", period_start=OCT)
    assert clv["details"]["churn_rate"] == pytest.approx(25)
    assert clv["details"]["annualised_churn"] == pytest.approx(300)
    assert clv["details"]["lifetime_years"] == pytest.approx(1 / 3)
    assert clv["details"]["value_from"] == "orders"
    assert clv["value"] == pytest.approx(80)


def test_clv_from_subscriptions_alone_is_chartmogul_ltv(run_case):
    # ChartMogul's LTV = ARPA ÷ customer churn rate; its example figures ARPA 100, churn 5 % → 2,000.
    # 20 customers pay 100 a month from September; one cancels on 10 October → churn 1/20 = 5 %,
    # ARPU at October's end = 1900 / 19 = 100. No orders: a year is worth 100 × 12 = 1200, lifetime
    # 1 / (0.05 × 12) = 1.6667 years → CLV 2000.
    subs = [sub(f"s{i}", f"p{i}", "2026-09-01T00:00:00Z", "2026-10-10T00:00:00Z" if i == 0 else "", 100)
            for i in range(20)]
    clv = pick(run_case({"subscriptions": subs}, metrics=["clv"]), "clv", period_start=OCT)
    assert clv["details"]["value_from"] == "subscriptions"
    assert clv["details"]["arpu"] == pytest.approx(100)
    assert clv["details"]["lifetime_years"] == pytest.approx(5 / 3)
    assert clv["value"] == pytest.approx(2000)
    assert clv["n"] == 19


def test_clv_keeps_one_basis_for_the_run_when_orders_exist_only_in_some_periods(run_case):
    # 100 subscribers at 30 a month from August; 10 one-off orders of 500 in October only. With orders in the
    # run, CLV is AOV-based: October's 10 orders among the 100 customers active at its start are 0.1 purchase
    # per customer, so 500 × (0.1 × 12) × 1 year = 600 (per *buying* customer, seed 003 read literally, it would
    # be 500 × 12 = 6000, kept as details.clv_per_buying_customer); September has no orders, so no CLV, rather
    # than switching to ARPU × 12 = 360 and reading as a jump.
    subs = [sub(f"s{i}", f"p{i}", "2026-08-01T00:00:00Z", "", 30) for i in range(100)]
    rows = [order(f"o{i}", f"p{i}", "2026-10-05T10:00:00Z", 500) for i in range(10)]
    card = run_case({"subscriptions": subs, "orders": rows}, lifetime_years=1, metrics=["clv"])
    october = pick(card, "clv", period_start=OCT)
    assert october["value"] == pytest.approx(600) and october["details"]["value_from"] == "orders"
    assert october["details"]["clv_per_buying_customer"] == pytest.approx(6000)
    september = pick(card, "clv", period_start=SEP)
    assert september["status"] == "unavailable" and "no orders in this period" in september["reason"]
    # A --compare window without orders keeps the run's basis too: no CLV there, not ARPU × 12 × 1 = 360.
    compared = run_case({"subscriptions": subs, "orders": rows}, lifetime_years=1, metrics=["clv"],
                        compare="2026-09-01..2026-09-30")
    assert pick(compared, "clv", period_start=OCT)["compared_with"]["value"] is None


def test_period_all_counts_customers_won_after_the_last_spend_row(run_case):
    # --period all is one period over the whole run: spend 3000 on 1 October (a monthly budget), 30
    # customers sign up on 1–30 October → CAC = 3000 / 30 = 100 (not 3000 / 1 for the spend day alone).
    # With CLV 720 (seed 003, lifetime 3 years given) over the same period, CLV:CAC = 720 / 100 = 7.2.
    customers = [{"customer_id": f"p{i}", "signup_at": f"2026-10-{i + 1:02d}T09:00:00Z"} for i in range(30)]
    rows = [order(f"o{i}", f"p{i}", f"2026-10-{i + 1:02d}T10:00:00Z", 20) for i in range(30)]
    spend = [{"date": "2026-10-01", "amount": 3000, "kind": "marketing"}]
    # The period (1–30 October) spans one calendar month, so purchases per year = 1 order × 12.
    card = run_case({"customers": customers, "orders": rows, "spend": spend}, period="all", lifetime_years=3,
                    metrics=["cac", "clv", "clv_cac_ratio"])
    cac = pick(card, "cac")
    assert (cac["period_start"], cac["period_end"]) == ("2026-10-01", "2026-10-30")
    assert cac["value"] == pytest.approx(100)
    clv = pick(card, "clv")
    assert clv["value"] == pytest.approx(720)
    assert pick(card, "clv_cac_ratio")["value"] == pytest.approx(7.2)


def test_clv_without_lost_customers_asks_for_a_lifetime(run_case):
    # Nobody churns: 1 ÷ yearly churn is unbounded, so CLV is unavailable and says what to give.
    subs = [sub(f"s{i}", f"p{i}", "2026-09-01T00:00:00Z", "", 20) for i in range(4)]
    card = run_case({**_clv_case(), "subscriptions": subs}, metrics=["clv", "clv_cac_ratio"])
    clv = pick(card, "clv", period_start=OCT)
    assert clv["status"] == "unavailable"
    assert "--lifetime-years" in clv["reason"]
    ratio = pick(card, "clv_cac_ratio", period_start=OCT)
    assert ratio["status"] == "unavailable"
    assert ratio["reason"].startswith("needs clv")


def test_running_subscriptions_are_reported_to_the_end_of_the_data(run_case):
    # One subscription from 5 August, still running; the data's last day is an order on 20 October.
    # MRR is 40 at the end of August, September and October, not only in August (its last start).
    subs = [sub("s", "A", "2026-08-05T00:00:00Z", "", 40)]
    rows = [order("o", "A", "2026-10-20T00:00:00Z", 40, "recurring")]
    card = run_case({"subscriptions": subs, "orders": rows}, metrics=["mrr"])
    assert [r["period_start"] for r in card.get("mrr")] == [AUG, SEP, OCT]
    assert [r["value"] for r in card.get("mrr")] == pytest.approx([40, 40, 40])


def test_clv_counts_purchases_per_customer_active_in_the_period_not_per_buyer(run_case):
    # Orders only, --inactive-days 90: a customer is active while their last order is under 90 days old.
    # Active at the start of March 2026 (an order after 1 December 2025): a (15 Jan), b (1 Feb), c (10 Feb),
    # d (10 Dec) → 4. d's last order turns 90 days old on 10 March → lost in March; churn = 1/4 = 25 %,
    # yearly 25 × 12 = 300 % → lifetime 1/3 year.
    # March: a orders 10 and 30, b orders 20 → 3 orders, 60 sales, AOV 20, 2 buyers (purchase frequency 1.5).
    # Nobody is won in March (everyone's first order is earlier), so the customers active in March are the 4.
    # Same base as churn: 3 orders ÷ 4 customers active = 0.75 a month → 20 × 0.75 × 12 × 1/3 = 60,
    # which is March's sales per active customer ÷ churn: (60 / 4) / 0.25 = 60.
    # Seed 003 read per buyer: 20 × 1.5 × 12 × 1/3 = 120, twice as high (details.clv_per_buying_customer).
    rows = [order("o1", "d", "2025-12-10T10:00:00Z", 15), order("o2", "a", "2026-01-15T10:00:00Z", 15),
            order("o3", "b", "2026-02-01T10:00:00Z", 15), order("o4", "c", "2026-02-10T10:00:00Z", 15),
            order("o5", "a", "2026-03-03T10:00:00Z", 10), order("o6", "a", "2026-03-17T10:00:00Z", 30),
            order("o7", "b", "2026-03-20T10:00:00Z", 20)]
    card = run_case({"orders": rows}, metrics=["clv"], inactive_days=90, as_of="2026-03-31")
    clv = pick(card, "clv", period_start="2026-03-01")
    assert clv["details"]["churn_rate"] == pytest.approx(25)
    assert clv["details"]["customers_active_at_start"] == 4 and clv["details"]["customers_won"] == 0
    assert clv["details"]["purchases_per_year"] == pytest.approx(9)  # 0.75 × 12
    assert clv["details"]["purchases_per_year_per_buying_customer"] == pytest.approx(18)  # 1.5 × 12
    assert clv["value"] == pytest.approx(60)
    assert clv["details"]["clv_per_buying_customer"] == pytest.approx(120)
    assert "active in the period" in clv["details"]["purchases_base"]


def test_clv_base_adds_the_customers_won_in_the_period_to_those_active_at_its_start(run_case):
    # Orders only, --inactive-days 90. September: p0-p3 order once (20 each). October: p0-p3 order again (10 each)
    # and p4-p7 place their first order (10 each): 4 active at October's start, none lost → churn 0 %, so the
    # lifetime is given: 1 year. Orders 8, sales 80, AOV 10; customers active in October = 4 + 4 won = 8 →
    # 1 purchase a month each → CLV = 10 × 12 × 1 = 120. Orders ÷ the 4 active at the start alone would say 240.
    rows = [order(f"s{i}", f"p{i}", "2026-09-05T10:00:00Z", 20) for i in range(4)]
    rows += [order(f"o{i}", f"p{i}", "2026-10-06T10:00:00Z", 10) for i in range(8)]
    card = run_case({"orders": rows}, metrics=["clv"], lifetime_years=1, as_of="2026-10-31")
    clv = pick(card, "clv", period_start=OCT)
    assert clv["details"]["customers_active_at_start"] == 4 and clv["details"]["customers_won"] == 4
    assert clv["value"] == pytest.approx(120) and clv["n"] == 8


def _channel_case() -> dict[str, Any]:
    """Two acquisition channels, orders only (--inactive-days 90), October's spend per channel."""
    def customer(cid: str, channel: str, signup: str = "2026-07-01T00:00:00Z") -> dict[str, Any]:
        return {"customer_id": cid, "signup_at": signup, "acquisition_channel": channel}

    customers = [customer("a1", "ads"), customer("a2", "ads"), customer("a3", "ads", "2026-10-03T00:00:00Z"),
                 customer("e1", "email"), customer("e2", "email"), customer("e3", "email"), customer("e4", "email"),
                 customer("e5", "email", "2026-10-15T00:00:00Z")]
    rows = [order("1", "a1", "2026-07-15T10:00:00Z", 20), order("2", "a1", "2026-10-05T10:00:00Z", 30),
            order("3", "a1", "2026-10-20T10:00:00Z", 30), order("4", "a2", "2026-07-15T10:00:00Z", 20),
            order("5", "a3", "2026-10-10T10:00:00Z", 40),
            order("6", "e1", "2026-09-10T10:00:00Z", 50), order("7", "e1", "2026-10-12T10:00:00Z", 100),
            order("8", "e2", "2026-07-20T10:00:00Z", 50), order("9", "e3", "2026-09-10T10:00:00Z", 50),
            order("10", "e4", "2026-09-12T10:00:00Z", 50)]
    spend = [{"date": "2026-10-01", "amount": 10, "kind": "marketing", "channel": "ads"},
             {"date": "2026-10-01", "amount": 40, "kind": "marketing", "channel": "email"}]
    return {"customers": customers, "orders": rows, "spend": spend}


def test_clv_and_clv_cac_ratio_per_acquisition_channel(run_case):
    # October, --inactive-days 90: a customer is active at an instant when they ordered in the 90 days before it.
    # Active at 1 Oct (an order on or after 3 Jul): a1, a2 (15 Jul), e1, e3, e4 (Sep), e2 (20 Jul); still active at
    # 31 Oct's end (an order on or after 2 Aug): a1, e1, e3, e4 → a2 and e2 are lost.
    # ads: churn 1/2 = 50 %; orders a1 30 + 30, a3 40 → 3 orders, 100, AOV 33.33, 2 buyers (frequency 1.5);
    #   won in October: a3 → customers active in October 2 + 1 = 3 → purchases per year 3/3 × 12 = 12;
    #   lifetime 1 / (0.5 × 12) = 1/6 year → CLV = 33.33 × 12 / 6 = 66.67 (= 100 / 3 a month ÷ 0.5 churn).
    #   CAC = 10 / 1 won = 10 → CLV:CAC = 6.67.
    # email: churn 1/4 = 25 %; orders e1 100 → AOV 100; won in October: e5 (signed up, no order) → 4 + 1 = 5
    #   customers → purchases per year 1/5 × 12 = 2.4; lifetime 1 / (0.25 × 12) = 1/3 → CLV = 100 × 2.4 / 3 = 80
    #   (= 100 / 5 a month ÷ 0.25). CAC = 40 / 1 = 40 → CLV:CAC = 2.
    # Overall: churn 2/6; 4 orders, 200, AOV 50; 6 + 2 won = 8 → 4/8 × 12 = 6 a year; lifetime 1 / (1/3 × 12) =
    # 1/4 → CLV = 50 × 6 / 4 = 75; CAC = 50 / 2 = 25 → CLV:CAC = 3.
    card = run_case(_channel_case(), inactive_days=90, as_of="2026-10-31",
                    metrics=["clv", "cac", "clv_cac_ratio", "profit_per_customer", "aov", "churn_rate"])
    ads, email = {"acquisition_channel": "ads"}, {"acquisition_channel": "email"}
    assert pick(card, "clv", period_start=OCT, dimension=ads)["value"] == pytest.approx(200 / 3)
    assert pick(card, "clv", period_start=OCT, dimension=ads)["details"]["churn_rate"] == pytest.approx(50)
    assert pick(card, "clv", period_start=OCT, dimension=email)["value"] == pytest.approx(80)
    assert pick(card, "clv", period_start=OCT, dimension=email)["details"]["customers_won"] == 1
    assert pick(card, "cac", period_start=OCT, dimension=ads)["value"] == pytest.approx(10)
    assert pick(card, "cac", period_start=OCT, dimension=email)["value"] == pytest.approx(40)
    assert pick(card, "clv_cac_ratio", period_start=OCT, dimension=ads)["value"] == pytest.approx(20 / 3)
    assert pick(card, "clv_cac_ratio", period_start=OCT, dimension=email)["value"] == pytest.approx(2)
    assert pick(card, "profit_per_customer", period_start=OCT, dimension=email)["value"] == pytest.approx(40)
    assert pick(card, "clv", period_start=OCT)["value"] == pytest.approx(75)
    # Exactly 3 and so "good" (seed 004: >= 3): combined from the components' unrounded values (from AOV,
    # frequency and churn rounded to 6 decimals first it read 2.999999, "fair").
    overall = pick(card, "clv_cac_ratio", period_start=OCT)
    assert (overall["value"], overall["benchmark"]["rating"]) == (3.0, "good")
    # The components show the same per-channel numbers; the breakdowns not shared by every component (AOV's
    # sales channel, CAC's segment) are not combined.
    assert pick(card, "aov", period_start=OCT, dimension=ads)["value"] == pytest.approx(100 / 3)
    assert pick(card, "churn_rate", period_start=OCT, dimension=email)["value"] == pytest.approx(25)
    assert {tuple(r.dimension) for r in card.records if r.id.startswith("clv") and r.dimension} == {("acquisition_channel",)}
