"""Website and product engagement: metrics computed from `events` (METRICS.md §2 and §3).

Definitions are those of the seeds (003 above all), with the common analytics-tool variants named in each
metric's notes. Sessions come from `sessions.py`, built once per run.
"""

from __future__ import annotations


from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from cxbench.core.calendar import midnight
from cxbench.core.registry import Direction, Family, Metric, MetricContext, MetricUnavailable, Period, Unit
from cxbench.core.stats import ChangeTest, DistinctShare, Estimate, Proportion, Ratio, Span, Stats, Total
from cxbench.metrics.periods import period_table, previous_key
from cxbench.metrics.sessions import events, page_events, pageviews, require_column, session_rows, user_days


# -- rows -----------------------------------------------------------------------------------------------

def _pageview_rows(ctx: MetricContext) -> ir.Table:
    if _pageview_window_wanted(ctx):
        return pageviews(ctx)  # the window's rows: aggregated in the one query of the page metrics
    e = events(ctx)
    e = e.filter(e.event == ctx.event("pageview"))
    return e.mutate(_entity=e.user_id)


def _pageview_window_wanted(ctx: MetricContext) -> bool:
    """Whether the run makes the pageview window anyway (time on page or exit rate are asked for), so that
    pageviews and scroll depth are aggregated in its query instead of scanning the events again; alone they
    scan the events without the window."""
    return ctx.options.metrics is None or not {"time_on_page", "exit_rate"}.isdisjoint(ctx.options.metrics)


def _user_day_rows(ctx: MetricContext) -> ir.Table:
    """One row per visitor and day with an event (`n_events`, `is_first`): distinct visitors of any period
    longer than a day are the distinct `_entity` of these rows."""
    t = user_days(ctx)
    return t.mutate(ts=t.day, _entity=t.user_id)


def _scroll_rows(ctx: MetricContext) -> ir.Table:
    require_column(ctx, "events", "scroll_pct", "the deepest scroll % of each pageview")
    return _pageview_rows(ctx)


def _distinct_user_units(ctx: MetricContext, unit: str) -> ir.Table:
    """One row per (user, day/week/month, reporting period) with activity.

    A week that straddles two months counts in both (it overlaps both), matching the denominator: the
    weeks the period overlaps.
    """
    _require_period_of_at_least(ctx, unit)
    return ctx.remember(f"user_units:{unit}:{ctx.options.period}:{ctx.periods}", lambda: _user_units(ctx, unit))


def _user_units(ctx: MetricContext, unit: str) -> ir.Table:
    # From the visitor-day grain (a day is the unit or lies inside it), not from every event again.
    d = user_days(ctx)
    d = d.filter(ctx.in_range(d.day))
    if unit == "day":
        grouped = d.select(d.user_id, ts=d.day)
    else:
        bucket = d.day.truncate({"week": "W", "month": "M"}[unit])
        grouped = d.group_by([d.user_id, bucket.name("_unit"), ctx.period_key(d.day).name("_in_period")]).aggregate(
            ts=d.day.min()).drop("_unit", "_in_period")
    return grouped.mutate(_entity=grouped.user_id, _month=grouped.ts.truncate("M").cast("string"))


_SHORTER = {"week": (Period.DAY,), "month": (Period.DAY, Period.WEEK)}


def _require_period_of_at_least(ctx: MetricContext, unit: str) -> None:
    # MAU is the distinct users of a calendar month: a day or a week cannot hold one, and reporting the
    # week's own users as "MAU" would turn stickiness into DAU ÷ WAU.
    if ctx.options.period in _SHORTER.get(unit, ()):
        raise MetricUnavailable(f"needs periods of a {unit} or longer: use --period "
                                + ("week, " if unit == "week" else "") + "month, quarter, year or all")


def _stickiness_rows(ctx: MetricContext) -> ir.Table:
    _require_period_of_at_least(ctx, "month")
    t = _distinct_user_units(ctx, "day")
    return t.mutate(_user_month=t.user_id + "|" + t._month)


def _active_customer_periods(ctx: MetricContext) -> ir.Table:
    """Distinct (user, period) pairs with an event: built once per run and period grid, stored unless one metric
    reads them (`ctx.shared`)."""
    return ctx.remember(f"active_periods:{ctx.options.period}:{ctx.periods}", lambda: ctx.shared(_active_periods(ctx)))


