"""Survey metrics against hand-worked values, the seeds' worked examples and published references.

Every test runs on DuckDB and on Spark through the `backend` fixture. Expected values are written out
as numbers with the working shown; none is produced by cxbench.
"""

from __future__ import annotations

import pytest

from conftest import answers, pick
from cxbench.core.registry import Family
from cxbench.metrics import REGISTRY

# Published Wilson score intervals (method 3, no continuity correction):
# Newcombe R.G. (1998) "Two-sided confidence intervals for the single proportion: comparison of seven
# methods", Statistics in Medicine 17:857-872, Table I: 81/263 → 0.2553-0.3662; 15/148 → 0.0624-0.1605;
# 0/20 → 0.0000-0.1611; 1/29 → 0.0061-0.1718.
NEWCOMBE_DECIMALS = 0.01  # the table gives 4 decimals of a proportion = 0.01 percentage points


def test_nps_matches_seed_003_example_of_50_percent_promoters_and_10_percent_detractors(run_case):
    # Seed 003: "50 % promoters, 10 % detractors → NPS 40". 100 answers: 50 promoters (9-10), 40 passives
    # (7-8), 10 detractors (0-6). Interval: Var = (p₊ + p₋ − (p₊ − p₋)²)/n = (0.6 − 0.16)/100 = 0.0044,
    # se = 6.6332 points, 40 ± 1.959964 × 6.6332 = 26.9991 .. 53.0009.
    rows = answers("nps", {10: 25, 9: 25, 8: 20, 7: 20, 6: 5, 0: 5})
    card = run_case({"surveys": rows}, period="all", metrics=["nps"])
    record = pick(card, "nps")
    assert record["value"] == pytest.approx(40.0)
    assert record["n"] == 100
    assert record["ci_low"] == pytest.approx(26.9991, abs=1e-3)
    assert record["ci_high"] == pytest.approx(53.0009, abs=1e-3)
    assert record["benchmark"] == {"rating": "great", "source": "003", "applied": "library"}  # 003: > 20 great, > 50 excellent
    assert record["details"]["positive"] == 50 and record["details"]["negative"] == 10
    assert record["status"] == "ok" and "warning" not in record


def test_nps_small_sample_keeps_value_and_interval_with_a_warning(run_case):
    # 10 answers, 5 promoters and 1 detractor: NPS 40; Var = (0.6 − 0.16)/10 = 0.044, se = 20.976,
    # 40 ± 41.1126 = −1.1126 .. 81.1126. Fewer than 30 answers → warning, value still given.
    rows = answers("nps", {9: 3, 10: 2, 7: 2, 8: 2, 6: 1})
    record = pick(run_case({"surveys": rows}, period="all", metrics=["nps"]), "nps")
    assert record["value"] == pytest.approx(40.0)
    assert record["ci_low"] == pytest.approx(-1.1126, abs=1e-3)
    assert record["ci_high"] == pytest.approx(81.1126, abs=1e-3)
    assert "small sample" in record["warning"]


def test_nps_accepts_a_1_to_10_scale_with_the_same_bands(run_case):
    # 001 and 004 ask on 1-10: 9-10 promoters, 1-6 detractors. 2 promoters, 1 passive, 1 detractor → 25.
    rows = answers("nps", {10: 1, 9: 1, 7: 1, 1: 1}, scale_min=1, scale_max=10)
    record = pick(run_case({"surveys": rows}, period="all", metrics=["nps"]), "nps")
    assert record["value"] == pytest.approx(25.0)


def test_nps_detractor_band_is_configurable_for_seed_000_reading(run_case):
    # Seed 000 says detractors answer "below 6": with nps_detractor_max=5 a 6 is a passive.
    # 2 promoters, two 6s, 1 answer of 3: standard → (2 − 3)/5 = −20; 000's reading → (2 − 1)/5 = +20.
    rows = answers("nps", {9: 2, 6: 2, 3: 1})
    standard = pick(run_case({"surveys": rows}, period="all", metrics=["nps"]), "nps")
    seed_000 = pick(run_case({"surveys": rows}, period="all", metrics=["nps"], nps_detractor_max=5), "nps")
    assert standard["value"] == pytest.approx(-20.0)
    assert seed_000["value"] == pytest.approx(20.0)


