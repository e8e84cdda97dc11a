"""Google Analytics 4's BigQuery export (`events_YYYYMMDD` tables, exported as JSON or Parquet) -> events.

Schema: https://support.google.com/analytics/answer/7029846 (BigQuery Export schema): one row per event,
`event_timestamp` in microseconds UTC, `user_pseudo_id` (the device's cookie), `user_id` (set by the site after
login), `event_params` a repeated record of `key` and `value` (`string_value`, `int_value`, `float_value`,
`double_value`). `ga_session_id` is unique only per user_pseudo_id (it is the session's start in seconds)
(https://support.google.com/analytics/answer/9191807; Velir/dbt-ga4 builds `session_key` from both).
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
    first_reason,
    from_epoch,
    number,
    quoted,
    recode,
    text,
    url_path,
)

#: GA4's recommended event names (https://developers.google.com/analytics/devguides/collection/ga4/reference/events)
#: renamed to the contract's: a page view and the checkout the cart metrics read. Others keep their GA4 name.
EVENT_NAMES = {"page_view": "pageview", "begin_checkout": "checkout"}


def param(t: ir.Table, key: str, *, numeric: bool) -> ir.Value:
    """The value of one `event_params` entry (null when the event lacks it)."""
    params = t.event_params
    if not isinstance(params.type(), dt.Array):
        return ibis.null("float64" if numeric else "string")
    entry = params.filter(lambda p: p.key == key)[0]
    value_type = params.type().value_type.fields["value"]
    fields = value_type.fields if isinstance(value_type, dt.Struct) else {}
    value = entry["value"]
    numbers = [number(value[f]) for f in ("int_value", "double_value", "float_value") if f in fields]
    if numeric:
        return ibis.coalesce(*numbers) if numbers else ibis.null("float64")
    texts = [text(value["string_value"])] if "string_value" in fields else []
    texts += [text(value[f].cast("int64")) if value[f].type().is_numeric() else text(value[f])
              for f in ("int_value",) if f in fields]
    return ibis.coalesce(*texts) if texts else ibis.null("string")


def _events(inputs: Inputs) -> ir.Table:
    t = inputs["events"]
    pseudo = text(t.user_pseudo_id) if "user_pseudo_id" in t.columns else ibis.null("string")
    user = text(t.user_id) if "user_id" in t.columns else ibis.null("string")
    t = t.mutate(_pseudo=pseudo, _user=user, _session=param(t, "ga_session_id", numeric=False))
    # A device's events before login carry only user_pseudo_id: they are stitched to the user_id the same device
    # logs in with (one id per visitor across the login), as Velir/dbt-ga4's `user_key` does.
    stitched = t._user.max().over(group_by=t._pseudo)
    visitor = ibis.coalesce(t._user, ibis.cases((t._pseudo.notnull(), stitched), else_=ibis.null("string")), t._pseudo)
    stamp = t.event_timestamp
    ts = from_epoch(stamp, "us")
    return t.select(
        _row=t._row,
        _file=t._file,
        user_id=visitor,
        ts=ts,
        event=recode(t.event_name, EVENT_NAMES),
        page=url_path(param(t, "page_location", numeric=False)),
        # ga_session_id repeats across devices: the session is the pair, as GA4 counts sessions.
        session_id=ibis.cases((t._session.notnull() & t._pseudo.notnull(), t._pseudo + ":" + t._session),
                              else_=ibis.null("string")),
        scroll_pct=param(t, "percent_scrolled", numeric=True),
        _aside=first_reason(
            (t._pseudo.isnull() & t._user.isnull(),
             "no user_pseudo_id or user_id (a cookieless ping sent without consent): not tied to a visitor"),
            (number(stamp).isnull(), "event_timestamp " + quoted(stamp) + " is not microseconds since 1970"),
            (text(t.event_name).isnull(), "no event_name"),
        ),
    )


ADAPTER = Adapter(
    name="ga4",
    title="Google Analytics 4 (BigQuery export)",
    reference="https://support.google.com/analytics/answer/7029846",
    files=(ExportFile("events", ("events_*.json", "events_*.jsonl", "events_*.ndjson", "events_*.parquet",
                                 "events_*.json.gz", "events_*.jsonl.gz"),
                      "GA4 events_YYYYMMDD export", columns=("event_timestamp", "event_name")),),
    outputs=(
        Output("events", ("events",), _events, (
            ("user_id", "user_id, else the user_id the same user_pseudo_id logs in with, else user_pseudo_id"),
            ("ts", "event_timestamp (microseconds since 1970, UTC)"),
            ("event", "event_name; page_view -> pageview, begin_checkout -> checkout"),
            ("page", "the path of event_params.page_location"),
            ("session_id", "user_pseudo_id:ga_session_id (ga_session_id is unique per device only)"),
            ("scroll_pct", "event_params.percent_scrolled (GA4's scroll event fires at 90 %)"),
        )),
    ),
)
