"""Hardening of the metric and engine side (issue 14): each test pins how a hostile input is now reported.

Expected values are worked by hand in the comments. Tests taking `run_case` run on DuckDB and Spark; the Spark
cases are kept to where the two engines could differ (the calendar's last day, partial periods).
"""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import pick
from cxbench.core.calendar import bucket_end, bucket_start
from cxbench.core.engine import period_grid
from cxbench.core.options import Options, Period


# -- item 1: the calendar ends on 9999-12-31 ----------------------------------------------------------------

@pytest.mark.parametrize(("period", "start", "end"), [
    # 9999-12-31 is a Friday (date(9999, 12, 31).weekday() == 4): its ISO week starts on Monday 27 December and
    # would end on Sunday 10000-01-02, which does not exist; the period stops at the calendar's last day.
    (Period.WEEK, dt.date(9999, 12, 27), dt.date(9999, 12, 31)),
    (Period.MONTH, dt.date(9999, 12, 1), dt.date(9999, 12, 31)),
    (Period.QUARTER, dt.date(9999, 10, 1), dt.date(9999, 12, 31)),
    (Period.YEAR, dt.date(9999, 1, 1), dt.date(9999, 12, 31)),
    (Period.DAY, dt.date(9999, 12, 31), dt.date(9999, 12, 31)),
])
def test_periods_holding_9999_12_31_end_on_that_day(period, start, end):
    assert bucket_start(dt.date(9999, 12, 31), period) == start
    assert bucket_end(start, period) == end


def test_period_grid_stops_after_the_period_holding_9999_12_31():
    # --from 9999-11-15 --to 9999-12-31, monthly: November (cut to the 15th..30th) and December, then nothing.
    grid = period_grid(dt.date(9999, 11, 20), dt.date(9999, 12, 31),
                       Options(period=Period.MONTH, start=dt.date(9999, 11, 15), end=dt.date(9999, 12, 31)))
    assert [(s.key, s.start, s.end) for s in grid] == [
        (dt.date(9999, 11, 1), dt.date(9999, 11, 15), dt.date(9999, 11, 30)),
        (dt.date(9999, 12, 1), dt.date(9999, 12, 1), dt.date(9999, 12, 31)),
    ]


YEAR_9999_EVENTS = [
    {"user_id": "u1", "ts": "9999-12-27T10:00:00Z", "event": "pageview", "page": "/"},
    {"user_id": "u2", "ts": "9999-12-31T23:59:59Z", "event": "pageview", "page": "/"},
]