def test_csat_matches_seed_003_worked_example_40_of_50(run_case):
    # Seed 003: 40 of 50 answers score 4 or 5 → 40/50 × 100 = 80 %. Wilson 95 %:
    # centre (0.8 + z²/100)/(1 + z²/50) = 0.77860, half-width 0.10897 → 66.963 .. 88.756 %.
    rows = answers("csat", {5: 22, 4: 18, 3: 6, 2: 3, 1: 1})
    record = pick(run_case({"surveys": rows}, period="all", metrics=["csat"]), "csat")
    assert record["value"] == pytest.approx(80.0)
    assert record["n"] == 50
    assert record["ci_low"] == pytest.approx(66.963, abs=1e-2)
    assert record["ci_high"] == pytest.approx(88.756, abs=1e-2)
    assert record["benchmark"]["rating"] == "good"  # 003: 75-85 is good


def test_task_completion_wilson_interval_matches_newcombe_81_of_263(run_case):
    rows = [
        {"response_id": f"t{i}", "respondent_id": f"v{i}", "ts": "2026-10-05T12:00:00Z",
         "survey": "task_completion", "answer": "yes" if i < 81 else "no"}
        for i in range(263)
    ]
    record = pick(run_case({"surveys": rows}, period="all", metrics=["task_completion_rate"]), "task_completion_rate")
    assert record["value"] == pytest.approx(100 * 81 / 263)  # 30.798 %
    assert record["ci_low"] == pytest.approx(25.53, abs=NEWCOMBE_DECIMALS)
    assert record["ci_high"] == pytest.approx(36.62, abs=NEWCOMBE_DECIMALS)


def test_css_per_touchpoint_shows_the_gap_with_newcombe_0_of_20_interval(run_case):
    # 004: CSS = answers of 6 and above on 1-10 ÷ all × 100, kept per touchpoint.
    # ordering: 0 of 20 positive → 0 %, Wilson 0 .. 16.11 % (Newcombe 0/20); support: 15 of 148 → 10.135 %,
    # Wilson 6.24 .. 16.05 % (Newcombe 15/148). Overall: 15 of 168 = 8.929 %.
    rows = answers("css", {5: 20}, touchpoint="ordering", scale_min=1, scale_max=10)
    rows += answers("css", {6: 10, 10: 5, 3: 133}, start=100, touchpoint="support")
    card = run_case({"surveys": rows}, period="all", metrics=["css"])
    ordering = pick(card, "css", dimension={"touchpoint": "ordering"})
    support = pick(card, "css", dimension={"touchpoint": "support"})
    overall = pick(card, "css")
    assert ordering["value"] == pytest.approx(0.0)
    assert ordering["ci_low"] == pytest.approx(0.0, abs=NEWCOMBE_DECIMALS)
    assert ordering["ci_high"] == pytest.approx(16.11, abs=NEWCOMBE_DECIMALS)
    assert support["value"] == pytest.approx(100 * 15 / 148)
    assert support["ci_low"] == pytest.approx(6.24, abs=NEWCOMBE_DECIMALS)
    assert support["ci_high"] == pytest.approx(16.05, abs=NEWCOMBE_DECIMALS)
    assert overall["value"] == pytest.approx(100 * 15 / 168)
    assert overall["n"] == 168


def test_ces_mean_with_student_t_interval(run_case):
    # Answers 1,2,2,3,3,3,3,4,4,5 on 1-5: mean 3.0; squared deviations 4+1+1+0+0+0+0+1+1+4 = 12,
    # s² = 12/9, s = 1.1547; t(0.975, 9) = 2.2622 (t table); half-width 2.2622 × 1.1547/√10 = 0.8260.
    rows = answers("ces", {1: 1, 2: 2, 3: 4, 4: 2, 5: 1}, scale_min=1, scale_max=5, channel="chat")
    card = run_case({"surveys": rows}, period="all", metrics=["ces"])
    record = pick(card, "ces")
    assert record["value"] == pytest.approx(3.0)
    assert record["ci_low"] == pytest.approx(2.1740, abs=1e-3)
    assert record["ci_high"] == pytest.approx(3.8260, abs=1e-3)
    assert record["benchmark"]["rating"] == "poor"  # 003: 1-2 is good on a 5-point scale, above is not
    assert pick(card, "ces", dimension={"channel": "chat"})["value"] == pytest.approx(3.0)


