"""The tests of a change between two periods, against published examples and hand-worked values.

Each statistical test is checked first on its own against a published example (named in the test), then
end to end: two periods of hand-built data through `cxbench.compute`, reading `change.p_value`,
`change.significant` and `change.test` from the records. Expected values come from the cited sources or
are worked out in the comments; none is produced by cxbench.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

import pytest

import cxbench
from conftest import answers, pick, write_tables
from cxbench.api import Scorecard
from cxbench.core.stats import (
    ChangeTest,
    Comparison,
    Ratio,
    Sum,
    Total,
    binomial_two_sided_p,
    net_score_z_test,
    poisson_rate_test,
    two_proportion_z_test,
    welch_t_test,
)

# Student (1908) / Cushny & Peebles (1905): extra hours of sleep under two drugs, R's `sleep` data set.
SLEEP_GROUP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_GROUP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def _normal_two_sided_p(z: float) -> float:
    """2 (1 − Φ(|z|)) with the standard library's erfc: Φ(−x) = erfc(x / √2) / 2."""
    return math.erfc(abs(z) / math.sqrt(2))


def _conditional_poisson_p(k1: int, t1: float, k2: int, t2: float) -> float:
    """Przyborowski & Wilenski (1940): k₁ | k₁ + k₂ ~ Binomial(k₁ + k₂, t₁/(t₁ + t₂)); the two-sided p sums the
    outcomes no more likely than k₁ (R's binom.test, with its relative tolerance 1 + 10⁻⁷ for ties).
    Written out with math.comb, independently of SciPy, which cxbench uses."""
    n, p = k1 + k2, t1 / (t1 + t2)
    pmf = [math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(n + 1)]
    return min(1.0, sum(x for x in pmf if x <= pmf[k1] * (1 + 1e-7)))


# -- the tests on their own, against published examples -------------------------------------------------

def test_welch_t_matches_r_t_test_on_the_sleep_data():
    # R documentation of t.test, example `t.test(extra ~ group, data = sleep)`, printed output:
    # "Welch Two Sample t-test ... t = -1.8608, df = 17.776, p-value = 0.07939"; means 0.75 and 2.33.
    m1, m2 = statistics.mean(SLEEP_GROUP_1), statistics.mean(SLEEP_GROUP_2)
    s1, s2 = statistics.stdev(SLEEP_GROUP_1), statistics.stdev(SLEEP_GROUP_2)
    assert (m1, m2) == pytest.approx((0.75, 2.33))
    result = welch_t_test(m1, s1, 10, m2, s2, 10)
    assert result is not None and result.test is ChangeTest.WELCH
    assert result.statistic == pytest.approx(-1.8608, abs=5e-5)
    assert result.df == pytest.approx(17.776, abs=5e-4)
    assert result.p_value == pytest.approx(0.07939, abs=5e-6)
    assert result.significant is False


def test_two_proportion_z_matches_the_usablestats_worked_example():
    # Sauro, usablestats.com "Ask Stats" question 866: 118 of 3,303 against 80 of 3,303. Worked there:
    # pooled p = 198/6606 = .02997, SE = √(.02997 × .97003 × (1/3303 + 1/3303)) = .004196,
    # z = .01150 / .004196 = 2.742, two-sided p = .00611.
    result = two_proportion_z_test(118, 3303, 80, 3303)
    assert result is not None and result.test is ChangeTest.TWO_PROPORTION
    assert result.statistic == pytest.approx(2.742, abs=5e-4)
    assert result.p_value == pytest.approx(0.00611, abs=5e-6)
    assert result.significant is True
    # Order matters only for the sign of z.
    assert two_proportion_z_test(80, 3303, 118, 3303).statistic == pytest.approx(-2.742, abs=5e-4)


