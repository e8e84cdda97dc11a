"""Support: metrics computed from the `tickets` table (METRICS.md §5, seed 001).

Which period a ticket counts in: durations (resolution, first response) in the period of the moment that ends
them (`resolved_at`, `first_response_at`), so a closed period's value never changes later; first-contact
resolution and contact volume in the period the ticket was opened; open tickets at each period's end.
Periods are calendar periods of the report's time zone (UTC unless --timezone), as for every metric.

Durations are calendar time by default; with `--business-hours` they count working time only (see
`core/business_hours.py`). SLA achievement compares the same durations with each priority's target
(`Options.sla_targets`); reopen rate and one-touch resolution count solved tickets in the period they were solved.

Breakdowns: by channel, and by priority, group, agent and tag when the tickets carry them (a ticket counts once
in each of its tags: the engine unnests the `tag` list).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import ibis
import ibis.expr.types as ir

from cxbench.core.arrow import to_arrow
from cxbench.core.business_hours import (
    CALENDAR_SCHEMA,
    BusinessHours,
    calendar_rows,
    parse_business_hours,
    with_working_seconds,
)
from cxbench.core.calendar import instant_after
from cxbench.core.registry import Direction, Family, Metric, MetricContext, MetricUnavailable, Options, Unit
from cxbench.core.stats import ChangeTest, MeanAndMedian, Proportion, Ratio, Total

#: The breakdowns of every ticket metric; those whose columns the tickets lack are skipped (`_tickets`).
_BREAKDOWN = ("channel", "priority", "group", "agent", "tag")
_OPTIONAL_BREAKDOWN = ("priority", "group", "agent")
#: Tags are words: Zendesk's CSV and XML exports separate them with spaces (a tag holds no space); commas and
#: semicolons, as other help desks write lists, separate them too, and the brackets and quotes of a list written
#: out (["vip", "bug"], a Parquet list read as text) are no part of a tag.
TAG_SEPARATORS = r"[\s,;\[\]\"']+"


def business_hours(options: Options) -> BusinessHours | None:
    """The run's business hours, or None for calendar time."""
    if options.business_hours is None:
        return None
    return parse_business_hours(options.business_hours, options.timezone, options.holidays)


def _tickets(ctx: MetricContext) -> ir.Table:
    """The tickets with `_entity` and the breakdown columns the source has: `tag` is the list of a ticket's tags
    (lower-cased, each once); a breakdown column the source lacks is dropped, so the engine does not group by it."""
    t = ctx.table("tickets")
    t = t.mutate(_entity=t.customer_id)
    if ctx.has_column("tickets", "tags"):
        t = t.mutate(tag=tag_list(t.tags))
    absent = [c for c in _OPTIONAL_BREAKDOWN if not ctx.has_column("tickets", c)]
    return t.drop(*absent) if absent else t


def tag_list(tags: ir.StringValue) -> ir.ArrayValue:
    """A ticket's tags as a list: split on spaces, commas and semicolons, lower-cased, empty pieces dropped, each
    tag once."""
    return tags.lower().re_split(TAG_SEPARATORS).filter(lambda tag: tag != "").unique()


def _now(options: Options) -> dt.datetime:
    """The instant the run treats as now: the end of the as-of day (`--as-of`, else today)."""
    return instant_after(options.today)


def _calendar(ctx: MetricContext, hours: BusinessHours) -> ir.Table:
    """The working-window calendar for the tickets' dates (one row per working window, a few hundred a year)."""

    def build() -> ir.Table:
        t = ctx.table("tickets")
        # Dates through Arrow: pandas' nanosecond timestamps (Spark's results) end in 2262.
        (bounds,) = to_arrow(ctx.con, t.aggregate(
            lo=ibis.least(t.opened_at.min(), t.resolved_at.min(), t.first_response_at.min()).cast("date"),
            hi=ibis.greatest(t.opened_at.max(), t.resolved_at.max(), t.first_response_at.max()).cast("date"),
        )).to_pylist()
        lo, hi = bounds["lo"], bounds["hi"]
        if lo is None or hi is None:  # no tickets
            lo = hi = dt.date(2000, 1, 1)
        # Through the as-of day: the SLA clock of an unanswered ticket and the backlog's age run to it.
        hi = max(hi, ctx.options.today)
        # With --timezone the tickets' times are already wall-clock times of the zone (core/reporting.py): the
        # windows are laid on that clock as they are, not moved to UTC.
        rows = calendar_rows(replace(hours, timezone="UTC") if ctx.clock is not None else hours, lo, hi)
        return ibis.memtable(rows, schema=CALENDAR_SCHEMA)

    return ctx.remember(f"business_calendar:{hours}", build)


