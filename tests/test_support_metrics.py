"""Support metrics (tickets) against hand-worked values and support vendors' published worked examples.

Every test that takes `run_case` runs on DuckDB and on Spark. Calendar: 2026-10-02 is a Friday, 10-03/10-04 the
weekend, 10-05 a Monday. Sources: METRICS.md §5 and seed 001 (resolution time = sum of resolution times ÷ cases
resolved in the period; FCR = share of all contacts received), customerfacing.io's FCR example (13 tickets in
December, 8 resolved at first contact, 5 still in progress → 61.54 %), Freshservice's FCR (resolved at first
contact ÷ tickets resolved: our `details.resolved_only_pct`).
"""

from __future__ import annotations

import datetime as dt

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import pick, write_tables
from cxbench.cli import app
from cxbench.core.business_hours import parse_business_hours, read_holidays
from cxbench.core.errors import UsageError

SEP, OCT, NOV, DEC = "2026-09-01", "2026-10-01", "2026-11-01", "2026-12-01"


def ticket(ticket_id: str, opened: str, resolved: str = "", channel: str = "email", contacts: object = 1,
           first_response: str | None = None, customer: str = "c1") -> dict[str, object]:
    """One tickets row; timestamps are ISO 8601 UTC as written."""
    row: dict[str, object] = {"ticket_id": ticket_id, "customer_id": customer, "channel": channel,
                              "opened_at": opened, "resolved_at": resolved, "contacts": contacts}
    if first_response is not None:
        row["first_response_at"] = first_response
    return row


# -- resolution time ------------------------------------------------------------------------------------

RESOLUTION_TICKETS = [
    ticket("t1", "2026-10-05T10:00:00Z", "2026-10-05T11:00:00Z"),  # 3600 s, resolved in October
    ticket("t2", "2026-10-05T10:00:00Z", "2026-10-05T12:00:00Z"),  # 7200 s
    ticket("t3", "2026-10-06T09:00:00Z", "2026-10-06T09:10:00Z", channel="chat"),  # 600 s
    ticket("t4", "2026-10-30T20:00:00Z", "2026-11-02T20:00:00Z", channel="chat"),  # 259200 s, resolved in November
    ticket("t5", "2026-10-07T10:00:00Z", channel="phone"),  # still open: no resolution time
    ticket("t6", "2026-09-15T10:00:00Z", "", channel="phone"),  # September's only ticket, open
]


def test_resolution_time_mean_and_median_by_resolution_period(run_case):
    # October (resolved in October): 3600, 7200, 600 → mean 11400/3 = 3800 s; median 3600 s; n 3.
    #   email: 3600, 7200 → mean = median = 5400. chat: 600.
    # November: t4 (opened 30 Oct, resolved 2 Nov: 3 days) → 259200 s, mean = median.
    # September: no ticket resolved → unavailable, not NaN or 0.
    card = run_case({"tickets": RESOLUTION_TICKETS}, period="month",
                    metrics=["avg_resolution_time", "median_resolution_time"])
    october = pick(card, "avg_resolution_time", period_start=OCT)
    assert october["value"] == pytest.approx(3800.0) and october["n"] == 3
    assert october["details"]["median"] == pytest.approx(3600.0)
    assert october["details"]["time"] == "calendar"
    # The distribution, sorted 600, 3600, 7200: percentile p sits at position (n - 1) × p = 2p, interpolated:
    # p10 at 0.2 → 600 + 0.2 × 3000 = 1200; p25 at 0.5 → 2100; p75 at 1.5 → 3600 + 0.5 × 3600 = 5400; p90 at 1.8 → 6480.
    assert [october["details"][p] for p in ("p10", "p25", "p75", "p90")] == pytest.approx([1200, 2100, 5400, 6480])
    assert pick(card, "median_resolution_time", period_start=OCT)["value"] == pytest.approx(3600.0)
    email = pick(card, "avg_resolution_time", period_start=OCT, dimension={"channel": "email"})
    assert email["value"] == pytest.approx(5400.0)
    assert pick(card, "median_resolution_time", period_start=OCT, dimension={"channel": "chat"})["value"] == pytest.approx(600.0)
    assert pick(card, "avg_resolution_time", period_start=NOV)["value"] == pytest.approx(259200.0)
    assert pick(card, "median_resolution_time", period_start=NOV)["value"] == pytest.approx(259200.0)
    september = pick(card, "avg_resolution_time", period_start=SEP)
    assert september["status"] == "unavailable" and september["value"] is None
    assert september["reason"] == "no resolved tickets in this period"
    assert pick(card, "median_resolution_time", period_start=SEP)["status"] == "unavailable"


