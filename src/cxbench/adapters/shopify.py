"""Shopify's orders export (Admin -> Orders -> Export, "CSV for Excel, Numbers, or other spreadsheet programs")
-> orders (with refunds) and customers.

Format: https://help.shopify.com/en/manual/fulfillment/managing-orders/exporting-orders: one row per line item;
the order's fields (`Financial Status`, `Subtotal`, `Total`, `Created at`, `Refunded Amount`, `Cancelled at`...)
are on its first row only, the later rows repeat `Name` (the order number, `#1001`) with the line item's fields.
A large export is split into several files (orders_export_1.csv, orders_export_2.csv). The customer is the
e-mail address (the export has no customer id; fivetran/dbt_shopify also keys customers by email across
accounts). The order amount is `Subtotal` (line items after discounts, before shipping and taxes), the base of
Shopify's own average order value and net sales
(https://help.shopify.com/en/manual/reports-and-analytics/shopify-reports/report-types/default-reports/sales-reports).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cxbench.adapters.base import Adapter, ExportFile, Inputs, Output, column, first_reason, number, quoted, text
from cxbench.core.validation import parse_timestamp

#: Financial statuses of orders that took money (https://shopify.dev/docs/api/admin-rest/latest/resources/order).
PAID = ("paid", "partially_paid", "partially_refunded", "refunded")


def _first_rows(inputs: Inputs) -> ir.Table:
    """Each order's first row (its order fields), with the e-mail found on any of its rows."""
    t = inputs["orders"]
    t = t.mutate(_order=text(column(t, "name")), _email=text(column(t, "email")).lower())
    t = t.mutate(_position=ibis.row_number().over(group_by=t._order, order_by=[t._file, t._row]),
                 _any_email=t._email.max().over(group_by=t._order))
    return t.filter((t._position == 0) | t._order.isnull())


def _created(t: ir.Table) -> ir.TimestampValue:
    # "2026-10-03 14:05:22 +0200": the shop's time and its offset.
    return parse_timestamp(text(column(t, "created at")))


def _orders(inputs: Inputs) -> ir.Table:
    t = _first_rows(inputs)
    status = text(column(t, "financial status")).lower()
    cancelled = text(column(t, "cancelled at"))
    subtotal = column(t, "subtotal")
    refunded = number(column(t, "refunded amount")).fill_null(0)
    customer = ibis.coalesce(t._email, t._any_email)
    reasons = first_reason(
        (t._order.isnull(), "no Name (the order number)"),
        (cancelled.notnull(), "cancelled at " + cancelled.fill_null("") + ": not a sale"),
        (~status.isin(PAID), "financial status " + quoted(status.fill_null("(empty)")) + ": no payment taken"),
        (customer.isnull(), "no Email: the order cannot be tied to a customer (a guest or POS sale)"),
        (number(subtotal).isnull(), "Subtotal " + quoted(subtotal) + " is not a number"),
    )
    base = dict(_row=t._row, _file=t._file, customer_id=customer, ts=_created(t),
                channel=text(column(t, "source")))
    sales = t.select(**base, order_id=t._order, amount=number(subtotal), kind=ibis.literal("purchase"),
                     _aside=reasons)
    # A refund is its own row, dated at the order: the export gives the refunded total, not when it was refunded.
    returned = t.filter(refunded > 0)
    refunds = returned.select(_row=returned._row, _file=returned._file,
                              customer_id=ibis.coalesce(returned._email, returned._any_email), ts=_created(returned),
                              channel=text(column(returned, "source")), order_id=returned._order + " refund",
                              amount=-number(column(returned, "refunded amount")), kind=ibis.literal("refund"),
                              _aside=first_reason(
                                  (text(column(returned, "cancelled at")).notnull(),
                                   ibis.literal("refund of a cancelled order")),
                                  (ibis.coalesce(returned._email, returned._any_email).isnull(),
                                   ibis.literal("no Email: the refund cannot be tied to a customer"))))
    return ibis.union(sales, refunds.select(*sales.columns))


def _customers(inputs: Inputs) -> ir.Table:
    t = _first_rows(inputs)
    t = t.mutate(_customer=ibis.coalesce(t._email, t._any_email), _created=_created(t))
    t = t.filter(t._customer.notnull() & text(column(t, "cancelled at")).isnull())
    t = t.mutate(_nth=ibis.row_number().over(group_by=t._customer, order_by=[t._created, t._file, t._row]))
    first = t.filter(t._nth == 0)
    return first.select(_row=first._row, _file=first._file, customer_id=first._customer, signup_at=first._created,
                        acquisition_channel=text(column(first, "source")))


ADAPTER = Adapter(
    name="shopify",
    title="Shopify orders export (CSV)",
    reference="https://help.shopify.com/en/manual/fulfillment/managing-orders/exporting-orders",
    files=(ExportFile("orders", ("orders_export*.csv", "orders_export*.csv.gz", "orders.csv"),
                      "Shopify orders export (orders_export_1.csv)",
                      columns=("name", "created at", "subtotal", "financial status")),),
    outputs=(
        Output("orders", ("orders",), _orders, (
            ("order_id", "Name (#1001); a refund is `#1001 refund`"),
            ("customer_id", "Email, lower-cased (from any row of the order)"),
            ("ts", "Created at (with the shop's UTC offset)"),
            ("amount", "Subtotal (after discounts, before shipping and taxes); a refund: minus Refunded Amount"),
            ("kind", "purchase; refund for the Refunded Amount of a refunded order"),
            ("channel", "Source (web, pos, ...)"),
        )),
        Output("customers", ("orders",), _customers, (
            ("customer_id", "Email, lower-cased"),
            ("signup_at", "Created at of the customer's first order"),
            ("acquisition_channel", "Source of the first order"),
        )),
    ),
)