def test_ces_reverses_seed_004_it_was_easy_wording(run_case):
    # 004 asks agreement with "it was easy...": on 1-5 an answer of 5 (strongly agree) is effort 1,
    # 4 is effort 2. With one plain effort answer of 3: mean (1 + 2 + 3)/3 = 2 → good on 5 points (003).
    rows = answers("ces", {5: 1, 4: 1}, scale_min=1, scale_max=5, item="ease")
    rows += answers("ces", {3: 1}, start=10, scale_min=1, scale_max=5)
    record = pick(run_case({"surveys": rows}, period="all", metrics=["ces"]), "ces")
    assert record["value"] == pytest.approx(2.0)
    assert record["benchmark"]["rating"] == "good"


def test_ces_maps_answers_onto_the_most_common_scale(run_case):
    # Two answers of 7 on 1-7 and one of 3 on 1-5. Most answers are on 1-7, so 3 on 1-5 maps to
    # 1 + (3 − 1) × 6/4 = 4; mean (7 + 7 + 4)/3 = 6; on 7 points good is ≤ 3, so "high effort".
    rows = answers("ces", {7: 2}, scale_min=1, scale_max=7) + answers("ces", {3: 1}, start=5, scale_min=1, scale_max=5)
    record = pick(run_case({"surveys": rows}, period="all", metrics=["ces"]), "ces")
    assert record["value"] == pytest.approx(6.0)
    assert record["details"]["scale"] == "1-7"
    assert record["benchmark"]["rating"] == "poor"


CXI_ROWS = (answers("cxi", {2: 2}, item="effort") + answers("cxi", {5: 1, 3: 1}, start=10, item="empathy")
            + answers("cxi", {4: 1}, start=20, item="understanding") + answers("cxi", {1: 1, 5: 1}, start=30, item="efficiency"))


def test_cxi_is_the_mean_of_four_components_normalised_to_0_100(run_case):
    # METRICS.md (from 000): each component normalised to 0-100, CXI = mean of the four. On 1-5,
    # (s − 1)/4 × 100: effort 2,2 → 25; empathy 5,3 → 100,50 → 75; understanding 4 → 75;
    # efficiency 1,5 → 0,100 → 50. CXI = (25 + 75 + 75 + 50)/4 = 56.25.
    record = pick(run_case({"surveys": CXI_ROWS}, period="all", metrics=["cxi"]), "cxi")
    assert record["value"] == pytest.approx(56.25)
    assert record["details"] == {"effort": 25.0, "empathy": 75.0, "understanding": 75.0, "efficiency": 50.0}


def test_cxi_can_reverse_an_effort_item_asked_as_how_much_effort(run_case):
    # With cxi_reverse_effort the effort component becomes 100 − 25 = 75: (75 + 75 + 75 + 50)/4 = 68.75.
    card = run_case({"surveys": CXI_ROWS}, period="all", metrics=["cxi"], cxi_reverse_effort=True)
    assert pick(card, "cxi")["value"] == pytest.approx(68.75)


def test_cxi_is_unavailable_when_a_component_has_no_answers(run_case):
    rows = answers("cxi", {2: 2}, item="effort") + answers("cxi", {5: 1}, start=10, item="empathy")
    record = pick(run_case({"surveys": rows}, period="all", metrics=["cxi"]), "cxi")
    assert record["status"] == "unavailable" and record["value"] is None
    assert "understanding" in record["reason"] and "efficiency" in record["reason"]