def test_poisson_rate_test_matches_r_poisson_test_example():
    # R documentation of poisson.test, example (eba1977, Fredericia against the three other cities, ages
    # 55-59): poisson.test(c(11, 6+8+7), c(800, 1083+1050+878)) prints
    # "count1 = 11, expected count1 = 6.7174, p-value = 0.07967" (rate ratio 1.971488).
    assert 32 * 800 / (800 + 3011) == pytest.approx(6.7174, abs=5e-5)  # the expected count under H₀
    assert _conditional_poisson_p(11, 800, 21, 3011) == pytest.approx(0.07967, abs=5e-6)  # the helper itself
    result = poisson_rate_test(11, 800, 21, 3011)
    assert result is not None and result.test is ChangeTest.POISSON
    assert result.p_value == pytest.approx(0.07967, abs=5e-6)
    assert result.significant is False


def test_binomial_two_sided_p_is_scipys_binomtest_and_the_sum_of_outcomes_no_more_likely():
    # cxbench runs SciPy's two-sided algorithm on SciPy's binomial ufuncs without scipy.stats' per-call checks;
    # the p-values must be binomtest's own, bit for bit, from tiny to 10⁷ trials, on both sides of the mode,
    # at the mode and at the ends, and (for small n) the sum written out with math.comb.
    from scipy.stats import binomtest

    cases = [(0, 1, 0.5), (1, 1, 0.5), (0, 10, 0.3), (10, 10, 0.3), (3, 10, 0.3), (31, 61, 31 / 61),
             (62, 92, 31 / 61), (11, 32, 800 / 3811), (0, 12, 0.5), (5, 5, 1e-3), (400_000, 800_000, 0.5),
             (401_234, 800_000, 0.5), (398_000, 800_000, 31 / 61), (9_990_000, 10_000_000, 0.999),
             (1_000, 10_000_000, 1e-4), (123_456, 987_654, 0.125)]
    for k, n, p in cases:
        assert binomial_two_sided_p(k, n, p) == binomtest(k, n, p).pvalue, (k, n, p)
        if n <= 100:
            assert binomial_two_sided_p(k, n, p) == pytest.approx(_conditional_poisson_p(k, p, n - k, 1 - p), rel=1e-9)
    with pytest.raises(ValueError):
        binomial_two_sided_p(5, 4, 0.5)


def test_welch_t_interval_quantile_and_p_are_scipys():
    # The t-test's p-value and the mean's interval use scipy.special's Student's t functions directly; they must
    # give ttest_ind_from_stats(equal_var=False)'s and t.ppf's numbers (R's sleep example is checked above).
    from scipy.stats import t as student_t, ttest_ind_from_stats

    example = (0.2, math.sqrt(0.161073), 150, 0.225, math.sqrt(0.175251), 200)
    ours, scipys = welch_t_test(*example), ttest_ind_from_stats(*example, equal_var=False)
    assert ours is not None
    assert ours.p_value == pytest.approx(float(scipys.pvalue), rel=1e-12)
    assert ours.statistic == pytest.approx(float(scipys.statistic), rel=1e-12)
    from cxbench.core.stats import _scipy_special

    for df in (1, 4, 29, 999):
        assert float(_scipy_special().stdtrit(df, 0.975)) == pytest.approx(float(student_t.ppf(0.975, df)), rel=1e-12)


def test_net_score_z_is_worked_by_hand():
    # Seed 003's NPS example against a second period, worked by hand:
    # period 1: 50 promoters, 10 detractors of 100: NPS 0.40, Var = (0.60 − 0.40²)/100 = 0.0044;
    # period 2: 30 promoters, 20 detractors of 100: NPS 0.10, Var = (0.50 − 0.10²)/100 = 0.0049.
    # z = 0.30 / √0.0093 = 0.30 / 0.0964365 = 3.11086; p = 2 (1 − Φ(3.11086)) = 0.001865.
    result = net_score_z_test(50, 10, 100, 30, 20, 100)
    assert result is not None and result.test is ChangeTest.NET_SCORE
    assert result.statistic == pytest.approx(3.11086, abs=5e-5)
    assert result.p_value == pytest.approx(0.001865, abs=5e-6)
    assert result.p_value == pytest.approx(_normal_two_sided_p(0.30 / math.sqrt(0.0093)), rel=1e-12)


