"""Website, product, campaign and cart metrics against hand-worked values and the seeds' worked examples.

Every test runs on DuckDB and on Spark through the `backend` fixture. Each case is a handful of hand-built
rows; the expected values are written out as numbers with the working in a comment, never produced by
cxbench. Sources: METRICS.md §2-§3 (seeds 000, 001, 003), the GA4 engaged-session definition, and the issue
text for sessions (30-minute rule, session_id first).
"""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import pick

OCT = "2026-10-01"
SEP = "2026-09-01"
NOV = "2026-11-01"


def ev(user: str, ts: str, event: str = "pageview", page: str | None = "/", **columns: object) -> dict[str, object]:
    """One events row; `ts` is written as given (ISO 8601, UTC)."""
    row: dict[str, object] = {"user_id": user, "ts": ts, "event": event, "page": page if page is not None else ""}
    row.update(columns)
    return row


def at(day: int, clock: str = "10:00:00", month: int = 10) -> str:
    """An ISO timestamp in 2026 (October by default)."""
    return f"2026-{month:02d}-{day:02d}T{clock}Z"


# -- sessions -------------------------------------------------------------------------------------------

GAP_EVENTS = [
    # Visitor a: 10:00, 10:29 (29 min later: same session), 11:00 (31 min after 10:29: a new session).
    ev("a", at(5, "10:00:00")), ev("a", at(5, "10:29:00"), page="/pricing"), ev("a", at(5, "11:00:00")),
    # Visitor b: 10:00 and 10:31 (31 min: two sessions).
    ev("b", at(5, "10:00:00")), ev("b", at(5, "10:31:00")),
]


def test_sessions_split_after_30_minutes_without_an_event(run_case):
    # 30-minute rule: a = {10:00, 10:29} + {11:00} → 2 sessions; b = {10:00} + {10:31} → 2. Total 4.
    # Pages per session: 5 pageviews ÷ 4 sessions = 1.25.
    # Durations (last − first): a1 = 29 min = 1740 s, a2 = 0, b1 = 0, b2 = 0 → mean 1740/4 = 435 s.
    card = run_case({"events": GAP_EVENTS}, period="all",
                    metrics=["sessions", "pages_per_session", "avg_session_duration"])
    assert pick(card, "sessions")["value"] == pytest.approx(4)
    assert pick(card, "pages_per_session")["value"] == pytest.approx(1.25)
    duration = pick(card, "avg_session_duration")
    assert duration["value"] == pytest.approx(435.0)
    assert duration["n"] == 4


def test_session_timeout_option_moves_the_cut(run_case):
    # session_timeout_minutes=20: a's 29-min gap now also cuts → a = 3 sessions, b = 2 → 5.
    # session_timeout_minutes=45: no gap above 45 min (29, 31, 31) → a = 1 session, b = 1 → 2.
    short = run_case({"events": GAP_EVENTS}, period="all", metrics=["sessions"], session_timeout_minutes=20)
    long = run_case({"events": GAP_EVENTS}, period="all", metrics=["sessions"], session_timeout_minutes=45)
    assert pick(short, "sessions")["value"] == pytest.approx(5)
    assert pick(long, "sessions")["value"] == pytest.approx(2)


def test_session_id_takes_precedence_over_the_gap_rule(run_case):
    # With session_id the tracker's sessions are used as they are:
    # s1 = a at 10:00 and 12:00 (2 h apart, still one session, duration 7200 s);
    # s2 = a at 12:05 (5 min after s1's last event, but a different id: a new session, duration 0).
    # Visitor b's s9: one event at 09:00, duration 0. Visitor c has no session_id: the 30-minute rule
    # cuts 10:00 / 11:00 into 2 sessions of 0 s. Sessions 3 + 2 = 5; mean duration 7200/5 = 1440 s.
    rows = [
        ev("a", at(5, "10:00:00"), session_id="s1"), ev("a", at(5, "12:00:00"), session_id="s1"),
        ev("a", at(5, "12:05:00"), session_id="s2"), ev("b", at(5, "09:00:00"), session_id="s9"),
        ev("c", at(5, "10:00:00"), session_id=""), ev("c", at(5, "11:00:00"), session_id=""),
    ]
    card = run_case({"events": rows}, period="all", metrics=["sessions", "avg_session_duration"])
    assert pick(card, "sessions")["value"] == pytest.approx(5)
    assert pick(card, "avg_session_duration")["value"] == pytest.approx(1440.0)


# -- website ----------------------------------------------------------------------------------------------

def test_pageviews_overall_and_per_page_unique_visitors_and_engagement_frequency(run_case):
    # Pageviews: a on / and /pricing, b on / → 3 overall; / = 2, /pricing = 1 (b's click and c's signup
    # are not pageviews). Unique visitors: a, b, c = 3 (any event). Engagement frequency (001): events ÷
    # active users = 5 / 3 = 1.6667.
    rows = [
        ev("a", at(5, "10:00:00")), ev("a", at(5, "10:01:00"), page="/pricing"),
        ev("b", at(6, "10:00:00")), ev("b", at(6, "10:00:30"), event="click"),
        ev("c", at(7, "10:00:00"), event="signup", page=None),
    ]
    card = run_case({"events": rows}, period="month",
                    metrics=["pageviews", "unique_visitors", "engagement_frequency"])
    assert pick(card, "pageviews")["value"] == pytest.approx(3)
    assert pick(card, "pageviews", dimension={"page": "/"})["value"] == pytest.approx(2)
    assert pick(card, "pageviews", dimension={"page": "/pricing"})["value"] == pytest.approx(1)
    visitors = pick(card, "unique_visitors")
    assert visitors["value"] == pytest.approx(3)
    assert visitors["period_start"] == OCT and visitors["period_end"] == "2026-10-31"
    assert pick(card, "engagement_frequency")["value"] == pytest.approx(5 / 3)


