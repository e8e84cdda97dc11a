"""Zendesk Support: tickets and ticket metrics -> tickets; satisfaction ratings -> surveys (CSAT, good/bad).

Read as the API's JSON (`GET /api/v2/tickets` and the incremental export: `{"tickets": [...]}`;
`GET /api/v2/ticket_metrics`: `{"ticket_metrics": [...]}`), as plain lists of those objects, or as flat CSV/Parquet
tables with the nested fields joined by `_` (`via_channel`, `reply_time_in_minutes_calendar`, the Fivetran layout).
Objects: https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/ (`via.channel`, `requester_id`,
`priority`, `group_id`, `assignee_id`, `tags`, `satisfaction_rating`), https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_metrics/
(`solved_at`, `replies`, `reopens`, `reply_time_in_minutes` and `full_resolution_time_in_minutes`, each `{calendar,
business}`), https://developer.zendesk.com/api-reference/ticketing/ticket-management/satisfaction_ratings/ (score
`good`/`bad`; `offered` and `unoffered` are not answers).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cxbench.adapters.base import (
    Adapter,
    ExportFile,
    Inputs,
    Output,
    field,
    first_reason,
    ident,
    instant,
    named,
    number,
    quoted,
    recode,
    text,
)

#: Zendesk's `via.channel` values (https://developer.zendesk.com/documentation/ticketing/reference-guides/via-object-reference/)
#: in the contract's words; others keep their Zendesk name.
CHANNELS = {"voice": "phone", "native_messaging": "chat", "chat": "chat", "email": "email", "web": "web form",
            "facebook": "social", "twitter": "social", "instagram_dm": "social", "whatsapp": "social",
            "any_channel": "other", "api": "api", "mobile_sdk": "mobile app", "sms": "sms"}
#: A good rating is the top of the scale, a bad one the bottom: on 1-5 the CSAT share counts 4-5 as satisfied, so
#: good counts and bad does not (Zendesk's satisfaction score is good ÷ (good + bad)).
GOOD, BAD = 5.0, 1.0
CLOSED = ("solved", "closed")


#: A century in minutes: a longer duration is a typo, and its seconds would not fit in 64 bits (1e300 crashed).
_MAX_MINUTES = 100 * 366 * 24 * 60


def _possible(minutes: ir.Value) -> ir.BooleanValue:
    return minutes.isnull() | (minutes.abs() <= _MAX_MINUTES)  # NaN compares false


def _after(start: ir.Value, minutes: ir.Value) -> ir.Value:
    """`start` plus a duration in minutes; null when the duration is not possible (set aside with its reason)."""
    seconds = (minutes * 60).round().cast("int64").as_interval("s")
    return ibis.cases((minutes.notnull() & _possible(minutes), start + seconds), else_=ibis.null("timestamp"))


def _tickets(inputs: Inputs) -> ir.Table:
    t = inputs["tickets"]
    t = t.mutate(_id=ident(t, "id"), _created=instant(field(t, "created_at")), _status=text(field(t, "status")).lower())
    if "ticket_metrics" in inputs:
        m = inputs["ticket_metrics"]
        metrics = m.select(
            _ticket=ident(m, "ticket_id"),
            _solved=instant(field(m, "solved_at")),
            _reply_minutes=number(field(m, "reply_time_in_minutes.calendar", "reply_time_in_minutes_calendar")),
            _resolution_minutes=number(field(m, "full_resolution_time_in_minutes.calendar",
                                             "full_resolution_time_in_minutes_calendar")),
            _replies=number(field(m, "replies")),
            _reopens=number(field(m, "reopens")),
        )
        t = t.left_join(metrics, t._id == metrics._ticket)
    else:
        t = t.mutate(_solved=ibis.null("timestamp"), _reply_minutes=ibis.null("float64"), _replies=ibis.null("float64"),
                     _resolution_minutes=ibis.null("float64"), _reopens=ibis.null("float64"))
    # A metrics export without solved_at still has the full resolution time.
    t = t.mutate(_solved=ibis.coalesce(t._solved, _after(t._created, t._resolution_minutes)))
    channel = text(field(t, "via.channel", "via_channel"))
    return t.select(
        _row=t._row, _file=t._file,
        ticket_id=t._id,
        customer_id=ident(t, "requester_id", "requester"),
        channel=recode(channel, CHANNELS),
        opened_at=t._created,
        resolved_at=ibis.cases((t._status.isin(CLOSED), t._solved), else_=ibis.null("timestamp")),
        first_response_at=_after(t._created, t._reply_minutes),
        # Zendesk's one-touch resolution is a ticket solved with one agent reply: contacts = replies (at least 1).
        contacts=ibis.cases((t._replies.notnull(), ibis.greatest(t._replies, 1)), else_=ibis.null("float64")),
        priority=text(field(t, "priority")).lower(),
        group=ident(t, "group_id", "group"),
        agent=ident(t, "assignee_id", "assignee"),
        tags=_tags(field(t, "tags")),
        reopens=t._reopens,
        agent_replies=t._replies,
        _aside=first_reason(
            (t._status == "deleted", ibis.literal("a deleted ticket")),
            *((~_possible(minutes), name + " " + quoted(minutes.cast("string")) + " is not a duration in minutes")
              for name, minutes in (("reply_time_in_minutes", t._reply_minutes),
                                    ("full_resolution_time_in_minutes", t._resolution_minutes))),
            (channel.isnull(), ibis.literal("no via.channel: the channel is required")),
        ),
    )


def _tags(value: ir.Value) -> ir.StringValue:
    """The API's list of tags as the contract's space-separated text; a flat export's text as it is."""
    if value.type().is_array():
        return text(value.cast("array<string>").join(" "))
    return text(value)


