"""Edge cases found in review: each test pins a behaviour that once went wrong."""

from __future__ import annotations

import datetime as dt

import pytest

import cxbench
from conftest import answers, pick, write_tables


def test_text_values_keep_their_letters_and_lose_only_padding(run_case):
    # Spark once read TRIM's '\f\v' literal as the letters f and v: "false" became "alse", "faq" became "aq".
    rows = [
        {"response_id": " f1 ", "respondent_id": "c1", "ts": "2026-10-05T10:00:00Z", "survey": "nps", "score": " 9 ",
         "touchpoint": "faq"},
        {"response_id": "v1", "respondent_id": "c2", "ts": "2026-10-05T10:00:00Z", "survey": "nps", "score": "10",
         "touchpoint": "faq"},
        {"response_id": "1", "respondent_id": "c3", "ts": "2026-10-05T10:00:00Z", "survey": "nps", "score": "2",
         "touchpoint": "self-serve"},
    ]
    card = run_case({"surveys": rows}, period="all", metrics=["nps"])
    assert card.to_dict()["inputs"]["surveys"]["rejected"] == 0
    assert pick(card, "nps")["value"] == pytest.approx(100 / 3)  # (2 − 1)/3
    assert pick(card, "nps", dimension={"touchpoint": "faq"})["value"] == pytest.approx(100.0)


def test_huge_number_is_set_aside_not_a_crash(run_case):
    rows = answers("nps", {9: 2}) + [{"response_id": "big", "respondent_id": "x", "ts": "2026-10-05T10:00:00Z",
                                      "survey": "nps", "score": "1e20"}]
    card = run_case({"surveys": rows}, period="all", metrics=["nps"])
    (rejected,) = card.to_dict()["rejected"]
    assert rejected["row"] == 3 and "is outside 0-10" in rejected["reason"]
    assert pick(card, "nps")["n"] == 2


def test_from_and_to_bound_users_counted_before_the_engine_filters(run_case):
    # u1: 1 and 3 Oct; u2: 2 Oct; u3: 15 Oct. --from 2026-10-02 --to 2026-10-20 keeps u1 (3 Oct), u2, u3:
    # MAU = 3 (u1's first event of October, on the 1st, is outside the range but u1 is still active in it).
    # WAU: the data covers 2-15 Oct (--from to the last event), which overlaps the weeks of 28 Sep, 5 Oct and
    # 12 Oct = 3; user-weeks u1 and u2 (28 Sep), u3 (12 Oct) = 3 → 1.0 (partial: 16-20 Oct have no data).
    events = [
        {"user_id": "u1", "ts": "2026-10-01T10:00:00Z", "event": "login"},
        {"user_id": "u1", "ts": "2026-10-03T10:00:00Z", "event": "login"},
        {"user_id": "u2", "ts": "2026-10-02T10:00:00Z", "event": "login"},
        {"user_id": "u3", "ts": "2026-10-15T10:00:00Z", "event": "login"},
    ]
    card = run_case({"events": events}, period="month", from_="2026-10-02", to="2026-10-20", metrics=["mau", "wau"])
    assert pick(card, "mau")["value"] == pytest.approx(3.0)
    wau = pick(card, "wau")
    assert wau["value"] == pytest.approx(1.0)
    assert wau["partial"] is True and wau["details"]["covered_to"] == "2026-10-15"


def test_activity_outside_from_to_does_not_make_a_customer_active(run_case):
    # Paying u1 is active only on 1 Oct, paying u2 on 5 Oct. --from 2026-10-02: 1 of 2 paying active = 50 %.
    customers = [{"customer_id": "u1", "signup_at": "2026-09-01T00:00:00Z", "is_paying": "true"},
                 {"customer_id": "u2", "signup_at": "2026-09-01T00:00:00Z", "is_paying": "true"}]
    events = [{"user_id": "u1", "ts": "2026-10-01T10:00:00Z", "event": "login"},
              {"user_id": "u2", "ts": "2026-10-05T10:00:00Z", "event": "login"}]
    card = run_case({"customers": customers, "events": events}, period="all", from_="2026-10-02", to="2026-10-31",
                    metrics=["activity_rate"])
    assert pick(card, "activity_rate")["value"] == pytest.approx(50.0)