def test_net_score_variance_is_that_of_answers_scored_plus_one_zero_minus_one():
    # The same z as a two-sample z on the means of answers scored +1 (promoter), 0, −1 (detractor) with their
    # population variances (Displayr, "Statistical testing of the Net Promoter Score": NPS is such a mean).
    one = [1] * 50 + [0] * 40 + [-1] * 10
    two = [1] * 30 + [0] * 50 + [-1] * 20
    z = (statistics.mean(one) - statistics.mean(two)) / math.sqrt(
        statistics.pvariance(one) / 100 + statistics.pvariance(two) / 100)
    assert net_score_z_test(50, 10, 100, 30, 20, 100).statistic == pytest.approx(z, rel=1e-12)


def test_degenerate_cases_give_finite_p_values():
    # Every answer of both periods the same: the standard error is 0 and z is undefined; its limit is used.
    assert two_proportion_z_test(0, 50, 0, 40) == Comparison(1.0, ChangeTest.TWO_PROPORTION)  # 0 % and 0 %
    assert two_proportion_z_test(50, 50, 40, 40) == Comparison(1.0, ChangeTest.TWO_PROPORTION)  # 100 % twice
    assert net_score_z_test(40, 0, 40, 30, 0, 30).p_value == 1.0  # all promoters in both periods
    assert net_score_z_test(40, 0, 40, 0, 30, 30).p_value == 0.0  # all promoters, then all detractors
    assert welch_t_test(4.0, 0.0, 5, 4.0, 0.0, 8).p_value == 1.0
    assert welch_t_test(4.0, 0.0, 5, 3.0, 0.0, 8).p_value == 0.0
    # One period with variance, the other without: an ordinary test.
    assert 0 < welch_t_test(4.0, 0.0, 5, 3.0, 1.0, 8).p_value < 1
    # No event in either period: nothing changed.
    assert poisson_rate_test(0, 30, 0, 31) == Comparison(1.0, ChangeTest.POISSON, statistic=0.0)
    # Nothing to test.
    assert two_proportion_z_test(3, 10, 0, 0) is None
    assert net_score_z_test(1, 0, 0, 1, 0, 3) is None
    assert welch_t_test(4.0, 1.0, 1, 3.0, 1.0, 8) is None  # one answer: no standard deviation
    assert poisson_rate_test(3, 0, 4, 30) is None


def test_welch_with_standard_deviations_whose_squares_underflow_takes_the_limit_instead_of_crashing():
    # sd = 1e-200 around means of 1 and 2 (two answers each): s²/n = 1e-400/2 is below the smallest double, so
    # both variances read 0 and the Welch-Satterthwaite df was 0/0 (ZeroDivisionError). The limit, as for sds
    # of 0: t = (1 − 2)/√(1e-400/2 + 1e-400/2) = −1e200 → p = 0; equal means → t = 0 → p = 1.
    assert welch_t_test(1.0, 1e-200, 2, 2.0, 1e-200, 2).p_value == 0.0
    assert welch_t_test(1.0, 1e-200, 2, 1.0, 1e-200, 2).p_value == 1.0
    # Only one variance so small (1e-200 against 1, n = 2 and 3): df is the other group's n − 1 = 2 in the
    # limit, t = (1 − 2)/√(1/3) = −√3; on 2 df F(t) = 1/2 + t/(2√(t² + 2)) = 1/2 − √3/(2√5) = 0.1127017,
    # so p = 2 F(t) = 0.2254033.
    one = welch_t_test(1.0, 1e-200, 2, 2.0, 1.0, 3)
    assert one.df == pytest.approx(2.0)
    assert one.p_value == pytest.approx(0.2254033, abs=1e-7)


