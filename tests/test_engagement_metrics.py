"""The engagement index (METRICS.md §1, seed 000: satisfaction + loyalty + advocacy), on hand-worked parts.

Runs on DuckDB and Spark through the `backend` fixture.
"""

from __future__ import annotations

import pytest

from conftest import answers, pick

OCT = "2026-10-01"

SURVEYS = [
    # CSAT on 1-5: 5, 5, 4 satisfied (4 or 5), 2 not → 3/4 = 75 %.
    *answers("csat", {5: 2, 4: 1, 2: 1}, scale_min=1, scale_max=5),
    # NPS: 10, 9 promoters, 7 passive, 3 detractor → (2 − 1)/4 = +25 → advocacy (25 + 100)/2 = 62.5.
    *answers("nps", {10: 1, 9: 1, 7: 1, 3: 1}, start=10),
]
ORDERS = [
    # c1 orders twice in October, c2 once → repeat purchase rate 1/2 = 50 %.
    {"order_id": "1", "customer_id": "c1", "ts": "2026-10-02T10:00:00Z", "amount": 10},
    {"order_id": "2", "customer_id": "c1", "ts": "2026-10-09T10:00:00Z", "amount": 10},
    {"order_id": "3", "customer_id": "c2", "ts": "2026-10-03T10:00:00Z", "amount": 10},
]


def test_engagement_index_is_the_mean_of_its_three_parts(run_case):
    # (75 + 50 + 62.5) / 3 = 62.5.
    card = run_case({"surveys": SURVEYS, "orders": ORDERS}, metrics=["engagement_index"])
    record = pick(card, "engagement_index", period_start=OCT)
    assert record["value"] == pytest.approx(62.5)
    details = record["details"]
    assert details.pop("loyalty_from") == "repeat_purchase_rate"
    # October is partial: it takes the period of its first component, CSAT, whose answers all fall on 5 October.
    assert record["partial"] is True
    assert {k: details.pop(k) for k in ("covered_from", "covered_to", "covered_days")} == {
        "covered_from": "2026-10-05", "covered_to": "2026-10-05", "covered_days": 1}
    assert details == pytest.approx({"satisfaction": 75, "loyalty": 50, "advocacy": 62.5})
    assert record["n"] == 4


def test_engagement_index_uses_retention_without_orders_and_names_a_missing_part(run_case):
    # Subscriptions: 4 customers paying on 1 October, 1 cancels → retention 3/4 = 75 %.
    # Index = (75 + 75 + 62.5) / 3 = 70.8333.
    subs = [{"subscription_id": f"s{i}", "customer_id": f"k{i}", "start_at": "2026-09-01T00:00:00Z",
             "end_at": "2026-10-15T00:00:00Z" if i == 0 else "", "mrr": 10} for i in range(4)]
    card = run_case({"surveys": SURVEYS, "subscriptions": subs}, metrics=["engagement_index"])
    record = pick(card, "engagement_index", period_start=OCT)
    assert record["value"] == pytest.approx(212.5 / 3)
    assert record["details"]["loyalty_from"] == "retention_rate"
    # Surveys alone: no loyalty part → unavailable, and the reason says which part is missing.
    alone = pick(run_case({"surveys": SURVEYS}, metrics=["engagement_index"]), "engagement_index")
    assert alone["status"] == "unavailable"
    assert "loyalty" in alone["reason"]
    assert alone["value"] is None


def test_engagement_index_keeps_repeat_purchases_as_its_loyalty_part_for_the_whole_run(run_case):
    # Surveys in September and October; orders (repeat purchase rate 50 %) only in October; subscriptions in
    # both months. October: (75 + 50 + 62.5) / 3 = 62.5 from repeat purchases. September has surveys and a
    # retention rate but no orders: unavailable, not switched to retention (one loyalty basis per run).
    september = [{**row, "response_id": f"sep-{row['response_id']}", "ts": "2026-09-05T12:00:00Z"} for row in SURVEYS]
    subs = [{"subscription_id": f"s{i}", "customer_id": f"k{i}", "start_at": "2026-08-01T00:00:00Z",
             "end_at": "", "mrr": 10} for i in range(4)]
    card = run_case({"surveys": SURVEYS + september, "orders": ORDERS, "subscriptions": subs},
                    metrics=["engagement_index"])
    october = pick(card, "engagement_index", period_start=OCT)
    assert october["value"] == pytest.approx(62.5) and october["details"]["loyalty_from"] == "repeat_purchase_rate"
    sep = pick(card, "engagement_index", period_start="2026-09-01")
    assert sep["status"] == "unavailable" and "loyalty" in sep["reason"]