NEW_VISITOR_EVENTS = [
    ev("v1", at(20, month=9)), ev("v1", at(12)),  # first seen in September, back in October
    ev("v2", at(3)), ev("v2", at(15)),  # first seen 3 October, back 15 October
    ev("v3", at(20)),  # first seen 20 October
]


def test_new_visitor_share_looks_before_the_period_for_the_first_visit(run_case):
    # September: v1 only, first visit ever → 1/1 = 100 %.
    # October: visitors v1, v2, v3; v1's first visit was in September → new v2, v3 = 2/3 = 66.667 %.
    card = run_case({"events": NEW_VISITOR_EVENTS}, period="month", metrics=["new_visitor_share"])
    assert pick(card, "new_visitor_share", period_start=SEP)["value"] == pytest.approx(100.0)
    october = pick(card, "new_visitor_share", period_start=OCT)
    assert october["value"] == pytest.approx(200 / 3)
    assert october["details"]["numerator"] == 2 and october["details"]["denominator"] == 3


def test_new_visitor_share_looks_before_start_too(run_case):
    # start=2026-10-10: the period is 10-31 October. Visitors in it: v1 (12 Oct), v2 (15 Oct), v3 (20 Oct).
    # v1's first visit is 20 September and v2's 3 October, both before start=, so only v3 is new → 1/3.
    card = run_case({"events": NEW_VISITOR_EVENTS}, period="month", from_="2026-10-10",
                    metrics=["new_visitor_share"])
    record = pick(card, "new_visitor_share")
    assert record["period_start"] == "2026-10-10"
    assert record["value"] == pytest.approx(100 / 3)


BOUNCE_EVENTS = [
    ev("A", at(5, "10:00:00")),  # one pageview only
    ev("B", at(5, "10:00:00")), ev("B", at(5, "10:00:05"), event="click"),  # 1 pageview + click, 5 s
    ev("C", at(5, "10:00:00")), ev("C", at(5, "10:01:00"), event="pageleave"),  # 1 pageview, left after 60 s
    ev("D", at(5, "10:00:00")), ev("D", at(5, "10:02:00"), event="pageleave"),  # 1 pageview, left after 120 s
    ev("E", at(5, "10:00:00")), ev("E", at(5, "10:00:03"), page="/pricing"),  # 2 pageviews in 3 s
    ev("F", at(5, "10:00:00")), ev("F", at(5, "10:00:02"), event="checkout"),  # 1 pageview + key event, 2 s
    ev("G", at(5, "10:00:00")), ev("G", at(5, "10:00:10"), event="pageleave"),  # 1 pageview, left after 10 s
]


def test_bounce_rate_default_single_page_versus_ga4_not_engaged_on_the_same_sessions(run_case):
    # Seven sessions, one per visitor.
    # Default (003): one pageview and no event other than pageview/pageleave → A, C, D, G bounce → 4/7 = 57.143 %.
    #   (B clicked, E saw two pages, F checked out.)
    # GA4: under 10 s, fewer than 2 pageviews, no key event → A (0 s), B (5 s) bounce → 2/7 = 28.571 %.
    #   (C 60 s, D 120 s and G 10 s — not under 10 s — are engaged by time, E by its 2 pageviews, F by its
    #   key event checkout.)
    default = run_case({"events": BOUNCE_EVENTS}, period="all", metrics=["bounce_rate"])
    ga4 = run_case({"events": BOUNCE_EVENTS}, period="all", metrics=["bounce_rate"], bounce_definition="ga4")
    assert pick(default, "bounce_rate")["value"] == pytest.approx(100 * 4 / 7)
    assert pick(default, "bounce_rate")["n"] == 7
    assert pick(ga4, "bounce_rate")["value"] == pytest.approx(100 * 2 / 7)


def test_time_on_page_runs_to_the_next_pageview_or_pageleave_and_drops_an_open_last_page(run_case):
    # Session a: / 10:00:00 → /pricing 10:00:40 → pageleave 10:01:40: / = 40 s, /pricing = 60 s.
    # Session b: / 10:00:00, click 10:00:10 (not a pageview: does not end the page), /pricing 10:00:20, then
    # nothing: / = 20 s; /pricing has no end and is left out.
    # Overall (40 + 60 + 20) / 3 = 40 s over 3 timed pageviews; / = (40 + 20)/2 = 30 s (n 2); /pricing 60 s (n 1).
    rows = [
        ev("a", at(5, "10:00:00")), ev("a", at(5, "10:00:40"), page="/pricing"),
        ev("a", at(5, "10:01:40"), event="pageleave", page="/pricing"),
        ev("b", at(5, "10:00:00")), ev("b", at(5, "10:00:10"), event="click"),
        ev("b", at(5, "10:00:20"), page="/pricing"),
    ]
    card = run_case({"events": rows}, period="all", metrics=["time_on_page"])
    overall = pick(card, "time_on_page")
    assert overall["value"] == pytest.approx(40.0)
    assert overall["n"] == 3
    home = pick(card, "time_on_page", dimension={"page": "/"})
    assert home["value"] == pytest.approx(30.0) and home["n"] == 2
    pricing = pick(card, "time_on_page", dimension={"page": "/pricing"})
    assert pricing["value"] == pytest.approx(60.0) and pricing["n"] == 1