def _surveys(inputs: Inputs) -> ir.Table:
    t = inputs["tickets"]
    score = text(field(t, "satisfaction_rating.score", "satisfaction_rating_score")).lower()
    t = t.mutate(_score=score)
    rated = t.filter(t._score.isin(("good", "bad")))  # offered / unoffered: asked or not, never answered
    rating_id = ident(rated, "satisfaction_rating.id", "satisfaction_rating_id")
    ticket = ident(rated, "id")
    return rated.select(
        _row=rated._row, _file=rated._file,
        response_id=ibis.coalesce(rating_id, "ticket " + ticket),
        respondent_id=ident(rated, "requester_id", "requester"),
        # The embedded rating has no time of its own: the ticket's last update is when it was given or after.
        ts=instant(field(rated, "updated_at", "created_at")),
        survey=ibis.literal("csat"),
        score=ibis.cases((rated._score == "good", GOOD), else_=BAD),
        scale_min=ibis.literal(1.0),
        scale_max=ibis.literal(5.0),
        channel=recode(text(field(rated, "via.channel", "via_channel")), CHANNELS),
        touchpoint=ibis.literal("support ticket"),
        comment=text(field(rated, "satisfaction_rating.comment", "satisfaction_rating_comment")),
    )


ADAPTER = Adapter(
    name="zendesk",
    title="Zendesk Support (API JSON or flat CSV)",
    reference="https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_metrics/",
    files=(
        ExportFile("tickets", named("tickets", "ticket") + ("tickets_*.json", "tickets_*.jsonl"),
                   "Zendesk tickets export (tickets.json)", wrappers=("tickets",), columns=("id", "created_at")),
        ExportFile("ticket_metrics", named("ticket_metrics", "ticket_metric"), "Zendesk ticket metrics export",
                   required=False, wrappers=("ticket_metrics",), columns=("ticket_id",)),
    ),
    outputs=(
        Output("tickets", ("tickets",), _tickets, (
            ("ticket_id", "id"),
            ("customer_id", "requester_id"),
            ("channel", "via.channel: voice -> phone, native_messaging/chat -> chat, facebook/twitter/instagram_dm/"
                        "whatsapp -> social, web -> web form, others as they are"),
            ("opened_at", "created_at"),
            ("resolved_at", "ticket_metrics.solved_at of a solved or closed ticket, else created_at + "
                            "full_resolution_time_in_minutes.calendar"),
            ("first_response_at", "created_at + ticket_metrics.reply_time_in_minutes.calendar (run with "
                                  "--business-hours for working time)"),
            ("contacts", "ticket_metrics.replies, at least 1 (one reply = one-touch resolution)"),
            ("priority", "priority (low, normal, high, urgent)"),
            ("group", "group_id"),
            ("agent", "assignee_id"),
            ("tags", "tags, the list joined by spaces"),
            ("reopens", "ticket_metrics.reopens"),
            ("agent_replies", "ticket_metrics.replies"),
        ), optional=("ticket_metrics",)),
        Output("surveys", ("tickets",), _surveys, (
            ("response_id", "satisfaction_rating.id"),
            ("respondent_id", "requester_id"),
            ("ts", "the ticket's updated_at"),
            ("survey", "csat"),
            ("score", "good -> 5, bad -> 1 on a 1-5 scale, so the CSAT share is good ÷ (good + bad); csat_mean is "
                      "not meaningful for a binary rating"),
            ("channel", "via.channel, as for tickets"),
            ("comment", "satisfaction_rating.comment"),
        )),
    ),
)