def _active_periods(ctx: MetricContext) -> ir.Table:
    d = user_days(ctx)
    d = d.filter(ctx.in_range(d.day))
    return d.select(_uid=d.user_id, _akey=ctx.period_key(d.day)).distinct()


def _activity_rows(ctx: MetricContext) -> ir.Table:
    customers = ctx.table("customers")
    periods = period_table(ctx)
    grid = customers.cross_join(periods)
    grid = grid.filter(grid.signup_at < grid._end)
    if "subscriptions" in ctx.tables:
        # Paying in a period: a subscription active at any time during it.
        subs = ctx.table("subscriptions")
        paying = grid.join(subs, (grid.customer_id == subs.customer_id) & (subs.start_at < grid._end)
                           & (subs.end_at.isnull() | (subs.end_at > grid._start)))
        paying = paying.select("customer_id", "_key", "_start").distinct()
    elif ctx.has_column("customers", "is_paying"):
        paying = grid.filter(grid.is_paying).select("customer_id", "_key", "_start")
    else:
        raise MetricUnavailable("needs customers.is_paying or a subscriptions table to know who pays")
    active = _active_customer_periods(ctx)
    joined = paying.left_join(active, (paying.customer_id == active._uid) & (paying._key == active._akey))
    return joined.select(ts=joined._start, _entity=joined.customer_id, active=joined._uid.notnull())


def _first_week_rows(ctx: MetricContext) -> ir.Table:
    customers = ctx.table("customers")
    d = user_days(ctx)
    d = d.select(_uid=d.user_id, _day=d.day, _events=d.n_events)
    joined = customers.left_join(d, customers.customer_id == d._uid)
    day = joined._day.date().delta(joined.signup_at.date(), unit="day")
    per_customer = joined.group_by([joined.customer_id, joined.signup_at]).aggregate(
        returned=(day.between(1, 7)).fill_null(False).any(),
        first_week_events=ibis.cases((day.between(0, 6), joined._events), else_=0).sum().fill_null(0),
    )
    return per_customer.mutate(ts=per_customer.signup_at, _entity=per_customer.customer_id)


def _retention_rows(ctx: MetricContext) -> ir.Table:
    customers = ctx.table("customers")
    periods = period_table(ctx)
    cohorts = customers.mutate(_cohort=ctx.period_key(customers.signup_at))
    cohorts = cohorts.join(periods.select(_ckey=periods._key, _cindex=periods._index), cohorts._cohort == periods._key)
    grid = cohorts.cross_join(periods)
    grid = grid.filter(grid._index >= grid._cindex)
    active = _active_customer_periods(ctx)
    joined = grid.left_join(active, (grid.customer_id == active._uid) & (grid._key == active._akey))
    return joined.select(
        ts=joined._start, _entity=joined.customer_id, active=joined._uid.notnull(),
        cohort=joined._ckey.cast("string"), offset=(joined._index - joined._cindex),
    )


def _feature_rows(ctx: MetricContext) -> ir.Table:
    """A row per visitor-day (no feature: they give the period's active users, the share's denominator) and one per
    event that names a feature.

    Distinct visitors per period and feature are the same as over every event, but from the shared visitor-days
    and the few feature events: 1.2 s instead of 2.1 s in a full scorecard on 18.9 M events. Alone, over every
    event (whose feature is null when it names none).
    """
    e = events(ctx)
    # The feature column when the data has one; else each product event's name (page events are no feature).
    if ctx.has_column("events", "feature"):
        feature = e.feature
    else:
        feature = ibis.cases((e.event.isin(page_events(ctx)), ibis.null("string")), else_=e.event)
    used = e.select(ts=e.ts, _entity=e.user_id, feature=feature)
    if not ctx.store_shared:
        # A run of this metric alone stores no visitor-days: grouping them here costs more than counting over every
        # event (2.5 s against 2.4 s on 18.9 M events).
        return used
    days = user_days(ctx)
    active = days.select(ts=days.day.cast(e.ts.type()), _entity=days.user_id, feature=ibis.null("string"))
    return active.union(used.filter(used.feature.notnull()))