def test_mau_and_stickiness_need_a_month_long_period(tmp_path):
    folder = write_tables(tmp_path, {"events": [{"user_id": "u1", "ts": "2026-10-01T10:00:00Z", "event": "login"}]})
    card = cxbench.compute(folder, period="week", metrics=["mau", "stickiness", "wau"])
    for metric in ("mau", "stickiness"):
        (record,) = card.get(metric)
        assert record["status"] == "unavailable" and "month or longer" in record["reason"]
    assert card.get("wau")[0]["value"] == pytest.approx(1.0)


def test_intent_answers_differing_only_in_case_are_one_intent(run_case):
    rows = [
        {"response_id": "i1", "respondent_id": "c1", "ts": "2026-10-05T10:00:00Z", "survey": "intent", "answer": "Buy"},
        {"response_id": "i2", "respondent_id": "c2", "ts": "2026-10-05T10:00:00Z", "survey": "intent", "answer": "buy"},
    ]
    card = run_case({"surveys": rows}, period="all", metrics=["visitor_intent"])
    (record,) = card.get("visitor_intent", dimension={"intent": "buy"})
    assert record["value"] == pytest.approx(100.0)


def test_from_after_the_data_reports_that_period_as_empty(tmp_path):
    folder = write_tables(tmp_path, {"surveys": answers("nps", {9: 3})})
    card = cxbench.compute(folder, period="month", from_="2027-01-01", metrics=["nps"])
    (record,) = card.records
    assert record["period_start"] == "2027-01-01" and record["reason"] == "no nps answers in this period"


def test_counts_are_zero_in_a_period_without_rows(tmp_path):
    # Pageviews in September and November only: October has 0 pageviews, not an unknown number.
    events = [{"user_id": "u1", "ts": "2026-09-10T10:00:00Z", "event": "pageview", "page": "/"},
              {"user_id": "u1", "ts": "2026-11-10T10:00:00Z", "event": "pageview", "page": "/"}]
    card = cxbench.compute(write_tables(tmp_path, {"events": events}), period="month", metrics=["pageviews", "dau"])
    october = pick(card, "pageviews", period_start="2026-10-01")
    assert (october["status"], october["value"], october["n"]) == ("ok", 0.0, 0)
    assert pick(card, "dau", period_start="2026-10-01")["value"] == 0.0


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("2026-10-01T10:00:00.123+0530", True),
        ("2026-10-01T10:00:00 +05:30", True),
        ("2026-10-01 10:00", True),
        ("2026-10", False),
        ("20261001", False),
        ("2026-10-01T24:00:00", False),
        ("2026-10-01T10", False),
    ],
)
def test_timestamp_forms_are_accepted_or_refused_alike_on_both_engines(run_case, text, accepted):
    rows = [{"response_id": "r1", "respondent_id": "c1", "ts": text, "survey": "nps", "score": 9}]
    card = run_case({"surveys": rows}, period="all", metrics=["nps"])
    assert card.to_dict()["inputs"]["surveys"]["used"] == (1 if accepted else 0)


def test_numbers_outside_plain_decimal_syntax_are_refused_alike(run_case):
    # DuckDB once read 1_0 as 10 and Spark 9d as 9.0; " 9 " and "9.0" are plain numbers.
    rows = [{"response_id": f"r{i}", "respondent_id": f"c{i}", "ts": "2026-10-05T10:00:00Z", "survey": "nps", "score": s}
            for i, s in enumerate(["9.0", "1_0", "9d", "9f", "1e1"])]
    card = run_case({"surveys": rows}, period="all", metrics=["nps"])
    assert [r["row"] for r in card.to_dict()["rejected"]] == [2, 3, 4]
    assert pick(card, "nps")["n"] == 2  # 9.0 and 1e1 = 10