def test_events_on_9999_12_31_are_counted_in_the_calendars_last_week(run_case):
    # One week, Monday 27 to Friday 31 December 9999 (the calendar ends there): 5 days.
    # DAU: user-days u1 (27th) and u2 (31st, one second before the calendar's end) = 2 over 5 days → 0.4.
    # (DAU alone on both engines: the Spark suite is the test run's critical path; sessions are checked below.)
    card = run_case({"events": YEAR_9999_EVENTS}, period="week", metrics=["dau"], as_of="9999-12-31")
    dau = pick(card, "dau")
    assert (dau["period_start"], dau["period_end"]) == ("9999-12-27", "9999-12-31")
    assert dau["value"] == pytest.approx(0.4)
    assert "partial" not in dau  # the week ends where the calendar does: whole


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_to_9999_12_31_and_far_future_as_of_do_not_crash(run_case):
    # --from 9999-12-01 --to 9999-12-31 by month, and --period year to 9999-12-31: the same 2 sessions.
    # The data covers 27-31 December only, so both periods are partial and DAU is 2 user-days over those 5 days
    # = 0.4 (over December's 31 days it would be 0.064516, over the year's 365 0.005479).
    month = run_case({"events": YEAR_9999_EVENTS}, period="month", from_="9999-12-01", to="9999-12-31",
                     metrics=["sessions", "dau"], as_of="9999-12-31")
    assert (pick(month, "sessions")["period_start"], pick(month, "sessions")["period_end"]) == (
        "9999-12-01", "9999-12-31")
    assert pick(month, "sessions")["value"] == pytest.approx(2)
    dau = pick(month, "dau")
    assert dau["value"] == pytest.approx(0.4)
    assert dau["partial"] is True and (dau["details"]["covered_from"], dau["details"]["covered_to"]) == (
        "9999-12-27", "9999-12-31")
    year = run_case({"events": YEAR_9999_EVENTS}, period="year", to="9999-12-31", metrics=["dau"],
                    as_of="9999-12-31")
    record = pick(year, "dau")
    assert (record["period_start"], record["period_end"]) == ("9999-01-01", "9999-12-31")
    assert record["value"] == pytest.approx(0.4)


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_as_of_near_the_calendars_end_sets_aside_only_what_lies_after_as_of_plus_a_day(run_case):
    # Rows after as_of + 1 day are set aside (validation). --as-of 9999-12-30: + 1 day is 9999-12-31, the last
    # day there is, so both rows are kept (this once computed as_of + 2 days: year 10000). --as-of 9999-12-29:
    # u2's row of the 31st is set aside; the week is then covered on the 27th only → DAU 1/1 = 1.0, partial.
    kept = run_case({"events": YEAR_9999_EVENTS}, period="week", metrics=["dau"], as_of="9999-12-30")
    assert kept.to_dict()["inputs"]["events"]["rejected"] == 0
    assert pick(kept, "dau")["value"] == pytest.approx(0.4)
    cut = run_case({"events": YEAR_9999_EVENTS}, period="week", metrics=["dau"], as_of="9999-12-29")
    assert cut.to_dict()["inputs"]["events"]["rejected"] == 1
    dau = pick(cut, "dau")
    assert dau["value"] == pytest.approx(1.0) and dau["partial"] is True


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_business_hours_calendar_reaches_9999_12_31_in_a_zone_ahead_of_utc(run_case):
    # Kiritimati is UTC+14. The ticket opens 9999-12-30T10:00Z = Fri 9999-12-31 00:00 local and is resolved
    # 9999-12-31T10:00Z = local midnight after (year 10000, which no date holds). Working time: Friday 09:00-17:00
    # local, the whole window = 8 h = 28,800 s. The calendar's windows of local 1 January 10000 are skipped.
    tickets = [{"ticket_id": "t1", "customer_id": "c1", "channel": "email", "opened_at": "9999-12-30T10:00:00Z",
                "resolved_at": "9999-12-31T10:00:00Z"}]
    card = run_case({"tickets": tickets}, period="month", metrics=["avg_resolution_time"], as_of="9999-12-31",
                    business_hours="Mon-Fri 09:00-17:00", timezone="Pacific/Kiritimati")
    assert pick(card, "avg_resolution_time")["value"] == pytest.approx(28800.0)


# -- item 2: a mean on a huge custom scale --------------------------------------------------------------------

def _csat(response: str, score: str, ts: str = "2026-10-05T10:00:00Z", scale_max: str = "1e300") -> dict[str, str]:
    return {"response_id": response, "respondent_id": response, "ts": ts, "survey": "csat", "score": score,
            "scale_min": "0", "scale_max": scale_max}


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_csat_mean_on_a_scale_of_0_to_1e300_has_its_mean_and_deviation_not_an_out_of_range_error(run_case):
    # Scores 1e300, 0 and 5e299 on 0-1e300: mean = 1.5e300 / 3 = 5e299. Deviations 5e299, −5e299, 0:
    # s² = (25e598 + 25e598) / 2 = 2.5e599, s = 5e299 (its square is beyond the largest double, 1.8e308,
    # which is what DuckDB's STDDEV_SAMP refused). Interval: t(0.975, 2) = 4.302653 × 5e299 / √3 = 1.242e300
    # either side, clipped to the scale: 0 .. 1e300.
    rows = [_csat("r1", "1e300"), _csat("r2", "0"), _csat("r3", "5e299")]
    card = run_case({"surveys": rows}, period="all", metrics=["csat_mean"])
    record = pick(card, "csat_mean")
    assert record["status"] == "ok"
    assert record["value"] == pytest.approx(5e299, rel=1e-9)
    assert record["details"]["sd"] == pytest.approx(5e299, rel=1e-9)
    assert (record["ci_low"], record["ci_high"]) == (pytest.approx(0.0), pytest.approx(1e300, rel=1e-9))


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_change_of_a_mean_on_a_huge_scale_is_tested_without_overflow(run_case):
    # September: 0 and 1e300 → mean 5e299, s = √(2 × (5e299)² / 1) = 7.0711e299 (s² overflows a double).
    # October: 1e300 twice → mean 1e300, s = 0. Welch's t is the same in any unit; in units of 1e300:
    # t = (1 − 0.5) / √(0.70711² / 2 + 0 / 2) = 0.5 / 0.5 = 1, df = 0.25² / (0.25² / 1) = 1, and the two-sided
    # p of t = 1 on 1 df (the Cauchy distribution) is 2 × (1/2 − arctan(1)/π) = 0.5.
    rows = [_csat("s1", "0", "2026-09-05T10:00:00Z"), _csat("s2", "1e300", "2026-09-06T10:00:00Z"),
            _csat("o1", "1e300"), _csat("o2", "1e300")]
    card = run_case({"surveys": rows}, period="month", metrics=["csat_mean"], min_sample=2)
    october = pick(card, "csat_mean", period_start="2026-10-01")
    assert october["value"] == pytest.approx(1e300, rel=1e-9)
    assert october["change"]["p_value"] == pytest.approx(0.5, abs=1e-9)