def _with_durations(ctx: MetricContext) -> ir.Table:
    """Tickets with `resolution_seconds` and `first_response_seconds` (null while unresolved/unanswered)."""
    t = _tickets(ctx)
    hours = business_hours(ctx.options)
    if hours is None:
        return t.mutate(resolution_seconds=ctx.elapsed_seconds(t.resolved_at, t.opened_at),
                        first_response_seconds=ctx.elapsed_seconds(t.first_response_at, t.opened_at))
    calendar = _calendar(ctx, hours)
    t = with_working_seconds(t, "opened_at", calendar, "_w_opened")
    t = with_working_seconds(t, "resolved_at", calendar, "_w_resolved")
    t = with_working_seconds(t, "first_response_at", calendar, "_w_responded")
    t = t.mutate(resolution_seconds=t._w_resolved - t._w_opened, first_response_seconds=t._w_responded - t._w_opened)
    return t.drop("_w_opened", "_w_resolved", "_w_responded")


def _with_working_seconds_to(ctx: MetricContext, t: ir.Table, later: str, earlier: str, name: str) -> ir.Table:
    """`t` with `name` = the seconds from column `earlier` to column `later`, calendar or working time as the
    run counts durations."""
    hours = business_hours(ctx.options)
    if hours is None:
        return t.mutate(**{name: ctx.elapsed_seconds(t[later], t[earlier])})
    calendar = _calendar(ctx, hours)
    t = with_working_seconds(t, later, calendar, "_w_later")
    t = with_working_seconds(t, earlier, calendar, "_w_earlier")
    return t.mutate(**{name: t._w_later - t._w_earlier}).drop("_w_later", "_w_earlier")


def _resolution_rows(ctx: MetricContext) -> ir.Table:
    t = _with_durations(ctx)
    t = t.filter(t.resolved_at.notnull())
    return t.mutate(ts=t.resolved_at)


def _first_response_rows(ctx: MetricContext) -> ir.Table:
    if not ctx.has_column("tickets", "first_response_at"):
        raise MetricUnavailable("needs tickets.first_response_at (when the customer was first answered)")
    t = _with_durations(ctx)
    t = t.filter(t.first_response_at.notnull())
    return t.mutate(ts=t.first_response_at)


def _fcr_rows(ctx: MetricContext) -> ir.Table:
    if not ctx.has_column("tickets", "contacts"):
        raise MetricUnavailable("needs tickets.contacts (contacts until resolved; 1 = resolved at first contact)")
    t = _tickets(ctx)
    resolved = t.resolved_at.notnull()
    # A resolved ticket whose contacts are not recorded cannot be placed: left out. An open ticket is not
    # resolved at first contact whatever its contacts so far.
    t = t.filter(~resolved | t.contacts.notnull())
    return t.mutate(ts=t.opened_at, resolved=resolved, first_contact=resolved & (t.contacts == 1))


def _volume_rows(ctx: MetricContext) -> ir.Table:
    t = _tickets(ctx)
    return t.mutate(ts=t.opened_at)


def _open_rows(ctx: MetricContext) -> ir.Table:
    """One row per (ticket, period) for the tickets open at the period's end."""
    ends = [{"_start": dt.datetime.combine(start, dt.time()), "_end": instant_after(end)}
            for _, start, end in ctx.periods]
    periods = ibis.memtable(ends, schema={"_start": "timestamp", "_end": "timestamp"})
    t = _tickets(ctx)
    grid = t.cross_join(periods)
    # The period's end is the instant after its last day (midnight); a ticket resolved at that instant or later
    # was still open at the end of the period.
    open_at_end = (grid.opened_at < grid._end) & (grid.resolved_at.isnull() | (grid.resolved_at >= grid._end))
    grid = grid.filter(open_at_end)
    return grid.mutate(ts=grid._start)


