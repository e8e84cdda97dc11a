"""Shopify's tables as Fivetran loads them (tests/data/adapters/shopify_fivetran, its README citing the schema):
the same shop as the orders-export fixture, so the same hand-worked sales and AOV."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import cxbench
from cxbench.adapters import open_export
from cxbench.core.validation import validate

FOLDER = Path(__file__).parent / "data" / "adapters" / "shopify_fivetran"


def test_fivetran_orders_lines_and_refunds_give_net_sales_and_aov():
    dataset = open_export(FOLDER, from_format="shopify_fivetran")
    result = validate(dataset, as_of=dt.date(2026, 10, 30))
    orders = dataset.con.to_pyarrow(result.tables["orders"].expr.order_by("ts")).to_pylist()
    # #1001 has no subtotal_price: its lines 2 x 20.00 + (40.00 - 10.00 discount) + 20.00 = 90.00. Its refund 9001
    # of the teapot line (order_line_refund subtotal 30.00) is dated when it was made, 2026-10-09 15:00.
    assert [(o["order_id"], o["customer_id"], o["amount"], o["kind"]) for o in orders] == [
        ("#1001", "7001", 90.0, "purchase"), ("#1002", "7002", 45.0, "purchase"),
        ("#1001 refund 9001", "7001", -30.0, "refund"), ("#1003", "7001", 60.0, "purchase")]
    assert orders[2]["ts"] == dt.datetime(2026, 10, 9, 15)
    # #1004 is a test order, #1005 was cancelled; customer 7003 was deleted.
    assert sorted((r.table, r.row, r.reason) for r in result.rejected) == [
        ("customers", 3, "deleted in Shopify (_fivetran_deleted)"), ("orders", 4, "a test order"),
        ("orders", 5, "cancelled at 2026-10-22 08:00:00: not a sale")]
    card = cxbench.compute(FOLDER, from_format="shopify_fivetran", metrics=["sales", "aov", "repeat_purchase_rate"],
                           period="all", as_of="2026-10-30")
    values = {r["id"]: r["value"] for r in card.records if not r.to_dict().get("dimension")}
    # Net sales 90 + 45 + 60 - 30 = 165.00 over 3 orders: AOV 55.00 (as the orders export gives). Ana (7001) bought
    # twice, Bob (7002) once: repeat 1 / 2.
    assert values == {"sales": pytest.approx(165.0), "aov": pytest.approx(55.0),
                      "repeat_purchase_rate": pytest.approx(50.0)}


def test_refund_of_a_cancelled_order_is_not_subtracted_from_sales(tmp_path):
    # Cancelling a paid order in Shopify refunds it: #1005 (cancelled, so not a sale) gets refund 9002 of its 25.00. It
    # used to count as -25.00 against sales that never included the order.
    for file in FOLDER.glob("*.csv"):
        (tmp_path / file.name).write_bytes(file.read_bytes())
    with (tmp_path / "refund.csv").open("a", encoding="utf-8") as out:
        out.write("9002,5005,2026-10-22 08:00:00,2026-10-22 08:00:00,Cancelled,false,,2026-10-29 00:00:00\n")
    with (tmp_path / "order_line_refund.csv").open("a", encoding="utf-8") as out:
        out.write("9102,9002,8006,1,25.00,0.00,cancel,,2026-10-29 00:00:00\n")
    card = cxbench.compute(tmp_path, from_format="shopify_fivetran", metrics=["sales"], period="all",
                           as_of="2026-10-30")
    # Still 90 + 45 + 60 - 30 = 165.00.
    assert [r["value"] for r in card.records if not r.to_dict().get("dimension")] == [pytest.approx(165.0)]
    assert [(r.row, r.reason) for r in card.validation.rejected if r.reason.startswith("refund")] == [
        (2, "refund of an order that is not counted as a sale (cancelled at 2026-10-22 08:00:00: not a sale)")]