def test_median_of_an_even_count_is_the_mean_of_the_two_middle_values(run_case):
    # 60, 120, 600, 6000 s → median (120 + 600)/2 = 360 s (exact, not an approximate percentile); mean 1695 s.
    rows = [ticket(f"t{i}", "2026-10-05T10:00:00Z", f"2026-10-05T{clock}Z")
            for i, clock in enumerate(["10:01:00", "10:02:00", "10:10:00", "11:40:00"])]
    card = run_case({"tickets": rows}, period="all", metrics=["median_resolution_time"])
    record = pick(card, "median_resolution_time")
    assert record["value"] == pytest.approx(360.0)
    assert record["details"]["mean"] == pytest.approx(1695.0)


# -- first response time ----------------------------------------------------------------------------------

def test_first_response_time_by_response_period_without_unanswered_tickets(run_case):
    # October: 300, 1800, 60 s (t4 not answered yet: left out) → mean 2160/3 = 720 s; median 300 s.
    # t5 opened 31 Oct 23:50, answered 1 Nov 00:20 → 1800 s in November.
    rows = [
        ticket("t1", "2026-10-05T10:00:00Z", first_response="2026-10-05T10:05:00Z"),
        ticket("t2", "2026-10-05T10:00:00Z", first_response="2026-10-05T10:30:00Z"),
        ticket("t3", "2026-10-06T09:00:00Z", first_response="2026-10-06T09:01:00Z", channel="chat"),
        ticket("t4", "2026-10-07T09:00:00Z", first_response=""),
        ticket("t5", "2026-10-31T23:50:00Z", first_response="2026-11-01T00:20:00Z"),
    ]
    card = run_case({"tickets": rows}, period="month", metrics=["first_response_time"])
    october = pick(card, "first_response_time", period_start=OCT)
    assert october["value"] == pytest.approx(720.0) and october["n"] == 3
    assert october["details"]["median"] == pytest.approx(300.0)
    assert pick(card, "first_response_time", period_start=NOV)["value"] == pytest.approx(1800.0)
    assert pick(card, "first_response_time", period_start=OCT, dimension={"channel": "chat"})["value"] == pytest.approx(60.0)


def test_first_response_time_needs_the_column_and_a_response_before_opening_is_set_aside(run_case):
    without = run_case({"tickets": [ticket("t1", "2026-10-05T10:00:00Z", "2026-10-05T11:00:00Z")]}, period="all",
                       metrics=["first_response_time"])
    record = pick(without, "first_response_time")
    assert record["status"] == "unavailable" and "first_response_at" in record["reason"]
    bad = run_case({"tickets": [ticket("t1", "2026-10-05T10:00:00Z", first_response="2026-10-05T09:00:00Z"),
                                ticket("t2", "2026-10-05T10:00:00Z", first_response="2026-10-05T10:01:00Z")]},
                   period="all", metrics=["first_response_time"])
    doc = bad.to_dict()
    assert doc["inputs"]["tickets"]["rejected"] == 1
    assert doc["rejected"][0]["row"] == 1 and "first_response_at" in doc["rejected"][0]["reason"]
    assert "is before opened_at" in doc["rejected"][0]["reason"]
    assert pick(bad, "first_response_time")["value"] == pytest.approx(60.0)


# -- first contact resolution -------------------------------------------------------------------------------

def test_fcr_customerfacing_example_13_tickets_8_at_first_contact_5_in_progress(run_case):
    # customerfacing.io's worked example: December, 13 tickets opened, 8 resolved at first contact, 5 still in
    # progress → 8/13 = 61.54 %. Over resolved tickets only (Freshservice): 8/8 = 100 %.
    rows = [ticket(f"r{i}", f"2025-12-{i + 1:02d}T10:00:00Z", f"2025-12-{i + 1:02d}T11:00:00Z") for i in range(8)]
    rows += [ticket(f"o{i}", f"2025-12-{i + 10:02d}T10:00:00Z", contacts=2) for i in range(5)]
    card = run_case({"tickets": rows}, period="month", metrics=["first_contact_resolution"])
    record = pick(card, "first_contact_resolution")
    assert record["value"] == pytest.approx(100 * 8 / 13)  # 61.538...
    assert record["n"] == 13
    assert record["details"]["resolved_only_pct"] == pytest.approx(100.0)