def _lifecycle_rows(ctx: MetricContext) -> ir.Table:
    """One row per user and reported period with their lifecycle status (PostHog's lifecycle insight): `new` (first
    active ever in this period), `returning` (active in this period and the one before), `resurrecting` (active in
    this period, not in the one before, active some time earlier) and `dormant` (active in the period before, not
    in this one; `_sign` −1: PostHog draws them below zero).

    Activity is any event, from all the data: the period before the first reported one, and "ever before", look
    behind --from too. From the visitor-day table, not from the events again."""
    if ctx.options.period is Period.ALL:
        raise MetricUnavailable("needs periods: a lifecycle compares each period with the one before; use --period "
                                "day, week, month, quarter or year")
    d = user_days(ctx)
    first = d.group_by(_fuid=d.user_id).aggregate(_first_day=d.day.min())
    active = d.select(_uid=d.user_id, _akey=ctx.period_key(d.day)).distinct()
    rows = [{"_key": key, "_start": midnight(start), "_prev": previous_key(key, ctx.options.period)}
            for key, start, _ in ctx.periods]
    periods = ibis.memtable(rows, schema={"_key": "date", "_start": "timestamp", "_prev": "date"})
    before = active.select(_puid=active._uid, _pkey=active._akey)
    current = active.join(periods, active._akey == periods._key)
    current = current.left_join(before, (current._uid == before._puid) & (current._prev == before._pkey))
    current = current.join(first, current._uid == first._fuid)
    status = ibis.cases((current._first_day >= current._start, "new"), (current._puid.notnull(), "returning"),
                        else_="resurrecting")
    active_rows = current.select(ts=current._start, _entity=current._uid, status=status, _sign=ibis.literal(1))
    now = active.select(_nuid=active._uid, _nkey=active._akey)
    lapsed = periods.join(active, periods._prev == active._akey)
    lapsed = lapsed.left_join(now, (lapsed._uid == now._nuid) & (lapsed._key == now._nkey))
    lapsed = lapsed.filter(lapsed._nuid.isnull())
    dormant_rows = lapsed.select(ts=lapsed._start, _entity=lapsed._uid, status=ibis.literal("dormant"),
                                 _sign=ibis.literal(-1))
    return active_rows.union(dormant_rows)


@dataclass(frozen=True)
class _SignedCount(Total):
    """A count whose rows carry a sign (dormant users count −1, as PostHog draws them); n is the users counted."""

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        total = float(s["total"] or 0)
        return Estimate(total, int(s["n"] or 0))


def _count(t: ir.Table) -> ir.Scalar:
    return t.count()


def _users(t: ir.Table) -> ir.Scalar:
    return t._entity.nunique()


# -- declarations ---------------------------------------------------------------------------------------

_SESSIONS_NOTE = ("Sessions: the data's session_id when present, else a new session after "
                  "`session_timeout_minutes` (30) without an event (`--session-timeout`); a session belongs to the "
                  "period in which it starts.")