def test_poisson_exposure_makes_a_31_day_month_fair_against_a_30_day_one():
    # 31 events in 31 days against 30 in 30 days: the same rate, 1 a day. Under H₀, k₁ ~ Binomial(61, 31/61)
    # whose mode, ⌊62 × 31/61⌋ = 31, is k₁ itself: every outcome is at most as likely, p = 1.
    assert poisson_rate_test(31, 31, 30, 30).p_value == pytest.approx(1.0)
    # Without the exposure (equal days) 31 against 30 is Binomial(61, 1/2) at 31: p = 1 as well; a bigger
    # gap shows the difference: 62 in 31 days against 30 in 30 days.
    assert poisson_rate_test(62, 31, 30, 30).p_value == pytest.approx(_conditional_poisson_p(62, 31, 30, 30), rel=1e-9)


def test_only_counts_of_trials_and_events_are_tested():
    # A ratio of money or time has no test; a two-proportion ratio needs whole counts with k ≤ n.
    revenue_per_order = Ratio(lambda t: t.revenue.sum(), lambda t: t.count())
    assert revenue_per_order.compare({"numerator": 900.0, "denominator": 9.0},
                                     {"numerator": 400.0, "denominator": 8.0}) is None
    rate = Ratio(lambda t: t.a.sum(), lambda t: t.b.sum(), test=ChangeTest.TWO_PROPORTION)
    assert rate.compare({"numerator": 2.5, "denominator": 9.0}, {"numerator": 1.0, "denominator": 8.0}) is None
    assert rate.compare({"numerator": 12.0, "denominator": 9.0}, {"numerator": 1.0, "denominator": 8.0}) is None
    # A sum of money is no count; a count of events is, and a period without rows counts 0.
    assert Sum("amount").compare({"total": 10.0}, {"total": 20.0}) is None
    counted = Total(lambda t: t.count(), test=ChangeTest.POISSON)
    assert counted.compare({}, {"total": 12}).p_value == pytest.approx(_conditional_poisson_p(0, 1, 12, 1), rel=1e-9)
    with pytest.raises(ValueError, match="two-proportion"):
        Ratio(lambda t: t.a.sum(), per_unit="day", test=ChangeTest.TWO_PROPORTION)
    with pytest.raises(ValueError, match="Poisson"):
        Total(lambda t: t.count(), test=ChangeTest.WELCH)


# -- end to end: two periods through cxbench.compute ----------------------------------------------------

def _duckdb(tmp_path: Path, tables: dict[str, Any], **options: Any) -> Scorecard:
    return cxbench.compute(write_tables(tmp_path / "case", tables), engine="duckdb", **options)


def test_nps_change_carries_p_value_and_test_name(run_case):
    # September: 30 promoters, 20 detractors, 50 passives (NPS 10); October: seed 003's 50/10/40 (NPS 40).
    # From the hand-worked test above: z = 3.11086, p = 0.001865 → significant.
    september = answers("nps", {10: 30, 7: 50, 3: 20}, ts="2026-09-10T10:00:00Z")
    october = answers("nps", {9: 50, 8: 40, 0: 10}, start=100, ts="2026-10-10T10:00:00Z")
    card = run_case({"surveys": september + october}, period="month", metrics=["nps"])
    change = pick(card, "nps", period_start="2026-10-01")["change"]
    assert change["previous"] == pytest.approx(10.0) and change["delta"] == pytest.approx(30.0)
    assert change["p_value"] == pytest.approx(0.001865, abs=5e-6)
    assert change["significant"] is True
    assert change["test"] == "NPS difference z"
    assert pick(card, "nps", period_start="2026-09-01")["change"] is None  # no previous period


def test_ctr_change_is_a_two_proportion_test(run_case):
    # The usablestats example as campaigns: September 80 clicks of 3,303 impressions, October 118 of 3,303:
    # z = 2.742, p = 0.00611 (worked above).
    campaigns = [
        {"date": "2026-09-03", "campaign": "autumn", "impressions": 2000, "clicks": 50},
        {"date": "2026-09-20", "campaign": "autumn", "impressions": 1303, "clicks": 30},
        {"date": "2026-10-05", "campaign": "autumn", "impressions": 3303, "clicks": 118},
    ]
    card = run_case({"campaigns": campaigns}, period="month", metrics=["ctr"])
    change = pick(card, "ctr", period_start="2026-10-01")["change"]
    assert change["p_value"] == pytest.approx(0.00611, abs=5e-6)
    assert change["significant"] is True
    assert change["test"] == "two-proportion z"


