"""Support completeness (issue 18, item 5): SLA achievement per priority, reopen rate, one-touch resolution, backlog
age, and the priority, group, agent and tag breakdowns, against hand-worked values.

Most tests run on DuckDB only (`duck`); the one taking `run_case` runs on Spark too (tags unnested in the engine).
Default SLA targets (hours to first response / to resolution): urgent 1/4, high 4/8, normal 8/24, low 24/72.
Definitions: Zendesk SLA policies (targets per priority), Zendesk ticket metrics (`reopens`, `replies`), Zendesk
Explore's one-touch tickets (solved with one agent reply ÷ solved tickets). Wilson 95 % intervals (Wilson 1927) are
worked out below with z = 1.959964, z² = 3.841459:
    centre = (p + z²/2n) / (1 + z²/n),  half = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ibis
import pytest
from typer.testing import CliRunner

import cxbench
from conftest import pick, write_tables
from cxbench.cli import app
from cxbench.core.errors import UsageError
from cxbench.core.options import make_options
from cxbench.metrics.tickets import tag_list

OCT = "2026-10-01"
NEW = ["sla_first_response", "sla_resolution", "reopen_rate", "one_touch_resolution", "backlog_age"]


def ticket(ticket_id: str, opened: str, *, first: str = "", resolved: str = "", priority: str = "", group: str = "",
           agent: str = "", tags: str = "", reopens: object = "", replies: object = "",
           channel: str = "email") -> dict[str, object]:
    return {"ticket_id": ticket_id, "customer_id": f"c-{ticket_id}", "channel": channel, "opened_at": opened,
            "first_response_at": first, "resolved_at": resolved, "priority": priority, "group": group,
            "agent": agent, "tags": tags, "reopens": reopens, "agent_replies": replies}


# October 2026; the run's as-of day is 10-31, so "now" is 2026-11-01 00:00 UTC.
TICKETS = [
    # urgent: answered after 30 min (≤ 1 h: met), resolved after 3 h (≤ 4 h: met); one reply, never reopened
    ticket("s1", "2026-10-05T10:00:00Z", first="2026-10-05T10:30:00Z", resolved="2026-10-05T13:00:00Z",
           priority="urgent", group="billing", agent="ana", tags="refund vip", reopens=0, replies=1),
    # urgent: answered after 2 h (> 1 h: breached), resolved after 6 h (> 4 h: breached); reopened once
    ticket("s2", "2026-10-05T10:00:00Z", first="2026-10-05T12:00:00Z", resolved="2026-10-05T16:00:00Z",
           priority="urgent", group="billing", agent="bob", tags="refund", reopens=1, replies=3),
    # high: answered after 3 h (≤ 4: met), resolved after 10 h (> 8: breached); tags with a comma and capitals
    ticket("s3", "2026-10-06T09:00:00Z", first="2026-10-06T12:00:00Z", resolved="2026-10-06T19:00:00Z",
           priority="high", group="tech", agent="ana", tags="bug,VIP", reopens=0, replies=1, channel="chat"),
    # normal (written Normal): answered after 11 h (> 8: breached), resolved after 23 h (≤ 24: met); reopened twice
    ticket("s4", "2026-10-07T09:00:00Z", first="2026-10-07T20:00:00Z", resolved="2026-10-08T08:00:00Z",
           priority="Normal", group="tech", agent="bob", reopens=2, replies=2, channel="chat"),
    # no priority (normal targets), never answered, still open: 11 d 15 h by now, past 8 h and 24 h: breached twice
    ticket("s5", "2026-10-20T09:00:00Z", group="tech", tags="bug", channel="phone"),
    # low, opened 4 h before now, unanswered: within 24 h and 72 h, not decided yet: left out of both SLAs
    ticket("s6", "2026-10-31T20:00:00Z", priority="low", group="billing", agent="ana", tags="refund"),
    # low, solved after 30 min without a reply (zero-touch): resolution met (≤ 72 h); no first response to judge;
    # its tags written as a list
    ticket("s7", "2026-10-10T09:00:00Z", resolved="2026-10-10T09:30:00Z", priority="low", group="billing",
           agent="ana", tags='["vip"]', reopens=0, replies=0),
]


def _dimension(record: Any) -> dict[str, Any]:
    return record.to_dict().get("dimension") or {}


@pytest.fixture
def duck(tmp_path: Path) -> Callable[..., Any]:
    counter = iter(range(100))

    def run(tables: dict[str, Any], **options: Any) -> Any:
        folder = write_tables(tmp_path / f"case{next(counter)}", tables)
        return cxbench.compute(folder, engine="duckdb", **options)

    return run


def test_sla_achievement_per_priority_tag_and_agent_with_wilson_intervals_and_breaches_counted(duck):
    card = duck({"tickets": TICKETS}, period="month", as_of="2026-10-31", metrics=NEW[:2])
    first = pick(card, "sla_first_response", period_start=OCT)
    # First response: met s1, s3; breached s2, s4, s5 (s6 pending, s7 solved without a reply): 2 / 5 = 40 %.
    # Wilson, p = 0.4, n = 5: centre (0.4 + 0.384146) / 1.768292 = 0.443448; half 1.959964 · √(0.048 + 0.038415)
    # / 1.768292 = 0.325828 → 11.762 % to 76.928 %.
    assert (first["value"], first["n"]) == (pytest.approx(40.0), 5)
    assert (first["ci_low"], first["ci_high"]) == (pytest.approx(11.762, abs=1e-3), pytest.approx(76.928, abs=1e-3))
    assert (first["details"]["count"], first["details"]["breached"]) == (2, 3)
    assert first["details"]["targets_first_response"] == "urgent 1h, high 4h, normal 8h, low 24h"
    # Resolution: met s1, s4, s7; breached s2, s3, s5 (s6 pending): 3 / 6 = 50 %.
    # Wilson, p = 0.5, n = 6: centre 0.5; half 1.959964 · √(0.041667 + 0.026677) / 1.640243 = 0.312384.
    resolution = pick(card, "sla_resolution", period_start=OCT)
    assert (resolution["value"], resolution["n"], resolution["details"]["breached"]) == (pytest.approx(50.0), 6, 3)
    assert (resolution["ci_low"], resolution["ci_high"]) == (pytest.approx(18.762, abs=1e-3),
                                                             pytest.approx(81.238, abs=1e-3))

    def value(metric: str, **dimension: str) -> float:
        return pick(card, metric, period_start=OCT, dimension=dimension)["value"]

    # By priority (s4's "Normal" read as normal; s5 has none, so it is in no priority's record).
    assert value("sla_first_response", priority="urgent") == pytest.approx(50.0)  # s1 met, s2 breached
    assert value("sla_first_response", priority="normal") == 0  # s4 breached
    assert value("sla_resolution", priority="high") == 0  # s3 breached
    assert value("sla_resolution", priority="low") == 100  # s7 met (s6 pending)
    # By tag: each ticket in each of its tags. vip: s1, s3 met → 100 %; bug: s3 met, s5 breached → 50 %.
    assert value("sla_first_response", tag="vip") == 100
    assert value("sla_first_response", tag="bug") == pytest.approx(50.0)
    # Resolution by group: billing s1 met, s2 breached, s7 met → 2/3; by agent bob: s2 breached, s4 met → 50 %.
    assert value("sla_resolution", group="billing") == pytest.approx(200 / 3)
    assert value("sla_resolution", agent="bob") == pytest.approx(50.0)
    tags = {_dimension(r)["tag"] for r in card.records
            if r["id"] == "sla_resolution" and "tag" in _dimension(r)}
    assert tags == {"refund", "vip", "bug"}


def test_reopen_rate_and_one_touch_count_tickets_solved_in_the_period(duck):
    card = duck({"tickets": TICKETS}, period="month", as_of="2026-10-31",
                metrics=["reopen_rate", "one_touch_resolution"])
    # Solved in October: s1, s2, s3, s4, s7 (s5, s6 open). Reopened at least once: s2 (1), s4 (2) → 2 / 5 = 40 %.
    reopen = pick(card, "reopen_rate", period_start=OCT)
    assert (reopen["value"], reopen["n"], reopen["details"]["count"]) == (pytest.approx(40.0), 5, 2)
    assert reopen["ci_low"] == pytest.approx(11.762, abs=1e-3)  # the same 2 of 5 as above
    assert pick(card, "reopen_rate", period_start=OCT, dimension={"agent": "bob"})["value"] == 100  # s2, s4
    # One agent reply: s1, s3 → 2 / 5 = 40 %; s7 (no reply) counts as solved, not as one-touch.
    # Replies 1 + 3 + 1 + 2 + 0 = 7 over 5 solved tickets: 1.4 on average.
    touch = pick(card, "one_touch_resolution", period_start=OCT)
    assert (touch["value"], touch["n"]) == (pytest.approx(40.0), 5)
    assert touch["details"]["mean_agent_replies"] == pytest.approx(1.4)
    # vip: s1 (1 reply), s3 (1), s7 (0) → 2 / 3.
    assert pick(card, "one_touch_resolution", period_start=OCT, dimension={"tag": "vip"})["value"] == pytest.approx(200 / 3)


def test_backlog_age_median_and_p90_at_the_period_end_or_at_the_as_of_day_when_it_ends_later(duck):
    # Period year 2026 ends 2027-01-01; the as-of day ends 2026-11-01 00:00, where the ages are taken.
    # Open then: s5 opened 10-20 09:00 → 11 d 15 h = 279 h = 1,004,400 s; s6 opened 10-31 20:00 → 4 h = 14,400 s.
    # Median (14,400 + 1,004,400) / 2 = 509,400 s; p90 at position (2 − 1) × 0.9: 14,400 + 0.9 × 990,000 = 905,400 s.
    card = duck({"tickets": TICKETS}, period="year", as_of="2026-10-31", metrics=["backlog_age", "open_tickets"])
    age = pick(card, "backlog_age", period_start="2026-01-01")
    assert (age["value"], age["n"]) == (pytest.approx(509400.0), 2)
    assert age["details"]["p90"] == pytest.approx(905400.0)
    assert pick(card, "open_tickets", period_start="2026-01-01")["value"] == age["n"]
    assert pick(card, "backlog_age", period_start="2026-01-01", dimension={"group": "tech"})["value"] == 1004400


def test_sla_in_business_hours_and_own_targets_from_the_command_line(tmp_path: Path):
    # Opened Friday 2026-10-02 16:00, answered Monday 10-05 10:00: 66 calendar hours, but in Mon-Fri 09:00-17:00
    # only 1 h (Fri 16-17) + 1 h (Mon 9-10) = 2 h, within the normal 8 h. With --sla-targets normal=1h/2d, 2 h > 1 h.
    rows = [ticket("w1", "2026-10-02T16:00:00Z", first="2026-10-05T10:00:00Z", resolved="2026-10-05T11:00:00Z",
                   priority="normal")]
    folder = write_tables(tmp_path / "weekend", {"tickets": rows})
    runner = CliRunner()

    def first_response(*extra: str) -> dict[str, Any]:
        result = runner.invoke(app, ["run", str(folder), "--format", "json", "--period", "all", "--as-of",
                                     "2026-10-31", "--metric", "sla_first_response", *extra])
        assert result.exit_code == 0, result.output
        return next(r for r in json.loads(result.stdout)["metrics"] if not r.get("dimension"))

    assert first_response()["value"] == 0  # 66 h > 8 h in calendar time
    working = first_response("--business-hours", "Mon-Fri 09:00-17:00")
    assert working["value"] == 100 and working["details"]["time"].startswith("business hours")
    own = first_response("--business-hours", "Mon-Fri 09:00-17:00", "--sla-targets", "normal=1h/2d")
    assert own["value"] == 0 and own["details"]["targets_first_response"].endswith("normal 1h, low 24h")
    bad = runner.invoke(app, ["run", str(folder), "--sla-targets", "normal=1h"])
    assert bad.exit_code == 2 and "PRIORITY=FIRST/RESOLUTION" in bad.output


@pytest.mark.parametrize(("given", "message"), [
    ("normal=1h", "cannot read 'normal=1h'"),
    ("medium=1h/2h", "'medium' is not a ticket priority"),
    ("urgent=0h/2h", "'0h' is not a positive duration"),
    ("urgent=soon/2h", "'soon' is not a duration"),
    ("urgent=1h/2h,URGENT=2h/3h", "urgent is given twice"),
])
def test_sla_targets_are_checked_and_name_the_fix(given: str, message: str):
    with pytest.raises(UsageError, match=message):
        make_options(sla_targets=given)


def test_sla_targets_take_minutes_hours_days_and_keep_the_defaults_of_priorities_not_given():
    options = make_options(sla_targets="Urgent=30m/4h, low=2d/1.5d")
    assert options.sla_targets == (("low", 48.0, 36.0), ("urgent", 0.5, 4.0))
    assert options.sla_target_hours() == {"urgent": (0.5, 4.0), "high": (4.0, 8.0), "normal": (8.0, 24.0),
                                          "low": (48.0, 36.0)}
    assert make_options(sla_targets={"high": (2, 6)}).sla_target_hours()["high"] == (2.0, 6.0)


def test_tags_split_on_spaces_commas_semicolons_and_written_lists_lower_cased_each_once():
    t = ibis.memtable({"tags": ["refund vip", "bug,VIP", '["a", "b"]', " ; ", None, "x;y  x"]})
    got = [None if r["tags"] is None else sorted(r["tags"])
           for r in ibis.duckdb.connect().to_pyarrow(t.select(tags=tag_list(t.tags))).to_pylist()]
    assert got == [["refund", "vip"], ["bug", "vip"], ["a", "b"], [], None, ["x", "y"]]


def test_without_the_optional_columns_the_new_metrics_say_what_they_need_and_no_empty_breakdowns(duck):
    rows = [{"ticket_id": "t1", "channel": "email", "opened_at": "2026-10-05T10:00:00Z",
             "resolved_at": "2026-10-05T11:00:00Z", "first_response_at": "2026-10-05T10:10:00Z"}]
    card = duck({"tickets": rows}, period="month", as_of="2026-10-31", metrics=NEW)
    assert pick(card, "reopen_rate")["reason"].startswith("needs tickets.reopens")
    assert pick(card, "one_touch_resolution")["reason"].startswith("needs tickets.agent_replies")
    # No priority column: every ticket is held to the normal targets (10 min ≤ 8 h, 1 h ≤ 24 h).
    assert pick(card, "sla_first_response", period_start=OCT)["value"] == 100
    names = {name for r in card.records for name in _dimension(r)}
    assert names == {"channel"}


def test_tags_breakdown_and_sla_on_both_engines(run_case):
    # The tags are split in the engine (spaces and commas), lower-cased and unnested: s1 counts under refund and
    # vip, s3 under bug and vip. Resolution SLA per tag: bug s3 breached (10 h > 8 h), s5 breached (open past
    # 24 h) → 0 of 2; refund s1 met, s2 breached (s6 pending) → 1 of 2; vip s1 met, s3 breached, s7 met → 2 of 3.
    card = run_case({"tickets": TICKETS}, period="month", as_of="2026-10-31", metrics=["sla_resolution"])
    by_tag = {_dimension(r)["tag"]: (r["value"], r["n"]) for r in card.records if "tag" in _dimension(r)}
    assert by_tag == {"bug": (0.0, 2), "refund": (50.0, 2), "vip": (pytest.approx(200 / 3), 3)}
    assert pick(card, "sla_resolution", period_start=OCT)["value"] == pytest.approx(50.0)  # 3 of 6, as above


def test_backlog_age_in_a_time_zone_counts_the_change_of_the_clocks_between_the_data_and_the_as_of_day(duck):
    # Bucharest is UTC+2 in January, UTC+3 from 29 March. The only ticket, opened 2026-01-10 10:00Z and still open,
    # is aged at the end of the as-of day 2026-07-31: local midnight of 1 August (+3) = 2026-07-31 21:00Z.
    # Age = 21:00Z 31 July − 10:00Z 10 January = 202 d 11 h = 202 × 86,400 + 11 × 3,600 = 17,492,400 s.
    # (Read with January's offset, as when the clock stopped at the data's last instant: 1 h more, 17,496,000 s.)
    rows = [ticket("b1", "2026-01-10T10:00:00Z", priority="normal")]
    card = duck({"tickets": rows}, period="year", as_of="2026-07-31", metrics=["backlog_age"],
                timezone="Europe/Bucharest")
    assert pick(card, "backlog_age", period_start="2026-01-01")["value"] == pytest.approx(17_492_400.0)


@pytest.mark.parametrize("given", [{"high": (1, 2, 3)}, {"high": 5}, [("high", 1)]])
def test_sla_targets_of_the_wrong_shape_from_python_are_a_usage_error(given: object):
    # cxbench.compute(..., sla_targets=...) takes a mapping priority -> (first, resolution) or triples; another shape
    # was a bare ValueError/TypeError (exit 3 as an internal error).
    with pytest.raises(UsageError, match="is not a priority with two targets"):
        make_options(sla_targets=given)
