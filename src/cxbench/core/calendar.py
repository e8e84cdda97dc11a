"""The reporting calendar: which period holds a day, where a period ends, and the instant after a day.

Python's dates end on 9999-12-31, and so do Spark's timestamps: a period holding that day ends there (a week
starting on Monday 9999-12-27 has five days), and the instant after it, which the engine filters with
`ts < instant`, is no timestamp. `before_day_after` then bounds by the last microsecond instead, and tables of
period ends hold `LAST_INSTANT` (a row at 9999-12-31T23:59:59.999999 itself is the one instant they miss).
"""

from __future__ import annotations

import calendar
import datetime as dt

import ibis
import ibis.expr.types as ir

from cxbench.core.options import Period

#: the last instant Python, pandas' microsecond timestamps and Spark can hold: 9999-12-31T23:59:59.999999
LAST_INSTANT = dt.datetime.max


def next_day(day: dt.date) -> dt.date | None:
    """The day after `day`, or None after 9999-12-31 (the end of the calendar)."""
    return None if day >= dt.date.max else day + dt.timedelta(days=1)


def previous_day(day: dt.date) -> dt.date | None:
    """The day before `day`, or None before 0001-01-01."""
    return None if day <= dt.date.min else day - dt.timedelta(days=1)


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def instant_after(day: dt.date) -> dt.datetime:
    """The midnight that ends `day` (an exclusive end); `LAST_INSTANT` for 9999-12-31."""
    following = next_day(day)
    return LAST_INSTANT if following is None else midnight(following)


def before_day_after(ts: ir.TimestampValue, day: dt.date) -> ir.BooleanValue:
    """Whether `ts` falls on or before `day`: `ts < midnight after day`, or `ts <= LAST_INSTANT` on 9999-12-31."""
    following = next_day(day)
    if following is None:
        return ts <= ibis.literal(LAST_INSTANT, type="timestamp")
    return ts < ibis.literal(midnight(following), type="timestamp")


def bucket_start(day: dt.date, period: Period) -> dt.date:
    """The first day of the period holding `day` (weeks start on Monday, as in ISO 8601)."""
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        # 0001-01-01 is a Monday, so every week's Monday exists.
        return day - dt.timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    if period is Period.QUARTER:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if period is Period.YEAR:
        return dt.date(day.year, 1, 1)
    raise ValueError(period)


def bucket_end(start: dt.date, period: Period) -> dt.date:
    """The last day of the period starting on `start` (9999-12-31 at the latest)."""
    if period is Period.DAY:
        return start
    if period is Period.WEEK:
        return start + dt.timedelta(days=6) if start <= dt.date.max - dt.timedelta(days=6) else dt.date.max
    months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[period]
    # The last month of the period and its last day, without stepping into the month after (year 10000).
    last_month_index = start.month - 1 + months - 1
    year, month = start.year + last_month_index // 12, last_month_index % 12 + 1
    return dt.date(year, month, calendar.monthrange(year, month)[1])
