"""Funnels and top paths (cxbench funnel, cxbench paths, the report's "Why it moved: funnel") against hand-worked
cases. The lifecycle metric is tested in test_lifecycle_metrics.py.

Funnel modes as PostHog's reference defines them (PostHog/skills, modeling-conversion-metrics/references/
conversion-metric-definitions.md): ordered (other events may come between steps), strict (no other event may),
any order (steps in any sequence within the window).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cxbench
from conftest import write_tables
from cxbench.core.errors import UsageError


def ev(user: str, day: int, clock: str, event: str, page: str = "") -> dict[str, str]:
    return {"user_id": user, "ts": f"2026-10-{day:02d}T{clock}Z", "event": event, "page": page}


# Six users, steps signup → activate → checkout, window 7 days (measured from the signup).
SIX_USERS = [
    # u1: signup 1st 10:00, activate 2nd 10:00, checkout 3rd 10:00; nothing else: converts in every mode.
    ev("u1", 1, "10:00:00", "signup"), ev("u1", 2, "10:00:00", "activate"), ev("u1", 3, "10:00:00", "checkout"),
    # u2: a pageview between signup and activate (breaks strict), checkout on the 4th (within 7 days).
    ev("u2", 1, "10:00:00", "signup"), ev("u2", 1, "11:00:00", "pageview", "/"),
    ev("u2", 2, "16:00:00", "activate"), ev("u2", 4, "10:00:00", "checkout"),
    # u3: checkout on the 10th, 9 days after the signup: outside the 7-day window.
    ev("u3", 1, "10:00:00", "signup"), ev("u3", 3, "10:00:00", "activate"), ev("u3", 10, "10:00:00", "checkout"),
    # u4: activate before signup (only any order lets it count), checkout on the 3rd.
    ev("u4", 1, "10:00:00", "activate"), ev("u4", 2, "10:00:00", "signup"), ev("u4", 3, "10:00:00", "checkout"),
    # u5: signup then checkout, never activates.
    ev("u5", 1, "10:00:00", "signup"), ev("u5", 2, "10:00:00", "checkout"),
    # u6: only a pageview: never enters.
    ev("u6", 1, "10:00:00", "pageview", "/"),
]
CUSTOMERS = [{"customer_id": u, "signup_at": "2026-09-01T00:00:00Z", "plan": plan}
             for u, plan in (("u1", "pro"), ("u2", "pro"), ("u3", "pro"), ("u4", "free"), ("u5", "free"),
                             ("u6", "free"))]
STEPS = "signup,activate,checkout"


@pytest.fixture
def six_users(tmp_path: Path) -> Path:
    return write_tables(tmp_path / "six", {"events": SIX_USERS, "customers": CUSTOMERS})


def users_per_step(result: cxbench.Funnel, segment: dict | None = None) -> list[int]:
    group = result.group(segment)
    assert group is not None
    return [s.users for s in group.steps]


def test_funnel_of_six_users_in_each_order_mode(six_users):
    # ordered: step 1 = u1..u5 (5). Step 2, activate after the signup: u1, u2, u3 (u4 activated before its signup,
    # u5 never) = 3. Step 3, checkout after the activation within 7 days of the signup: u1 (3rd), u2 (4th) = 2;
    # u3's checkout on the 10th is 9 days after its signup: cut off by the window.
    ordered = cxbench.funnel(six_users, STEPS, window="7d", period="all")
    assert users_per_step(ordered) == [5, 3, 2]
    # strict: the next step must be the very next event. u1 signup→activate→checkout: 3 steps. u2's pageview comes
    # between signup and activate: step 1 only. u3: signup→activate (2), its checkout is outside the window.
    # u4: signup is followed by checkout: step 1. u5: step 1. → [5, 2, 1]
    strict = cxbench.funnel(six_users, STEPS, window="7d", order="strict", period="all")
    assert users_per_step(strict) == [5, 2, 1]
    # any: the window starts at the first funnel event; step k = steps 1..k all done in it, in any sequence.
    # Step 1 (signup): u1..u5 = 5. Steps 1-2: u1, u2, u3, u4 (activate on the 1st, signup on the 2nd) = 4.
    # Steps 1-3: u1, u2, u4 (checkout on the 3rd, 2 days after its first event) = 3; u3's checkout is out.
    anyorder = cxbench.funnel(six_users, STEPS, window="7d", order="any", period="all")
    assert users_per_step(anyorder) == [5, 4, 3]


def test_funnel_conversion_drop_off_wilson_interval_and_median_time(six_users, backend):
    # The engine part on DuckDB and Spark: the ordered funnel of the six users (worked above: [5, 3, 2]).
    result = cxbench.funnel(six_users, STEPS, window="7d", engine=backend, period="all")
    group = result.overall
    assert group is not None
    first, second, third = group.steps
    assert [s.users for s in group.steps] == [5, 3, 2]
    assert (first.conversion_pct, first.dropped) == (100.0, 0)
    # Step 2: 3 of 5 = 60 %; 2 dropped (40 % of step 1). Step 3: 2 of 5 = 40 % overall, 2 of 3 = 66.7 % of step 2.
    assert second.conversion_pct == pytest.approx(60.0)
    assert (second.dropped, second.dropoff_pct) == (2, pytest.approx(40.0))
    assert third.conversion_pct == pytest.approx(40.0)
    assert third.step_conversion_pct == pytest.approx(200 / 3)
    assert (third.dropped, third.dropoff_pct) == (1, pytest.approx(100 / 3))
    # Wilson score interval of 2 of 5 (Wilson 1927), worked by hand with z = 1.959964, z² = 3.841459:
    # centre = (p + z²/2n) / (1 + z²/n) = (0.4 + 0.384146) / 1.768292 = 0.443448
    # half   = z · √(p(1−p)/n + z²/4n²) / (1 + z²/n) = 1.959964 · √(0.048 + 0.038415) / 1.768292 = 0.325827
    # → 11.762 % to 76.928 %; statsmodels' proportion_confint(2, 5, method="wilson") gives the same.
    assert third.ci_low == pytest.approx(11.7621, abs=1e-3)
    assert third.ci_high == pytest.approx(76.9273, abs=1e-3)
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(2, 5, method="wilson")
    assert (third.ci_low, third.ci_high) == (pytest.approx(100 * low), pytest.approx(100 * high))
    # Time from signup to activate: u1 24 h (86,400 s), u2 30 h (108,000 s), u3 48 h (172,800 s) → median 108,000.
    assert second.median_seconds == pytest.approx(108_000)
    # activate → checkout: u1 24 h (86,400), u2 1st 16:00 → 4th 10:00 = 42 h (151,200) → median 118,800 s;
    # from the signup: u1 48 h (172,800), u2 72 h (259,200) → 216,000 s.
    assert third.median_seconds == pytest.approx(118_800)
    assert third.median_seconds_from_start == pytest.approx(216_000)


def test_funnel_per_segment_and_per_period_of_the_first_step(six_users):
    result = cxbench.funnel(six_users, STEPS, window="7d", segment="plan")
    # plan pro: u1, u2, u3 → [3, 3, 2]; plan free: u4, u5 (u6 never enters) → [2, 0, 0].
    assert users_per_step(result, {"plan": "pro"}) == [3, 3, 2]
    assert users_per_step(result, {"plan": "free"}) == [2, 0, 0]
    free = result.group({"plan": "free"})
    assert free is not None and free.steps[1].reason == "nobody reached this step"
    assert free.steps[1].median_seconds is None
    # Every signup is in October: the month's group equals the whole.
    import datetime as dt

    october = result.group(None, dt.date(2026, 10, 1))
    assert october is not None and [s.users for s in october.steps] == [5, 3, 2]
    assert october.period_end == dt.date(2026, 10, 31)
    json.loads(result.to_json())  # strict JSON: no NaN


def test_funnel_window_boundary_and_from_bound_the_first_step(tmp_path):
    events = [ev("a", 1, "10:00:00", "signup"), ev("a", 8, "10:00:00", "buy"),   # exactly 7 days: inside
              ev("b", 1, "10:00:00", "signup"), ev("b", 8, "10:00:01", "buy"),   # 7 days and 1 s: outside
              ev("c", 5, "10:00:00", "signup"), ev("c", 5, "10:05:00", "buy")]
    folder = write_tables(tmp_path / "w", {"events": events})
    assert users_per_step(cxbench.funnel(folder, "signup,buy", window="7d", period="all")) == [3, 2]
    # --from 2026-10-02 leaves only c's signup as an entry.
    assert users_per_step(cxbench.funnel(folder, "signup,buy", window="7d", period="all", from_="2026-10-02")) == [1, 1]


def test_funnel_rejects_bad_settings_with_the_fix(six_users):
    with pytest.raises(UsageError, match="at least two steps"):
        cxbench.funnel(six_users, "signup")
    with pytest.raises(UsageError, match="--window"):
        cxbench.funnel(six_users, STEPS, window="soon")
    with pytest.raises(UsageError, match="--order"):
        cxbench.funnel(six_users, STEPS, order="random")
    with pytest.raises(UsageError, match="customers has no tier column"):
        cxbench.funnel(six_users, STEPS, segment="tier")
    with pytest.raises(UsageError, match="given twice"):
        cxbench.funnel(six_users, "signup,signup", order="any")


def test_funnel_nobody_entered_gives_empty_steps_with_a_reason(six_users):
    result = cxbench.funnel(six_users, "subscribe,renew", period="all")
    document = json.loads(result.to_json())  # strict JSON: no NaN
    steps = document["groups"][0]["steps"]
    assert [s["users"] for s in steps] == [0, 0]
    assert steps[0]["conversion_pct"] is None and steps[0]["reason"] == "nobody entered the funnel"


# -- top paths -----------------------------------------------------------------------------------------------------

PATH_EVENTS = [
    # s1 (visitor a): / → /pricing → /signup → /welcome → /app: after /pricing: /signup, /welcome, /app.
    ev("a", 1, "10:00:00", "pageview", "/"), ev("a", 1, "10:01:00", "pageview", "/pricing"),
    ev("a", 1, "10:02:00", "pageview", "/signup"), ev("a", 1, "10:03:00", "pageview", "/welcome"),
    ev("a", 1, "10:04:00", "pageview", "/app"),
    # s2 (visitor b): lands on /pricing → /signup → /welcome → /app: the same path.
    ev("b", 1, "10:00:00", "pageview", "/pricing"), ev("b", 1, "10:01:00", "pageview", "/signup"),
    ev("b", 1, "10:01:30", "click"),  # not a pageview: not in the path
    ev("b", 1, "10:02:00", "pageview", "/welcome"), ev("b", 1, "10:03:00", "pageview", "/app"),
    # s3 (visitor c): /pricing → /docs → /pricing, then leaves: counted once, from its first /pricing:
    # /docs, /pricing, (end of session).
    ev("c", 1, "10:00:00", "pageview", "/pricing"), ev("c", 1, "10:01:00", "pageview", "/docs"),
    ev("c", 1, "10:02:00", "pageview", "/pricing"),
    # c again two hours later: a new session (30-minute rule) that lands on /pricing and leaves at once.
    ev("c", 1, "12:00:00", "pageview", "/pricing"),
    # d never views /pricing.
    ev("d", 1, "10:00:00", "pageview", "/"), ev("d", 1, "10:01:00", "pageview", "/docs"),
]


def test_top_paths_after_an_entry_page(tmp_path):
    folder = write_tables(tmp_path / "paths", {"events": PATH_EVENTS})
    result = cxbench.top_paths(folder, "/pricing")
    # Sessions reaching /pricing: a, b, c (10:00) and c (12:00) = 4.
    # Paths: /signup → /welcome → /app: 2 (50 %); /docs → /pricing → end: 1 (25 %); end: 1 (25 %).
    assert result.sessions == 4
    assert [(p.label, p.sessions, p.share_pct) for p in result.paths] == [
        ("/signup → /welcome → /app", 2, pytest.approx(50.0)),
        ("(end of session)", 1, pytest.approx(25.0)),
        ("/docs → /pricing → (end of session)", 1, pytest.approx(25.0)),
    ]
    # Two pages only: /signup → /welcome (2), /docs → /pricing (1), end (1).
    short = cxbench.top_paths(folder, "/pricing", length=2)
    assert [(p.label, p.sessions) for p in short.paths][0] == ("/signup → /welcome", 2)


def test_top_paths_of_a_page_nobody_viewed_are_empty_with_a_reason(tmp_path):
    folder = write_tables(tmp_path / "paths", {"events": PATH_EVENTS})
    result = cxbench.top_paths(folder, "/nowhere")
    assert (result.sessions, result.paths) == (0, ())
    assert result.to_dict()["reason"] == "no session viewed /nowhere"


# -- the report section and the CLI ---------------------------------------------------------------------------------

def test_report_section_shows_the_funnel_and_paths_in_chromium(six_users, tmp_path):
    import os
    import shutil

    from playwright.sync_api import sync_playwright

    from cxbench.report import write_html

    write_tables(six_users, {"events": SIX_USERS + PATH_EVENTS})
    card = cxbench.compute(six_users, metrics=["unique_visitors", "user_lifecycle"], segment="plan")
    result = cxbench.funnel(six_users, STEPS, window="7d", segment="plan")
    paths = cxbench.top_paths(six_users, "/pricing")
    path = write_html(card, tmp_path / "report.html", funnel=result, paths=paths)
    html = path.read_text(encoding="utf-8")
    assert "Why it moved: funnel signup → activate → checkout" in html
    assert "/signup → /welcome → /app" in html
    chromium = os.environ.get("CXBENCH_CHROMIUM") or shutil.which("chromium")
    assert chromium, "chromium is not installed: apt-get install chromium, or set CXBENCH_CHROMIUM"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(path.as_uri())
        page.wait_for_function("window.cxReport && window.cxReport.settled()")
        page.evaluate("document.getElementById('why-funnel').scrollIntoView()")
        page.wait_for_function("window.cxReport.settled()")
        # The funnel drawn is the result's: users per step of the whole dataset, then of plan=pro.
        drawn = page.evaluate("document.getElementById('chart-funnel-steps').data[0].x")
        assert drawn == [5, 3, 2]
        page.select_option("#segment", label="plan=pro")
        page.wait_for_function("window.cxReport.settled()")
        assert page.evaluate("document.getElementById('chart-funnel-steps').data[0].x") == [3, 3, 2]
        browser.close()
    assert errors == []


def test_funnel_and_paths_commands_print_json_and_csv(six_users, tmp_path):
    from typer.testing import CliRunner

    from cxbench.cli import app

    write_tables(six_users, {"events": SIX_USERS + PATH_EVENTS})
    runner = CliRunner()
    done = runner.invoke(app, ["funnel", str(six_users), STEPS, "--window", "7d", "--period", "all", "-f", "json"])
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert [s["users"] for s in document["groups"][0]["steps"]] == [5, 3, 2]
    assert document["settings"]["window_seconds"] == 7 * 86400
    table = runner.invoke(app, ["funnel", str(six_users), STEPS, "--window", "7d", "--order", "strict"],
                          env={"COLUMNS": "100"})
    assert table.exit_code == 0 and "Whole dataset: 5 users entered" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 100
    csv_out = tmp_path / "paths.csv"
    done = runner.invoke(app, ["paths", str(six_users), "--entry", "/pricing", "-f", "csv", "-o", str(csv_out)])
    assert done.exit_code == 0, done.output
    import csv

    first = next(csv.DictReader(csv_out.read_text().splitlines()))
    assert (first["step_1"], first["step_2"], first["step_3"], first["sessions"], float(first["share_pct"])) == (
        "/signup", "/welcome", "/app", "2", 50.0)
    bad = runner.invoke(app, ["funnel", str(six_users), "signup", "--window", "7d"])
    assert bad.exit_code == 2 and "at least two steps" in bad.output


def test_report_section_lists_the_steps_for_a_page_without_javascript(six_users):
    from cxbench.report import render_html

    card = cxbench.compute(six_users, metrics=["unique_visitors"])
    html = render_html(card, funnel=cxbench.funnel(six_users, STEPS, window="7d", period="all"))
    noscript = html[html.index('<section class="analysis" id="why-funnel">'):]
    noscript = noscript[noscript.index("<noscript>"):noscript.index("</noscript>")]
    # The worked funnel above: 5, 3 (60 %, 24 h), 2 (40 %, 11.8 % – 76.9 %, 1d 09h = 118,800 s).
    assert "<td>3. checkout</td><td class=\"num\">2</td><td class=\"num\">40.0 %</td>" in noscript
    assert "11.8 – 76.9 %" in noscript and "1d 09h" in noscript


def test_hostile_event_names_and_segments_stay_text(tmp_path):
    from cxbench.render_funnel import funnel_csv
    from cxbench.report import render_html

    step = "=HYPERLINK(\"http://x\")"
    segment = "<script>alert(1)</script>"
    events = [ev("a", 1, "10:00:00", "signup"), ev("a", 1, "11:00:00", step)]
    folder = write_tables(tmp_path / "hostile", {
        "events": events, "customers": [{"customer_id": "a", "signup_at": "2026-09-01", "plan": segment}]})
    result = cxbench.funnel(folder, ["signup", step], segment="plan", period="all")
    assert [s.users for s in result.overall.steps] == [1, 1]
    import csv

    events_in_csv = {row["event"] for row in csv.DictReader(funnel_csv(result).splitlines())}
    assert events_in_csv == {"signup", "'" + step}  # a spreadsheet shows the name, never runs it
    card = cxbench.compute(folder, metrics=["unique_visitors"], segment="plan")
    html = render_html(card, funnel=result)
    assert segment not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_funnel_periods_follow_the_time_zone(tmp_path):
    # Signup 2026-10-31 23:30 UTC, activate 40 minutes later. In UTC the user enters in October; in
    # Europe/Bucharest (UTC+2 after the clocks went back on 25 October) it is 1 November, 01:30: November.
    events = [ev("a", 31, "23:30:00", "signup"), {"user_id": "a", "ts": "2026-11-01T00:10:00Z", "event": "activate",
                                                   "page": ""}]
    folder = write_tables(tmp_path / "tz", {"events": events})
    import datetime as dt

    utc = cxbench.funnel(folder, "signup,activate")
    local = cxbench.funnel(folder, "signup,activate", timezone="Europe/Bucharest")
    assert [g.period_start for g in utc.groups if g.period_start] == [dt.date(2026, 10, 1)]
    assert [g.period_start for g in local.groups if g.period_start] == [dt.date(2026, 11, 1)]
    assert local.overall.steps[1].median_seconds == utc.overall.steps[1].median_seconds == 2400  # 40 minutes
    assert local.to_dict()["settings"]["timezone"] == "Europe/Bucharest"