def test_mean_interval_stays_inside_the_answer_scale(run_case):
    # CES answers 1, 1, 7 on 1-7: mean 3; s = 3.4641, t(0.975, 2) = 4.3027, half-width 8.605 → the interval
    # −5.6..11.6 is clipped to the scale, 1..7.
    rows = answers("ces", {1: 2, 7: 1}, scale_min=1, scale_max=7)
    record = pick(run_case({"surveys": rows}, period="all", metrics=["ces"]), "ces")
    assert record["value"] == pytest.approx(3.0)
    assert (record["ci_low"], record["ci_high"]) == (1.0, 7.0)


def test_files_that_are_no_table_are_listed_as_ignored(tmp_path):
    folder = write_tables(tmp_path, {"surveys": answers("nps", {9: 1})})
    (folder / "notes.txt").write_text("hello")
    (folder / "survey.csv").write_text("a,b\n")  # a misspelt table name is not read
    assert cxbench.compute(folder, metrics=["nps"]).to_dict()["ignored_files"] == [
        {"file": "notes.txt", "reason": "not named after a table"},
        {"file": "survey.csv", "reason": "not named after a table"},
    ]


def test_chosen_metrics_validate_only_the_tables_they_read(tmp_path):
    folder = write_tables(tmp_path, {"surveys": answers("nps", {9: 1}),
                                     "orders": "order_id,customer_id,ts,amount\no1,c1,not-a-date,5\n"})
    doc = cxbench.compute(folder, metrics=["nps"]).to_dict()
    assert set(doc["inputs"]) == {"surveys"} and doc["rejected"] == []
    assert set(cxbench.compute(folder).to_dict()["inputs"]) == {"surveys", "orders"}


# -- --period all over tables of different ranges, and zero counts per breakdown (review of 2026-12-03) ----------

def test_period_all_keeps_each_metric_on_its_own_data(run_case):
    # 10 users active every day of June 2024 → DAU 10, MAU 10, stickiness 100 %. Customers who signed up in
    # July 2023 must not stretch the events' period to 11 months (DAU 0.82 if they did).
    events = [{"user_id": f"u{i}", "ts": f"2024-06-{d:02d}T10:00:00Z", "event": "pageview", "page": "/"}
              for i in range(10) for d in range(1, 31)]
    customers = [{"customer_id": f"u{i}", "signup_at": "2023-07-01T00:00:00Z"} for i in range(10)]
    card = run_case({"events": events, "customers": customers}, period="all", metrics=["dau", "mau", "stickiness"])
    dau = pick(card, "dau")
    assert (dau["period_start"], dau["period_end"]) == ("2024-06-01", "2024-06-30")
    assert dau["value"] == pytest.approx(10)
    assert pick(card, "stickiness")["value"] == pytest.approx(100)


def test_period_all_cac_counts_spend_days_onward_not_customers_won_years_before(run_case):
    # Spend 500 on 1 Jan and 500 on 1 Dec 2024; 90 customers won in March 2020, 10 in March 2024.
    # CAC over the spend's period = 1000 / 10 = 100 (not 1000 / 100).
    customers = [{"customer_id": f"o{i}", "signup_at": "2020-03-10T00:00:00Z"} for i in range(90)]
    customers += [{"customer_id": f"n{i}", "signup_at": "2024-03-10T00:00:00Z"} for i in range(10)]
    spend = [{"date": "2024-01-01", "amount": 500, "kind": "marketing"},
             {"date": "2024-12-01", "amount": 500, "kind": "marketing"}]
    record = pick(run_case({"customers": customers, "spend": spend}, period="all", metrics=["cac"]), "cac")
    assert record["value"] == pytest.approx(100)


def test_a_resolution_dated_far_in_the_future_does_not_stretch_the_periods(run_case):
    # A typo'd resolved_at in 2099: the periods stop at today (or the data's last day), not in 2099.
    rows = [{"ticket_id": "t1", "channel": "email", "opened_at": "2024-03-02T10:00:00Z",
             "resolved_at": "2099-03-01T00:00:00Z"}]
    card = run_case({"tickets": rows}, metrics=["open_tickets"])
    last = max(r["period_start"] for r in card.get("open_tickets"))
    assert last <= dt.date.today().isoformat()