def test_enps_and_employee_satisfaction(run_case):
    # eNPS: 3 promoters, 5 passives, 2 detractors of 10 → 30 − 20 = 10.
    # Satisfaction 7,8,6,9,10 on 1-10: mean 8.0; s² = (1+0+4+1+4)/4 = 2.5, s = 1.5811; t(0.975,4) = 2.7764;
    # 8 ± 2.7764 × 1.5811/√5 = 8 ± 1.9632; 4 of 5 score ≥ 7 → 80 % (001).
    rows = answers("enps", {9: 2, 10: 1, 7: 3, 8: 2, 5: 2}, respondent_kind="employee")
    rows += answers("esat", {7: 1, 8: 1, 6: 1, 9: 1, 10: 1}, start=50)
    card = run_case({"surveys": rows}, period="all", metrics=["enps", "employee_satisfaction"])
    assert pick(card, "enps")["value"] == pytest.approx(10.0)
    satisfaction = pick(card, "employee_satisfaction")
    assert satisfaction["value"] == pytest.approx(8.0)
    assert satisfaction["ci_low"] == pytest.approx(6.0368, abs=1e-3)
    assert satisfaction["ci_high"] == pytest.approx(9.9632, abs=1e-3)
    assert satisfaction["details"]["share_at_least_7"] == pytest.approx(80.0)


def test_visitor_intent_shares_and_task_completion_per_intent(run_case):
    # Intents: buy 2, browse 1 → 66.67 % and 33.33 %, n = 3. Task answers linked to the same respondent's
    # intent: buy yes + buy no → 50 %; browse yes → 100 %; overall 2 of 3.
    rows = []
    for i, (intent, done) in enumerate([("buy", "yes"), ("buy", "no"), ("browse", "yes")]):
        rows.append({"response_id": f"i{i}", "respondent_id": f"v{i}", "ts": "2026-10-05T12:00:00Z",
                     "survey": "intent", "answer": intent})
        rows.append({"response_id": f"t{i}", "respondent_id": f"v{i}", "ts": "2026-10-05T12:03:00Z",
                     "survey": "task_completion", "answer": done})
    card = run_case({"surveys": rows}, period="all", metrics=["visitor_intent", "task_completion_rate"])
    assert pick(card, "visitor_intent", dimension={"intent": "buy"})["value"] == pytest.approx(200 / 3)
    assert pick(card, "visitor_intent", dimension={"intent": "browse"})["value"] == pytest.approx(100 / 3)
    assert pick(card, "visitor_intent", dimension={"intent": "buy"})["n"] == 3
    assert card.get("visitor_intent") == []  # shares exist only per intent
    assert pick(card, "task_completion_rate")["value"] == pytest.approx(200 / 3)
    assert pick(card, "task_completion_rate", dimension={"intent": "buy"})["value"] == pytest.approx(50.0)
    assert pick(card, "task_completion_rate", dimension={"intent": "browse"})["value"] == pytest.approx(100.0)


def test_csat_mean_is_the_average_score(run_case):
    rows = answers("csat", {4: 1, 5: 1, 3: 1})  # (4 + 5 + 3)/3 = 4.0
    record = pick(run_case({"surveys": rows}, period="all", metrics=["csat_mean"]), "csat_mean")
    assert record["value"] == pytest.approx(4.0)
    assert record["details"]["scale"] == "1-5"