# -- item 3: sums beyond the largest double ---------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_a_sum_beyond_the_largest_double_is_reported_as_an_overflow_not_as_nothing_to_divide_by(run_case):
    # October: two orders of 1e308; their sum 2e308 is beyond the largest double (1.7977e308): sales and AOV
    # are unavailable, the reason says overflow. September: one order of 10 → sales 10, untouched.
    orders = [{"order_id": "o1", "customer_id": "c1", "ts": "2026-10-05T10:00:00Z", "amount": "1e308"},
              {"order_id": "o2", "customer_id": "c2", "ts": "2026-10-06T10:00:00Z", "amount": "1e308"},
              {"order_id": "o3", "customer_id": "c3", "ts": "2026-09-06T10:00:00Z", "amount": "10"}]
    card = run_case({"orders": orders}, period="month", metrics=["sales", "aov"])
    assert pick(card, "sales", period_start="2026-09-01")["value"] == pytest.approx(10.0)
    for metric in ("sales", "aov"):
        october = pick(card, metric, period_start="2026-10-01")
        assert october["status"] == "unavailable" and october["value"] is None
        assert october["reason"].startswith("overflow: a sum over the orders")
        assert "nothing to divide by" not in october["reason"]
    assert pick(card, "sales", period_start="2026-10-01")["details"]["overflowed"] == ["total"]
    assert pick(card, "aov", period_start="2026-10-01")["details"]["overflowed"] == ["numerator"]
    assert "NaN" not in card.to_json() and "Infinity" not in card.to_json()


# -- item 4: the event names metrics read -----------------------------------------------------------------------

CLICKSTREAM = [
    # A clickstream in GA4's names: page_view and purchase, never pageview or checkout.
    {"user_id": "a", "ts": "2026-10-05T10:00:00Z", "event": "page_view", "page": "/"},
    {"user_id": "a", "ts": "2026-10-05T10:01:00Z", "event": "add_to_cart", "page": "/p"},
    {"user_id": "a", "ts": "2026-10-05T10:02:00Z", "event": "purchase", "page": "/p"},
    {"user_id": "b", "ts": "2026-10-06T10:00:00Z", "event": "page_view", "page": "/"},
    {"user_id": "b", "ts": "2026-10-06T10:01:00Z", "event": "add_to_cart", "page": "/p"},
]


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_cart_abandonment_without_any_checkout_event_is_unavailable_naming_the_event_and_the_mapping(run_case):
    # Before: both carts counted abandoned (no `checkout` event) → 100 %. Now unavailable, with the fix spelled out.
    card = run_case({"events": CLICKSTREAM}, period="all", metrics=["cart_abandonment_rate", "pageviews"])
    cart = pick(card, "cart_abandonment_rate")
    assert cart["status"] == "unavailable" and cart["value"] is None
    assert cart["reason"].startswith("no `checkout` event in events")
    assert "the data has `purchase`" in cart["reason"] and "--event-name checkout=purchase" in cart["reason"]
    assert cart["details"]["events"] == {"add_to_cart": "add_to_cart", "checkout": "checkout"}
    pageviews = pick(card, "pageviews")
    assert pageviews["status"] == "unavailable" and "--event-name pageview=page_view" in pageviews["reason"]


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_event_name_mapping_reads_the_datas_names(run_case):
    # checkout=purchase, pageview=page_view. Sessions: a (10:00-10:02) and b (10:00-10:01), one each.
    # Carts: both sessions have add_to_cart; a's has purchase → 1 of 2 abandoned = 50 %.
    # Pageviews: one page_view each → 2. Bounce (one pageview, no other event): both sessions have an
    # add_to_cart, so neither bounced → 0 %.
    card = run_case({"events": CLICKSTREAM}, period="all", metrics=["cart_abandonment_rate", "pageviews", "bounce_rate"],
                    event_names={"checkout": "purchase", "pageview": "page_view"})
    cart = pick(card, "cart_abandonment_rate")
    assert cart["value"] == pytest.approx(50.0)
    assert cart["details"]["events"] == {"add_to_cart": "add_to_cart", "checkout": "purchase"}
    assert pick(card, "pageviews")["value"] == pytest.approx(2)
    assert pick(card, "bounce_rate")["value"] == pytest.approx(0.0)


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_a_carts_table_is_read_without_requiring_cart_events(run_case):
    # With a carts table the events are not read: c1 checked out, c2 not → 50 %, whatever the events say.
    carts = [{"cart_id": "c1", "user_id": "a", "created_at": "2026-10-05T10:00:00Z", "checked_out_at": "2026-10-05T10:05:00Z"},
             {"cart_id": "c2", "user_id": "b", "created_at": "2026-10-06T10:00:00Z", "checked_out_at": ""}]
    card = run_case({"events": CLICKSTREAM, "carts": carts}, period="all", metrics=["cart_abandonment_rate"])
    cart = pick(card, "cart_abandonment_rate")
    assert cart["value"] == pytest.approx(50.0) and cart["details"]["from"] == "carts"
    assert "events" not in cart["details"]


