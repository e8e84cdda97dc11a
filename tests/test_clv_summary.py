"""The per-customer summary behind `cxbench clv`, computed in the engine: DuckDB and Spark, worked by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import write_tables
from cxbench.core.sources import open_source
from cxbench.core.validation import validate
from cxbench.lifetime_value import CustomerSummary, make_settings, summarise

ORDERS = [
    # Customer a: two orders on 1 January are one purchase of 15; the refund is no purchase.
    {"order_id": "1", "customer_id": "a", "ts": "2026-01-01T09:00:00Z", "amount": 10, "kind": "purchase"},
    {"order_id": "2", "customer_id": "a", "ts": "2026-01-01T18:30:00Z", "amount": 5, "kind": "upsell"},
    {"order_id": "3", "customer_id": "a", "ts": "2026-01-08T12:00:00Z", "amount": 20, "kind": ""},
    {"order_id": "4", "customer_id": "a", "ts": "2026-01-15T12:00:00Z", "amount": -20, "kind": "refund"},
    {"order_id": "5", "customer_id": "a", "ts": "2026-01-22T23:59:59Z", "amount": 30, "kind": "purchase"},
    # After the calibration end: two orders on one day are one holdout purchase.
    {"order_id": "6", "customer_id": "a", "ts": "2026-02-05T08:00:00Z", "amount": 12, "kind": "purchase"},
    {"order_id": "7", "customer_id": "a", "ts": "2026-02-05T09:00:00Z", "amount": 8, "kind": "purchase"},
    # Customer b: one purchase, on the calibration day itself (an offset that is still 31 January in UTC).
    {"order_id": "8", "customer_id": "b", "ts": "2026-01-31T23:30:00-00:00", "amount": 40, "kind": "purchase"},
    # Customer c buys first after the calibration end: a new customer, not forecast.
    {"order_id": "9", "customer_id": "c", "ts": "2026-02-10T10:00:00Z", "amount": 25, "kind": "purchase"},
    # A subscription's monthly charge is contractual revenue, not a BG/NBD purchase.
    {"order_id": "12", "customer_id": "a", "ts": "2026-01-25T10:00:00Z", "amount": 99, "kind": "recurring"},
    {"order_id": "13", "customer_id": "e", "ts": "2026-01-25T10:00:00Z", "amount": 99, "kind": "recurring"},
    # Customer d only has a refund: no purchase at all.
    {"order_id": "10", "customer_id": "d", "ts": "2026-01-03T10:00:00Z", "amount": -5, "kind": "refund"},
    # A negative amount that is not a refund breaks the contract: set aside by validation, never counted.
    {"order_id": "11", "customer_id": "a", "ts": "2026-01-29T10:00:00Z", "amount": -50, "kind": "purchase"},
]


def _summary(tmp_path: Path, backend: Any, unit: str) -> CustomerSummary:
    folder = write_tables(tmp_path / "data", {"orders": ORDERS})
    validation = validate(open_source(folder, backend), only={"orders"})
    assert validation.reports["orders"].rejected == 1
    return summarise(validation.tables["orders"].expr._find_backend(), validation.tables["orders"].expr,
                     make_settings("2026-01-31", unit))


def test_summary_counts_same_day_orders_once_and_leaves_out_refunds_and_subscription_charges(tmp_path: Path, backend: Any):
    s = _summary(tmp_path, backend, "day")
    assert s.customer_ids == ["a", "b"]
    # a: purchase days 1, 8 and 22 January → 2 repeat purchases; last − first = 21 days; 31 Jan − 1 Jan = 30 days;
    # repeat transactions 20 and 30 → mean 25 (the first day's 15 is left out).
    # b: one purchase on 31 January → 0 repeats, recency 0, T 0, monetary value 0.
    np.testing.assert_array_equal(s.frequency, [2, 0])
    np.testing.assert_array_equal(s.recency, [21, 0])
    np.testing.assert_array_equal(s.T, [30, 0])
    np.testing.assert_array_equal(s.monetary_value, [25, 0])
    # Holdout: a's two orders on 5 February are one purchase; c is new after the calibration end.
    np.testing.assert_array_equal(s.holdout_purchases, [1, 0])
    assert s.holdout_end == dt.date(2026, 2, 10)
    assert s.new_customers == 1


def test_summary_in_weeks_divides_days_by_seven(tmp_path: Path):
    s = _summary(tmp_path, "duckdb", "week")
    np.testing.assert_allclose(s.recency, [3, 0])
    np.testing.assert_allclose(s.T, [30 / 7, 0])


def test_summary_before_any_order_is_empty(tmp_path: Path):
    folder = write_tables(tmp_path / "data", {"orders": ORDERS})
    validation = validate(open_source(folder), only={"orders"})
    expr = validation.tables["orders"].expr
    s = summarise(expr._find_backend(), expr, make_settings("2025-12-31"))
    assert len(s) == 0 and s.new_customers == 3  # a, b and c all buy first after 31 December


@pytest.mark.parametrize("value", ["2026-02-30", "31/01/2026"])
def test_calibration_end_must_be_a_date(value: str):
    from cxbench.core.errors import UsageError

    with pytest.raises(UsageError, match="--calibration-end .* is not a date; write it as YYYY-MM-DD"):
        make_settings(value)