def test_fcr_counts_by_opening_period_and_shows_the_resolved_only_variant(run_case):
    # November (opened): 6 resolved with 1 contact (one of them resolved in December), 2 resolved with 3
    # contacts, 2 open → FCR 6/10 = 60 %; resolved only 6/8 = 75 %.
    # A resolved ticket without contacts is left out (t_unknown). Chat: 1 first-contact of 2 → 50 %.
    rows = [ticket(f"f{i}", "2026-11-03T10:00:00Z", "2026-11-03T10:30:00Z") for i in range(5)]
    rows.append(ticket("f5", "2026-11-30T23:00:00Z", "2026-12-01T01:00:00Z"))
    rows += [ticket("m1", "2026-11-04T10:00:00Z", "2026-11-06T10:00:00Z", contacts=3, channel="chat"),
             ticket("m2", "2026-11-04T10:00:00Z", "2026-11-06T10:00:00Z", contacts=3)]
    rows += [ticket("o1", "2026-11-05T10:00:00Z", contacts=""), ticket("o2", "2026-11-05T10:00:00Z", contacts=2)]
    rows.append(ticket("t_unknown", "2026-11-05T10:00:00Z", "2026-11-05T11:00:00Z", contacts=""))
    rows[0]["channel"] = "chat"
    card = run_case({"tickets": rows}, period="month", metrics=["first_contact_resolution"])
    november = pick(card, "first_contact_resolution", period_start=NOV)
    assert november["value"] == pytest.approx(60.0) and november["n"] == 10
    assert november["details"]["resolved_only_pct"] == pytest.approx(75.0)
    assert pick(card, "first_contact_resolution", period_start=NOV, dimension={"channel": "chat"})["value"] == pytest.approx(50.0)


def test_fcr_needs_contacts(run_case):
    rows = [{"ticket_id": "t1", "channel": "email", "opened_at": "2026-10-05T10:00:00Z",
             "resolved_at": "2026-10-05T11:00:00Z"}]
    record = pick(run_case({"tickets": rows}, period="all", metrics=["first_contact_resolution"]),
                  "first_contact_resolution")
    assert record["status"] == "unavailable" and "contacts" in record["reason"]


# -- contact volume, open tickets ----------------------------------------------------------------------------

def test_contact_volume_by_channel_counts_and_shares_and_zero_in_an_empty_month(run_case):
    # October: email 3, chat 1 → 4 tickets; email 75 %, chat 25 %. November: none → 0. December: phone 1.
    rows = [ticket("e1", "2026-10-01T00:00:00Z"), ticket("e2", "2026-10-10T10:00:00Z", contacts=3),
            ticket("e3", "2026-10-31T23:59:59Z"), ticket("c1", "2026-10-12T10:00:00Z", channel="chat"),
            ticket("p1", "2026-12-01T10:00:00Z", channel="phone")]
    card = run_case({"tickets": rows}, period="month", metrics=["contact_volume_by_channel"])
    assert pick(card, "contact_volume_by_channel", period_start=OCT)["value"] == pytest.approx(4)
    email = pick(card, "contact_volume_by_channel", period_start=OCT, dimension={"channel": "email"})
    assert email["value"] == pytest.approx(3) and email["details"]["share_pct"] == pytest.approx(75.0)
    chat = pick(card, "contact_volume_by_channel", period_start=OCT, dimension={"channel": "chat"})
    assert chat["details"]["share_pct"] == pytest.approx(25.0)
    november = pick(card, "contact_volume_by_channel", period_start=NOV)
    assert november["value"] == 0 and november["status"] == "ok"
    assert pick(card, "contact_volume_by_channel", period_start=DEC, dimension={"channel": "phone"})["details"]["share_pct"] == pytest.approx(100.0)


