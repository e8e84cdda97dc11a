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
    # Sessions: u1 and u2 one each → 2. DAU: user-days u1 (27th) and u2 (31st) = 2 over 5 days → 0.4.
    card = run_case({"events": YEAR_9999_EVENTS}, period="week", metrics=["sessions", "dau"], as_of="9999-12-31")
    sessions = pick(card, "sessions")
    assert (sessions["period_start"], sessions["period_end"]) == ("9999-12-27", "9999-12-31")
    assert sessions["value"] == pytest.approx(2)
    assert pick(card, "dau")["value"] == pytest.approx(0.4)


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_to_9999_12_31_and_far_future_as_of_do_not_crash(run_case):
    # --from 9999-12-01 --to 9999-12-31 by month, and --period year to 9999-12-31: the same 2 sessions.
    # DAU by month: 2 user-days over December's 31 days = 0.064516; by year over 365 days (9999 is no leap
    # year: 9999 % 4 == 3) = 0.005479.
    month = run_case({"events": YEAR_9999_EVENTS}, period="month", start="9999-12-01", end="9999-12-31",
                     metrics=["sessions", "dau"], as_of="9999-12-31")
    assert pick(month, "sessions")["value"] == pytest.approx(2)
    assert pick(month, "dau")["value"] == pytest.approx(2 / 31)
    year = run_case({"events": YEAR_9999_EVENTS}, period="year", end="9999-12-31", metrics=["dau"],
                    as_of="9999-12-31")
    record = pick(year, "dau")
    assert (record["period_start"], record["period_end"]) == ("9999-01-01", "9999-12-31")
    assert record["value"] == pytest.approx(2 / 365)