def test_employee_satisfaction_change_is_welchs_t(tmp_path):
    # The sleep data shifted by +3 onto the 1-10 esat scale (a shift changes neither t nor df): September is
    # group 2 (mean 5.33), October group 1 (3.75); October − September = 0.75 − 2.33: t = −1.8608,
    # df = 17.776, p = 0.07939 (R's t.test, above). Ten answers a period: under the default --min-sample of 30
    # the test is not reported, so min_sample=1.
    rows = [{"response_id": f"s{i}", "respondent_id": f"e{i}", "ts": "2026-09-10T10:00:00Z", "survey": "esat",
             "score": round(x + 3, 1)} for i, x in enumerate(SLEEP_GROUP_2)]
    rows += [{"response_id": f"o{i}", "respondent_id": f"e{i}", "ts": "2026-10-10T10:00:00Z", "survey": "esat",
              "score": round(x + 3, 1)} for i, x in enumerate(SLEEP_GROUP_1)]
    tested = _duckdb(tmp_path / "a", {"surveys": rows}, period="month", metrics=["employee_satisfaction"], min_sample=1)
    change = pick(tested, "employee_satisfaction", period_start="2026-10-01")["change"]
    assert change["delta"] == pytest.approx(0.75 - 2.33)
    assert change["p_value"] == pytest.approx(0.07939, abs=5e-6)
    assert change["significant"] is False and change["test"] == "Welch's t"
    default = _duckdb(tmp_path / "b", {"surveys": rows}, period="month", metrics=["employee_satisfaction"])
    change = pick(default, "employee_satisfaction", period_start="2026-10-01")["change"]
    assert change == {"previous": pytest.approx(5.33), "delta": pytest.approx(-1.58),
                      "significant": None, "p_value": None, "test": None}


def test_ticket_volume_change_is_an_exact_poisson_test_per_day(run_case):
    # September (30 days): 30 tickets; October (31 days): 62. Rates 1 and 2 a day. Under H₀ the October
    # count given the 92 tickets is Binomial(92, 31/61); the exact two-sided p, summed by hand-written
    # code above (Przyborowski & Wilenski 1940, as R's poisson.test), is far below 5 %.
    tickets = [{"ticket_id": f"s{i}", "channel": "email", "opened_at": f"2026-09-{1 + i % 30:02d}T09:00:00Z"}
               for i in range(30)]
    tickets += [{"ticket_id": f"o{i}", "channel": "chat" if i % 2 else "email",
                 "opened_at": f"2026-10-{1 + i % 31:02d}T09:00:00Z"} for i in range(62)]
    card = run_case({"tickets": tickets}, period="month", metrics=["contact_volume_by_channel"])
    change = pick(card, "contact_volume_by_channel", period_start="2026-10-01")["change"]
    expected = _conditional_poisson_p(62, 31, 30, 30)
    assert expected < 0.01
    assert change["p_value"] == pytest.approx(expected, rel=1e-9)
    assert change["significant"] is True and change["test"] == "exact Poisson"
    # Per channel: email 30 in September, 31 in October: 1 a day both months, p = 1 (see above).
    email = pick(card, "contact_volume_by_channel", period_start="2026-10-01", dimension={"channel": "email"})
    assert email["change"]["p_value"] == pytest.approx(1.0) and email["change"]["significant"] is False