def test_a_channel_with_no_tickets_in_a_period_counts_zero_and_its_change_is_tested(run_case):
    # September: 3 email tickets; October: 4 chat tickets. Email in October is 0, not missing, and both
    # changes get the exact Poisson test with exposures 31 (Oct) and 30 (Sep) days: under no change, October's
    # share of the tickets is 31/61 = 0.508197. Two-sided by the minimum-likelihood rule (R's binom.test):
    #   email 3 → 0: P(0 of 3) = (30/61)^3 = 0.118953, no outcome less likely → p = 0.118953;
    #   chat 0 → 4: P(4 of 4) = (31/61)^4 = 0.066702, P(0 of 4) = (30/61)^4 = 0.058500 → p = 0.125202.
    rows = [ticket(f"e{i}", f"2026-09-1{i}T10:00:00Z") for i in range(3)]
    rows += [ticket(f"c{i}", f"2026-10-1{i}T10:00:00Z", channel="chat") for i in range(4)]
    card = run_case({"tickets": rows}, metrics=["contact_volume_by_channel"])
    email = pick(card, "contact_volume_by_channel", period_start=OCT, dimension={"channel": "email"})
    assert email["value"] == 0
    assert email["details"]["share_pct"] == 0
    assert email["change"]["previous"] == 3
    assert email["change"]["p_value"] == pytest.approx(0.118953, abs=1e-6)
    chat = pick(card, "contact_volume_by_channel", period_start=OCT, dimension={"channel": "chat"})
    assert chat["change"]["previous"] == 0
    assert chat["change"]["delta"] == 4
    assert chat["change"]["p_value"] == pytest.approx(0.125202, abs=1e-6)
    assert chat["change"]["test"] == "exact Poisson"


def test_open_tickets_at_each_period_end(run_case):
    # Ends: 1 Oct 00:00 (end of September), 1 Nov 00:00, 1 Dec 00:00.
    #   a: opened 20 Sep, resolved 10 Oct            → open at end of Sep only
    #   b: opened 25 Sep, never resolved             → open at every end
    #   c: opened 31 Oct 23:00, resolved 1 Nov 00:00 → open at end of Oct (resolved at that very instant)
    #   d: opened 1 Nov 00:00, resolved 3 Nov        → opened at October's end instant: not open then
    #   e: opened 2 Oct, resolved 3 Oct              → never open at an end
    # September 2 (a, b); October 2 (b, c; email 1, chat 1); November 1 (b).
    rows = [ticket("a", "2026-09-20T10:00:00Z", "2026-10-10T10:00:00Z"),
            ticket("b", "2026-09-25T10:00:00Z"),
            ticket("c", "2026-10-31T23:00:00Z", "2026-11-01T00:00:00Z", channel="chat"),
            ticket("d", "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z"),
            ticket("e", "2026-10-02T10:00:00Z", "2026-10-03T10:00:00Z")]
    card = run_case({"tickets": rows}, period="month", metrics=["open_tickets"])
    assert pick(card, "open_tickets", period_start=SEP)["value"] == pytest.approx(2)
    assert pick(card, "open_tickets", period_start=OCT)["value"] == pytest.approx(2)
    assert pick(card, "open_tickets", period_start=OCT, dimension={"channel": "chat"})["value"] == pytest.approx(1)
    assert pick(card, "open_tickets", period_start=NOV)["value"] == pytest.approx(1)


def test_open_tickets_count_tickets_opened_before_from(run_case):
    # --from 2026-11-01: b (opened 25 Sep, never resolved) is still open at the end of November → 1.
    rows = [ticket("b", "2026-09-25T10:00:00Z"), ticket("d", "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z")]
    card = run_case({"tickets": rows}, period="month", from_="2026-11-01", metrics=["open_tickets"])
    assert pick(card, "open_tickets", period_start=NOV)["value"] == pytest.approx(1)


def test_open_tickets_in_a_month_with_only_resolutions_and_over_the_whole_run(run_case):
    # Three tickets opened in March; x and y resolved in April, z never. Nothing is opened in April, and the
    # data ends with y's resolution on 10 April. End of March: 3 open. End of April: z only → 1.
    # --period all (1 March to 10 April): at the end (11 April 00:00) only z is open → 1.
    rows = [ticket("x", "2026-03-02T10:00:00Z", "2026-04-03T10:00:00Z"),
            ticket("y", "2026-03-05T10:00:00Z", "2026-04-10T10:00:00Z"),
            ticket("z", "2026-03-20T10:00:00Z")]
    monthly = run_case({"tickets": rows}, period="month", metrics=["open_tickets"])
    assert pick(monthly, "open_tickets", period_start="2026-03-01")["value"] == pytest.approx(3)
    assert pick(monthly, "open_tickets", period_start="2026-04-01")["value"] == pytest.approx(1)
    whole = pick(run_case({"tickets": rows}, period="all", metrics=["open_tickets"]), "open_tickets")
    assert (whole["period_start"], whole["period_end"]) == ("2026-03-02", "2026-04-10")
    assert whole["value"] == pytest.approx(1)


# -- business hours -------------------------------------------------------------------------------------------

