"""Referral rate and stock price change (seed 001) against hand-worked values, on DuckDB and on Spark."""

from __future__ import annotations

import pytest

from conftest import pick

SEP, OCT, NOV, DEC = "2026-09-01", "2026-10-01", "2026-11-01", "2026-12-01"

CUSTOMERS = [
    {"customer_id": "c1", "signup_at": "2026-08-01T10:00:00Z", "acquisition_channel": "organic_search"},
    {"customer_id": "c2", "signup_at": "2026-08-10T10:00:00Z", "acquisition_channel": "email"},
    {"customer_id": "c3", "signup_at": "2026-09-05T10:00:00Z", "acquisition_channel": "direct"},
    {"customer_id": "c4", "signup_at": "2026-10-03T10:00:00Z", "acquisition_channel": "direct"},  # referred by c1
    {"customer_id": "c5", "signup_at": "2026-10-20T10:00:00Z", "acquisition_channel": "Referral"},
    {"customer_id": "c6", "signup_at": "2026-10-25T10:00:00Z", "acquisition_channel": "organic_search"},
    {"customer_id": "c7", "signup_at": "2026-10-28T10:00:00Z", "acquisition_channel": ""},
]
REFERRALS = [
    {"referrer_id": "c1", "referred_id": "c4", "ts": "2026-09-28T10:00:00Z", "converted": "true"},
    {"referrer_id": "c2", "referred_id": "", "ts": "2026-10-05T10:00:00Z", "converted": "false"},  # brought no one
    {"referrer_id": "c3", "referred_id": "x9", "ts": "2026-10-12T10:00:00Z", "converted": ""},  # names who came
    {"referrer_id": "c2", "referred_id": "", "ts": "2026-10-15T10:00:00Z", "converted": "true"},
    {"referrer_id": "zz", "referred_id": "", "ts": "2026-10-16T10:00:00Z", "converted": "true"},  # not a customer
]


def test_referral_rate_and_new_customers_by_referral(run_case):
    # September: customers signed up before 1 Oct: c1, c2, c3 → 3. Referrers with a referral that brought a
    #   customer in September: c1 → 1/3 = 33.333 %. New customers: c3, not referred → 0/1 = 0 %.
    # October: customers signed up before 1 Nov: c1..c7 → 7. Referrers in October: c3 (names x9, converted
    #   empty), c2 (converted true on 15 Oct; its 5 Oct referral brought no one); zz is not a customer → 2/7
    #   = 28.571 %. New customers: c4, c5, c6, c7; by referral: c4 (named by c1's referral), c5 (channel
    #   "Referral") → 2/4 = 50 %.
    card = run_case({"customers": CUSTOMERS, "referrals": REFERRALS}, period="month", metrics=["referral_rate"])
    september = pick(card, "referral_rate", period_start=SEP)
    assert september["value"] == pytest.approx(100 / 3)
    assert september["n"] == 3
    assert september["details"]["new_by_referral_pct"] == pytest.approx(0.0)
    october = pick(card, "referral_rate", period_start=OCT)
    assert october["value"] == pytest.approx(200 / 7)
    assert october["details"]["new_by_referral_pct"] == pytest.approx(50.0)
    assert october["details"]["new_by_referral_pct_denominator"] == pytest.approx(4)


def test_referral_rate_needs_customers(run_case):
    record = pick(run_case({"referrals": REFERRALS}, period="all", metrics=["referral_rate"]), "referral_rate")
    assert record["status"] == "unavailable" and "customers" in record["reason"]


STOCK = [
    {"date": "2026-09-29", "close": 100}, {"date": "2026-09-30", "close": 110},
    {"date": "2026-10-01", "close": 105}, {"date": "2026-10-15", "close": 120}, {"date": "2026-10-30", "close": 132},
    {"date": "2026-12-01", "close": 99},
]


def test_stock_price_change_from_the_last_close_before_the_period(run_case):
    # September (first period of the data, no earlier close): from its first close 100 to its last 110 → +10 %.
    # October: from 110 (30 Sep) to 132 (30 Oct) → +20 %, n = 3 closes.
    # November: no close → unavailable.
    # December: from 132 (30 Oct, the last close before December) to 99 → −25 %.
    card = run_case({"stock_prices": STOCK}, period="month", metrics=["stock_price_change"])
    assert pick(card, "stock_price_change", period_start=SEP)["value"] == pytest.approx(10.0)
    october = pick(card, "stock_price_change", period_start=OCT)
    assert october["value"] == pytest.approx(20.0) and october["n"] == 3
    assert october["details"] == {"from": 110.0, "from_date": "2026-09-30", "to": 132.0, "to_date": "2026-10-30"}
    november = pick(card, "stock_price_change", period_start=NOV)
    assert november["status"] == "unavailable" and november["value"] is None
    assert pick(card, "stock_price_change", period_start=DEC)["value"] == pytest.approx(-25.0)


def test_stock_price_change_over_all_from_a_start_date(run_case):
    # --period all --from 2026-10-10: from the last close before 10 Oct (105 on 1 Oct) to the last close (99 on
    # 1 Dec) → (99 − 105)/105 = −5.714 %.
    card = run_case({"stock_prices": STOCK}, period="all", from_="2026-10-10", metrics=["stock_price_change"])
    record = pick(card, "stock_price_change")
    assert record["value"] == pytest.approx(-600 / 105)
    assert record["details"]["from_date"] == "2026-10-01"
