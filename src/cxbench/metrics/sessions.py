"""Sessions: made once per run from `events` and shared by every metric that needs them.

A session is the data's `session_id` when the tracker set one; otherwise a visitor's events are cut into
sessions after `session_timeout_minutes` (30 by default, as GA4, Matomo and PostHog do) without an event.
The cut is one window pass over the events; only the session table (one row per session) is kept.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cxbench.core.facts import has_nulls
from cxbench.core.registry import MetricContext, MetricUnavailable

PAGE_EVENTS = ("pageview", "pageleave")


def page_events(ctx: MetricContext) -> tuple[str, ...]:
    """The data's names of the page events (`PAGE_EVENTS` through --event-name)."""
    return tuple(ctx.event(name) for name in PAGE_EVENTS)


def events(ctx: MetricContext) -> ir.Table:
    """The used events."""
    return ctx.table("events")


def _needs_gap_rule(ctx: MetricContext) -> bool:
    if not ctx.has_column("events", "session_id"):
        return True

    return has_nulls(ctx, "events", "session_id")


def sessionized(ctx: MetricContext, columns: tuple[str, ...]) -> ir.Table:
    """The events' `columns` (and `ts`, `_row`) with `_skey`: a session is the pair (`user_id`, `_skey`).

    Keyed on two columns rather than one concatenated string, which every event would otherwise carry.
    """
    e = events(ctx)
    keep = tuple(dict.fromkeys(("user_id", "ts", "_row", *columns)))
    if not _needs_gap_rule(ctx):
        return e.select(*keep, _skey=e.session_id)
    timeout = ibis.interval(seconds=int(round(ctx.options.session_timeout_minutes * 60)))
    order = [e.ts, e._row]
    previous = e.ts.lag().over(ibis.window(group_by=e.user_id, order_by=order))
    # `ts > previous + timeout` rather than a difference in seconds: both engines agree on it exactly.
    e = e.mutate(_new=(previous.isnull() | (e.ts > previous + timeout)).cast("int64"))
    e = e.mutate(_number=e._new.cumsum(group_by=e.user_id, order_by=[e.ts, e._row]))
    gap_key = "#" + e._number.cast("string")
    if ctx.has_column("events", "session_id"):
        key = ibis.cases((e.session_id.notnull(), "|" + e.session_id), else_=gap_key)
    else:
        key = gap_key
    return e.select(*keep, _skey=key)


def sessions(ctx: MetricContext) -> ir.Table:
    """One row per session: visitor, start, end, duration (s), events, pageviews, interactions, key events,
    add-to-cart and checkout events.

    One expression per run, without the session key (no metric reads it). It is never stored: the metrics that
    read sessions (`session_rows`) are aggregated in one query over it, so the events are grouped into sessions
    once (caching the table and reading it five times cost more on 18.9 M events).
    """

    def build() -> ir.Table:
        e = sessionized(ctx, ("event",))
        is_pageview = e.event == ctx.event("pageview")
        # The default key events name checkout as cxbench does: --event-name checkout=... renames it here too.
        key_events = tuple(ctx.event(k).lower() for k in ctx.options.key_events)
        # Counts with a filter (COUNT(*) FILTER (WHERE ...)) rather than sums of 0/1: 1.98 s instead of 2.38 s for
        # the five on 18.9 M events (DuckDB); the engine leaves out those no metric of the run reads.
        table = e.group_by(["user_id", "_skey"]).aggregate(
            start=e.ts.min(),
            end=e.ts.max(),
            events=e.count(),
            pageviews=e.count(where=is_pageview),
            interactions=e.count(where=~e.event.isin(page_events(ctx))),
            key_events=e.count(where=e.event.lower().isin(key_events)),
            add_to_cart=e.count(where=e.event == ctx.event("add_to_cart")),
            checkout=e.count(where=e.event == ctx.event("checkout")),
        ).drop("_skey")
        # Milliseconds then / 1000: the one time difference DuckDB and Spark compute alike.
        return table.mutate(duration=table.end.delta(table.start, unit="millisecond").cast("float64") / 1000)

    return ctx.remember("sessions", build)


def session_rows(ctx: MetricContext) -> ir.Table:
    """Sessions as metric rows: placed in the period of their start, segmented by their visitor, with `bounced`
    (by --bounce-definition) and `abandoned` (a cart without checkout) for the bounce rate and the cart
    abandonment rate, so that every session metric reads the same rows and shares one query."""
    s = sessions(ctx)
    if ctx.options.bounce_definition == "ga4":
        # GA4: a bounce is a session that is not engaged: under 10 s, fewer than 2 pageviews, no key event.
        bounced = (s.duration < ctx.options.engaged_seconds) & (s.pageviews < 2) & (s.key_events == 0)
    else:
        bounced = (s.pageviews == 1) & (s.interactions == 0)
    return s.mutate(ts=s.start, _entity=s.user_id, bounced=bounced, abandoned=s.checkout == 0)


