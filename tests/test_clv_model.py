"""The BG/NBD and Gamma-Gamma models against the papers' published CDNOW figures.

References (expected values below are quoted from them, never produced by the code under test):
[FHL05] Fader, Hardie & Lee (2005), "Counting your customers" the easy way, Marketing Science 24(2):
        CDNOW, 2,357 customers, 39-week calibration to 1997-09-30: r = 0.243, α = 4.414, a = 0.793, b = 2.426,
        log-likelihood −9582.4.
[H-BGNBD] Hardie's BG/NBD spreadsheet (http://brucehardie.com/notes/004/), as quoted in the `lifetimes` tests
        `test_expectation_returns_same_value_Hardie_excel_sheet` and
        `test_conditional_expectation_returns_same_value_as_Hardie_excel_sheet`.
[FHL05b] Fader, Hardie & Lee (2005), RFM and CLV: using iso-value curves, JMR 42(4): Gamma-Gamma on the 946
        CDNOW customers with repeat purchases: p = 6.25, q = 3.74, γ (v) = 15.44.
[H-GG]  Fader & Hardie, The Gamma-Gamma model of monetary value (http://brucehardie.com/notes/025/) and its
        spreadsheet, as quoted in the `lifetimes` test `test_conditional_expected_average_profit`.
Test data: tests/data/cdnow (raw transactions) and tests/data/cdnow_summary.csv (the papers' summary), both
from the lifetimes 0.11.3 wheel; see tests/data/cdnow/README.md.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import approx_fprime

import cxbench
from cxbench.lifetime_value import ClvSettings, TimeUnit, discounted_purchases
from cxbench.models import BetaGeoModel, GammaGammaModel, ModelFitError

DATA = Path(__file__).parent / "data"
PUBLISHED_BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # [FHL05]
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}  # [FHL05b]


@pytest.fixture(scope="module")
def papers_summary() -> dict[str, np.ndarray]:
    with (DATA / "cdnow_summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    return {k: np.array([float(r[k]) for r in rows]) for k in ("ID", "x", "t_x", "T", "zbar")}


@pytest.fixture(scope="module")
def cdnow_forecast() -> cxbench.ClvForecast:
    """From the raw transactions, as `cxbench clv tests/data/cdnow --calibration-end 1997-09-30 --time-unit week
    --horizon 39` computes it."""
    return cxbench.predict_clv(DATA / "cdnow", calibration_end="1997-09-30", time_unit="week", horizon=39)


# -- the summary ---------------------------------------------------------------------------------------


def test_summary_from_raw_transactions_reproduces_the_papers_cdnow_summary(cdnow_forecast, papers_summary):
    s = cdnow_forecast.summary
    assert s.customer_ids == [str(int(i)) for i in papers_summary["ID"]]
    np.testing.assert_array_equal(s.frequency, papers_summary["x"])
    # The papers' file gives t_x, T and zbar to 2 decimals.
    np.testing.assert_allclose(s.recency, papers_summary["t_x"], atol=0.005 + 1e-9)
    np.testing.assert_allclose(s.T, papers_summary["T"], atol=0.005 + 1e-9)
    np.testing.assert_allclose(s.monetary_value, papers_summary["zbar"], atol=0.005 + 1e-9)


# -- BG/NBD --------------------------------------------------------------------------------------------


def test_bg_nbd_params_from_raw_transactions_are_the_published_ones_Fader_Hardie_Lee_2005(cdnow_forecast):
    model = cdnow_forecast.bg_nbd
    for name, published in PUBLISHED_BG_NBD.items():
        assert round(getattr(model, name), 3) == pytest.approx(published, abs=1e-9), name
    assert round(model.log_likelihood, 1) == pytest.approx(-9582.4)  # [FHL05]
    assert model.customers == 2357


def test_bg_nbd_params_from_the_papers_summary_are_the_published_ones(papers_summary):
    model = BetaGeoModel.fit(papers_summary["x"], papers_summary["t_x"], papers_summary["T"])
    assert [round(v, 3) for v in model.params] == list(PUBLISHED_BG_NBD.values())


def test_conditional_expectation_is_Hardie_spreadsheet_value():
    # [H-BGNBD]: customer 1 of CDNOW (x = 2, t_x = 30.43, T = 38.86) buys 1.226 times in the next 39 weeks.
    model = BetaGeoModel(**PUBLISHED_BG_NBD)
    assert model.conditional_expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=1e-3)


def test_per_customer_expected_purchases_from_raw_transactions_match_Hardie_spreadsheet(cdnow_forecast):
    first = cdnow_forecast.records()[0]
    assert first["customer_id"] == "1"
    assert first["expected_purchases"] == pytest.approx(1.226, abs=1e-3)  # [H-BGNBD], horizon 39 weeks


def test_unconditional_expectation_is_Hardie_spreadsheet_values(papers_summary):
    # [H-BGNBD]: E[X(t)] at t = 1 day, 1, 3, 31.86, 32 and 78 weeks, with the parameters fitted unrounded.
    model = BetaGeoModel.fit(papers_summary["x"], papers_summary["t_x"], papers_summary["T"])
    times = np.array([0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00])
    expected = np.array([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576])
    np.testing.assert_allclose(model.expected_purchases(times), expected, atol=5e-4)


def test_probability_alive_worked_by_hand():
    # Customer 1 with the published parameters: a/(b+x−1) = 0.793/3.426 = 0.2314653;
    # ((α+T)/(α+t_x))^(r+x) = (43.274/34.844)^2.243 = 1.2419355^2.243 = exp(2.243 × 0.2166710) = 1.6257888;
    # P(alive) = 1 / (1 + 0.2314653 × 1.6257888) = 1 / 1.3763136 = 0.7265786.
    model = BetaGeoModel(**PUBLISHED_BG_NBD)
    assert model.probability_alive(np.array([2.0]), np.array([30.43]), np.array([38.86]))[0] == pytest.approx(0.7265786, abs=2e-7)
    # No repeat purchase: alive with probability 1 (the BG/NBD drops out only right after a purchase).
    assert model.probability_alive(np.array([0.0]), np.array([0.0]), np.array([38.86]))[0] == 1.0


def test_bg_nbd_gradient_is_the_numerical_one(papers_summary):
    x, t_x, T = papers_summary["x"], papers_summary["t_x"], papers_summary["T"]
    point = np.array([0.5, 3.0, 1.2, 2.0])
    analytic = BetaGeoModel.log_likelihood_terms(point, x, t_x, T)[1].sum(axis=1)
    numeric = approx_fprime(point, lambda p: BetaGeoModel.log_likelihood_terms(p, x, t_x, T)[0].sum(), 1e-7)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4)


def test_bg_nbd_is_stable_for_very_frequent_buyers():
    # Without log-sum-exp and Euler's transformation these overflow (Fader & Hardie 2013, the #NUM! note).
    model = BetaGeoModel(**PUBLISHED_BG_NBD)
    x, t_x, T = np.array([500.0, 2000.0]), np.array([900.0, 999.0]), np.array([1000.0, 1000.0])
    ll, grad = BetaGeoModel.log_likelihood_terms(model.params, x, t_x, T)
    assert np.isfinite(ll).all() and np.isfinite(grad).all()
    alive = model.probability_alive(x, t_x, T)
    expected = model.conditional_expected_purchases(52, x, t_x, T)
    assert np.isfinite(expected).all() and ((alive >= 0) & (alive <= 1)).all()
    assert (expected > 0).all()


def test_bg_nbd_expectations_stay_finite_when_a_and_b_are_huge():
    # Fitted on simulated data with a dropout probability that hardly varies (the demo's spring orders), a and b
    # run into the tens of thousands and Euler's form overflows (0 · ∞). As a, b → ∞ with b/(a+b) fixed,
    # 2F1(r, b; a+b−1; z) → (1 − z·b/(a+b−1))^(−r) (the binomial series), so for a new customer at z = t/(α+t):
    # r = 1.76728, α = 302.676, a = 75336.87, b = 328889.26, t = α (z = 0.5): b/(a+b−1) = 0.813628,
    # (1−z)^r (1 − 0.406814)^(−r) = 0.5^1.76728 × 0.593186^(−1.76728) = 0.293782 × 2.51668 = 0.739356;
    # E[X(t)] = (a+b−1)/(a−1) × (1 − 0.739356) = 5.365620 × 0.260644 = 1.39852.
    model = BetaGeoModel(r=1.76728, alpha=302.676, a=75336.87, b=328889.26)
    with np.errstate(all="raise"):
        unconditional = model.expected_purchases(np.array([302.676]))
        conditional = model.conditional_expected_purchases(302.676, np.array([0.0]), np.array([0.0]), np.array([0.0]))
    assert unconditional[0] == pytest.approx(1.39852, rel=2e-4)
    # A customer just acquired (x = 0, T = 0) is a new customer: the same expectation.
    assert conditional[0] == pytest.approx(unconditional[0], rel=1e-9)


def test_bg_nbd_fit_recovers_simulated_parameters():
    # Simulated from the model's own story (Fader, Hardie & Lee 2005, section 2), independent of the fitting code.
    rng = np.random.default_rng(5)
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    n, T = 30_000, 39.0
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    now = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        now = now + rng.exponential(1 / np.maximum(lam, 1e-12))
        bought = alive & (now < T)
        x[bought] += 1
        t_x[bought] = now[bought]
        alive = bought & (rng.random(n) >= p)
    model = BetaGeoModel.fit(x, t_x, np.full(n, T))
    np.testing.assert_allclose(model.params, [r, alpha, a, b], rtol=0.15)


# -- Gamma-Gamma ---------------------------------------------------------------------------------------


def test_gamma_gamma_params_from_raw_transactions_are_the_published_ones_Fader_Hardie_Lee_2005b(cdnow_forecast):
    model = cdnow_forecast.gamma_gamma
    assert model.customers == 946  # [FHL05b]: the CDNOW customers with at least one repeat purchase
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert round(getattr(model, name), 2) == pytest.approx(published, abs=1e-9), name


def test_gamma_gamma_params_from_the_papers_summary_are_the_published_ones(papers_summary):
    repeat = papers_summary["x"] > 0
    model = GammaGammaModel.fit(papers_summary["x"][repeat], papers_summary["zbar"][repeat])
    # The summary's zbar is rounded to cents, which moves v by 0.004: compare to 2 decimals within 0.01.
    np.testing.assert_allclose([model.p, model.q, model.v], list(PUBLISHED_GAMMA_GAMMA.values()), atol=0.01)


def test_conditional_expected_spend_is_Hardie_spreadsheet_values(cdnow_forecast):
    # [H-GG]: E[Z | x, m_x] of CDNOW customers 1-10.
    expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    records = cdnow_forecast.records()[:10]
    assert [r["customer_id"] for r in records] == [str(i) for i in range(1, 11)]
    np.testing.assert_allclose([r["expected_monetary_value"] for r in records], expected, atol=0.01)


def test_gamma_gamma_gradient_is_the_numerical_one(papers_summary):
    repeat = papers_summary["x"] > 0
    x, m = papers_summary["x"][repeat], papers_summary["zbar"][repeat]
    point = np.array([5.0, 3.0, 12.0])
    analytic = GammaGammaModel.log_likelihood_terms(point, x, m)[1].sum(axis=1)
    numeric = approx_fprime(point, lambda p: GammaGammaModel.log_likelihood_terms(p, x, m)[0].sum(), 1e-7)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4)


def test_gamma_gamma_with_a_mean_that_does_not_exist_is_an_error():
    # Simulated from the Gamma-Gamma story ([H-GG] section 2) with q = 0.7: E[z] = p v / (q − 1) does not exist.
    rng = np.random.default_rng(3)
    nu = rng.gamma(0.7, 1 / 10.0, 2000)
    x = rng.integers(1, 6, 2000).astype(float)
    m = rng.gamma(5 * x, 1 / (nu * x))
    with pytest.raises(ModelFitError, match="q = 0.6.* ≤ 1: spend per order is so heavy-tailed"):
        GammaGammaModel.fit(x, m)


def test_gamma_gamma_that_runs_off_to_an_extreme_is_an_error_not_a_silent_value():
    # Spends that do not depend on the customer at all (independent Pareto draws): the MLE sends p towards infinity.
    rng = np.random.default_rng(3)
    x = rng.integers(1, 4, 400).astype(float)
    m = (rng.pareto(0.8, 400) + 1) * 10
    with pytest.raises(ModelFitError, match=r"runs off to an extreme \(p = "):
        GammaGammaModel.fit(x, m)


# -- CLV -----------------------------------------------------------------------------------------------


def test_clv_discounting_worked_by_hand():
    # Two whole months, 10 % a month: CLV/spend = E[Y(m)]/1.1 + (E[Y(2m)] − E[Y(m)])/1.1².
    model = BetaGeoModel(**PUBLISHED_BG_NBD)
    import datetime as dt

    settings = ClvSettings(dt.date(1997, 9, 30), TimeUnit.WEEK, horizon=2 * 365.25 / 12 / 7, discount_rate=0.1)
    x, t_x, T = np.array([2.0]), np.array([30.43]), np.array([38.86])
    month = 365.25 / 12 / 7
    one, two = (model.conditional_expected_purchases(t, x, t_x, T)[0] for t in (month, 2 * month))
    total, discounted = discounted_purchases(model, settings, x, t_x, T)
    assert total[0] == pytest.approx(two)
    assert discounted[0] == pytest.approx(one / 1.1 + (two - one) / 1.1**2)


def test_clv_is_expected_spend_times_discounted_purchases(cdnow_forecast):
    first = cdnow_forecast.records()[0]
    # Customer 1 over 39 weeks at 1 % a month: less than the undiscounted 24.65 × 1.226 = 30.22, more than
    # that discounted for the whole 9 months (30.22 / 1.01^9 = 27.63).
    assert 27.63 < first["clv"] < 30.22


def test_too_few_repeat_customers_is_an_error_that_names_the_fix():
    from cxbench.lifetime_value import CustomerSummary, fit_models, make_settings

    summary = CustomerSummary(["a", "b", "c"], np.array([1.0, 0, 2]), np.array([3.0, 0, 5]), np.array([10.0, 10, 10]),
                              np.array([5.0, 0, 7]), np.zeros(3), None, 0)
    with pytest.raises(ModelFitError, match=r"2 customers with repeat purchases before --calibration-end 1997-09-30, "
                                            r"fewer than 20.*Move the calibration end later or use --time-unit day"):
        fit_models(summary, make_settings("1997-09-30", "week"))


def test_a_and_b_collapsing_to_zero_is_an_error_not_a_silent_fit(tmp_path):
    # CDNOW's first 60 customers (21 with repeat purchases): the likelihood keeps rising as a and b go to 0
    # together (every dropout probability 0 or 1), so there is no maximum inside the range; an independent
    # fit of the same data drives both to about 1e-8. cxbench stops instead of returning a = b = 2e-6.
    with (DATA / "cdnow" / "orders.csv").open() as handle:
        reader = csv.DictReader(handle)
        rows = [r for r in reader if int(r["customer_id"]) <= 60]
        fields = reader.fieldnames
    (tmp_path / "few").mkdir()
    with (tmp_path / "few" / "orders.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(ModelFitError, match=r"runs off to an extreme \(a = .*, b = "):
        cxbench.predict_clv(tmp_path / "few", calibration_end="1997-09-30", time_unit="week", horizon=39)


def test_a_calibration_without_dropout_is_flagged_in_the_warnings():
    # Customers who never leave (a plain Poisson process per customer, Gamma-distributed rates: the NBD of
    # Ehrenberg 1959): the BG/NBD fit sends the mean dropout probability a/(a+b) to nearly 0, which is said.
    from cxbench.lifetime_value import CustomerSummary, forecast, make_settings

    rng = np.random.default_rng(2)
    n, weeks = 3000, 52.0
    repeats = rng.poisson(rng.gamma(2.0, 1 / 10, n) * weeks).astype(float)
    last = np.array([rng.uniform(0, weeks, int(k)).max() if k else 0.0 for k in repeats])
    spend = rng.gamma(5.0, 4.0, n)
    summary = CustomerSummary([str(i) for i in range(n)], repeats, last, np.full(n, weeks), spend, np.zeros(n), None, 0)
    result = forecast(summary, make_settings("2026-06-30", "week"))
    assert result.bg_nbd.a / (result.bg_nbd.a + result.bg_nbd.b) < 0.01
    assert any("almost no dropout" in w for w in result.warnings())
    assert result.holdout()["status"] == "unavailable"