def test_business_hours_a_ticket_spanning_a_weekend(run_case):
    # Mon-Fri 09:00-17:00 UTC.
    #   w1: opened Fri 2 Oct 16:00, resolved Mon 5 Oct 10:00 → Fri 16-17 (1 h) + Mon 9-10 (1 h) = 7200 s
    #       (calendar: 66 h = 237600 s); first response Fri 16:30 → 1800 s.
    #   w2: opened Sat 3 Oct 12:00, resolved Mon 5 Oct 09:30 → the clock starts Mon 09:00 → 1800 s.
    #   w3: opened Mon 5 Oct 07:00, resolved 08:30, before opening hours → 0 s.
    # Mean (7200 + 1800 + 0)/3 = 3000 s; median 1800 s.
    rows = [ticket("w1", "2026-10-02T16:00:00Z", "2026-10-05T10:00:00Z", first_response="2026-10-02T16:30:00Z"),
            ticket("w2", "2026-10-03T12:00:00Z", "2026-10-05T09:30:00Z", channel="chat", first_response=""),
            ticket("w3", "2026-10-05T07:00:00Z", "2026-10-05T08:30:00Z", channel="phone", first_response="")]
    card = run_case({"tickets": rows}, period="all", business_hours="Mon-Fri 09:00-17:00",
                    metrics=["avg_resolution_time", "first_response_time"])
    record = pick(card, "avg_resolution_time")
    assert record["value"] == pytest.approx(3000.0)
    assert record["details"]["median"] == pytest.approx(1800.0)
    assert record["details"]["time"] == "business hours Mon-Fri 09:00-17:00 (UTC)"
    assert pick(card, "avg_resolution_time", dimension={"channel": "email"})["value"] == pytest.approx(7200.0)
    assert pick(card, "first_response_time")["value"] == pytest.approx(1800.0)
    calendar = run_case({"tickets": rows[:1]}, period="all", metrics=["avg_resolution_time"])
    assert pick(calendar, "avg_resolution_time")["value"] == pytest.approx(237600.0)


def test_business_hours_with_a_lunch_break_and_a_holiday(run_case):
    # "Mon-Fri 09:00-12:00, Mon-Fri 13:00-17:00": opened Tue 6 Oct 11:00, resolved 14:00 → 11-12 + 13-14 = 7200 s.
    # Mon-Fri 09:00-17:00 with Mon 5 Oct a holiday: opened Fri 2 Oct 16:00, resolved Tue 6 Oct 10:00 →
    # Fri 1 h + Tue 1 h = 7200 s (without the holiday: 1 + 8 + 1 = 10 h = 36000 s).
    lunch = run_case({"tickets": [ticket("l1", "2026-10-06T11:00:00Z", "2026-10-06T14:00:00Z")]}, period="all",
                     business_hours="Mon-Fri 09:00-12:00, Mon-Fri 13:00-17:00", metrics=["avg_resolution_time"])
    assert pick(lunch, "avg_resolution_time")["value"] == pytest.approx(7200.0)
    rows = [ticket("h1", "2026-10-02T16:00:00Z", "2026-10-06T10:00:00Z")]
    holiday = run_case({"tickets": rows}, period="all", business_hours="Mon-Fri 09:00-17:00",
                       holidays=["2026-10-05"], metrics=["avg_resolution_time"])
    assert pick(holiday, "avg_resolution_time")["value"] == pytest.approx(7200.0)
    assert pick(holiday, "avg_resolution_time")["details"]["time"].endswith("1 holiday")
    plain = run_case({"tickets": rows}, period="all", business_hours="Mon-Fri 09:00-17:00", metrics=["avg_resolution_time"])
    assert pick(plain, "avg_resolution_time")["value"] == pytest.approx(36000.0)


def test_business_hours_in_a_time_zone_across_the_end_of_daylight_saving(run_case):
    # Europe/Bucharest, Mon-Fri 09:00-17:00 local. Summer time (UTC+3) ends Sun 25 Oct 2026 04:00 local.
    #   z1: opened Mon 5 Oct 05:00 UTC (08:00 local), resolved 07:00 UTC (10:00 local) → from 09:00 local
    #       (06:00 UTC) → 3600 s. (In UTC hours it would be 0: both instants are before 09:00 UTC.)
    #   z2: opened Fri 23 Oct 14:00 UTC (17:00 local, closing time), resolved Mon 26 Oct 08:00 UTC (10:00
    #       local, now UTC+2) → Monday 09:00 local is 07:00 UTC → 3600 s (a fixed +3 offset would give 7200 s).
    rows = [ticket("z1", "2026-10-05T05:00:00Z", "2026-10-05T07:00:00Z"),
            ticket("z2", "2026-10-23T14:00:00Z", "2026-10-26T08:00:00Z", channel="chat")]
    card = run_case({"tickets": rows}, period="all", business_hours="Mon-Fri 09:00-17:00",
                    timezone="Europe/Bucharest", metrics=["avg_resolution_time"])
    assert pick(card, "avg_resolution_time", dimension={"channel": "email"})["value"] == pytest.approx(3600.0)
    assert pick(card, "avg_resolution_time", dimension={"channel": "chat"})["value"] == pytest.approx(3600.0)
    utc = run_case({"tickets": rows[:1]}, period="all", business_hours="Mon-Fri 09:00-17:00",
                   metrics=["avg_resolution_time"])
    assert pick(utc, "avg_resolution_time")["value"] == pytest.approx(0.0)