def test_counts_are_tested_below_min_sample_and_census_rates_are_not(tmp_path):
    # The exact Poisson test holds for any count: 2 pageviews in September (30 days), 9 in October (31).
    # A rate's z-test is a large-sample test: bounce rate on 11 sessions is not tested under --min-sample 30.
    events = [{"user_id": f"u{i}", "ts": f"2026-09-{10 + i}T10:00:00Z", "event": "pageview", "page": "/"}
              for i in range(2)]
    events += [{"user_id": f"v{i}", "ts": f"2026-10-{10 + i}T10:00:00Z", "event": "pageview", "page": "/"}
               for i in range(9)]
    card = _duckdb(tmp_path, {"events": events}, period="month", metrics=["pageviews", "bounce_rate"])
    pageviews = pick(card, "pageviews", period_start="2026-10-01")["change"]
    assert pageviews["p_value"] == pytest.approx(_conditional_poisson_p(9, 31, 2, 30), rel=1e-9)
    assert pageviews["test"] == "exact Poisson"
    bounce = pick(card, "bounce_rate", period_start="2026-10-01")["change"]
    assert bounce["delta"] == 0.0  # every session bounces in both months
    assert (bounce["significant"], bounce["p_value"], bounce["test"]) == (None, None, None)


def test_money_has_no_test(tmp_path):
    orders = [{"order_id": "a", "customer_id": "c1", "ts": "2026-09-10T10:00:00Z", "amount": 100},
              {"order_id": "b", "customer_id": "c2", "ts": "2026-10-10T10:00:00Z", "amount": 250}]
    card = _duckdb(tmp_path, {"orders": orders}, period="month", metrics=["sales"], min_sample=1)
    change = pick(card, "sales", period_start="2026-10-01")["change"]
    assert change == {"previous": 100.0, "delta": 150.0, "significant": None, "p_value": None, "test": None}


def test_shares_of_a_breakdown_are_two_proportion_tests(tmp_path):
    # Visitor intent "buy": 40 of 100 intent answers in September, 60 of 100 in October. Feature adoption of
    # "export": 40 of 100 active users, then 60 of 100. By hand: pooled p = 100/200 = 0.5,
    # SE = √(0.5 × 0.5 × (1/100 + 1/100)) = √0.005 = 0.0707107, z = 0.2 / 0.0707107 = 2√2 = 2.828427;
    # p = 2 (1 − Φ(2√2)) = erfc(2) = 0.0046777.
    surveys, events = [], []
    for month, buyers in (("09", 40), ("10", 60)):
        for i in range(100):
            surveys.append({"response_id": f"{month}-{i}", "respondent_id": f"r{i}", "ts": f"2026-{month}-05T10:00:00Z",
                            "survey": "intent", "answer": "buy" if i < buyers else "browse"})
            events.append({"user_id": f"u{i}", "ts": f"2026-{month}-05T10:00:00Z", "event": "click",
                           "feature": "export" if i < buyers else "search"})
    card = _duckdb(tmp_path, {"surveys": surveys, "events": events}, period="month",
                   metrics=["visitor_intent", "feature_adoption"])
    for metric, dimension in (("visitor_intent", {"intent": "buy"}), ("feature_adoption", {"feature": "export"})):
        change = pick(card, metric, period_start="2026-10-01", dimension=dimension)["change"]
        assert change["delta"] == pytest.approx(20.0)
        assert change["p_value"] == pytest.approx(math.erfc(2), rel=1e-9)
        assert math.erfc(2) == pytest.approx(0.0046777, abs=5e-8)
        assert change["significant"] is True and change["test"] == "two-proportion z"


def test_wilson_interval_equals_scipys_binomtest_wilson_interval():
    # The closed form against SciPy's `binomtest(k, n).proportion_ci(method="wilson")` (no continuity correction),
    # including the 0 and n edges where both give exactly 0 and 1.
    from scipy.stats import binomtest

    from cxbench.core.stats import wilson_interval

    for n in (*range(1, 40), 263, 1000, 54321):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
            low, high = wilson_interval(k, n)
            assert low == pytest.approx(ci.low, abs=1e-12) and high == pytest.approx(ci.high, abs=1e-12)
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(20, 20)[1] == 1.0