def test_exit_rate_per_page_ranks_exit_pages_with_ties_sharing_a_rank(run_case):
    # Sessions (one per visitor, pages 1 min apart):
    #   s1: / → /pricing (exit /pricing)      s2: / → /docs (exit /docs)
    #   s3: / → /pricing → /docs → / (exit /)  s4: /about (exit /about)
    # Pageviews: / 4, /pricing 2, /docs 2, /about 1. Exits: / 1, /pricing 1, /docs 1, /about 1.
    # Exit rate: /about 100 %, /pricing 50 %, /docs 50 %, / 25 %. Ranks (ties share): 1, 2, 2, 4.
    paths = {"s1": ["/", "/pricing"], "s2": ["/", "/docs"], "s3": ["/", "/pricing", "/docs", "/"], "s4": ["/about"]}
    rows = [ev(user, at(5, f"10:0{i}:00"), page=page) for user, pages in paths.items() for i, page in enumerate(pages)]
    card = run_case({"events": rows}, period="all", metrics=["exit_rate"])
    expected = {"/about": (100.0, 1), "/pricing": (50.0, 2), "/docs": (50.0, 2), "/": (25.0, 4)}
    for page, (value, rank) in expected.items():
        record = pick(card, "exit_rate", dimension={"page": page})
        assert record["value"] == pytest.approx(value), page
        assert record["details"]["rank"] == rank, page
    assert pick(card, "exit_rate", dimension={"page": "/"})["n"] == 4


def test_scroll_depth_per_page_skips_pageviews_without_scroll(run_case):
    # /a: 40 and 80 → 60 %; /b: 30 (its second pageview has no scroll_pct and is left out) → 30 %.
    # Overall (40 + 80 + 30) / 3 = 50 % → "good" (003: 50 % is good).
    rows = [
        ev("a", at(5, "10:00:00"), page="/a", scroll_pct=40), ev("b", at(5, "10:00:00"), page="/a", scroll_pct=80),
        ev("c", at(5, "10:00:00"), page="/b", scroll_pct=30), ev("d", at(5, "10:00:00"), page="/b", scroll_pct=""),
    ]
    card = run_case({"events": rows}, period="all", metrics=["scroll_depth"])
    overall = pick(card, "scroll_depth")
    assert overall["value"] == pytest.approx(50.0)
    assert overall["n"] == 3
    assert overall["benchmark"]["rating"] == "good"
    assert pick(card, "scroll_depth", dimension={"page": "/a"})["value"] == pytest.approx(60.0)
    assert pick(card, "scroll_depth", dimension={"page": "/b"})["value"] == pytest.approx(30.0)


def test_page_metrics_aggregated_in_one_query_equal_each_computed_alone(run_case):
    # Pageviews, time on page, exit rate and scroll depth share one query over the pageview window, each
    # counting only its own rows (`where`); computed alone, each filters its rows first. Both must agree with:
    #   session a: / 10:00:00 (scroll 50) → /pricing 10:00:40 (no scroll) → pageleave 10:01:40
    #   session b: / 10:00:00 (scroll 70), click 10:00:10, a pageview without page 10:00:20 (scroll 30), no end
    # pageviews 4 (/ 2, /pricing 1; the page-less one only overall)
    # time on page: / 40 and 20, /pricing 60, b's last untimed → (40 + 60 + 20)/3 = 40 (n 3), / 30, /pricing 60
    # scroll depth: (50 + 70 + 30)/3 = 50 (n 3), / 60; /pricing has no scroll: no record at all
    # exit rate: a exits on /pricing, b on the page-less pageview → 2/4 = 50 %, / 0 %, /pricing 100 %
    rows = [
        ev("a", at(5, "10:00:00"), scroll_pct=50), ev("a", at(5, "10:00:40"), page="/pricing", scroll_pct=""),
        ev("a", at(5, "10:01:40"), event="pageleave", page="/pricing", scroll_pct=""),
        ev("b", at(5, "10:00:00"), scroll_pct=70), ev("b", at(5, "10:00:10"), event="click", scroll_pct=""),
        ev("b", at(5, "10:00:20"), page=None, scroll_pct=30),
    ]
    ids = ["pageviews", "time_on_page", "exit_rate", "scroll_depth"]
    together = run_case({"events": rows}, period="all", metrics=ids)
    expected = {
        "pageviews": {None: (4, 4), "/": (2, 2), "/pricing": (1, 1)},
        "time_on_page": {None: (40.0, 3), "/": (30.0, 2), "/pricing": (60.0, 1)},
        "exit_rate": {None: (50.0, 4), "/": (0.0, 2), "/pricing": (100.0, 1)},
        "scroll_depth": {None: (50.0, 3), "/": (60.0, 2)},
    }
    for metric, by_page in expected.items():
        for page, (value, n) in by_page.items():
            record = pick(together, metric, dimension=None if page is None else {"page": page})
            assert (record["value"], record["n"]) == (pytest.approx(value), n), (metric, page)
    assert together.get("scroll_depth", dimension={"page": "/pricing"}) == []
    for metric in ids:
        alone = run_case({"events": rows}, period="all", metrics=[metric])
        assert ([r.to_dict() for r in alone.records if r.id == metric]
                == [r.to_dict() for r in together.records if r.id == metric]), metric