def test_event_name_option_refuses_unknown_or_clashing_names():
    from cxbench.core.errors import UsageError
    from cxbench.core.options import make_options

    assert make_options(event_names=["checkout=purchase"]).event_name("checkout") == "purchase"
    with pytest.raises(UsageError, match="'buy' is no event cxbench reads"):
        make_options(event_names=["buy=purchase"])
    with pytest.raises(UsageError, match="add_to_cart and checkout would both read"):
        make_options(event_names={"checkout": "add_to_cart"})


# -- item 5: periods the data covers only in part ---------------------------------------------------------------

PARTIAL_WEEK_EVENTS = [
    {"user_id": "a", "ts": "2026-10-01T10:00:00Z", "event": "pageview", "page": "/"},  # Thursday
    {"user_id": "b", "ts": "2026-10-02T10:00:00Z", "event": "pageview", "page": "/"},
    {"user_id": "a", "ts": "2026-10-06T10:00:00Z", "event": "pageview", "page": "/"},
    {"user_id": "a", "ts": "2026-10-14T10:00:00Z", "event": "pageview", "page": "/"},  # Wednesday, the last day
]


def test_dau_of_first_and_last_partial_weeks_is_averaged_over_the_days_the_data_covers(run_case):
    # The data covers Thu 1 Oct to Wed 14 Oct 2026. Week of Mon 28 Sep: covered 1-4 Oct (4 days), user-days
    # a and b → DAU 2/4 = 0.5 (not 2/7). Week of 5 Oct: whole, a on the 6th → 1/7. Week of 12 Oct: covered
    # 12-14 Oct (3 days), a on the 14th → 1/3. Pageviews stay totals (2, 1, 1), the partial weeks marked.
    card = run_case({"events": PARTIAL_WEEK_EVENTS}, period="week", metrics=["dau"])
    first = pick(card, "dau", period_start="2026-09-28")
    assert first["value"] == pytest.approx(0.5)
    assert (first["period_start"], first["period_end"]) == ("2026-09-28", "2026-10-04")  # the calendar week
    assert first["partial"] is True
    assert {k: first["details"][k] for k in ("covered_from", "covered_to", "covered_days")} == {
        "covered_from": "2026-10-01", "covered_to": "2026-10-04", "covered_days": 4}
    middle = pick(card, "dau", period_start="2026-10-05")
    assert middle["value"] == pytest.approx(1 / 7, abs=1e-6) and "partial" not in middle
    last = pick(card, "dau", period_start="2026-10-12")
    assert last["value"] == pytest.approx(1 / 3, abs=1e-6) and last["partial"] is True
    assert last["details"]["covered_days"] == 3


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_a_period_after_the_data_is_partial_with_no_covered_day(run_case):
    # --to 2026-10-25 goes a week past the data (last event 14 Oct): the week of 19 Oct holds no covered day:
    # partial, covered_days 0, DAU 0 (no user-day over its calendar 7 days). Totals stay totals: pageviews of
    # the week of 12 Oct = 1 (a on the 14th), marked partial.
    card = run_case({"events": PARTIAL_WEEK_EVENTS}, period="week", to="2026-10-25", metrics=["dau", "pageviews"])
    after = pick(card, "dau", period_start="2026-10-19")
    assert after["value"] == pytest.approx(0.0)
    assert after["partial"] is True and after["details"]["covered_days"] == 0
    pageviews = pick(card, "pageviews", period_start="2026-10-12")
    assert pageviews["value"] == pytest.approx(1) and pageviews["partial"] is True