WEBSITE = (
    Metric(
        id="pageviews", name="Pageviews", family=Family.WEBSITE,
        formula="count of pageview events, overall and per page", unit=Unit.COUNT, direction=Direction.UP,
        inputs=("events",), rows=_pageview_rows, estimator=Total(_count, test=ChangeTest.POISSON),
        what_is_counted="pageviews", accumulates=True,
        description="How often pages were viewed; per page in dimension `page`.",
        source="003", dimensions=("page",),
        events=("pageview",), required_events=("pageview",),
    ),
    Metric(
        id="unique_visitors", name="Unique visitors", family=Family.WEBSITE,
        formula="distinct user_id with any event in the period", unit=Unit.COUNT, direction=Direction.UP,
        inputs=("events",), rows=_user_day_rows, estimator=Total(_users), what_is_counted="events",
        description="Each visitor counted once in the period, however often they came.", source="003",
    ),
    Metric(
        id="new_visitor_share", name="New visitor share", family=Family.WEBSITE,
        formula="visitors whose first visit ever falls in the period ÷ unique visitors × 100", unit=Unit.PERCENT,
        direction=Direction.BAND, inputs=("events",), rows=_user_day_rows,
        estimator=Ratio(lambda t: t.is_first.cast("int64").sum(), _users, factor=100, test=ChangeTest.TWO_PROPORTION),
        what_is_counted="events",
        description="Share of the period's visitors who had never visited before.",
        notes="'First visit ever' looks at all the data, before --from too.",
        source="003",
    ),
    Metric(
        id="sessions", name="Sessions", family=Family.WEBSITE, formula="number of sessions started in the period",
        unit=Unit.COUNT, direction=Direction.UP, inputs=("events",), rows=session_rows,
        estimator=Total(_count, test=ChangeTest.POISSON), accumulates=True,
        what_is_counted="sessions", description="Visits.", notes=_SESSIONS_NOTE, source="003 (30-minute rule: GA4, Matomo, PostHog)",
    ),
    Metric(
        id="pages_per_session", name="Pages per session", family=Family.WEBSITE,
        formula="pageviews ÷ sessions", unit=Unit.RATIO, direction=Direction.UP, inputs=("events",),
        rows=session_rows, estimator=Ratio(lambda t: t.pageviews.sum(), _count), what_is_counted="sessions",
        description="Depth of a visit.", notes=_SESSIONS_NOTE, source="003",
        events=("pageview",), required_events=("pageview",),
    ),
    Metric(
        id="bounce_rate", name="Bounce rate", family=Family.WEBSITE,
        formula="sessions with one pageview and no other interaction ÷ sessions × 100", unit=Unit.PERCENT,
        direction=Direction.DOWN, inputs=("events",), rows=session_rows,
        estimator=Ratio(lambda t: t.bounced.cast("int64").sum(), _count, factor=100, test=ChangeTest.TWO_PROPORTION),
        what_is_counted="sessions",
        description="One-page visits with no interaction.",
        notes="Default (003, Universal Analytics): one pageview and no event other than pageview/pageleave. "
              "`--bounce-definition ga4`: GA4's not-engaged session: shorter than 10 s, fewer than 2 pageviews and "
              "no key event (`key_events`: checkout, purchase, sign_up, signup). " + _SESSIONS_NOTE,
        source="003; GA4 engaged-session definition",
        events=("pageview", "pageleave"), required_events=("pageview",),
    ),
    Metric(
        id="avg_session_duration", name="Average session duration", family=Family.WEBSITE,
        formula="mean of (last event − first event) over sessions; single-event sessions count 0 s",
        unit=Unit.SECONDS, direction=Direction.UP, inputs=("events",), rows=session_rows,
        estimator=Ratio(lambda t: t.duration.sum(), _count), what_is_counted="sessions",
        description="Visit length.", notes=_SESSIONS_NOTE, source="003",
    ),
    Metric(
        id="avg_time_on_site", name="Average time on site", family=Family.WEBSITE,
        formula="total session time in the period ÷ unique visitors", unit=Unit.SECONDS, direction=Direction.UP,
        inputs=("events",), rows=session_rows, estimator=Ratio(lambda t: t.duration.sum(), _users),
        what_is_counted="sessions",
        description="Time per visitor. Seed 000's example: ten unique visitors averaging 20 minutes in a month → "
                    "20 minutes.",
        notes=_SESSIONS_NOTE, source="000",
    ),
    Metric(
        id="time_on_page", name="Time on page", family=Family.WEBSITE,
        formula="mean time from a pageview to the next pageview of its session (or to its pageleave)",
        unit=Unit.SECONDS, direction=Direction.UP, inputs=("events",), rows=pageviews,
        where=lambda t: t.time_on_page.notnull(), estimator=Ratio(lambda t: t.time_on_page.sum(), _count), what_is_counted="timed pageviews",
        description="Per page (dimension `page`) and overall.",
        notes="The last pageview of a session ends at a `pageleave` event when the tracker sends one; without one "
              "it has no end and is left out (GA4 and Matomo do the same), so n counts timed pageviews only.",
        source="003", dimensions=("page",),
        events=("pageview", "pageleave"), required_events=("pageview",),
    ),
    Metric(
        id="scroll_depth", name="Scroll depth", family=Family.WEBSITE,
        formula="mean of the deepest scroll % reached per pageview", unit=Unit.PERCENT, direction=Direction.UP,
        inputs=("events",), rows=_scroll_rows, where=lambda t: t.scroll_pct.notnull(),
        estimator=Ratio(lambda t: t.scroll_pct.sum(), _count),
        what_is_counted="pageviews with scroll_pct", description="Per page (dimension `page`) and overall.",
        notes="Needs `events.scroll_pct`; pageviews without it are left out.", source="003", dimensions=("page",),
        events=("pageview",), required_events=("pageview",),
    ),
    Metric(
        id="exit_rate", name="Exit rate", family=Family.WEBSITE,
        formula="sessions that ended on the page ÷ pageviews of the page × 100", unit=Unit.PERCENT,
        direction=Direction.DOWN, inputs=("events",), rows=pageviews,
        estimator=Ratio(lambda t: t.is_exit.cast("int64").sum(), _count, factor=100, test=ChangeTest.TWO_PROPORTION),
        what_is_counted="pageviews",
        description="Per page (dimension `page`), ranked: `details.rank` 1 is the page most often left.",
        notes="A session's exit page is its last pageview. " + _SESSIONS_NOTE,
        source="003", dimensions=("page",), rank_dimension=True,
        events=("pageview", "pageleave"), required_events=("pageview",),
    ),
)