def test_avg_time_on_site_matches_seed_000_ten_visitors_averaging_20_minutes(run_case):
    # Seed 000: ten unique visitors averaging 20 minutes in a month → 20 minutes.
    # v0-v4: one 10-minute session each (10:00, 10:05, 10:10) → 5 × 10 = 50 min.
    # v5-v9: two 15-minute sessions each on different days (10:00, 10:15) → 5 × 30 = 150 min.
    # Total 200 min ÷ 10 visitors = 20 min = 1200 s. Per session instead: 200 min ÷ 15 sessions = 800 s.
    rows = []
    for i in range(5):
        rows += [ev(f"v{i}", at(5, clock)) for clock in ("10:00:00", "10:05:00", "10:10:00")]
    for i in range(5, 10):
        rows += [ev(f"v{i}", at(day, clock)) for day in (6, 7) for clock in ("10:00:00", "10:15:00")]
    card = run_case({"events": rows}, period="month", metrics=["avg_time_on_site", "avg_session_duration"])
    site = pick(card, "avg_time_on_site", period_start=OCT)
    assert site["value"] == pytest.approx(1200.0)
    assert pick(card, "avg_session_duration", period_start=OCT)["value"] == pytest.approx(800.0)


# -- product ------------------------------------------------------------------------------------------------

def test_dau_wau_mau_and_stickiness_average_over_every_calendar_day_of_october(run_case):
    # October 2026: 31 days; 1 October is a Thursday, so the month overlaps 5 ISO weeks
    # (28 Sep-4 Oct, 5-11, 12-18, 19-25, 26 Oct-1 Nov).
    # a: active 1-10 October (two events on the 1st) → 10 user-days, weeks 1 and 2.
    # b: active 1-4 October → 4 user-days, week 1.     c: active 31 October → 1 user-day, week 5.
    # DAU = 15 user-days ÷ 31 days = 0.483871 (not ÷ the 11 active days).
    # WAU = 4 user-weeks ÷ 5 weeks = 0.8.   MAU = 3.
    # Stickiness = 0.483871 ÷ 3 × 100 = 16.129 % → "good" (003: above 13 %).
    rows = [ev("a", at(day)) for day in range(1, 11)] + [ev("a", at(1, "18:00:00"), event="click")]
    rows += [ev("b", at(day)) for day in range(1, 5)] + [ev("c", at(31))]
    card = run_case({"events": rows}, period="month", metrics=["dau", "wau", "mau", "stickiness"])
    assert pick(card, "dau")["value"] == pytest.approx(15 / 31)
    assert pick(card, "wau")["value"] == pytest.approx(0.8)
    assert pick(card, "mau")["value"] == pytest.approx(3)
    stickiness = pick(card, "stickiness")
    assert stickiness["value"] == pytest.approx(100 * 15 / 31 / 3)
    assert stickiness["benchmark"]["rating"] == "good"


def test_activity_rate_counts_only_paying_customers_from_is_paying(run_case):
    # Customers signed up 1 October; p1-p4 pay, f1 does not. Active in October: p1 and f1.
    # Only paying customers count: 1 active of 4 paying = 25 % (f1's activity is not in the numerator).
    # p5 pays but signs up in November: not a paying customer of October.
    customers = [{"customer_id": c, "signup_at": at(1, "08:00:00"), "is_paying": paying}
                 for c, paying in (("p1", "true"), ("p2", "true"), ("p3", "true"), ("p4", "true"), ("f1", "false"))]
    customers.append({"customer_id": "p5", "signup_at": at(5, month=11), "is_paying": "yes"})
    rows = [ev("p1", at(5)), ev("f1", at(6))]
    card = run_case({"events": rows, "customers": customers}, period="month", metrics=["activity_rate"])
    record = pick(card, "activity_rate", period_start=OCT)
    assert record["value"] == pytest.approx(25.0)
    assert record["n"] == 4


def test_activity_rate_reads_paying_from_active_subscriptions(run_case):
    # Customers c1-c4 signed up 1 September, no is_paying column. Subscriptions:
    # c1 from 1 Sep, still active; c2 1 Sep-15 Oct (active during October); c3 1 Sep-20 Sep (ended before
    # October); c4 none. Paying in October: c1, c2. Active in October: c2, c3, c4 → paying and active: c2 → 1/2.
    # September: paying c1, c2, c3; active: c1 → 1/3.
    customers = [{"customer_id": c, "signup_at": at(1, "08:00:00", month=9)} for c in ("c1", "c2", "c3", "c4")]
    subscriptions = [
        {"subscription_id": "s1", "customer_id": "c1", "start_at": at(1, "09:00:00", month=9), "end_at": "", "mrr": 10},
        {"subscription_id": "s2", "customer_id": "c2", "start_at": at(1, "09:00:00", month=9),
         "end_at": at(15, "09:00:00"), "mrr": 10},
        {"subscription_id": "s3", "customer_id": "c3", "start_at": at(1, "09:00:00", month=9),
         "end_at": at(20, "09:00:00", month=9), "mrr": 10},
    ]
    rows = [ev("c1", at(10, month=9)), ev("c2", at(5)), ev("c3", at(6)), ev("c4", at(7))]
    card = run_case({"events": rows, "customers": customers, "subscriptions": subscriptions}, period="month",
                    metrics=["activity_rate"])
    assert pick(card, "activity_rate", period_start=OCT)["value"] == pytest.approx(50.0)
    assert pick(card, "activity_rate", period_start=OCT)["n"] == 2
    assert pick(card, "activity_rate", period_start=SEP)["value"] == pytest.approx(100 / 3)