def test_monthly_periods_use_utc_and_report_the_change(run_case):
    # 2026-10-01T01:00:00+02:00 is 2026-09-30T23:00Z: September. September: 2 promoters of 2 → 100.
    # October: 1 promoter, 1 detractor → 0. Change: previous 100, delta −100; a two-sample z-test with
    # Var(Sep) = (1 − 1)/2 = 0 and Var(Oct) = (1 − 0)/2 = 0.5: z = 1/√0.5 = 1.41 → not significant.
    rows = [
        {"response_id": "a", "respondent_id": "c1", "ts": "2026-09-10T10:00:00Z", "survey": "nps", "score": 9},
        {"response_id": "b", "respondent_id": "c2", "ts": "2026-10-01T01:00:00+02:00", "survey": "nps", "score": 10},
        {"response_id": "c", "respondent_id": "c3", "ts": "2026-10-15T10:00:00Z", "survey": "nps", "score": 10},
        {"response_id": "d", "respondent_id": "c4", "ts": "2026-10-20T10:00:00Z", "survey": "nps", "score": 2},
    ]
    card = run_case({"surveys": rows}, period="month", metrics=["nps"])
    september = pick(card, "nps", period_start="2026-09-01")
    october = pick(card, "nps", period_start="2026-10-01")
    assert (september["value"], september["n"], september["period_end"]) == (100.0, 2, "2026-09-30")
    assert (october["value"], october["n"], october["period_end"]) == (0.0, 2, "2026-10-31")
    # Under the minimum sample (30) a normal-approximation test says nothing: significant is None.
    assert october["change"] == {"previous": 100.0, "delta": -100.0, "significant": None, "p_value": None,
                                 "test": None}
    tested = run_case({"surveys": rows}, period="month", metrics=["nps"], min_sample=1)
    change = pick(tested, "nps", period_start="2026-10-01")["change"]
    # p = 2 (1 − Φ(1.41421)) = 0.157299.
    assert change["significant"] is False and change["p_value"] == pytest.approx(0.157299, abs=5e-6)
    assert change["test"] == "NPS difference z"


def test_segments_repeat_the_metric_per_customers_column(run_case):
    customers = [
        {"customer_id": "c0", "signup_at": "2026-01-01", "plan": "pro"},
        {"customer_id": "c1", "signup_at": "2026-01-01", "plan": "pro"},
        {"customer_id": "c2", "signup_at": "2026-01-01", "plan": "basic"},
    ]
    rows = answers("nps", {10: 2, 3: 1})  # c0, c1 promoters (pro); c2 detractor (basic)
    card = run_case({"surveys": rows, "customers": customers}, period="all", metrics=["nps"], segment="plan")
    assert pick(card, "nps")["value"] == pytest.approx(100 / 3)
    assert pick(card, "nps", segment={"plan": "pro"})["value"] == pytest.approx(100.0)
    assert pick(card, "nps", segment={"plan": "basic"})["value"] == pytest.approx(-100.0)


def test_metric_is_unavailable_with_reason_when_surveys_table_is_missing(run_case):
    survey_ids = [m.id for m in REGISTRY if m.family is Family.SURVEYS]
    card = run_case({"customers": [{"customer_id": "c1", "signup_at": "2026-10-01"}]}, period="all", metrics=survey_ids)
    assert {r["id"] for r in card.records} == set(survey_ids)
    for record in card.records:
        assert record["status"] == "unavailable" and record["value"] is None
        assert "surveys" in record["reason"]


def test_period_without_answers_is_unavailable_not_zero(run_case):
    rows = answers("csat", {5: 1}, ts="2026-08-03T00:00:00Z") + answers("csat", {4: 1}, start=5, ts="2026-10-03T00:00:00Z")
    card = run_case({"surveys": rows}, period="month", metrics=["csat"])
    september = pick(card, "csat", period_start="2026-09-01")
    assert september["status"] == "unavailable" and september["reason"] == "no csat answers in this period"
    assert pick(card, "csat", period_start="2026-10-01")["change"] is None  # no previous value to compare


def test_from_and_to_cut_the_periods_and_the_rows(run_case):
    # Answers on 2026-09-29 (detractor), 2026-10-02 and 2026-10-03 (promoters). --from 2026-10-01 --to
    # 2026-10-15 keeps the two promoters: one period, 2026-10-01 … 2026-10-15, NPS 100.
    rows = (answers("nps", {2: 1}, ts="2026-09-29T10:00:00Z") + answers("nps", {9: 1}, start=5, ts="2026-10-02T10:00:00Z")
            + answers("nps", {10: 1}, start=9, ts="2026-10-03T10:00:00Z"))
    card = run_case({"surveys": rows}, period="month", from_="2026-10-01", to="2026-10-15", metrics=["nps"])
    record = pick(card, "nps")
    assert (record["period_start"], record["period_end"], record["value"], record["n"]) == ("2026-10-01", "2026-10-15", 100.0, 2)