def _sla_rows(stage: str) -> Callable[[MetricContext], ir.Table]:
    """Rows of SLA achievement for `stage` "first_response" or "resolution": the tickets opened in the period whose
    outcome is known, `met` true when the stage ended within the ticket's priority target."""
    end_column, seconds_column, index = {"first_response": ("first_response_at", "first_response_seconds", 0),
                                         "resolution": ("resolved_at", "resolution_seconds", 1)}[stage]

    def rows(ctx: MetricContext) -> ir.Table:
        if not ctx.has_column("tickets", end_column):
            raise MetricUnavailable(f"needs tickets.{end_column}")
        t = _with_durations(ctx)
        target = _target_seconds(ctx, t, index)
        t = t.mutate(_target=target, _now=ibis.literal(_now(ctx.options), type="timestamp"))
        # An unfinished ticket's clock runs to now, in the same calendar or working time as the durations.
        t = _with_working_seconds_to(ctx, t, "_now", "opened_at", "_waited")
        done = t[end_column].notnull()
        met = done & (t[seconds_column] <= t._target)
        # A ticket resolved without any reply stops the first-response clock unanswered: neither met nor breached.
        breached = (done & (t[seconds_column] > t._target)) | (
            ~done & t.resolved_at.isnull() & (t._waited > t._target))
        # Still within target and unfinished: not decided yet, left out.
        t = t.filter(met | breached)
        return t.mutate(ts=t.opened_at, met=met)

    return rows


def _target_seconds(ctx: MetricContext, t: ir.Table, index: int) -> ir.FloatingValue:
    """Each ticket's target in seconds, by its priority; no priority (or no priority column): the normal one."""
    targets = ctx.options.sla_target_hours()
    normal = ibis.literal(targets["normal"][index] * 3600.0)
    if not ctx.has_column("tickets", "priority"):
        return normal
    return ibis.cases(*((t.priority == p, ibis.literal(hours[index] * 3600.0)) for p, hours in targets.items()),
                      else_=normal)


def _sla_details(ctx: MetricContext) -> dict[str, Any]:
    targets = ctx.options.sla_target_hours()
    first = ", ".join(f"{p} {_hours_text(h[0])}" for p, h in targets.items())
    resolution = ", ".join(f"{p} {_hours_text(h[1])}" for p, h in targets.items())
    return {**_time_details(ctx), "targets_first_response": first, "targets_resolution": resolution,
            "as_of": ctx.options.today.isoformat()}


def _hours_text(hours: float) -> str:
    return f"{hours * 60:g}m" if hours < 1 else f"{hours:g}h"


def _reopen_rows(ctx: MetricContext) -> ir.Table:
    if not ctx.has_column("tickets", "reopens"):
        raise MetricUnavailable("needs tickets.reopens (times each ticket was reopened; Zendesk's ticket_metrics)")
    t = _tickets(ctx)
    t = t.filter(t.resolved_at.notnull() & t.reopens.notnull())
    return t.mutate(ts=t.resolved_at, reopened=t.reopens >= 1)


def _one_touch_rows(ctx: MetricContext) -> ir.Table:
    if not ctx.has_column("tickets", "agent_replies"):
        raise MetricUnavailable("needs tickets.agent_replies (public agent replies; Zendesk's ticket_metrics.replies)")
    t = _tickets(ctx)
    t = t.filter(t.resolved_at.notnull() & t.agent_replies.notnull())
    return t.mutate(ts=t.resolved_at, one_touch=t.agent_replies == 1)


def _backlog_rows(ctx: MetricContext) -> ir.Table:
    """The open tickets at each period's end with their age then (or now, for a period that ends later)."""
    t = _open_rows(ctx)
    now = ibis.literal(_now(ctx.options), type="timestamp")
    t = t.mutate(_at=ibis.least(t._end, now))
    return _with_working_seconds_to(ctx, t, "_at", "opened_at", "age_seconds")


def _time_details(ctx: MetricContext) -> dict[str, Any]:
    hours = business_hours(ctx.options)
    return {"time": "calendar" if hours is None else f"business hours {hours.describe()}"}


def _count(t: ir.Table) -> ir.Scalar:
    return t.count()


def _flag(column: str) -> Callable[[ir.Table], ir.Scalar]:
    """The count of rows where boolean `column` is true."""

    def total(t: ir.Table) -> ir.Scalar:
        return t[column].cast("int64").sum()

    return total


