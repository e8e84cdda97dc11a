"""Subscription completeness (issue 18, item 4): ARR, quick ratio, trial → paid conversion, net MRR retention
cohorts and the customer health score, against hand-worked values and published examples.

Most tests run on DuckDB only (`run_duckdb`); the health score, which reads events, surveys, tickets and
subscriptions (windows, intervals, argmax), runs on Spark too through the `backend` fixture (the trial and cohort
metrics were checked on Spark by hand: about 50-80 s each on a loaded machine, too slow to keep). Sources: ChartMogul
help, "Annual Run Rate (ARR)" (5 subscribers paying 5 a month: MRR 25, ARR 300); the quick-ratio example of
strategicnerds.com's SaaS glossary (new 50k, expansion 30k, churned 15k, contraction 5k → 4.0); the MRR movements
of tests/test_revenue_metrics.py (SUBSCRIPTIONS, worked there month by month).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import binomtest

import cxbench
from conftest import pick, write_tables
from cxbench.api import Scorecard, load_benchmarks
from cxbench.core.errors import UsageError
from test_revenue_metrics import AUG, NOV, OCT, SEP, SUBSCRIPTIONS, sub


@pytest.fixture
def run_duckdb(tmp_path: Path) -> Callable[..., Scorecard]:
    """Write tables to a fresh folder and compute the scorecard on DuckDB."""
    counter = iter(range(1_000))

    def run(tables: dict[str, Any], **options: Any) -> Scorecard:
        folder = write_tables(tmp_path / f"case{next(counter)}", tables)
        return cxbench.compute(folder, engine="duckdb", **options)

    return run


# -- ARR and the quick ratio ---------------------------------------------------------------------------------

def test_arr_is_twelve_times_mrr_as_in_chartmoguls_example(run_duckdb):
    # ChartMogul help, Annual Run Rate: 5 subscribers paying 5 a month → MRR 25, ARR 25 × 12 = 300.
    rows = [sub(f"s{i}", f"c{i}", "2026-10-01T00:00:00Z", "", 5) for i in range(5)]
    card = run_duckdb({"subscriptions": rows}, metrics=["mrr", "arr"], as_of="2026-10-31")
    assert pick(card, "mrr", period_start=OCT)["value"] == pytest.approx(25)
    arr = pick(card, "arr", period_start=OCT)
    assert arr["value"] == pytest.approx(300)
    assert arr["n"] == 5


def test_arr_follows_mrr_month_by_month(run_duckdb):
    # MRR at the month ends (test_revenue_metrics): August 470, November 380 → ARR 5,640 and 4,560.
    card = run_duckdb({"subscriptions": SUBSCRIPTIONS}, metrics=["arr"])
    assert pick(card, "arr", period_start=AUG)["value"] == pytest.approx(470 * 12)
    assert pick(card, "arr", period_start=NOV)["value"] == pytest.approx(380 * 12)


def test_quick_ratio_reproduces_the_published_example_of_four(run_duckdb):
    # strategicnerds.com, "SaaS quick ratio": new 50k, expansion 30k, churned 15k, contraction 5k →
    # (50k + 30k) / (15k + 5k) = 4.0. Built as four customers' October movements:
    rows = [
        sub("x1a", "X1", "2026-09-01T00:00:00Z", "2026-10-10T00:00:00Z", 20_000),  # upgrade 20k → 50k: +30k
        sub("x1b", "X1", "2026-10-10T00:00:00Z", "", 50_000),
        sub("x2", "X2", "2026-09-01T00:00:00Z", "2026-10-20T00:00:00Z", 15_000),  # cancels: churned 15k
        sub("x3a", "X3", "2026-09-01T00:00:00Z", "2026-10-05T00:00:00Z", 10_000),  # downgrade 10k → 5k: −5k
        sub("x3b", "X3", "2026-10-05T00:00:00Z", "", 5_000),
        sub("x4", "X4", "2026-10-15T00:00:00Z", "", 50_000),  # new 50k
    ]
    card = run_duckdb({"subscriptions": rows}, metrics=["quick_ratio"], as_of="2026-10-31")
    october = pick(card, "quick_ratio", period_start=OCT)
    assert october["value"] == pytest.approx(4.0)
    assert october["details"]["numerator"] == pytest.approx(80_000)
    assert october["details"]["denominator"] == pytest.approx(20_000)
    assert october["n"] == 4  # every customer moved
    assert october["benchmark"]["rating"] == "great"  # Mamoon Hamid: 4 or more is efficient growth


def test_quick_ratio_counts_reactivation_and_is_unavailable_without_losses(run_duckdb):
    # Movements of SUBSCRIPTIONS (test_revenue_metrics): September new 80, churned 50 → 80 / 50 = 1.6;
    # October expansion 50 against contraction 30 + churned 200 → 50 / 230 = 0.21739;
    # November reactivation 60 and nothing lost → no value; August only new MRR → no value.
    card = run_duckdb({"subscriptions": SUBSCRIPTIONS}, metrics=["quick_ratio"])
    september = pick(card, "quick_ratio", period_start=SEP)
    assert (september["value"], september["benchmark"]["rating"]) == (pytest.approx(1.6), "fair")  # 1 to 4
    assert pick(card, "quick_ratio", period_start=OCT)["value"] == pytest.approx(50 / 230, abs=1e-6)
    for month in (AUG, NOV):
        record = pick(card, "quick_ratio", period_start=month)
        assert record["status"] == "unavailable"
        assert record["value"] is None
        assert "no MRR lost" in record["reason"]
    assert pick(card, "quick_ratio", period_start=NOV)["details"]["numerator"] == pytest.approx(60)


# -- trial → paid conversion -----------------------------------------------------------------------------------

def trial(sub_id: str, customer: str, start: str, end: str, mrr: float, is_trial: str) -> dict[str, Any]:
    return {**sub(sub_id, customer, start, end, mrr), "is_trial": is_trial}


TRIALS = [
    # T1: a flagged trial from 1 September, paid 14 days later → converted.
    trial("t1", "T1", "2026-09-01T00:00:00Z", "2026-09-15T00:00:00Z", 0, "true"),
    trial("t1p", "T1", "2026-09-15T00:00:00Z", "", 30, ""),
    # T2: a flagged trial from 10 September, paid 40 days later (20 October): converted only with --trial-days ≥ 40.
    trial("t2", "T2", "2026-09-10T00:00:00Z", "2026-10-10T00:00:00Z", 0, "true"),
    trial("t2p", "T2", "2026-10-20T00:00:00Z", "", 30, ""),
    # T3: no flag, a first subscription with mrr 0 → a trial; never pays.
    trial("t3", "T3", "2026-09-20T00:00:00Z", "2026-10-20T00:00:00Z", 0, ""),
    # T4: flagged not a trial (a free plan): not counted.
    trial("t4", "T4", "2026-09-05T00:00:00Z", "", 0, "false"),
    # T5: paid first, a free subscription later: no trial (not the first subscription).
    trial("t5", "T5", "2026-08-01T00:00:00Z", "", 20, ""),
    trial("t5f", "T5", "2026-09-03T00:00:00Z", "", 0, ""),
    # T7: a flagged trial from 1 October, paid on 15 October → converted; its 30 days end on 31 October.
    trial("t7", "T7", "2026-10-01T00:00:00Z", "2026-10-15T00:00:00Z", 0, "yes"),
    trial("t7p", "T7", "2026-10-15T00:00:00Z", "", 40, "no"),
    # T8: a 30-day trial from 1 October, paid at its very end (31 October, 00:00) → converted (the end included).
    trial("t8", "T8", "2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z", 0, "true"),
    trial("t8p", "T8", "2026-10-31T00:00:00Z", "", 25, ""),
    # T6: a trial from 25 October, paid 2 November: its 30 days reach past the data's last day (10 November), so
    # it is still open: set aside, even though it already converted.
    trial("t6", "T6", "2026-10-25T00:00:00Z", "2026-11-02T00:00:00Z", 0, "true"),
    trial("t6p", "T6", "2026-11-02T00:00:00Z", "", 30, "false"),
    # Z: a paying customer whose start makes 10 November the data's last day.
    trial("z1", "Z", "2026-11-10T00:00:00Z", "", 10, ""),
]


def test_trial_conversion_within_the_trial_days_with_a_wilson_interval(run_duckdb):
    # September trials: T1 (converted), T2 (paid after 40 days: not within 30), T3 (never paid); T4 and T5 are
    # no trials → 1 / 3 = 33.3 %, Wilson interval as SciPy's binomtest(1, 3).
    # October: T7 and T8 converted; T6 still open → 2 / 2 = 100 %, details.open = 1.
    card = run_duckdb({"subscriptions": TRIALS}, metrics=["trial_conversion_rate"], as_of="2026-11-10")
    september = pick(card, "trial_conversion_rate", period_start=SEP)
    assert september["value"] == pytest.approx(100 / 3)
    assert september["n"] == 3
    low, high = binomtest(1, 3).proportion_ci(method="wilson")
    assert (september["ci_low"], september["ci_high"]) == pytest.approx((100 * low, 100 * high), abs=1e-6)
    assert september["details"]["trial_days"] == 30
    october = pick(card, "trial_conversion_rate", period_start=OCT)
    assert (october["value"], october["n"], october["details"]["open"]) == (pytest.approx(100), 2, 1)
    # A run whose data ends on 20 October: P0's September trial is decided (paid on 5 September) → 1 / 1; P1 (paid
    # 10 October) and P2 started trials on 1 and 5 October, whose 30 days end after 20 October: both still open,
    # P1 too although it already paid → October has no value and says why.
    rows = [trial("p0", "P0", "2026-09-01T00:00:00Z", "2026-09-05T00:00:00Z", 0, "true"),
            trial("p0p", "P0", "2026-09-05T00:00:00Z", "", 10, ""),
            trial("p1", "P1", "2026-10-01T00:00:00Z", "2026-10-10T00:00:00Z", 0, "true"),
            trial("p1p", "P1", "2026-10-10T00:00:00Z", "", 10, ""),
            trial("p2", "P2", "2026-10-05T00:00:00Z", "", 0, "true"),
            trial("q", "Q", "2026-10-20T00:00:00Z", "", 10, "")]
    card = run_duckdb({"subscriptions": rows}, metrics=["trial_conversion_rate"], as_of="2026-10-20")
    september = pick(card, "trial_conversion_rate", period_start=SEP)
    assert (september["value"], september["n"], september["details"]["open"]) == (pytest.approx(100), 1, 0)
    october = pick(card, "trial_conversion_rate", period_start=OCT)
    assert october["value"] is None and october["details"]["open"] == 2
    assert "still open" in october["reason"]


def test_trial_days_option_widens_the_window(run_duckdb):
    # --trial-days 45: T2's payment 40 days after its trial now counts → September 2 / 3.
    card = run_duckdb({"subscriptions": TRIALS}, metrics=["trial_conversion_rate"], as_of="2026-11-10",
                      trial_days=45)
    assert pick(card, "trial_conversion_rate", period_start=SEP)["value"] == pytest.approx(200 / 3)
    with pytest.raises(UsageError, match="--trial-days"):
        cxbench.compute(".", trial_days=0)
    # A window past any timestamp (1e11 days) is a usage error, not an engine's cast error (exit 3).
    with pytest.raises(UsageError, match="from 1 to 3,650"):
        cxbench.compute(".", trial_days=100_000_000_000)


def test_trial_days_flag_of_the_command_line(tmp_path):
    from typer.testing import CliRunner

    from cxbench.cli import app

    folder = write_tables(tmp_path / "trials", {"subscriptions": TRIALS})
    runner = CliRunner()
    refused = runner.invoke(app, ["run", str(folder), "-m", "trial_conversion_rate", "--trial-days", "0"])
    assert refused.exit_code == 2 and "--trial-days 0: give a whole number of days" in refused.output
    done = runner.invoke(app, ["run", str(folder), "-m", "trial_conversion_rate", "--trial-days", "45",
                               "--as-of", "2026-11-10", "--format", "json"])
    assert done.exit_code == 0, done.output
    september = next(r for r in json.loads(done.stdout)["metrics"] if r["period_start"] == SEP)
    assert september["value"] == pytest.approx(200 / 3, abs=1e-6)  # T1 and T2 of 3, as with trial_days=45 above


# -- net MRR retention cohorts ------------------------------------------------------------------------------

def test_net_mrr_retention_cohorts_by_month_of_first_mrr(run_duckdb):
    # First paid month: A, B, D, F in August; C in September; E in October.
    # August cohort, MRR at each month's end over its August MRR (100 + 50 + 200 + 120 = 470):
    #   August 470 → 100 %; September A 100 + D 200 + F 120 = 420 → 89.36 %;
    #   October A 150 + F 90 = 240 → 51.06 %; November A 150 + B 60 + F 90 = 300 → 63.83 %.
    # September cohort (C, 80): 100 % each month. October cohort (E, gone by 25 October): nothing at its first
    # period's end → unavailable.
    card = run_duckdb({"subscriptions": SUBSCRIPTIONS}, metrics=["net_mrr_retention_cohorts"])

    def cell(cohort: str, offset: int) -> dict[str, Any]:
        return pick(card, "net_mrr_retention_cohorts", dimension={"cohort": cohort, "offset": offset})

    assert [cell(AUG, k)["value"] for k in range(4)] == pytest.approx(
        [100, 420 / 470 * 100, 240 / 470 * 100, 300 / 470 * 100])
    assert cell(AUG, 2)["period_start"] == OCT
    assert cell(AUG, 3)["n"] == 4
    assert [cell(SEP, k)["value"] for k in range(3)] == pytest.approx([100, 100, 100])
    assert cell(OCT, 0)["status"] == "unavailable"
    assert card.get("net_mrr_retention_cohorts", dimension=None) == []  # only the cohort × offset records


# -- customer health score -----------------------------------------------------------------------------------

HEALTH = {
    "subscriptions": [
        sub("h1", "H1", "2026-09-01T00:00:00Z", "", 100),  # held all October: MRR trend 1
        sub("h2a", "H2", "2026-09-01T00:00:00Z", "2026-10-10T00:00:00Z", 200),  # downgraded: MRR trend 0
        sub("h2b", "H2", "2026-10-10T00:00:00Z", "", 150),
        sub("h3", "H3", "2026-10-05T00:00:00Z", "", 50),  # new in October: MRR trend 1
    ],
    # The events end on 30 October, so October's window is the 28 days before 31 October: week 0 = 24-30
    # October, 1 = 17-23, 2 = 10-16, 3 = 3-9.
    "events": [
        *({"user_id": "H1", "ts": f"2026-10-{day}T12:00:00Z", "event": "login"} for day in (30, 29, 20, 12, "05")),
        {"user_id": "H2", "ts": "2026-10-27T12:00:00Z", "event": "login"},
        {"user_id": "H2", "ts": "2026-10-02T12:00:00Z", "event": "login"},  # 29 days before: outside the window
    ],
    "surveys": [
        {"response_id": "r1", "respondent_id": "H1", "ts": "2026-10-15T12:00:00Z", "survey": "nps", "score": 9},
        {"response_id": "r2", "respondent_id": "H2", "ts": "2026-08-01T12:00:00Z", "survey": "nps", "score": 10},
        {"response_id": "r3", "respondent_id": "H2", "ts": "2026-10-20T12:00:00Z", "survey": "nps", "score": 3},
    ],
    "tickets": [
        {"ticket_id": "k1", "customer_id": "H2", "channel": "email", "opened_at": "2026-10-25T09:00:00Z"},
        {"ticket_id": "k2", "customer_id": "H2", "channel": "email", "opened_at": "2026-10-26T09:00:00Z",
         "resolved_at": "2026-10-28T09:00:00Z"},
        {"ticket_id": "k3", "customer_id": "H3", "channel": "chat", "opened_at": "2026-10-28T09:00:00Z",
         "resolved_at": "2026-11-03T09:00:00Z"},
        {"ticket_id": "k4", "customer_id": "H3", "channel": "chat", "opened_at": "2026-10-29T09:00:00Z",
         "resolved_at": "2026-11-03T09:00:00Z"},
    ],
}


def test_customer_health_score_weighs_the_signals_each_customer_has(run_case):
    # Signals at the end of October (activity, NPS, support, MRR trend), default weights 40, 20, 20, 20:
    #   H1: 4 of 4 weeks active 1; promoter (9) 1; no open ticket 1; MRR held 1 → 100 × 100 / 100 = 100 (green)
    #   H2: 1 of 4 weeks 0.25; latest answer 3, a detractor, 0; one ticket open 0.5; downgraded 0
    #       → 100 × (40 × 0.25 + 20 × 0.5) / 100 = 20 (red)
    #   H3: no event 0; no answer (its weight left out); two tickets open at the month's end 0; new 1
    #       → 100 × (20 × 1) / (40 + 20 + 20) = 25 (red)
    # Mean (100 + 20 + 25) / 3 = 48.33; red 2 of 3, green 1 of 3; mean activity (1 + 0.25 + 0) / 3.
    card = run_case(HEALTH, metrics=["customer_health_score"], as_of="2026-11-10")
    october = pick(card, "customer_health_score", period_start=OCT)
    assert october["value"] == pytest.approx(145 / 3)
    assert october["n"] == 3
    details = october["details"]
    assert (details["red_pct"], details["yellow_pct"], details["green_pct"]) == pytest.approx((200 / 3, 0, 100 / 3))
    assert details["mean_activity"] == pytest.approx(1.25 / 3)
    assert details["mean_nps"] == pytest.approx(0.5)
    assert details["weights"] == {"activity": 40, "nps": 20, "support": 20, "mrr_trend": 20}
    # September (H1 and H2, both new: MRR trend 1): the events start on 2 October and the tickets on 25 October,
    # so activity and support are unknown, not 0. H1 has no NPS answer yet → 100 × 20 / 20 = 100; H2's August
    # answer (10, a promoter) → 100 × (20 + 20) / 40 = 100.
    september = pick(card, "customer_health_score", period_start=SEP)
    assert (september["value"], september["n"]) == (pytest.approx(100), 2)
    assert september["details"]["mean_activity"] is None and september["details"]["mean_support"] is None


def test_customer_health_weights_come_from_the_benchmarks_file(run_duckdb, tmp_path):
    # weights activity 1, mrr_trend 1 (NPS and support weigh 0):
    #   H1 (1 + 1) / 2 = 100; H2 (0.25 + 0) / 2 = 12.5; H3 (0 + 1) / 2 = 50 → mean 162.5 / 3 = 54.17;
    #   one customer in each band.
    file = tmp_path / "bench.yaml"
    file.write_text("customer_health_score:\n  weights: {activity: 1, mrr_trend: 1}\n", encoding="utf-8")
    card = run_duckdb(HEALTH, metrics=["customer_health_score"], as_of="2026-11-10", benchmarks=file)
    october = pick(card, "customer_health_score", period_start=OCT)
    assert october["value"] == pytest.approx(162.5 / 3)
    details = october["details"]
    assert (details["red_pct"], details["yellow_pct"], details["green_pct"]) == pytest.approx((100 / 3,) * 3)
    assert details["weights"] == {"activity": 1, "mrr_trend": 1}


def test_a_trial_flagged_row_with_a_price_counts_no_mrr_and_does_not_convert_itself(run_duckdb):
    # P's trial carries its future price (mrr 80, as a trialing Stripe subscription does) and P never pays; Q pays
    # 100 from 1 September to 1 December (the data's last day, so P's 30 days, to 5 October, are over).
    rows = [{**sub("p1", "P", "2026-09-05T00:00:00Z", "2026-10-05T00:00:00Z", 80), "is_trial": "true"},
            {**sub("q1", "Q", "2026-09-01T00:00:00Z", "2026-12-01T00:00:00Z", 100), "is_trial": "false"}]
    card = run_duckdb({"subscriptions": rows}, metrics=["mrr", "trial_conversion_rate"], period="month",
                      as_of="2026-12-01")
    # MRR at the end of September: Q's 100 only (a free trial is no revenue; counting it would give 180).
    assert pick(card, "mrr", period_start=SEP)["value"] == pytest.approx(100.0)
    # September's trials: P, not converted (no paid subscription follows) → 0 of 1.
    trial = pick(card, "trial_conversion_rate", period_start=SEP)
    assert (trial["value"], trial["n"]) == (0, 1)


@pytest.mark.parametrize(("text", "message"), [
    ("customer_health_score:\n  weights: {happiness: 3}\n", "'happiness' is no health signal"),
    ("customer_health_score:\n  weights: {nps: -1}\n", "the weight of nps is -1"),
    ("customer_health_score:\n  weights: {nps: 0}\n", "every weight is 0"),
    ("nps:\n  weights: {nps: 1}\n", "weights apply to customer_health_score only"),
])
def test_bad_health_weights_name_the_file_and_the_fix(tmp_path, text, message):
    file = tmp_path / "bench.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=message) as error:
        load_benchmarks(file)
    assert str(file) in str(error.value)


def test_health_weights_near_the_largest_double_give_the_same_score_as_small_ones(run_duckdb, tmp_path):
    # activity and mrr_trend weighing 1e308 each is the 1 : 1 of the test above (their sum, 2e308, is no double):
    # H1 100, H2 12.5, H3 50 → 162.5 / 3.
    file = tmp_path / "bench.yaml"
    file.write_text("customer_health_score:\n  weights: {activity: 1.0e+308, mrr_trend: 1.0e+308}\n", encoding="utf-8")
    card = run_duckdb(HEALTH, metrics=["customer_health_score"], as_of="2026-11-10", benchmarks=file)
    assert pick(card, "customer_health_score", period_start=OCT)["value"] == pytest.approx(162.5 / 3)


def test_health_with_weights_only_on_signals_without_data_says_which_table_it_needs(run_duckdb, tmp_path):
    # Only subscriptions, and only NPS weighs: every paying customer's score is unknown. The reason names the
    # missing table, not "no paying customers" (H1, H2, H3 pay in October).
    file = tmp_path / "bench.yaml"
    file.write_text("customer_health_score:\n  weights: {nps: 20, mrr_trend: 0}\n", encoding="utf-8")
    card = run_duckdb({"subscriptions": HEALTH["subscriptions"]}, metrics=["customer_health_score"],
                      as_of="2026-11-10", benchmarks=file)
    for month in (SEP, OCT):
        record = pick(card, "customer_health_score", period_start=month)
        assert record["status"] == "unavailable" and "needs surveys (nps)" in record["reason"], month