_COVERED_NOTE = ("A period the data covers only in part (the first or last, or one cut by --from/--to) is averaged "
                 "over the days, weeks or months it covers, from the first to the last day with events; its record "
                 "has `partial: true` and `details.covered_from`/`covered_to`/`covered_days`.")

PRODUCT = (
    Metric(
        id="dau", name="Daily active users", family=Family.PRODUCT,
        formula="distinct users with an event each day, averaged over every calendar day of the period the data covers",
        unit=Unit.COUNT, direction=Direction.UP, inputs=("events",), rows=lambda ctx: _distinct_user_units(ctx, "day"),
        estimator=Ratio(_count, per_unit="day", empty_value=0.0), what_is_counted="events",
        description="Mean DAU: days without activity count as 0.", notes=_COVERED_NOTE, source="003",
    ),
    Metric(
        id="wau", name="Weekly active users", family=Family.PRODUCT,
        formula="distinct users with an event each ISO week, averaged over the weeks the period's covered days overlap",
        unit=Unit.COUNT, direction=Direction.UP, inputs=("events",), rows=lambda ctx: _distinct_user_units(ctx, "week"),
        estimator=Ratio(_count, per_unit="week", empty_value=0.0), what_is_counted="events",
        description="Mean WAU.", notes="A week that straddles two periods counts in each one the user was active in. "
              + _COVERED_NOTE,
        source="003",
    ),
    Metric(
        id="mau", name="Monthly active users", family=Family.PRODUCT,
        formula="distinct users with an event each calendar month, averaged over the months the period's covered days overlap",
        unit=Unit.COUNT, direction=Direction.UP, inputs=("events",), rows=lambda ctx: _distinct_user_units(ctx, "month"),
        estimator=Ratio(_count, per_unit="month", empty_value=0.0), what_is_counted="events",
        description="Mean MAU; for a monthly period, the month's distinct active users.",
        notes="A month that straddles two periods (weekly periods) counts in each one the user was active in. "
              + _COVERED_NOTE,
        source="003",
    ),
    Metric(
        id="stickiness", name="Stickiness (DAU/MAU)", family=Family.PRODUCT,
        formula="mean DAU over every covered day ÷ MAU × 100", unit=Unit.PERCENT, direction=Direction.UP,
        inputs=("events",), rows=_stickiness_rows,
        estimator=Ratio(_count, lambda t: t._user_month.nunique(), factor=100, per_unit="day",
                        denominator_per_unit="month"),
        what_is_counted="events",
        description="How close daily use is to monthly use: 100 % means every monthly user comes every day.",
        notes=_COVERED_NOTE, source="003",
    ),
    Metric(
        id="activity_rate", name="Activity rate", family=Family.PRODUCT,
        formula="paying customers with an event in the period ÷ paying customers in the period × 100",
        unit=Unit.PERCENT, direction=Direction.UP, inputs=("events", "customers"), rows=_activity_rows,
        optional_inputs=("subscriptions",),
        estimator=Proportion("active"), what_is_counted="paying customers", period_tables=("events",),
        description="Active share of paying customers (003's MAU rate for a monthly period).",
        notes="Paying in a period: a subscription active during it (subscriptions table), else customers.is_paying "
              "for customers signed up by the period's end. Only paying customers' activity counts in the numerator, "
              "so the rate stays within 0-100 %.",
        source="003",
    ),
    Metric(
        id="feature_adoption", name="Feature adoption", family=Family.PRODUCT,
        formula="users who used the feature ÷ active users × 100, per feature", unit=Unit.PERCENT,
        direction=Direction.UP, inputs=("events",), rows=_feature_rows, estimator=DistinctShare("_entity"),
        what_is_counted="events",
        description="Per feature (dimension `feature`): the `feature` column when the data has one, else each "
                    "product event's name (page events are no feature). n is the period's active users.",
        source="003", dimensions=("feature",), overall=False,
        events=("pageview", "pageleave"),
    ),
    Metric(
        id="first_week_engagement", name="First-week engagement", family=Family.PRODUCT,
        formula="signups of the period with an event on days 1-7 after signup ÷ signups × 100",
        unit=Unit.PERCENT, direction=Direction.UP, inputs=("customers", "events"), rows=_first_week_rows,
        estimator=Proportion("returned", also_mean="first_week_events", complement="abandonment_rate"),
        what_is_counted="signups", period_tables=("events",),
        description="New users who came back in their first week. `details.mean_first_week_events`: mean events on "
                    "days 0-6 (the signup day and the six after); `details.abandonment_rate` = 100 − value.",
        notes="Days are calendar days of the report's time zone (UTC unless --timezone) counted from the signup "
              "day (day 0). Signups near the end of the data "
              "have not had their full week yet.",
        source="003",
    ),
    Metric(
        id="engagement_frequency", name="Engagement frequency", family=Family.PRODUCT,
        formula="events ÷ active users in the period", unit=Unit.RATIO, direction=Direction.UP, inputs=("events",),
        rows=_user_day_rows, estimator=Ratio(lambda t: t.n_events.sum(), _users), what_is_counted="events",
        description="How often active customers interact.", source="001",
    ),
    Metric(
        id="retention_cohorts", name="Retention by signup cohort", family=Family.PRODUCT,
        formula="customers of a signup cohort with an event in the period ÷ customers in the cohort × 100",
        unit=Unit.PERCENT, direction=Direction.UP, inputs=("customers", "events"), rows=_retention_rows,
        estimator=Proportion("active"), what_is_counted="cohort customers", period_tables=("events",),
        description="Dimension `cohort` (the first day of the signup period) and `offset` (periods since signup, "
                    "0 = the signup period); the record's period is the activity period.",
        notes="Cohorts and offsets follow --period (monthly cohorts by default).", source="000",
        dimensions=(("cohort", "offset"),), overall=False,
    ),
)

LIFECYCLE = Metric(
    id="user_lifecycle", name="User lifecycle", family=Family.PRODUCT,
    formula="users per status and period: new (first event ever in the period), returning (active in the period and "
            "the one before), resurrecting (active, not in the period before, active earlier), dormant (active in "
            "the period before, not in this one; counted negative)",
    unit=Unit.COUNT, direction=Direction.NONE, inputs=("events",), rows=_lifecycle_rows,
    estimator=_SignedCount(lambda t: t._sign.sum()), what_is_counted="active users",
    description="PostHog's lifecycle insight: where each period's active users come from and how many left. Dimension "
                "`status` (new, returning, resurrecting, dormant); new + returning + resurrecting = the period's "
                "active users; dormant is negative, as PostHog shows it below zero, and its n is the users counted.",
    notes="Active: any event. Periods follow --period (not `all`); 'before' looks at all the data, before --from too. "
          "New is first seen in the data (PostHog uses the person's creation time, which a clickstream lacks).",
    source="PostHog lifecycle insight (posthog.com/docs/product-analytics/lifecycle)", dimensions=("status",),
    overall=False,
)

METRICS: tuple[Metric, ...] = WEBSITE + PRODUCT + (LIFECYCLE,)