_TIME_NOTE = ("Calendar time by default. With `--business-hours \"Mon-Fri 09:00-17:00\"` (several groups "
              "separated by commas), `--timezone` (IANA name, default UTC) and `--holidays FILE` (one YYYY-MM-DD "
              "per line), only the seconds inside the working windows count, as support tools measure SLAs: a "
              "ticket opened Friday 16:00 and resolved Monday 10:00 took 2 working hours. `details.time` says "
              "which was used. `--timezone` is also the report's time zone: calendar durations stay real time "
              "across a change of the clocks (a night the clocks go forward has 23 hours).")

_BREAKDOWN_NOTE = ("Broken down by `channel`, and by `priority`, `group`, `agent` and `tag` when the tickets carry "
                   "them (a ticket counts once in each of its tags: one with two tags is in both tags' records).")
_SLA_NOTE = ("Targets per priority, hours to the first response and to resolution (`--sla-targets`, e.g. "
             "\"urgent=30m/4h,high=2h/1d\"; default urgent 1h/4h, high 4h/8h, normal 8h/24h, low 24h/72h, a common "
             "starting table: Zendesk ships no default policy). A ticket without a priority is held to the normal "
             "target. A ticket counts in the period it was opened in: met when answered (resolved) within its "
             "target, breached when answered late or still open past it at the end of the as-of day "
             "(`--as-of`, default today); one still open within its target is not decided yet and left out, and "
             "so is a ticket resolved without a first response (for the first-response target). "
             "`details.count`: tickets that met the target, `details.breached`: those that did not. ")