def test_zero_counts_per_breakdown_are_shown_once_after_the_value_and_compared_under_compare(run_case):
    # Daily pageviews: "/" every day 1-10 June, "/a" on 1 and 10 June only. "/a" gets a 0 record on 2 June
    # (1 → 0) and its 10 June record compares with 0; days 3-9 have no "/a" record (not pages × days).
    events = [{"user_id": "u", "ts": f"2024-06-{d:02d}T10:00:00Z", "event": "pageview", "page": "/"} for d in range(1, 11)]
    events += [{"user_id": "u", "ts": f"2024-06-{d:02d}T11:00:00Z", "event": "pageview", "page": "/a"} for d in (1, 10)]
    card = run_case({"events": events}, period="day", metrics=["pageviews"])
    a = card.get("pageviews", dimension={"page": "/a"})
    assert [(r["period_start"], r["value"]) for r in a] == [("2024-06-01", 1), ("2024-06-02", 0), ("2024-06-10", 1)]
    assert a[2]["change"]["previous"] == 0


def test_compare_scales_and_tests_a_channel_with_no_tickets_in_the_period(run_case):
    # Phone: 30 tickets in each of Jan-Mar 2024; email: 30 in Jan and Feb, none in March. Against the window
    # Jan-Feb (60 days), March email (31 days) is worth 60 × 31 / 60 = 31: delta −31, exact Poisson test
    # P(0 of 60 | share 31/91) = (60/91)^60 = 1.3e-11, significant.
    rows = [{"ticket_id": f"{c}{m}{i}", "channel": c, "opened_at": f"2024-{m:02d}-{i % 28 + 1:02d}T10:00:00Z"}
            for c, months in (("phone", (1, 2, 3)), ("email", (1, 2))) for m in months for i in range(30)]
    card = run_case({"tickets": rows}, metrics=["contact_volume_by_channel"],
                    compare="2024-01-01..2024-02-29")
    email = pick(card, "contact_volume_by_channel", period_start="2024-03-01", dimension={"channel": "email"})
    compared = email["compared_with"]
    assert email["value"] == 0
    assert compared["value"] == pytest.approx(31) and compared["delta"] == pytest.approx(-31)
    assert compared["test"] == "exact Poisson" and compared["significant"] is True


def test_compare_scales_a_month_without_capex_like_any_other_month(run_case):
    # Capex 600 in January, 600 in February, nothing in March, 300 in April. Against Jan-Feb (60 days, 1200),
    # March (31 days, 0) is compared with 1200 × 31 / 60 = 620: delta −620, as a month with capex would be.
    rows = [{"date": d, "amount": a} for d, a in (("2024-01-10", 600), ("2024-02-10", 600), ("2024-04-10", 300))]
    card = run_case({"capex": rows}, metrics=["capex"], compare="2024-01-01..2024-02-29")
    march = pick(card, "capex", period_start="2024-03-01")
    assert march["value"] == 0
    assert march["compared_with"]["value"] == pytest.approx(620)
    assert march["compared_with"]["delta"] == pytest.approx(-620)


def test_period_all_clv_annualises_churn_over_churns_own_period(run_case):
    # --period all --from 2024-01-01. Orders end on 5 January (AOV's period: 1-5 January); subscriptions run to
    # 15 March (churn's period: 1 January - 15 March, 3 calendar months → 4 per year). 4 subscribers at the
    # start, 1 leaves → churn 25 %, annualised 25 × 4 = 100 % → lifetime 1 year (not 1 ÷ (0.25 × 365.25 / 5)).
    subs = [{"subscription_id": f"s{i}", "customer_id": f"p{i}", "start_at": "2023-12-01T00:00:00Z",
             "end_at": "2024-03-15T00:00:00Z" if i == 0 else "", "mrr": 20} for i in range(4)]
    orders = [{"order_id": f"o{i}", "customer_id": f"p{i}", "ts": "2024-01-05T10:00:00Z", "amount": 20} for i in range(4)]
    card = run_case({"subscriptions": subs, "orders": orders}, period="all", from_="2024-01-01", metrics=["clv"])
    clv = pick(card, "clv")
    assert clv["details"]["churn_rate"] == pytest.approx(25)
    assert clv["details"]["annualised_churn"] == pytest.approx(100)
    assert clv["details"]["lifetime_years"] == pytest.approx(1)