# Alone, feature adoption counts over every event; beside another visitor metric, over the shared visitor-days and
# the events naming a feature: the same numbers either way.
ALONE_OR_SHARED = pytest.mark.parametrize("metrics", [["feature_adoption"], ["feature_adoption", "unique_visitors"]],
                                          ids=["alone", "shared"])


@ALONE_OR_SHARED
def test_feature_adoption_per_feature_column_over_active_users(run_case, metrics):
    # Active users a, b, c, d. export used by a and b (a twice) → 2/4 = 50 %; search by c → 1/4 = 25 %.
    # d only viewed a page (no feature) but counts as active. No overall record (a share per feature).
    rows = [
        ev("a", at(5), event="click", feature="export"), ev("a", at(6), event="click", feature="export"),
        ev("b", at(5), event="click", feature="export"), ev("c", at(5), event="click", feature="search"),
        ev("d", at(5)),
    ]
    card = run_case({"events": rows}, period="month", metrics=metrics)
    export = pick(card, "feature_adoption", dimension={"feature": "export"})
    assert export["value"] == pytest.approx(50.0)
    assert export["n"] == 4
    assert pick(card, "feature_adoption", dimension={"feature": "search"})["value"] == pytest.approx(25.0)
    assert card.get("feature_adoption") == []


@ALONE_OR_SHARED
def test_feature_adoption_falls_back_to_event_names_without_a_feature_column(run_case, metrics):
    # No feature column: each product event's name is the feature; pageview/pageleave are not features.
    # Active users a, b, c, d: export by a, b → 50 %; search by c → 25 %; no record for pageview/pageleave.
    rows = [
        ev("a", at(5), event="export"), ev("b", at(5), event="export"), ev("b", at(5, "10:01:00")),
        ev("c", at(5), event="search"), ev("d", at(5)), ev("d", at(5, "10:00:30"), event="pageleave"),
    ]
    card = run_case({"events": rows}, period="month", metrics=metrics)
    assert pick(card, "feature_adoption", dimension={"feature": "export"})["value"] == pytest.approx(50.0)
    assert pick(card, "feature_adoption", dimension={"feature": "search"})["value"] == pytest.approx(25.0)
    assert card.get("feature_adoption", dimension={"feature": "pageview"}) == []
    assert card.get("feature_adoption", dimension={"feature": "pageleave"}) == []


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)  # the engine paths are the ones above; Spark took 36 s
def test_feature_adoption_with_other_metrics_counts_the_active_users_of_the_report_zones_days(run_case):
    # With other metrics the run stores the visitor-days (with each visitor's first day, for the new visitor
    # share) and feature adoption counts its active users over them: this checks that path and its days.
    # --timezone America/New_York: 1 Nov 2026 03:00-03:30 UTC is 31 Oct 23:00-23:30 EDT (UTC-4 until 06:00 UTC),
    # so e (a pageview) and f (search) are October users. October: active a, b, c, d, e, f = 6;
    # export a, b → 2/6 = 33.333 %; search c, f → 2/6 = 33.333 %.
    # (In UTC e and f would be November's: export 2/4 = 50 %, search 1/4 = 25 %.)
    rows = [
        ev("a", at(5), event="click", feature="export"), ev("a", at(6), event="click", feature="export"),
        ev("b", at(5), event="click", feature="export"), ev("c", at(5), event="click", feature="search"),
        ev("d", at(5)), ev("e", at(1, "03:00:00", month=11)),
        ev("f", at(1, "03:30:00", month=11), event="click", feature="search"),
    ]
    card = run_case({"events": rows}, period="month", timezone="America/New_York",
                    metrics=["feature_adoption", "new_visitor_share", "dau"])
    export = pick(card, "feature_adoption", period_start=OCT, dimension={"feature": "export"})
    assert (export["value"], export["n"]) == (pytest.approx(100 / 3), 6)
    search = pick(card, "feature_adoption", period_start=OCT, dimension={"feature": "search"})
    assert (search["value"], search["n"]) == (pytest.approx(100 / 3), 6)
    assert [r for r in card.get("feature_adoption") if r["period_start"] == NOV and r["value"] is not None] == []


