"""Findings: ranked, from the records, each with the seeds' advice (issue 7). Computed on DuckDB: findings
read only the records, which the metric tests check on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest

import cxbench
from cxbench.core.registry import format_value
from conftest import answers, write_tables


def _kinds(card) -> list[tuple[str, str]]:
    return [(f["kind"], f["metric"]) for f in card.findings]


def test_poor_ratings_come_before_fair_ones_and_carry_advice(tmp_path: Path):
    # NPS: 2 promoters, 8 detractors of 10 → −60 → poor (003: ≤ 0). CTR 50/1000 = 5 % → fair (003: 6-7 % high).
    rows = answers("nps", {10: 2, 3: 8})
    campaigns = [{"date": "2026-10-05", "campaign": "c", "impressions": 1000, "clicks": 50}]
    card = cxbench.compute(write_tables(tmp_path / "d", {"surveys": rows, "campaigns": campaigns}),
                           metrics=["nps", "ctr"])
    assert _kinds(card)[:2] == [("below_benchmark", "nps"), ("below_benchmark", "ctr")]
    first = card.findings[0]
    assert first["rank"] == 1 and first["rating"] == "poor" and first["value"] == -60
    assert first["advice"] and first["advice_source"] == "004, 000"
    # Messages show values as the scorecard does, not raw floats.
    assert first["message"] == "Net Promoter Score is -60.0 (2026-10-01 to 2026-10-31), rated poor (benchmark: 003)"
    assert "Click-through rate is 5.0 %" in card.findings[1]["message"]


def test_values_in_messages_read_in_their_unit():
    assert format_value(121_601, "seconds") == "1d 09h"  # 33 h 46 min 41 s
    assert format_value(8_551.06, "seconds") == "2h 22m"
    assert format_value(3_206, "seconds") == "53m 26s"
    assert format_value(3.0, "seconds") == "3.0 s"
    assert format_value(-260, "seconds") == "-4m 20s"
    assert format_value(6.78832, "percent") == "6.8 %"
    assert format_value(3.06364, "score") == "3.06"
    assert format_value(1234.5, "money") == "1,234.50"
    assert format_value(None, "count") == "—"


def test_significant_drop_is_a_finding(tmp_path: Path):
    # CSAT (1-5, satisfied = 4-5): September 90 of 100, October 60 of 100 → 90 % → 60 %.
    # Two-proportion z: pooled p = 0.75, se = sqrt(0.75 · 0.25 · (2/100)) = 0.0612 → z = 4.90, p < 0.001.
    rows = answers("csat", {5: 90, 1: 10}, ts="2026-09-10T10:00:00Z", scale_min=1, scale_max=5)
    rows += answers("csat", {5: 60, 1: 40}, start=100, ts="2026-10-10T10:00:00Z", scale_min=1, scale_max=5)
    card = cxbench.compute(write_tables(tmp_path / "d", {"surveys": rows}), metrics=["csat"])
    drop = [f for f in card.findings if f["kind"] == "significant_drop"]
    assert len(drop) == 1
    assert drop[0]["metric"] == "csat" and drop[0]["period_start"] == "2026-10-01"
    assert drop[0]["change"]["previous"] == 90 and drop[0]["change"]["significant"] is True


def test_touchpoint_gap_names_the_weakest_touchpoint(tmp_path: Path):
    # CSS (1-10, positive = 6+): product 36 of 40 positive = 90 %, checkout 20 of 40 = 50 % → gap 40 points.
    rows = answers("css", {9: 36, 2: 4}, touchpoint="product")
    rows += answers("css", {9: 20, 2: 20}, start=100, touchpoint="checkout")
    card = cxbench.compute(write_tables(tmp_path / "d", {"surveys": rows}), metrics=["css"])
    gaps = [f for f in card.findings if f["kind"] == "touchpoint_gap"]
    assert len(gaps) == 1
    assert gaps[0]["dimension"] == {"touchpoint": "checkout"}
    assert gaps[0]["best"] == {"dimension": {"touchpoint": "product"}, "value": 90.0}
    assert gaps[0]["gap"] == 40.0


def test_clv_cac_under_3_and_buying_more_often_for_less_are_findings(tmp_path: Path):
    # September: p0-p3 buy once for 20. October: each buys twice for 10 → frequency 1 → 2, AOV 20 → 10 (000).
    # CLV (lifetime 3 years): AOV 10 × (2 × 12) × 3 = 720; CAC = 1152 spend / 4 won in October... the four
    # were won in September, so October has new customers p4-p7 (1 order of 10 each): 8 buyers, 12 orders,
    # revenue 120 → AOV 10, frequency 1.5 → CLV = 10 × 18 × 3 = 540; CAC = 1152 / 4 = 288 → 1.875 < 3.
    orders = [{"order_id": f"s{i}", "customer_id": f"p{i}", "ts": "2026-09-05T10:00:00Z", "amount": 20} for i in range(4)]
    orders += [{"order_id": f"o{i}{j}", "customer_id": f"p{i}", "ts": f"2026-10-0{j + 5}T10:00:00Z", "amount": 10}
               for i in range(4) for j in range(2)]
    orders += [{"order_id": f"n{i}", "customer_id": f"p{i}", "ts": "2026-10-09T10:00:00Z", "amount": 10} for i in range(4, 8)]
    spend = [{"date": "2026-10-01", "amount": 1152, "kind": "marketing"}]
    card = cxbench.compute(write_tables(tmp_path / "d", {"orders": orders, "spend": spend}), lifetime_years=3,
                           metrics=["clv_cac_ratio", "transaction_mix"])
    ratio = [f for f in card.findings if f["kind"] == "clv_cac_below_3"]
    assert len(ratio) == 1 and abs(ratio[0]["value"] - 1.875) < 1e-9
    assert ratio[0]["advice_source"] == "004"
    mix = [f for f in card.findings if f["kind"] == "more_often_less_per_order"]
    assert len(mix) == 1 and mix[0]["advice_source"] == "000"
    assert [f["rank"] for f in card.findings] == list(range(1, len(card.findings) + 1))


def test_compare_window_gives_every_record_its_delta_and_significance(tmp_path: Path):
    # CSAT (1-5, satisfied 4-5). Window March: 90 of 100. September: 88 of 100. October: 60 of 100.
    # October against March: 60 − 90 = −30; two-proportion z: pooled 0.75, se = 0.0612, z = 4.90 → significant.
    # September against March: −2; pooled 0.89, se = sqrt(0.89 · 0.11 · 0.02) = 0.04425, z = 0.452 → not.
    def month(n_ok: int, month_no: int, start: int) -> list[dict]:
        return answers("csat", {5: n_ok, 1: 100 - n_ok}, start=start, ts=f"2026-{month_no:02d}-10T10:00:00Z",
                       scale_min=1, scale_max=5)

    rows = month(90, 3, 0) + month(88, 9, 100) + month(60, 10, 200)
    card = cxbench.compute(write_tables(tmp_path / "d", {"surveys": rows}), metrics=["csat"],
                           from_="2026-09-01", compare="2026-03-01..2026-03-31")
    by_month = {r["period_start"]: r["compared_with"] for r in card.get("csat")}
    october = by_month["2026-10-01"]
    # z = 0.30 / 0.0612372 = 4.898979: two-sided p = 2 · (1 − Φ(4.898979)) = 9.63357e-7, in full precision
    # (rounding to 6 decimals, as values are, would print 1e-06).
    assert october.pop("p_value") == pytest.approx(9.63357e-7, rel=1e-5)
    assert october == {"from": "2026-03-01", "to": "2026-03-31", "value": 90.0, "delta": -30.0,
                       "significant": True, "test": "two-proportion z"}
    assert by_month["2026-09-01"]["delta"] == -2.0 and by_month["2026-09-01"]["significant"] is False


def test_compare_window_of_another_length_compares_counts_per_day(tmp_path: Path):
    # Window March-April (61 days): 2 pageviews a day = 122. October (31 days): 1 a day = 31.
    # Per day like the Poisson test: the window is worth 122 × 31 / 61 = 62 pageviews in October's 31 days,
    # so the delta is 31 − 62 = −31, not 31 − 122. Conditional test: 31 of 153 against an expected share
    # 31/92 = 0.337 (mean 51.6, sd 5.85): about 3.5 sd below, significant.
    import datetime as dt

    def day(d: dt.date, i: int) -> dict:
        return {"user_id": f"u{i}", "ts": f"{d.isoformat()}T10:00:00Z", "event": "pageview", "page": "/"}

    window = [dt.date(2026, 3, 1) + dt.timedelta(days=k) for k in range(61)]
    october = [dt.date(2026, 10, 1) + dt.timedelta(days=k) for k in range(31)]
    events = [day(d, i) for d in window for i in range(2)] + [day(d, 0) for d in october]
    card = cxbench.compute(write_tables(tmp_path / "d", {"events": events}), metrics=["pageviews"],
                           from_="2026-10-01", compare="2026-03-01..2026-04-30")
    record = next(r for r in card.get("pageviews") if r["period_start"] == "2026-10-01" and "dimension" not in r)
    compared = record["compared_with"]
    assert record["value"] == 31
    assert compared["window_total"] == 122 and compared["scaled_to_days"] == 31
    assert compared["value"] == 62.0 and compared["delta"] == -31.0
    assert compared["significant"] is True and compared["p_value"] < 0.01 and compared["test"] == "exact Poisson"


def test_every_count_tested_by_poisson_is_scaled_per_day_under_compare():
    # A Poisson-tested count compares rates per day; its --compare delta must be per day too.
    from cxbench.core.stats import ChangeTest
    from cxbench.metrics import REGISTRY

    poisson = {m.id for m in REGISTRY if getattr(m.estimator, "test", None) is ChangeTest.POISSON}
    assert poisson == {"pageviews", "sessions", "new_customers", "contact_volume_by_channel"}
    assert all(m.accumulates for m in REGISTRY if m.id in poisson)
    assert not any(m.accumulates for m in REGISTRY if m.id in ("mrr", "open_tickets", "nps", "unique_visitors"))