def pageviews(ctx: MetricContext) -> ir.Table:
    """Pageview events with `_entity`, `page`, `scroll_pct`, the time to the next page (`time_on_page`, s) and
    `is_exit`.

    A pageview ends at the next pageview of its session, or at a `pageleave` that follows it; the last
    pageview of a session without a pageleave has no end (time_on_page null). One expression per run, with only
    the columns the pageview metrics read: the engine aggregates pageviews, time on page, exit rate and scroll
    depth in one query over it, so the window runs once and is never stored (caching it and reading it four times
    took 7.1 + 4 × 0.9 s on 18.9 M events; the one query about 7 s).
    """
    return ctx.remember("pageviews", lambda: _pageviews(ctx))


def _pageviews(ctx: MetricContext) -> ir.Table:
    e = sessionized(ctx, ("event", "page", "scroll_pct"))
    e = e.filter(e.event.isin(page_events(ctx)))
    # The window sorts its rows with every column they carry: a flag rather than the event's name, 0.3 s less on
    # 15.4 M page events (DuckDB). (The page, read per page, costs 1.2 s more carried; a page number joined in and
    # out cost more than that.)
    e = e.select(*(c for c in e.columns if c != "event"), _is_pageview=e.event == ctx.event("pageview"))
    # One ordering for both windows, so the engine sorts the page events once: the next page event (for the
    # time on page) and the pageviews still to come (none left: the session's exit page).
    session = [e.user_id, e._skey]
    window = ibis.window(group_by=session, order_by=[e.ts, e._row])
    following = ibis.window(group_by=session, order_by=[e.ts, e._row], rows=(1, None))
    # A count of the non-null over the frame rather than a sum of 0/1: 0.4 s less on 15.4 M page events (DuckDB).
    later_pageviews = ibis.cases((e._is_pageview, 1), else_=ibis.null("int64")).count().over(following)
    e = e.mutate(_next_ts=e.ts.lead().over(window), _later=later_pageviews.fill_null(0))
    e = e.filter(e._is_pageview)
    seconds = e._next_ts.delta(e.ts, unit="millisecond").cast("float64") / 1000
    return e.select(
        ts=e.ts,
        _entity=e.user_id,
        page=e.page,
        scroll_pct=e.scroll_pct,
        time_on_page=ibis.cases((e._next_ts.notnull(), seconds), else_=ibis.null("float64")),
        is_exit=e._later == 0,
    )


def user_days(ctx: MetricContext) -> ir.Table:
    """One row per visitor and day (of the report's time zone) with an event: `user_id`, `day` (its midnight), `n_events` and `is_first`
    (the visitor's first day in all the data; only in a run that computes the new visitor share).

    The one grouping of events that unique visitors, new visitors, DAU/WAU/MAU, stickiness, activity, retention,
    first-week engagement and engagement frequency all read: events are scanned once, not once per metric.
    Stored once per run (`ctx.shared`), unless the run computes one metric.
    """

    def build() -> ir.Table:
        # Its own pass over the events: one grouping by (visitor, session, day) for both this and the sessions
        # was measured no faster on 18.9 M events (7.2 s either way) and held a third table.
        e = events(ctx)
        t = e.group_by([e.user_id, e.ts.truncate("D").name("day")]).aggregate(n_events=e.count())
        if ctx.options.metrics is not None and "new_visitor_share" not in ctx.options.metrics:
            # Only the new visitor share reads is_first: left out (not faked) when the run does not compute it, as
            # the engine cannot drop an unread join by itself.
            return ctx.shared(t)
        # Each visitor's first day joined back rather than a window over the visitor's days: 0.2 s instead of
        # 1.0 s on 2.5 M visitor-days (DuckDB sorts every partition of a window).
        firsts = t.group_by(_uid=t.user_id).aggregate(_first=t.day.min())
        t = t.join(firsts, t.user_id == firsts._uid)
        return ctx.shared(t.select("user_id", "day", "n_events", is_first=t.day == t._first))

    return ctx.remember("user_days", build)


def require_column(ctx: MetricContext, table: str, column: str, what: str) -> None:
    """Raise MetricUnavailable when `table` lacks `column`."""
    ctx.table(table)
    if not ctx.has_column(table, column):
        raise MetricUnavailable(f"needs the {column} column in {table} ({what})")