def test_first_week_engagement_counts_returns_on_days_1_to_7(run_case):
    # October signups (day 0 = the signup's UTC calendar day):
    #   s1 signs up 1 Oct 10:00; events 1 Oct 12:00 (day 0) and 3 Oct (day 2) → came back; 2 first-week events.
    #   s2 signs up 2 Oct; one event 2 Oct (day 0) → did not come back; 1 first-week event.
    #   s3 signs up 5 Oct; one event 12 Oct (day 7) → came back; 0 events on days 0-6.
    #   s4 signs up 10 Oct; one event 18 Oct (day 8) → did not come back; 0 events.
    # Value 2/4 = 50 %; mean first-week events (2 + 1 + 0 + 0)/4 = 0.75; abandonment 100 − 50 = 50 %.
    # Wilson 95 % for 2/4: centre 0.5, half-width z·√(pq/n + z²/4n²)/(1 + z²/n) = 1.959964·√0.122523/1.960365
    # = 0.349952 → 15.005 .. 84.995 %.
    # A September signup (s0, 28 Sep, an event that day and one on 1 Oct = day 3) is September's signup:
    # September = 1/1 = 100 %, with 2 first-week events.
    customers = [
        {"customer_id": "s0", "signup_at": at(28, month=9)}, {"customer_id": "s1", "signup_at": at(1)},
        {"customer_id": "s2", "signup_at": at(2)}, {"customer_id": "s3", "signup_at": at(5)},
        {"customer_id": "s4", "signup_at": at(10)},
    ]
    rows = [ev("s0", at(28, "11:00:00", month=9)), ev("s0", at(1, "07:00:00")),
            ev("s1", at(1, "12:00:00")), ev("s1", at(3)), ev("s2", at(2, "11:00:00")),
            ev("s3", at(12)), ev("s4", at(18))]
    card = run_case({"events": rows, "customers": customers}, period="month", metrics=["first_week_engagement"])
    october = pick(card, "first_week_engagement", period_start=OCT)
    assert october["value"] == pytest.approx(50.0)
    assert october["n"] == 4
    assert october["details"]["mean_first_week_events"] == pytest.approx(0.75)
    assert october["details"]["abandonment_rate"] == pytest.approx(50.0)
    assert october["ci_low"] == pytest.approx(15.005, abs=1e-2)
    assert october["ci_high"] == pytest.approx(84.995, abs=1e-2)
    september = pick(card, "first_week_engagement", period_start=SEP)
    assert september["value"] == pytest.approx(100.0)
    assert september["details"]["mean_first_week_events"] == pytest.approx(2.0)


def test_retention_cohorts_by_signup_month_and_offset(run_case):
    # period="month". September cohort: c1, c2; October cohort: c3, c4.
    # c1 active September and November; c2 September only; c3 October and November; c4 never.
    # Sep cohort: offset 0 (Sep) 2/2 = 100 %; offset 1 (Oct) 0/2 = 0 %; offset 2 (Nov) 1/2 = 50 %.
    # Oct cohort: offset 0 (Oct) 1/2 = 50 %; offset 1 (Nov) 1/2 = 50 %.
    customers = [
        {"customer_id": "c1", "signup_at": at(2, month=9)}, {"customer_id": "c2", "signup_at": at(3, month=9)},
        {"customer_id": "c3", "signup_at": at(2)}, {"customer_id": "c4", "signup_at": at(3)},
    ]
    rows = [ev("c1", at(4, month=9)), ev("c1", at(4, month=11)), ev("c2", at(5, month=9)),
            ev("c3", at(4)), ev("c3", at(20, month=11))]
    card = run_case({"events": rows, "customers": customers}, period="month", metrics=["retention_cohorts"])
    expected = {
        (SEP, 0): (SEP, 100.0), (SEP, 1): (OCT, 0.0), (SEP, 2): (NOV, 50.0),
        (OCT, 0): (OCT, 50.0), (OCT, 1): (NOV, 50.0),
    }
    for (cohort, offset), (period_start, value) in expected.items():
        record = pick(card, "retention_cohorts", dimension={"cohort": cohort, "offset": offset})
        assert record["period_start"] == period_start, (cohort, offset)
        assert record["value"] == pytest.approx(value), (cohort, offset)
        assert record["n"] == 2
    assert card.get("retention_cohorts", dimension={"cohort": OCT, "offset": 2}) == []


# -- campaigns and carts ------------------------------------------------------------------------------------

def test_ctr_matches_seed_003_newsletter_example_per_campaign_channel_and_overall(run_case):
    # Seed 003: a newsletter opened by 200 people, 50 of whom clicked → 25 %. Here over two days:
    # 120 opens / 30 clicks and 80 / 20 → 50/200 = 25 %. A social campaign: 30 clicks / 1000 views = 3 %.
    # Channels: email 25 %, social 3 %. Overall (50 + 30)/(200 + 1000) = 6.667 % → "high" (003: 6-7 %).
    campaigns = """
date,campaign,channel,impressions,clicks
2026-10-05,newsletter,email,120,30
2026-10-06,newsletter,email,80,20
2026-10-06,autumn_sale,social,1000,30
"""
    card = run_case({"campaigns": campaigns}, period="month", metrics=["ctr"])
    assert pick(card, "ctr", dimension={"campaign": "newsletter"})["value"] == pytest.approx(25.0)
    assert pick(card, "ctr", dimension={"campaign": "autumn_sale"})["value"] == pytest.approx(3.0)
    assert pick(card, "ctr", dimension={"channel": "email"})["value"] == pytest.approx(25.0)
    assert pick(card, "ctr", dimension={"channel": "social"})["value"] == pytest.approx(3.0)
    overall = pick(card, "ctr")
    assert overall["value"] == pytest.approx(80 / 12)
    assert overall["benchmark"]["rating"] == "great"