def test_holidays_file_saved_with_a_byte_order_mark_keeps_its_first_date(tmp_path: Path):
    # Excel's "CSV UTF-8" and Notepad start the file with a BOM; the first date must not be mistaken for a header.
    holidays = tmp_path / "holidays.txt"
    holidays.write_bytes(b"\xef\xbb\xbf2026-11-11\n2026-12-25\n")
    assert read_holidays(holidays) == (dt.date(2026, 11, 11), dt.date(2026, 12, 25))


def test_cli_business_hours_timezone_and_holidays_file(tmp_path: Path):
    # The weekend ticket of the test above, with Mon 5 Oct a holiday read from a CSV file with a header:
    # Fri 16-17 + Tue 6 Oct 09-10 = 7200 s.
    folder = write_tables(tmp_path / "data", {"tickets": [ticket("h1", "2026-10-02T16:00:00Z", "2026-10-06T10:00:00Z")]})
    holidays = tmp_path / "holidays.csv"
    holidays.write_text("date,name\n# national days\n2026-10-05,Example day\n\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(folder), "--format", "json", "--period", "all", "-m", "avg_resolution_time",
                                      "--business-hours", "Mon-Fri 09:00-17:00", "--timezone", "UTC",
                                      "--holidays", str(holidays)])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)["metrics"][0]
    assert record["value"] == pytest.approx(7200.0)
    bad = CliRunner().invoke(app, ["run", str(folder), "--business-hours", "weekdays 9-5"])
    assert bad.exit_code == 2
    assert "Mon-Fri 09:00-17:00" in bad.output


@pytest.mark.parametrize("text, timezone, message", [
    ("Mon-Fri 9-17", "UTC", "cannot read"),
    ("Mon-Fry 09:00-17:00", "UTC", "'fry' is not a day"),
    ("Mon-Fri 17:00-09:00", "UTC", "night shift as two groups"),
    ("Mon-Fri 09:00-17:00, Mon 16:00-18:00", "UTC", "overlap on Mon"),
    ("Mon-Fri 09:00-25:00", "UTC", "not a time of day"),
    ("Mon-Fri 09:00-17:00", "Mars/Olympus", "IANA name"),
])
def test_business_hours_are_parsed_strictly(text: str, timezone: str, message: str):
    with pytest.raises(UsageError, match=message):
        parse_business_hours(text, timezone)


def test_business_hours_groups_and_wrapping_day_ranges():
    hours = parse_business_hours("Sun-Thu 08:00-16:00, Sat 10:00-24:00", "Asia/Dubai")
    # Sun, Mon, Tue, Wed, Thu + Sat: weekdays 6, 0, 1, 2, 3 and 5.
    assert sorted({w.weekday for w in hours.windows}) == [0, 1, 2, 3, 5, 6]
    assert [w.end_minute for w in hours.windows if w.weekday == 5] == [24 * 60]


def test_holidays_file_errors_name_the_line(tmp_path: Path):
    bad = tmp_path / "h.txt"
    bad.write_text("2026-10-05\n5 Oct 2026\n", encoding="utf-8")
    with pytest.raises(UsageError, match="line 2"):
        read_holidays(bad)
    with pytest.raises(UsageError, match="cannot read"):
        read_holidays(tmp_path / "missing.txt")


def test_holidays_without_business_hours_is_a_usage_error(tmp_path: Path):
    # --timezone alone is the report's time zone (issue 16: periods cut at local midnight); holidays only
    # mean something to business hours.
    import cxbench

    with pytest.raises(UsageError, match="add --business-hours"):
        cxbench.compute(tmp_path, timezone="Europe/Paris", holidays=["2026-12-25"])
