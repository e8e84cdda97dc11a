"""Stripe: customers, subscriptions (with their items, prices and coupons), charges and refunds.

Read as the API objects exported to JSON (lists of objects, or `{"object": "list", "data": [...]}` pages) or CSV,
and as the flat tables of the Fivetran/Airbyte connectors (`customer_id`, `subscription_id`, `price_id` for the
API's `customer`, `subscription`, `price`; Fivetran's `subscription_history` keeps only `_fivetran_active` rows).
Objects: https://docs.stripe.com/api/subscriptions/object, /api/subscription_items/object, /api/prices/object,
/api/coupons/object, /api/charges/object, /api/refunds/object, /api/customers/object. Amounts are in the currency's
smallest unit (https://docs.stripe.com/currencies#zero-decimal). Since API version 2025-03-31 (basil) the billing
period (`current_period_start`/`_end`) is on the subscription item, before it on the subscription
(https://docs.stripe.com/changelog/basil/2025-03-31/deprecate-subscription-current-period-start-and-end): both are
read. MRR follows fivetran/dbt_stripe and ChartMogul: each item's price x quantity per month (a yearly price / 12,
a weekly one x 52 / 12), less a percent coupon, or an amount coupon per billing period; `once` coupons do not
lower MRR.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from cxbench.adapters.base import (
    Adapter,
    ExportFile,
    Inputs,
    Output,
    field,
    first_reason,
    ident,
    from_minor_units,
    instant,
    named,
    number,
    quoted,
    text,
    truthy,
)
from cxbench.core.errors import InputError

#: Months per billing interval, per interval_count of 1 (Stripe's `recurring.interval`).
MONTHS = {"day": 12 / 365, "week": 12 / 52, "month": 1.0, "year": 12.0}
LIST = ("data",)


def _main_currency(inputs: Inputs) -> str | None:
    """The currency most amounts are in: cxbench sums one currency per dataset (the others are set aside)."""
    counts: dict[str, int] = {}
    for key in ("price", "charge", "invoice", "subscription"):
        if key in inputs:
            t = inputs[key]
            code = text(field(t, "currency")).lower()
            found = inputs.con.execute(t.select(code=code).group_by("code").aggregate(n=lambda g: g.count()))
            for code_value, n in zip(found["code"], found["n"], strict=True):
                if isinstance(code_value, str):
                    counts[code_value] = counts.get(code_value, 0) + int(n)
    return max(sorted(counts), key=counts.__getitem__) if counts else None


def _other_currency(code: ir.StringValue, main: str | None) -> tuple[ir.BooleanValue, ir.StringValue]:
    if main is None:
        return ibis.literal(False), ibis.literal("")
    return (code.notnull() & (code != main),
            "currency " + code + f" is not {main}, the currency of most amounts: cxbench sums one currency; export "
            "the other currency separately")


def _customers(inputs: Inputs) -> ir.Table:
    t = inputs["customer"]
    return t.select(
        _row=t._row, _file=t._file,
        customer_id=ident(t, "id"),
        signup_at=instant(field(t, "created")),
        _aside=first_reason((truthy(field(t, "deleted")), "a deleted customer")),
    )


def _subscriptions(inputs: Inputs) -> ir.Table:
    main = _main_currency(inputs)
    subs = inputs["subscription"]
    if "subscription_item" in inputs:
        items = inputs["subscription_item"]
        items = items.mutate(_sub=ident(items, "subscription", "subscription_id"))
    else:
        # A subscription object from the API carries its items (`items.data`), each with its price expanded.
        embedded = field(subs, "items.data")
        if not isinstance(embedded.type(), dt.Array):
            embedded = ibis.literal([], type="array<struct<id: string>>")
        items = subs.select(_sub=ident(subs, "id"), _item=embedded).unnest("_item").unpack("_item")

    def price_fields(t: ir.Table, prefix: str) -> dict[str, ir.Value]:
        return {
            "_unit": number(field(t, f"{prefix}unit_amount", f"{prefix}amount")),
            "_currency": text(field(t, f"{prefix}currency")).lower(),
            "_interval": text(field(t, f"{prefix}recurring.interval", f"{prefix}recurring_interval",
                                    f"{prefix}interval")).lower(),
            "_count": number(field(t, f"{prefix}recurring.interval_count", f"{prefix}recurring_interval_count",
                                   f"{prefix}interval_count")),
            "_nickname": text(field(t, f"{prefix}nickname")),
        }

    item = items.select(
        "_sub",
        _price_id=ident(items, "price", "price_id", "plan", "plan_id"),
        _quantity=number(field(items, "quantity")),
        _item_period_end=instant(field(items, "current_period_end")),
        _deleted=truthy(field(items, "deleted")),
        **price_fields(items, "price."),  # an expanded price; null where the item names only its id
    )
    item = item.filter(~item._deleted)
    if "price" in inputs:
        price = inputs["price"]
        prices = price.select(_pid=ident(price, "id"), **{f"_f{k}": v for k, v in price_fields(price, "").items()})
        joined = item.left_join(prices, item._price_id == prices._pid)
        joined = joined.mutate(**{k: ibis.coalesce(joined[k], joined[f"_f{k}"])
                                  for k in ("_unit", "_currency", "_interval", "_count", "_nickname")})
    else:
        joined = item
    months = ibis.cases(*((joined._interval == k, v) for k, v in MONTHS.items()), else_=ibis.null("float64"))
    months = months * joined._count.fill_null(1)
    joined = joined.mutate(
        _monthly=joined._unit * joined._quantity.fill_null(1) / months,
        _per_month=1 / months,  # billing periods per month, for amount coupons
        _problem=first_reason(
            (joined._unit.isnull(), "price " + joined._price_id.fill_null("(none)") + " of an item is neither expanded "
             "nor in the price file"),
            (months.isnull(), "price " + joined._price_id + " is not recurring (no recurring.interval)"),
        ),
    )
    per_sub = joined.group_by(_sub_id=joined._sub).aggregate(
        _monthly=joined._monthly.sum(),
        _per_month=joined._per_month.max(),
        _currency=joined._currency.max(),
        _plan=ibis.coalesce(joined._nickname, joined._price_id).min(),
        _problem=joined._problem.max(),
        _item_period_end=joined._item_period_end.max(),
    )
    s = subs.mutate(_id=ident(subs, "id"))
    if "_fivetran_active" in s.columns:
        s = s.mutate(_history=~truthy(s._fivetran_active))
    else:
        s = s.mutate(_history=ibis.literal(False))
    coupon_id = ident(s, "discount.coupon", "coupon_id", "discount_coupon_id", "coupon")
    s = s.mutate(_coupon=coupon_id)
    s = s.left_join(per_sub, s._id == per_sub._sub_id)
    if "coupon" in inputs:
        c = inputs["coupon"]
        coupons = c.select(
            _coupon_key=ident(c, "id"),
            _percent_off=number(field(c, "percent_off")),
            _amount_off=number(field(c, "amount_off")),
            _duration=text(field(c, "duration")).lower(),
        )
        s = s.left_join(coupons, s._coupon == coupons._coupon_key)
    else:
        s = s.mutate(_percent_off=ibis.null("float64"), _amount_off=ibis.null("float64"),
                     _duration=ibis.null("string"))
    applies = s._duration.fill_null("forever") != "once"
    discounted = ibis.cases(
        (applies & s._percent_off.notnull(), s._monthly * (1 - s._percent_off / 100)),
        (applies & s._amount_off.notnull(), s._monthly - s._amount_off * s._per_month),
        else_=s._monthly,
    )
    discounted = ibis.greatest(discounted, 0)
    status = text(field(s, "status")).lower()
    period_end = ibis.coalesce(s._item_period_end, instant(field(s, "current_period_end")))
    ended = ibis.coalesce(instant(field(s, "ended_at")), instant(field(s, "canceled_at")))
    end_at = ibis.cases((ended.notnull(), ended), (truthy(field(s, "cancel_at_period_end")), period_end),
                        else_=ibis.null("timestamp"))
    other, other_reason = _other_currency(s._currency, main)
    customer = ident(s, "customer", "customer_id")
    return s.select(
        _row=s._row, _file=s._file,
        subscription_id=s._id,
        customer_id=customer,
        start_at=ibis.coalesce(instant(field(s, "start_date")), instant(field(s, "created"))),
        end_at=end_at,
        mrr=from_minor_units(discounted, s._currency),
        plan=s._plan,
        _aside=first_reason(
            (s._history, "an earlier version of subscription " + s._id + " (Fivetran history; the active one is used)"),
            (status.isin(("incomplete", "incomplete_expired")),
             "status " + status + ": the first payment never succeeded, so it never was a subscription"),
            (status == "trialing", ibis.literal("status trialing: no revenue yet (it counts once the trial converts)")),
            (s._sub_id.isnull(), "subscription " + s._id.fill_null("") + " has no item in the subscription_item file"),
            (s._problem.notnull(), s._problem),
            (other, other_reason),
        ),
    )


def _invoice_orders(inputs: Inputs) -> ir.Table:
    """Paid invoices as orders, when the export has invoices but no charges (a charge file holds the same money)."""
    main = _main_currency(inputs)
    t = inputs["invoice"]
    currency = text(field(t, "currency")).lower()
    status = text(field(t, "status")).lower()
    paid = number(field(t, "amount_paid"))
    other, other_reason = _other_currency(currency, main)
    recurring = ident(t, "subscription", "subscription_id").notnull() | text(field(t, "billing_reason")).lower().startswith(
        "subscription")
    return t.select(
        _row=t._row, _file=t._file,
        order_id=ident(t, "id"),
        customer_id=ident(t, "customer", "customer_id"),
        ts=ibis.coalesce(instant(field(t, "status_transitions.paid_at", "paid_at")), instant(field(t, "created"))),
        amount=from_minor_units(paid, currency),
        kind=ibis.cases((recurring, ibis.literal("recurring")), else_=ibis.literal("purchase")),
        _aside=first_reason(
            (status != "paid", "invoice status " + quoted(status) + ": not paid"),
            (paid.fill_null(0) == 0, ibis.literal("an invoice of 0 paid (a trial or a full discount): not a sale")),
            (ident(t, "customer", "customer_id").isnull(), ibis.literal("an invoice without a customer")),
            (other, other_reason),
        ),
    )


def _orders(inputs: Inputs) -> ir.Table:
    if "charge" in inputs:
        return _charge_orders(inputs)
    if "invoice" in inputs:
        return _invoice_orders(inputs)
    raise InputError("a Stripe refunds file without charges: a refund is tied to its customer through its charge; "
                     "export the charges too")


def _charge_orders(inputs: Inputs) -> ir.Table:
    main = _main_currency(inputs)
    t = inputs["charge"]
    currency = text(field(t, "currency")).lower()
    status = text(field(t, "status")).lower()
    invoice = ident(t, "invoice", "invoice_id")
    other, other_reason = _other_currency(currency, main)
    amount = field(t, "amount")
    charges = t.select(
        _row=t._row, _file=t._file,
        order_id=ident(t, "id"),
        customer_id=ident(t, "customer", "customer_id"),
        ts=instant(field(t, "created")),
        amount=from_minor_units(amount, currency),
        kind=ibis.cases((invoice.notnull(), ibis.literal("recurring")), else_=ibis.literal("purchase")),
        _aside=first_reason(
            (status != "succeeded", "charge status " + quoted(status) + ": no money was taken"),
            (ident(t, "customer", "customer_id").isnull(), "a charge without a customer (a guest payment)"),
            (number(amount).isnull(), "amount " + quoted(amount) + " is not a number of minor units"),
            (other, other_reason),
        ),
    )
    if "refund" not in inputs:
        return charges
    r = inputs["refund"]
    paid = t.select(_charge=ident(t, "id"), _payer=ident(t, "customer", "customer_id"))
    r = r.mutate(_charge_of=ident(r, "charge", "charge_id"))
    r = r.left_join(paid, r._charge_of == paid._charge)
    r_currency = text(field(r, "currency")).lower()
    r_status = text(field(r, "status")).lower()
    r_other, r_reason = _other_currency(r_currency, main)
    refunds = r.select(
        _row=r._row, _file=r._file,
        order_id=ident(r, "id"),
        customer_id=r._payer,
        ts=instant(field(r, "created")),
        amount=-from_minor_units(field(r, "amount"), r_currency),
        kind=ibis.literal("refund"),
        _aside=first_reason(
            (r_status != "succeeded", "refund status " + quoted(r_status) + ": no money was returned"),
            (r._payer.isnull(), "refund of charge " + r._charge_of.fill_null("(none)") + ", which is not in the "
             "charge file (or has no customer)"),
            (r_other, r_reason),
        ),
    )
    return ibis.union(charges, refunds.select(*charges.columns))


ADAPTER = Adapter(
    name="stripe",
    title="Stripe (API objects, Fivetran/Airbyte tables)",
    reference="https://docs.stripe.com/api",
    files=(
        ExportFile("customer", named("customer", "customers"), "customers export", required=False, wrappers=LIST,
                   columns=("id",)),
        ExportFile("subscription", named("subscription", "subscriptions", "subscription_history"),
                   "subscriptions export", required=False, wrappers=LIST,
                   columns=("id", "status")),
        ExportFile("subscription_item", named("subscription_item", "subscription_items"),
                   "subscription items export", required=False, wrappers=LIST),
        ExportFile("price", named("price", "prices", "plan", "plans"), "prices (or plans) export", required=False,
                   wrappers=LIST, columns=("id",)),
        ExportFile("coupon", named("coupon", "coupons"), "coupons export", required=False, wrappers=LIST,
                   columns=("id",)),
        ExportFile("charge", named("charge", "charges"), "charges export", required=False, wrappers=LIST,
                   columns=("id", "amount", "currency", "created", "status")),
        ExportFile("invoice", named("invoice", "invoices"), "invoices export", required=False, wrappers=LIST,
                   columns=("id", "status", "amount_paid", "currency")),
        ExportFile("refund", named("refund", "refunds"), "refunds export", required=False, wrappers=LIST,
                   columns=("id", "amount", "created", "status")),
    ),
    outputs=(
        Output("customers", ("customer",), _customers, (
            ("customer_id", "id"),
            ("signup_at", "created (Unix seconds)"),
        )),
        Output("subscriptions", ("subscription",), _subscriptions, (
            ("subscription_id", "id"),
            ("customer_id", "customer (customer_id)"),
            ("start_at", "start_date, else created"),
            ("end_at", "ended_at, else canceled_at, else the billing period's end when cancel_at_period_end "
                       "(current_period_end of the items since API 2025-03-31, of the subscription before)"),
            ("mrr", "sum over the items of price.unit_amount x quantity / months per interval (year 12, week "
                    "12/52, day 12/365, times interval_count); less coupon percent_off, or amount_off per billing "
                    "period, unless the coupon's duration is once; in major units (zero-decimal currencies as "
                    "they are)"),
            ("plan", "the price's nickname, else its id (of several items, the first in alphabetical order)"),
        ), optional=("subscription_item", "price", "coupon")),
        Output("orders", (), _orders, (
            ("order_id", "charge id; refund id for refunds; invoice id when the export has invoices and no charges"),
            ("customer_id", "customer; for a refund, its charge's customer"),
            ("ts", "created; an invoice's status_transitions.paid_at"),
            ("amount", "amount in major units; a refund's amount negative; an invoice's amount_paid"),
            ("kind", "recurring for a charge with an invoice (an invoice with a subscription), purchase without; "
                     "refund for refunds"),
        ), optional=("charge", "refund", "invoice")),
    ),
)