def test_cart_abandonment_rate_from_the_carts_table(run_case):
    # Four carts, one checked out → 3 not checked out ÷ 4 created = 75 %.
    carts = """
cart_id,user_id,created_at,checked_out_at
k1,a,2026-10-05T10:00:00Z,2026-10-05T10:20:00Z
k2,b,2026-10-06T10:00:00Z,
k3,c,2026-10-07T10:00:00Z,
k4,d,2026-10-08T10:00:00Z,
"""
    card = run_case({"carts": carts}, period="month", metrics=["cart_abandonment_rate"])
    record = pick(card, "cart_abandonment_rate")
    assert record["value"] == pytest.approx(75.0)
    assert record["n"] == 4
    assert record["details"]["from"] == "carts"


def test_cart_abandonment_rate_from_add_to_cart_and_checkout_events_without_carts(run_case):
    # No carts table: each session with add_to_cart is a cart, bought when it has a checkout.
    #   a, 5 Oct: add_to_cart, checkout → bought.      b, 5 Oct: add_to_cart → abandoned.
    #   c, 5 Oct: pageview only → no cart.               a, 6 Oct: add_to_cart twice → one cart, abandoned.
    # 2 abandoned ÷ 3 carts = 66.667 %.
    rows = [
        ev("a", at(5, "10:00:00"), event="add_to_cart"), ev("a", at(5, "10:05:00"), event="checkout"),
        ev("b", at(5, "10:00:00"), event="add_to_cart"), ev("c", at(5, "10:00:00")),
        ev("a", at(6, "10:00:00"), event="add_to_cart"), ev("a", at(6, "10:01:00"), event="add_to_cart"),
    ]
    card = run_case({"events": rows}, period="month", metrics=["cart_abandonment_rate"])
    record = pick(card, "cart_abandonment_rate")
    assert record["value"] == pytest.approx(200 / 3)
    assert record["n"] == 3
    assert record["details"]["from"].startswith("events")


# -- unavailable ------------------------------------------------------------------------------------------

def test_event_metrics_are_unavailable_with_a_reason_when_the_events_table_is_missing(run_case):
    # Only a campaigns table: every events metric says it needs the events table; ctr is computed.
    ids = ["pageviews", "unique_visitors", "new_visitor_share", "sessions", "pages_per_session", "bounce_rate",
           "avg_session_duration", "avg_time_on_site", "time_on_page", "scroll_depth", "exit_rate", "dau", "wau",
           "mau", "stickiness", "feature_adoption", "engagement_frequency", "cart_abandonment_rate"]
    campaigns = "date,campaign,impressions,clicks\n2026-10-05,newsletter,200,50\n"
    card = run_case({"campaigns": campaigns}, period="month", metrics=[*ids, "ctr"])
    for metric_id in ids:
        records = card.get(metric_id)
        assert records, metric_id
        for record in records:
            assert record["status"] == "unavailable", metric_id
            assert record["value"] is None, metric_id
            assert "events" in record["reason"], (metric_id, record["reason"])
    assert pick(card, "ctr")["value"] == pytest.approx(25.0)


def test_metrics_are_unavailable_when_a_table_or_column_they_need_is_missing(run_case):
    # Events without scroll_pct → scroll_depth needs that column. Customers without is_paying and no
    # subscriptions → activity_rate cannot tell who pays. No campaigns table → ctr unavailable.
    rows = [ev("a", at(5))]
    customers = [{"customer_id": "a", "signup_at": at(1)}]
    card = run_case({"events": rows, "customers": customers}, period="month",
                    metrics=["scroll_depth", "activity_rate", "ctr"])
    scroll = pick(card, "scroll_depth")
    assert scroll["status"] == "unavailable" and "scroll_pct" in scroll["reason"]
    activity = pick(card, "activity_rate")
    assert activity["status"] == "unavailable"
    assert "is_paying" in activity["reason"] and "subscriptions" in activity["reason"]
    ctr = pick(card, "ctr")
    assert ctr["status"] == "unavailable" and "campaigns" in ctr["reason"]


def test_customer_metrics_are_unavailable_without_a_customers_table(run_case):
    # first_week_engagement, retention_cohorts and activity_rate all start from customers.
    card = run_case({"events": [ev("a", at(5))]}, period="month",
                    metrics=["first_week_engagement", "retention_cohorts", "activity_rate"])
    for metric_id in ("first_week_engagement", "retention_cohorts", "activity_rate"):
        record = pick(card, metric_id)
        assert record["status"] == "unavailable", metric_id
        assert "customers" in record["reason"], (metric_id, record["reason"])


def test_wau_counts_a_week_straddling_two_months_in_both(run_case):
    # User a is active Wed 30 Sep and Fri 2 Oct 2026: one ISO week (Mon 28 Sep) that overlaps both months.
    # Another user on Mon 31 Aug and Sat 31 Oct makes the data cover both months whole (else they are partial and
    # averaged over the weeks their covered days overlap). October overlaps 5 ISO weeks (28 Sep, 5, 12, 19,
    # 26 Oct): a's week and b's week of 26 Oct → WAU = 2/5 = 0.4; September overlaps 5 weeks (31 Aug, 7, 14, 21,
    # 28 Sep): b's week of 31 Aug and a's → 0.4 as well.
    events = [
        {"user_id": "a", "ts": "2026-09-30T10:00:00Z", "event": "login"},
        {"user_id": "a", "ts": "2026-10-02T10:00:00Z", "event": "login"},
        {"user_id": "b", "ts": "2026-09-01T10:00:00Z", "event": "login"},
        {"user_id": "b", "ts": "2026-10-31T10:00:00Z", "event": "login"},
    ]
    card = run_case({"events": events}, period="month", metrics=["wau"])
    assert pick(card, "wau", period_start="2026-10-01")["value"] == pytest.approx(0.4)
    assert pick(card, "wau", period_start="2026-09-01")["value"] == pytest.approx(0.4)