METRICS: tuple[Metric, ...] = (
    Metric(
        id="avg_resolution_time", name="Average resolution time", family=Family.SUPPORT,
        formula="sum of (resolved_at − opened_at) ÷ tickets resolved in the period", unit=Unit.SECONDS,
        direction=Direction.DOWN, inputs=("tickets",), rows=_resolution_rows,
        estimator=MeanAndMedian("resolution_seconds"), what_is_counted="resolved tickets",
        description="Time to resolve, from the customer's first contact to full resolution (seed 001: the sum of "
                    "resolution times ÷ the cases resolved in the period). `details.median`: the median; "
                    "`details.p10`, `p25`, `p75`, `p90`: the distribution's percentiles (exact, interpolated as "
                    "the median is); `details.total`: the summed seconds. " + _BREAKDOWN_NOTE,
        notes="A ticket counts in the period it was resolved in (`resolved_at`); open tickets have no resolution "
              "time yet and are left out (see open_tickets). " + _TIME_NOTE,
        source="001", dimensions=_BREAKDOWN, extra_details=_time_details,
        period_columns=(("tickets", "resolved_at"),),
    ),
    Metric(
        id="median_resolution_time", name="Median resolution time", family=Family.SUPPORT,
        formula="median of (resolved_at − opened_at) over tickets resolved in the period", unit=Unit.SECONDS,
        direction=Direction.DOWN, inputs=("tickets",), rows=_resolution_rows,
        estimator=MeanAndMedian("resolution_seconds", report="median"), what_is_counted="resolved tickets",
        description="The typical resolution time, unmoved by the few tickets that wait days (METRICS.md: "
                    "report the median too). `details.mean` is avg_resolution_time; `details.p10`, `p25`, `p75`, "
                    "`p90` the other percentiles.",
        notes="Exact median (the mean of the two middle values when the count is even), the same on DuckDB "
              "and Spark. By `resolved_at`, as avg_resolution_time. " + _TIME_NOTE,
        source="001", dimensions=_BREAKDOWN, extra_details=_time_details,
        period_columns=(("tickets", "resolved_at"),),
    ),
    Metric(
        id="first_response_time", name="First response time", family=Family.SUPPORT,
        formula="sum of (first_response_at − opened_at) ÷ tickets first answered in the period", unit=Unit.SECONDS,
        direction=Direction.DOWN, inputs=("tickets",), rows=_first_response_rows,
        estimator=MeanAndMedian("first_response_seconds"), what_is_counted="answered tickets",
        description="How long customers wait for the first answer (Zendesk's first reply time, Freshdesk's and "
                    "HubSpot's first response time): the mean; `details.median` the median, `details.p10`, `p25`, "
                    "`p75`, `p90` the other percentiles.",
        notes="Needs `tickets.first_response_at`. A ticket counts in the period of its first response; tickets not "
              "yet answered are left out. A first response before the ticket was opened is set aside by "
              "validation. " + _TIME_NOTE,
        source="001; Zendesk, Freshdesk and HubSpot first response time", dimensions=_BREAKDOWN,
        extra_details=_time_details, period_columns=(("tickets", "first_response_at"),),
    ),
    Metric(
        id="first_contact_resolution", name="First contact resolution (FCR)", family=Family.SUPPORT,
        formula="tickets resolved with contacts = 1 ÷ all tickets opened in the period × 100", unit=Unit.PERCENT,
        direction=Direction.UP, inputs=("tickets",), rows=_fcr_rows,
        estimator=Ratio(_flag("first_contact"), _count, factor=100,
                        also=(("resolved_only_pct", _flag("first_contact"), _flag("resolved")),),
                        test=ChangeTest.TWO_PROPORTION),
        what_is_counted="tickets",
        description="Share of tickets resolved at the customer's first contact, out of all tickets received "
                    "(seed 001: a percentage of all contacts the company receives). `details.resolved_only_pct`: "
                    "the same count over resolved tickets only, the variant some help desks report (Zendesk's "
                    "one-touch tickets ÷ solved tickets; one_touch_resolution counts the agent's replies instead, "
                    "by the period solved).",
        notes="A ticket counts in the period it was opened in. Needs `tickets.contacts`. Tickets still open count "
              "in the denominator and not in the numerator; a resolved ticket without `contacts` is left out.",
        source="001; Zendesk one-touch resolution (resolved-only variant)", dimensions=_BREAKDOWN,
    ),
    Metric(
        id="contact_volume_by_channel", name="Contact volume by channel", family=Family.SUPPORT,
        formula="tickets opened in the period, per channel, and each channel's share of them × 100",
        unit=Unit.COUNT, direction=Direction.NONE, inputs=("tickets",), rows=_volume_rows,
        estimator=Total(_count, share_of_overall=True, test=ChangeTest.POISSON), what_is_counted="tickets",
        accumulates=True,
        description="Where contacts come from (phone, email, chat, chatbot, social...): the count per channel in "
                    "dimension `channel`, with `details.share_pct` its share of the period's tickets; the overall "
                    "record is the total.",
        notes="A ticket counts once, in the period it was opened in, whatever its number of contacts.",
        source="001", dimensions=_BREAKDOWN,
    ),
    Metric(
        id="open_tickets", name="Open tickets at period end", family=Family.SUPPORT,
        formula="tickets with opened_at before the period's end and no resolved_at before it", unit=Unit.COUNT,
        direction=Direction.DOWN, inputs=("tickets",), rows=_open_rows, estimator=Total(_count),
        what_is_counted="tickets",
        description="The backlog at the end of each period (a point-in-time count). " + _BREAKDOWN_NOTE,
        notes="The end of a period is the instant after its last day (00:00 in the report's time zone, UTC unless "
              "--timezone). A ticket opened before it counts while it has no `resolved_at` or is resolved at that instant or later, whenever it was opened "
              "(before --from too). For the latest period this is the backlog at its end, which may lie in "
              "the future.",
        source="cxbench (backlog, a companion of 001's resolution metrics)", dimensions=_BREAKDOWN,
        # A backlog changes when tickets are resolved too: a month with only resolutions still has an end.
        period_columns=(("tickets", "resolved_at"), ("tickets", "first_response_at")),
    ),
    Metric(
        id="backlog_age", name="Backlog age", family=Family.SUPPORT,
        formula="median of (period end − opened_at) over the tickets open at the period's end", unit=Unit.SECONDS,
        direction=Direction.DOWN, inputs=("tickets",), rows=_backlog_rows,
        estimator=MeanAndMedian("age_seconds", report="median"), what_is_counted="open tickets",
        description="How long the backlog has waited: the median age of the tickets open at each period's end "
                    "(open_tickets counts them; `n` here is the same count). `details.p90`: the age nine in ten "
                    "open tickets are under; `details.mean`, `p10`, `p25`, `p75` the rest. " + _BREAKDOWN_NOTE,
        notes="The same open tickets as open_tickets. Age at the period's end, or at the end of the as-of day "
              "(`--as-of`, default today) for a period that ends later. " + _TIME_NOTE,
        source="cxbench (Zendesk Explore's unsolved-ticket age, as a distribution)", dimensions=_BREAKDOWN,
        extra_details=_time_details,
        period_columns=(("tickets", "resolved_at"), ("tickets", "first_response_at")),
    ),
    Metric(
        id="sla_first_response", name="SLA achievement: first response", family=Family.SUPPORT,
        formula="tickets first answered within their priority's target ÷ tickets answered or past the target × 100",
        unit=Unit.PERCENT, direction=Direction.UP, inputs=("tickets",), rows=_sla_rows("first_response"),
        estimator=Proportion("met", complement_count="breached"), what_is_counted="tickets with a decided SLA",
        description="Share of tickets whose first response came within the target of their priority (Zendesk's "
                    "first reply time SLA achievement), with a Wilson interval. " + _BREAKDOWN_NOTE,
        notes="Needs `tickets.first_response_at`; `tickets.priority` picks the target. " + _SLA_NOTE + _TIME_NOTE,
        source="Zendesk SLA policies (first reply time targets per priority); Wilson 1927",
        dimensions=_BREAKDOWN, extra_details=_sla_details,
    ),
    Metric(
        id="sla_resolution", name="SLA achievement: resolution", family=Family.SUPPORT,
        formula="tickets resolved within their priority's target ÷ tickets resolved or past the target × 100",
        unit=Unit.PERCENT, direction=Direction.UP, inputs=("tickets",), rows=_sla_rows("resolution"),
        estimator=Proportion("met", complement_count="breached"), what_is_counted="tickets with a decided SLA",
        description="Share of tickets resolved within the target of their priority (Zendesk's full resolution "
                    "time SLA), with a Wilson interval. " + _BREAKDOWN_NOTE,
        notes="`tickets.priority` picks the target. " + _SLA_NOTE + _TIME_NOTE,
        source="Zendesk SLA policies (resolution time targets per priority); Wilson 1927",
        dimensions=_BREAKDOWN, extra_details=_sla_details,
    ),
    Metric(
        id="reopen_rate", name="Reopen rate", family=Family.SUPPORT,
        formula="solved tickets reopened at least once ÷ tickets solved in the period × 100", unit=Unit.PERCENT,
        direction=Direction.DOWN, inputs=("tickets",), rows=_reopen_rows,
        estimator=Proportion("reopened"), what_is_counted="solved tickets",
        description="Share of solved tickets that had been reopened after a first solve (Zendesk's reopens ticket "
                    "metric), with a Wilson interval: answers that did not hold. `details.count`: the reopened "
                    "tickets. " + _BREAKDOWN_NOTE,
        notes="Needs `tickets.reopens`. A ticket counts in the period of its (last) resolution; a ticket reopened "
              "and still open is not solved and waits until it is. A solved ticket without `reopens` is left out.",
        source="Zendesk ticket metrics (reopens); Wilson 1927", dimensions=_BREAKDOWN,
        period_columns=(("tickets", "resolved_at"),),
    ),
    Metric(
        id="one_touch_resolution", name="One-touch resolution", family=Family.SUPPORT,
        formula="solved tickets with exactly one agent reply ÷ tickets solved in the period × 100", unit=Unit.PERCENT,
        direction=Direction.UP, inputs=("tickets",), rows=_one_touch_rows,
        estimator=Proportion("one_touch", also_mean="agent_replies"), what_is_counted="solved tickets",
        description="Share of solved tickets solved with a single public agent reply (Zendesk Explore's one-touch "
                    "tickets ÷ solved tickets), with a Wilson interval. `details.count`: the one-touch tickets; "
                    "`details.mean_agent_replies`: the mean replies per solved ticket. " + _BREAKDOWN_NOTE,
        notes="Needs `tickets.agent_replies`. Differs from first_contact_resolution (seed 001): that one counts the "
              "customer's contacts (`contacts` = 1) over every ticket opened in the period, open ones included; "
              "this one counts the agent's replies over the tickets solved in the period. A ticket solved without "
              "any reply (zero-touch) counts as solved, not as one-touch.",
        source="Zendesk Explore one-touch tickets; Wilson 1927", dimensions=_BREAKDOWN,
        period_columns=(("tickets", "resolved_at"),),
    ),
)
