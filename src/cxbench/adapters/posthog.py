"""PostHog: the events export (batch export to S3 or a file, JSON lines or Parquet) -> events, surveys.

Fields of an exported event (https://posthog.com/docs/cdp/batch-exports/s3#event-model): `uuid`, `event`,
`properties` (an object, or its JSON text), `distinct_id`, `person_id` (the person after PostHog merged the
anonymous distinct_id with the identified one), `timestamp`. Web analytics properties
(https://posthog.com/docs/web-analytics/dashboard): `$session_id`, `$current_url`, `$pathname`, and on the next
`$pageview`/`$pageleave` the previous page's `$prev_pageview_max_scroll_percentage` (a fraction, 0-1). Surveys
(https://posthog.com/docs/surveys/implementing-custom-surveys): a `survey sent` event with `$survey_id`,
`$survey_name` and `$survey_response` (the first question's answer).
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
    instant,
    named,
    number,
    quoted,
    recode,
    text,
    url_path,
)

EVENT_NAMES = {"$pageview": "pageview", "$pageleave": "pageleave"}
SURVEY_SENT = "survey sent"
#: A survey's kind from its name, with its scale (PostHog's rating questions: 0-10 for NPS, 1-5 or 1-7 otherwise).
SURVEY_KINDS = (("nps", "nps", 0.0, 10.0), ("net promoter", "nps", 0.0, 10.0), ("csat", "csat", 1.0, 5.0),
                ("satisfaction", "csat", 1.0, 5.0), ("ces", "ces", 1.0, 7.0), ("effort", "ces", 1.0, 7.0))


def prop(t: ir.Table, key: str, *, numeric: bool = False) -> ir.Value:
    """One property of the event, as text (or a number), whether `properties` is an object or its JSON text."""
    properties = t["properties"]
    kind = properties.type()
    if isinstance(kind, dt.Struct):
        if key not in kind.fields:
            return ibis.null("float64" if numeric else "string")
        value = properties[key]
        return number(value) if numeric else text(value)
    as_json = properties.cast("string").cast("json")[f'"{key}"']
    if numeric:
        return ibis.coalesce(as_json.float, as_json.str.try_cast("float64"))
    return ibis.coalesce(text(as_json.str), as_json.float.cast("string"))


def _person(t: ir.Table) -> ir.StringValue:
    person = text(t.person_id) if "person_id" in t.columns else ibis.null("string")
    return ibis.coalesce(person, text(t.distinct_id) if "distinct_id" in t.columns else ibis.null("string"))


def _events(inputs: Inputs) -> ir.Table:
    t = inputs["events"]
    t = t.mutate(_user=_person(t), _ts=instant(t.timestamp), _event=text(t.event),
                 _session=prop(t, "$session_id"),
                 _prev_scroll=prop(t, "$prev_pageview_max_scroll_percentage", numeric=True),
                 _path=ibis.coalesce(prop(t, "$pathname"), url_path(prop(t, "$current_url"))))
    # The deepest scroll of a pageview arrives on the session's next page event ($pageview or $pageleave).
    pages = t.filter(t._event.isin(("$pageview", "$pageleave")))
    pages = pages.mutate(_scroll=pages._prev_scroll.lead().over(
        group_by=[pages._user, pages._session], order_by=[pages._ts, pages._file, pages._row]))
    scrolls = pages.filter(pages._event == "$pageview").select(_sfile=pages._file, _srow=pages._row,
                                                                 _scroll=pages._scroll)
    t = t.left_join(scrolls, [t._file == scrolls._sfile, t._row == scrolls._srow])
    return t.select(
        _row=t._row, _file=t._file,
        user_id=t._user,
        ts=t._ts,
        event=recode(t._event, EVENT_NAMES),
        page=ibis.cases((t._event.isin(("$pageview", "$pageleave")), t._path), else_=ibis.null("string")),
        session_id=t._session,
        scroll_pct=t._scroll * 100,
        event_id=text(t.uuid) if "uuid" in t.columns else ibis.null("string"),
        _aside=first_reason((t._user.isnull(), "no distinct_id or person_id"),
                            (t._event.isnull(), "no event name")),
    )


def _surveys(inputs: Inputs) -> ir.Table:
    t = inputs["events"]
    t = t.filter(text(t.event) == SURVEY_SENT)
    name = prop(t, "$survey_name")
    lowered = name.lower()

    def pick(index: int, default: ir.Value) -> ir.Value:
        return ibis.cases(*((lowered.contains(entry[0]), ibis.literal(entry[index])) for entry in SURVEY_KINDS),
                          else_=default)

    kind = pick(1, ibis.null("string"))
    response = prop(t, "$survey_response")
    return t.select(
        _row=t._row, _file=t._file,
        response_id=text(t.uuid) if "uuid" in t.columns else t._file + ":" + t._row.cast("string"),
        respondent_id=_person(t),
        ts=instant(t.timestamp),
        survey=kind,
        score=response.try_cast("float64"),
        scale_min=pick(2, ibis.null("float64")),
        scale_max=pick(3, ibis.null("float64")),
        touchpoint=name,
        comment=prop(t, "$survey_response_1"),
        _aside=first_reason(
            (kind.isnull(), "survey " + quoted(name) + ": its name does not say NPS, CSAT or CES (rename the survey, "
             "or read it with --mapping)"),
            (response.notnull() & response.try_cast("float64").isnull(),
             "$survey_response " + quoted(response) + " is not a rating"),
        ),
    )


ADAPTER = Adapter(
    name="posthog",
    title="PostHog events export",
    reference="https://posthog.com/docs/cdp/batch-exports/s3#event-model",
    files=(ExportFile("events", named("events", "posthog_events") + ("events_*.jsonl", "events_*.parquet",
                                                                     "events_*.jsonl.gz", "*.jsonl.gz"),
                      "PostHog events export (events.jsonl)", columns=("event", "timestamp")),),
    outputs=(
        Output("events", ("events",), _events, (
            ("user_id", "person_id (anonymous and identified ids merged by PostHog), else distinct_id"),
            ("ts", "timestamp"),
            ("event", "event; $pageview -> pageview, $pageleave -> pageleave"),
            ("page", "properties.$pathname, else the path of $current_url (page events)"),
            ("session_id", "properties.$session_id"),
            ("scroll_pct", "the next page event's $prev_pageview_max_scroll_percentage x 100"),
            ("event_id", "uuid"),
        )),
        Output("surveys", ("events",), _surveys, (
            ("response_id", "uuid of the `survey sent` event"),
            ("respondent_id", "person_id, else distinct_id"),
            ("ts", "timestamp"),
            ("survey", "from $survey_name: NPS / net promoter -> nps (0-10), CSAT / satisfaction -> csat (1-5), "
                       "CES / effort -> ces (1-7)"),
            ("score", "$survey_response, on the survey kind's scale (scale_min, scale_max)"),
            ("touchpoint", "$survey_name"),
            ("comment", "$survey_response_1 (a second, open question)"),
        )),
    ),
)