def test_subscription_ending_at_the_first_instant_of_a_month_is_not_paying_in_it(run_case):
    # c1's subscription ends 2026-10-01T00:00:00Z: paying in September only. c2 pays through October and is
    # active there; c1 is active in October too but no longer pays. October: 1 of 1 paying active = 100 %.
    customers = [{"customer_id": "c1", "signup_at": "2026-08-01T00:00:00Z"},
                 {"customer_id": "c2", "signup_at": "2026-08-01T00:00:00Z"}]
    subscriptions = [
        {"subscription_id": "s1", "customer_id": "c1", "start_at": "2026-08-01T00:00:00Z",
         "end_at": "2026-10-01T00:00:00Z", "mrr": 10},
        {"subscription_id": "s2", "customer_id": "c2", "start_at": "2026-08-01T00:00:00Z", "end_at": "", "mrr": 10},
    ]
    events = [{"user_id": "c1", "ts": "2026-10-05T10:00:00Z", "event": "login"},
              {"user_id": "c2", "ts": "2026-10-06T10:00:00Z", "event": "login"}]
    card = run_case({"customers": customers, "subscriptions": subscriptions, "events": events},
                    period="month", metrics=["activity_rate"])
    october = pick(card, "activity_rate", period_start="2026-10-01")
    assert (october["value"], october["n"]) == (100.0, 1)


def test_ratio_n_is_the_population_divided_over(run_case):
    # 3 visitors, 2 of them new in October (b, c), 5 events: n is the 3 visitors, not the 5 events.
    events = [
        {"user_id": "a", "ts": "2026-09-10T10:00:00Z", "event": "pageview", "page": "/"},
        {"user_id": "a", "ts": "2026-10-10T10:00:00Z", "event": "pageview", "page": "/"},
        {"user_id": "b", "ts": "2026-10-11T10:00:00Z", "event": "pageview", "page": "/"},
        {"user_id": "b", "ts": "2026-10-11T10:01:00Z", "event": "pageview", "page": "/"},
        {"user_id": "c", "ts": "2026-10-12T10:00:00Z", "event": "pageview", "page": "/"},
    ]
    card = run_case({"events": events}, period="month", metrics=["new_visitor_share", "unique_visitors"])
    share = pick(card, "new_visitor_share", period_start="2026-10-01")
    assert (share["value"], share["n"]) == (pytest.approx(200 / 3), 3)
    assert pick(card, "unique_visitors", period_start="2026-10-01")["n"] == 3


# -- what the run asks of the events before its queries ----------------------------------------------------

def test_table_facts_give_first_and_last_day_null_columns_and_the_events_that_occur(tmp_path, backend):
    from conftest import write_tables
    from cxbench.core.facts import events_seen, has_nulls, table_days
    from cxbench.core.options import make_options
    from cxbench.core.registry import MetricContext
    from cxbench.core.sources import open_source
    from cxbench.core.validation import validate

    # By hand: the valid rows run from 3 to 9 October (the row dated 2099 is set aside as a typo, so it moves
    # neither day); one valid row has an empty session_id (null); `purchase` is the data's checkout
    # (--event-name), `add_to_cart` and `pageleave` never occur.
    rows = [
        ev("a", at(3, "23:59:59"), session_id="s1"),
        ev("a", at(9, "00:00:01"), event="purchase", session_id="s1"),
        ev("b", at(5), session_id=""),
        ev("b", "2099-01-01T00:00:00Z", event="add_to_cart", session_id="s2"),
    ]
    folder = write_tables(tmp_path, {"events": rows})
    options = make_options(as_of="2026-12-01", event_names={"checkout": "purchase"})
    dataset = open_source(folder, backend)
    validation = validate(dataset, only={"events"}, as_of=options.as_of)
    ctx = MetricContext(con=dataset.con, tables=validation.tables, options=options)
    days = table_days(ctx, "events")
    assert days == {"ts": (dt.date(2026, 10, 3), dt.date(2026, 10, 9))}
    assert has_nulls(ctx, "events", "session_id") is True
    assert has_nulls(ctx, "events", "user_id") is False
    assert has_nulls(ctx, "events", "feature") is False  # a column the table lacks holds no null
    # pageview, pageleave, add_to_cart and purchase (checkout) are looked for; two occur, as the data names them
    assert events_seen(ctx) == {"pageview", "purchase"}
    assert table_days(ctx, "events") is days  # asked once per run


def test_a_metric_reading_an_event_outside_event_names_is_refused_when_declared():
    # The table facts ask whether each of EVENT_NAMES occurs and --event-name maps only those: a metric declared
    # with another event would never be found unavailable, so its declaration fails at once.
    import dataclasses

    from cxbench.metrics import METRICS_BY_ID

    with pytest.raises(ValueError, match=r"metric pageviews reads event 'signup', which is not one of "
                                         r"options.EVENT_NAMES \(pageview, pageleave, add_to_cart, checkout\)"):
        dataclasses.replace(METRICS_BY_ID["pageviews"], events=("pageview", "signup"), required_events=("signup",))
