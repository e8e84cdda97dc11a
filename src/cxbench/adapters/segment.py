"""Segment and RudderStack warehouse tables: `pages`, `tracks` and `identifies` -> events.

Schema: https://segment.com/docs/connections/storage/warehouses/schema/ (`anonymous_id`, `user_id`, `timestamp`;
`pages.path`, `pages.url`; `tracks.event` (the name made table-safe: `checkout_started`) and `tracks.event_text`
(as sent: `Checkout Started`); `identifies` ties an `anonymous_id` to a `user_id`). RudderStack writes the same tables
(https://www.rudderstack.com/docs/destinations/warehouse-destinations/warehouse-schema/) and adds
`context_session_id`. Event names follow Segment's e-commerce spec
(https://segment.com/docs/connections/spec/ecommerce/v2/): `Checkout Started` is the contract's `checkout`.
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
    text,
    url_path,
)

#: Segment spec event names (as sent, compared lower-cased) renamed to the contract's; others keep `event`.
EVENT_NAMES = {"checkout started": "checkout"}


def _stitched(inputs: Inputs, t: ir.Table) -> ir.StringValue:
    """The visitor: the user_id, else the user_id `identifies` gives the anonymous_id, else the anonymous_id."""
    return ibis.coalesce(t._user, t._identified, t._anonymous)


def _with_ids(inputs: Inputs, t: ir.Table) -> ir.Table:
    t = t.mutate(_user=text(column(t, "user_id")), _anonymous=text(column(t, "anonymous_id")))
    if "identifies" not in inputs:
        return t.mutate(_identified=ibis.null("string"))
    i = inputs["identifies"]
    ids = i.select(_anon=text(column(i, "anonymous_id")), _uid=text(column(i, "user_id")),
                   _at=instant(column(i, "timestamp")))
    ids = ids.filter(ids._anon.notnull() & ids._uid.notnull())
    # An anonymous id identified twice (a shared computer) takes its latest user.
    ids = ids.mutate(_n=ibis.row_number().over(group_by=ids._anon, order_by=ids._at.desc()))
    latest = ids.filter(ids._n == 0).select(_anon="_anon", _identified="_uid")
    return t.left_join(latest, t._anonymous == latest._anon).drop("_anon")


def _rows(inputs: Inputs, key: str) -> ir.Table:
    t = _with_ids(inputs, inputs[key])
    visitor = _stitched(inputs, t)
    if key == "pages":
        event = ibis.literal("pageview")
        page = ibis.coalesce(text(column(t, "path", "context_page_path")), url_path(column(t, "url")))
    else:
        sent = text(column(t, "event_text"))
        named_event = text(column(t, "event"))
        event = ibis.coalesce(ibis.cases(*((sent.lower() == k, ibis.literal(v)) for k, v in EVENT_NAMES.items()),
                                         else_=ibis.null("string")), named_event, sent)
        page = text(column(t, "context_page_path"))
    return t.select(
        _row=t._row, _file=t._file,
        user_id=visitor,
        ts=instant(column(t, "timestamp")),
        event=event,
        page=page,
        session_id=text(column(t, "context_session_id")),
        event_id=text(column(t, "id", "message_id")),
        _aside=first_reason((visitor.isnull(), ibis.literal("no user_id or anonymous_id")),
                            (event.isnull(), ibis.literal("no event name"))),
    )


def _events(inputs: Inputs) -> ir.Table:
    parts = [_rows(inputs, key) for key in ("pages", "tracks") if key in inputs]
    return parts[0] if len(parts) == 1 else ibis.union(*parts)


ADAPTER = Adapter(
    name="segment",
    title="Segment / RudderStack warehouse tables",
    reference="https://segment.com/docs/connections/storage/warehouses/schema/",
    files=(
        ExportFile("pages", named("pages"), "pages table", required=False, columns=("timestamp",)),
        ExportFile("tracks", named("tracks"), "tracks table", required=False, columns=("timestamp",)),
        ExportFile("identifies", named("identifies"), "identifies table", required=False, columns=("timestamp",)),
    ),
    outputs=(
        Output("events", (), _events, (
            ("user_id", "user_id, else the latest user_id identifies gives the anonymous_id, else anonymous_id"),
            ("ts", "timestamp"),
            ("event", "pageview for pages; tracks: Checkout Started -> checkout, else event"),
            ("page", "pages.path (else the path of url); tracks.context_page_path"),
            ("session_id", "context_session_id (RudderStack); Segment has none: sessions by inactivity"),
            ("event_id", "id"),
        ), optional=("pages", "tracks")),
    ),
)
