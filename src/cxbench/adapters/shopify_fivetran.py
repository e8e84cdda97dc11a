"""Shopify as Fivetran loads it into a warehouse (the `order`, `order_line`, `customer`, `refund` and
`order_line_refund` tables, exported as CSV, JSON or Parquet) -> orders (with refunds) and customers.

Format: Fivetran's Shopify connector schema (https://fivetran.com/docs/connectors/applications/shopify), the columns
fivetran/dbt_shopify_source stages (macros/get_order_columns.sql, get_refund_columns.sql,
get_order_line_refund_columns.sql, get_customer_columns.sql). As in the orders-export adapter, an order's amount is
`subtotal_price` (line items after discounts, before shipping and taxes; Σ price × quantity − total_discount of its
`order_line` rows when the column is empty). A refund is its own row dated when it was made (`refund.created_at`), its
amount the refunded lines' `subtotal` summed, as fivetran/dbt_shopify does (models/intermediate/
shopify__orders__order_refunds.sql). The customer is `customer_id`, the `customer` table's `id`.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cxbench.adapters.base import (
    Adapter,
    ExportFile,
    Inputs,
    Output,
    column,
    first_reason,
    instant,
    named,
    number,
    quoted,
    text,
    truthy,
)
from cxbench.adapters.shopify import PAID


def _order_amounts(inputs: Inputs, t: ir.Table) -> ir.Table:
    """The order table with `_amount`: subtotal_price, else its lines' price × quantity − total_discount."""
    if "order_line" not in inputs:
        return t.mutate(_amount=number(column(t, "subtotal_price")))
    lines = inputs["order_line"]
    lines = lines.filter(~truthy(column(lines, "_fivetran_deleted")))
    lines = lines.mutate(_order=text(lines.order_id),
                         _value=number(column(lines, "price")) * number(column(lines, "quantity"))
                         - number(column(lines, "total_discount")).fill_null(0))
    sums = lines.group_by("_order").aggregate(_lines=lines._value.sum())
    t = t.mutate(_order=text(t.id))
    joined = t.left_join(sums, t._order == sums._order)
    return joined.mutate(_amount=ibis.coalesce(number(column(joined, "subtotal_price")), joined._lines))


def _not_a_sale(t: ir.Table) -> ir.StringValue:
    """Why an order row is not a sale (null when it is one)."""
    status = text(column(t, "financial_status")).lower()
    cancelled = text(column(t, "cancelled_at"))
    return first_reason(
        (truthy(column(t, "_fivetran_deleted")), ibis.literal("deleted in Shopify (_fivetran_deleted)")),
        (truthy(column(t, "test")), ibis.literal("a test order")),
        (cancelled.notnull(), "cancelled at " + cancelled.fill_null("") + ": not a sale"),
        (~status.isin(PAID), "financial_status " + quoted(status.fill_null("(empty)")) + ": no payment taken"),
    )


def _orders(inputs: Inputs) -> ir.Table:
    t = _order_amounts(inputs, inputs["order"])
    customer = text(column(t, "customer_id"))
    sales = t.select(
        _row=t._row, _file=t._file,
        order_id=ibis.coalesce(text(column(t, "name")), text(t.id)),
        customer_id=customer,
        ts=instant(column(t, "created_at")),
        amount=t._amount,
        kind=ibis.literal("purchase"),
        channel=text(column(t, "source_name")),
        _aside=ibis.coalesce(_not_a_sale(t), first_reason(
            (customer.isnull(), ibis.literal("no customer_id: a guest order cannot be tied to a customer")))),
    )
    if "refund" not in inputs:
        return sales
    refunds = inputs["refund"]
    refunds = refunds.mutate(_refund=text(refunds.id), _order=text(refunds.order_id))
    if "order_line_refund" in inputs:
        lines = inputs["order_line_refund"]
        lines = lines.filter(~truthy(column(lines, "_fivetran_deleted")))
        lines = lines.mutate(_refund=text(lines.refund_id), _value=number(column(lines, "subtotal")))
        sums = lines.group_by("_refund").aggregate(_refunded=lines._value.sum())
        refunds = refunds.left_join(sums, refunds._refund == sums._refund).drop("_refund_right")
    else:
        refunds = refunds.mutate(_refunded=ibis.null("float64"))
    orders = inputs["order"]
    orders = orders.select(_order_key=text(orders.id), _name=text(column(orders, "name")),
                           _customer=text(column(orders, "customer_id")), _channel=text(column(orders, "source_name")),
                           _test=truthy(column(orders, "test")), _not_sale=_not_a_sale(orders))
    r = refunds.left_join(orders, refunds._order == orders._order_key)
    returned = r.select(
        _row=r._row, _file=r._file,
        order_id=ibis.coalesce(r._name, r._order) + " refund " + r._refund,
        customer_id=r._customer,
        ts=instant(column(r, "created_at")),
        amount=-r._refunded,
        kind=ibis.literal("refund"),
        channel=r._channel,
        _aside=first_reason(
            (r._order_key.isnull(), "order " + quoted(r._order) + " is not in the order table"),
            (truthy(column(r, "_fivetran_deleted")), ibis.literal("deleted in Shopify (_fivetran_deleted)")),
            (r._test, ibis.literal("refund of a test order")),
            # Cancelling a paid order refunds it: with the sale not counted, the refund must not be either.
            (r._not_sale.notnull(), "refund of an order that is not counted as a sale (" + r._not_sale.fill_null("")
             + ")"),
            (r._refunded.isnull() | (r._refunded == 0),
             ibis.literal("no refunded line in order_line_refund: the refund's amount is unknown")),
            (r._customer.isnull(), ibis.literal("no customer_id: the refund cannot be tied to a customer")),
        ),
    )
    return ibis.union(sales, returned.select(*sales.columns))


def _customers(inputs: Inputs) -> ir.Table:
    t = inputs["customer"]
    return t.select(
        _row=t._row, _file=t._file,
        customer_id=text(t.id),
        signup_at=instant(column(t, "created_at")),
        _aside=first_reason((truthy(column(t, "_fivetran_deleted")),
                             ibis.literal("deleted in Shopify (_fivetran_deleted)"))),
    )


ADAPTER = Adapter(
    name="shopify_fivetran",
    title="Shopify tables as Fivetran loads them",
    reference="https://fivetran.com/docs/connectors/applications/shopify",
    files=(
        ExportFile("order", named("order"), "Fivetran Shopify order table (order.csv)",
                   columns=("id", "created_at", "financial_status")),
        ExportFile("order_line", named("order_line"), "Fivetran Shopify order_line table", required=False,
                   columns=("order_id", "price", "quantity")),
        ExportFile("refund", named("refund"), "Fivetran Shopify refund table", required=False,
                   columns=("id", "order_id", "created_at")),
        ExportFile("order_line_refund", named("order_line_refund"), "Fivetran Shopify order_line_refund table",
                   required=False, columns=("refund_id", "subtotal")),
        ExportFile("customer", named("customer"), "Fivetran Shopify customer table", required=False,
                   columns=("id", "created_at")),
    ),
    outputs=(
        Output("orders", ("order",), _orders, (
            ("order_id", "name (#1001); a refund is `#1001 refund REFUND_ID`"),
            ("customer_id", "customer_id"),
            ("ts", "created_at; a refund: refund.created_at"),
            ("amount", "subtotal_price (else Σ order_line price × quantity − total_discount); a refund: minus Σ "
                       "order_line_refund.subtotal of the refund"),
            ("kind", "purchase; refund for each refund row"),
            ("channel", "source_name (web, pos, ...)"),
        ), optional=("order_line", "refund", "order_line_refund")),
        Output("customers", ("customer",), _customers, (
            ("customer_id", "id"),
            ("signup_at", "created_at"),
        )),
    ),
)
