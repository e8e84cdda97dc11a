"""Money and time as businesses have them (issue 16, item 3): `currency`, --currency, --fx and --timezone.

Every expected value is worked by hand in the comments. Rates follow the documented convention: `rate` is units of
the reporting currency per 1 unit of the row's currency (EUR report, USD 0.80: 50 USD = 40 EUR).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cxbench
from cxbench.cli import app
from cxbench.core.errors import InputError, UsageError
from conftest import pick, write_tables

RATES = "date,currency,rate\n2026-03-01,USD,0.90\n2026-03-08,USD,0.80\n2026-03-01,GBP,1.20\n"


def order(order_id: str, ts: str, amount: float, currency: str, customer: str = "c1") -> dict[str, object]:
    return {"order_id": order_id, "customer_id": customer, "ts": ts, "amount": amount, "currency": currency}


def rates_file(tmp_path: Path, text: str = RATES, name: str = "rates.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_orders_in_two_currencies_are_converted_at_their_days_rate_or_the_latest_earlier_one(run_case, tmp_path):
    orders = [
        order("o1", "2026-03-10T10:00:00Z", 100, "EUR", "c1"),
        # 10 March has no USD rate: the one of 8 March (two days earlier), 0.80, applies: 50 USD = 40 EUR.
        order("o2", "2026-03-10T11:00:00Z", 50, "usd", "c2"),
        # 3 March: the rate of 1 March, 0.90: 20 USD = 18 EUR.
        order("o3", "2026-03-03T09:00:00Z", 20, "USD", "c3"),
        # 27 February is before the first USD rate: set aside, with the currency and the day.
        order("o4", "2026-02-27T09:00:00Z", 999, "USD", "c4"),
    ]
    card = run_case({"orders": orders}, period="all", metrics=["sales", "aov"], currency="eur",
                    fx=rates_file(tmp_path))
    # sales = 100 + 40 + 18 = 158 EUR; AOV = 158 / 3 orders = 52.666...
    assert pick(card, "sales")["value"] == pytest.approx(158.0)
    assert pick(card, "aov")["value"] == pytest.approx(158.0 / 3, abs=0.01)
    document = card.to_dict()
    assert document["currency"] == "EUR"
    assert document["inputs"]["orders"] == {"rows": 4, "used": 3, "rejected": 1, "file": document["inputs"]["orders"]["file"]}
    (aside,) = document["rejected"]
    assert aside["row"] == 4
    assert "no USD exchange rate on or before 2026-02-27" in aside["reason"] and "2026-03-01" in aside["reason"]


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_one_currency_without_currency_option_keeps_values_and_names_the_currency(run_case):
    orders = [order("o1", "2026-03-10T10:00:00Z", 100, "usd"), order("o2", "2026-03-11T10:00:00Z", 50, "USD")]
    card = run_case({"orders": orders}, period="all", metrics=["sales"])
    assert pick(card, "sales")["value"] == pytest.approx(150.0)  # 100 + 50, nothing converted
    assert card.to_dict()["currency"] == "USD"
    plain = run_case({"orders": [{k: v for k, v in o.items() if k != "currency"} for o in orders]}, period="all",
                     metrics=["sales"])
    assert pick(plain, "sales")["value"] == pytest.approx(150.0)
    assert "currency" not in plain.to_dict() and "timezone" not in plain.to_dict()  # the output as before


def test_mixed_currencies_without_rates_are_an_error_naming_table_currencies_counts_and_fix(tmp_path: Path):
    folder = write_tables(tmp_path / "data", {"orders": [
        order("o1", "2026-03-10T10:00:00Z", 100, "EUR"), order("o2", "2026-03-10T11:00:00Z", 50, "USD"),
        order("o3", "2026-03-11T11:00:00Z", 20, "USD"), order("o4", "2026-03-12T11:00:00Z", 5, "")]})
    with pytest.raises(InputError) as caught:
        cxbench.compute(folder, metrics=["sales"])
    message = str(caught.value)
    assert "table orders has money in EUR (1 row), USD (2 rows) and no currency (1 row)" in message
    assert "never adds up different currencies" in message and "--currency EUR --fx rates.csv" in message
    # A reporting currency but no rate for the other one: the same listing, and which rates are missing.
    with pytest.raises(InputError, match=r"--currency is EUR, but no exchange rate for USD: give them with --fx"):
        cxbench.compute(folder, metrics=["sales"], currency="EUR")
    # One currency per table, but two across tables (CAC divides spend by won customers, CLV mixes orders):
    # also an error, naming both.
    split = write_tables(tmp_path / "split", {"orders": [order("o1", "2026-03-10T10:00:00Z", 100, "USD")],
                                              "spend": [{"date": "2026-03-01", "amount": 10, "currency": "EUR"}]})
    with pytest.raises(InputError, match=r"several currencies \(EUR, USD\)"):
        cxbench.compute(split)  # every metric: both tables are read
    # The CLI: one line, exit 2 (validate says the same).
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert result.exit_code == 2 and "USD (2 rows)" in result.output


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_subscription_mrr_in_two_currencies_is_converted_at_its_start_days_rate(run_case, tmp_path):
    subscriptions = [
        {"subscription_id": "s1", "customer_id": "c1", "start_at": "2026-03-02T00:00:00Z", "mrr": 100, "currency": "EUR"},
        # started 9 March: the USD rate of 8 March, 0.80: 50 USD = 40 EUR
        {"subscription_id": "s2", "customer_id": "c2", "start_at": "2026-03-09T00:00:00Z", "mrr": 50, "currency": "USD"},
        # started 5 March: GBP 1.20 of 1 March: 10 GBP = 12 EUR
        {"subscription_id": "s3", "customer_id": "c3", "start_at": "2026-03-05T00:00:00Z", "mrr": 10, "currency": "GBP"},
    ]
    card = run_case({"subscriptions": subscriptions}, period="month", metrics=["mrr"], as_of="2026-03-31",
                    currency="EUR", fx=rates_file(tmp_path))
    # MRR at the end of March = 100 + 40 + 12 = 152 EUR
    assert pick(card, "mrr", period_start="2026-03-01")["value"] == pytest.approx(152.0)


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_spend_in_two_currencies_gives_cac_in_the_reporting_currency(run_case, tmp_path):
    spend = [{"date": "2026-03-02", "amount": 1000, "currency": "EUR"},
             {"date": "2026-03-05", "amount": 500, "currency": "USD"}]  # rate of 1 March 0.90: 450 EUR
    customers = [{"customer_id": f"c{i}", "signup_at": f"2026-03-1{i}T10:00:00Z"} for i in range(3)]
    fx = rates_file(tmp_path, "rates:\n  - {date: 2026-03-01, currency: USD, rate: 0.9}\n", "rates.yaml")
    card = run_case({"spend": spend, "customers": customers}, period="month", metrics=["cac"], currency="EUR", fx=fx)
    # CAC = (1000 + 450) EUR / 3 customers won in March = 483.33
    assert pick(card, "cac", period_start="2026-03-01")["value"] == pytest.approx(1450 / 3, abs=0.01)


def test_capex_in_two_currencies_is_converted_like_spend(run_case, tmp_path):
    capex = [{"date": "2026-03-02", "amount": 2000, "currency": "EUR"},
             {"date": "2026-03-20", "amount": 1000, "currency": "USD"}]  # rate of 1 March 0.90: 900 EUR
    fx = rates_file(tmp_path, "date,currency,rate\n2026-03-01,USD,0.90\n")
    card = run_case({"capex": capex}, period="month", metrics=["capex"], currency="EUR", fx=fx)
    # 2000 EUR + 1000 USD x 0.90 = 2900 EUR
    assert pick(card, "capex", period_start="2026-03-01")["value"] == pytest.approx(2900.0)


def test_timezone_moves_a_late_march_event_and_order_into_april_on_both_engines(run_case, tmp_path):
    # Europe/Bucharest is UTC+3 from 29 March 2026 (EEST). u1's event at 2026-03-31T22:30Z is 1 April 01:30 local.
    events = [{"user_id": "u1", "ts": "2026-03-31T22:30:00Z", "event": "open"},
              {"user_id": "u2", "ts": "2026-03-31T12:00:00Z", "event": "open"},
              {"user_id": "u3", "ts": "2026-04-02T10:00:00Z", "event": "open"}]
    # The order's day is its local day, 1 April, so the rate of 1 April applies: 50 USD x 0.80 = 40 EUR.
    orders = [order("o1", "2026-03-31T22:30:00Z", 50, "USD")]
    fx = rates_file(tmp_path, "date,currency,rate\n2026-03-31,USD,0.90\n2026-04-01,USD,0.80\n")
    card = run_case({"events": events, "orders": orders}, period="month", metrics=["mau", "sales"],
                    timezone="Europe/Bucharest", currency="EUR", fx=fx, as_of="2026-04-30")
    # MAU: March = {u2} = 1; April = {u1, u3} = 2 (in UTC: March {u1, u2} = 2, April {u3} = 1)
    assert pick(card, "mau", period_start="2026-03-01")["value"] == 1
    assert pick(card, "mau", period_start="2026-04-01")["value"] == 2
    assert pick(card, "sales", period_start="2026-04-01")["value"] == pytest.approx(40.0)
    assert card.to_dict()["timezone"] == "Europe/Bucharest"


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_days_of_23_and_25_hours_when_the_clocks_change_and_durations_in_real_time(run_case):
    # Bucharest: 29 March 2026 03:00 EET -> 04:00 EEST (UTC+2 -> UTC+3), so local 29 March runs 28 Mar 22:00Z to
    # 29 Mar 21:00Z (23 h); 25 October 04:00 EEST -> 03:00 EET, so local 25 October runs 24 Oct 21:00Z to
    # 25 Oct 22:00Z (25 h). One visitor per event; DAU per day = the day's visitors.
    events = [
        ("a", "2026-03-28T21:59:00Z"),  # 28 Mar 23:59 local (+2)
        ("b", "2026-03-28T22:00:00Z"),  # 29 Mar 00:00 local: the 23-hour day's first minute
        ("c", "2026-03-29T20:59:00Z"),  # 29 Mar 23:59 local (+3)
        ("d", "2026-03-29T21:00:00Z"),  # 30 Mar 00:00 local
        ("e", "2026-10-24T20:59:00Z"),  # 24 Oct 23:59 local (+3)
        ("f", "2026-10-24T21:00:00Z"),  # 25 Oct 00:00 local
        ("g", "2026-10-25T21:59:00Z"),  # 25 Oct 23:59 local (+2): the 25-hour day's last minute
        ("h", "2026-10-25T22:00:00Z"),  # 26 Oct 00:00 local
    ]
    rows = [{"user_id": user, "ts": ts, "event": "open"} for user, ts in events]
    # A ticket over the spring-forward night: opened 29 Mar 00:30 local (22:30Z), resolved 05:30 local (02:30Z):
    # 5 h on the wall clock, 4 h = 14,400 s in real time.
    tickets = [{"ticket_id": "t1", "customer_id": "c1", "channel": "email", "opened_at": "2026-03-28T22:30:00Z",
                "resolved_at": "2026-03-29T02:30:00Z"}]
    card = run_case({"events": rows, "tickets": tickets}, period="day", metrics=["dau", "avg_resolution_time"],
                    timezone="Europe/Bucharest", as_of="2026-10-31", from_="2026-03-28", to="2026-10-26")
    expected = {"2026-03-28": 1, "2026-03-29": 2, "2026-03-30": 1, "2026-10-24": 1, "2026-10-25": 2, "2026-10-26": 1}
    for day, visitors in expected.items():
        assert pick(card, "dau", period_start=day)["value"] == visitors, day
    assert pick(card, "avg_resolution_time", period_start="2026-03-29")["value"] == pytest.approx(14400.0)
    utc = run_case({"events": rows}, period="day", metrics=["dau"], as_of="2026-10-31", from_="2026-03-28",
                   to="2026-03-29")
    # In UTC: 28 March holds a, b (21:59Z, 22:00Z); 29 March holds c, d.
    assert pick(utc, "dau", period_start="2026-03-28")["value"] == 2
    assert pick(utc, "dau", period_start="2026-03-29")["value"] == 2


@pytest.mark.parametrize("settings, message", [
    ({"currency": "EURO"}, "--currency 'EURO' is not an ISO 4217 currency code (three letters, e.g. EUR)"),
    ({"timezone": "Europe/Bucuresti"}, "--timezone 'Europe/Bucuresti' is not a time zone; use an IANA name such as "
                                       "Europe/Bucharest"),
    ({"currency": "EUR", "fx": [("2026-03-01", "USD", 0)]}, "row 1: rate 0 is not a positive finite number"),
    ({"currency": "EUR", "fx": [("2026-03-01", "USD", -0.9)]}, "rate -0.9 is not a positive finite number"),
    ({"currency": "EUR", "fx": [("2026-03-01", "USD", "inf")]}, "rate 'inf' is not a positive finite number"),
    ({"currency": "EUR", "fx": [("1/3/2026", "USD", 0.9)]}, "date '1/3/2026' is not a YYYY-MM-DD date"),
    ({"currency": "EUR", "fx": [("2026-03-01", "US", 0.9)]}, "currency 'US' is not an ISO 4217"),
    ({"currency": "EUR", "fx": [("2026-03-01", "USD", 0.9), ("2026-03-01", "USD", 0.8)]}, "given twice"),
    ({"currency": "EUR", "fx": [{"date": "2026-03-01", "currency": "USD", "rate": 1.1, "to_currency": "GBP"}]},
     "a rate into GBP, but --currency is EUR"),
    ({"fx": [("2026-03-01", "USD", 0.9)]}, "add --currency"),
])
def test_bad_currency_time_zone_or_rate_is_a_clear_usage_error(settings, message, tmp_path):
    with pytest.raises(UsageError) as caught:
        cxbench.compute(tmp_path, **settings)
    assert message in str(caught.value)


def test_a_rate_file_separated_by_semicolons_is_named_as_such(tmp_path: Path):
    semicolons = rates_file(tmp_path, "date;currency;rate\n2026-03-01;USD;0,9\n")
    with pytest.raises(UsageError) as caught:
        cxbench.compute(tmp_path, currency="EUR", fx=semicolons)
    assert "the header is separated by semicolons: save the file with commas" in str(caught.value)


def test_fx_file_errors_name_the_file_and_line_and_a_bad_row_currency_is_set_aside(tmp_path: Path):
    bad = rates_file(tmp_path, "date,currency,rate\n2026-03-01,USD,0.9\n2026-03-02,USD,-1\n")
    folder = write_tables(tmp_path / "data", {"orders": [order("o1", "2026-03-10T10:00:00Z", 100, "EURO"),
                                                          order("o2", "2026-03-10T10:00:00Z", 100, "EUR")]})
    result = CliRunner().invoke(app, ["run", str(folder), "--currency", "EUR", "--fx", str(bad)])
    assert result.exit_code == 2
    assert f"--fx {bad}, line 3: rate '-1' is not a positive finite number" in " ".join(result.output.split())
    checked = CliRunner().invoke(app, ["validate", str(folder), "--format", "json"])
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.stdout)
    assert report["rejected"] == [{"table": "orders", "row": 1,
                                   "reason": "currency 'EURO' is not an ISO 4217 currency code (three letters, e.g. EUR)"}]
    assert report["currency"] == "EUR"


@pytest.mark.parametrize(("given", "spelled"), [("utc", "UTC"), ("europe/bucharest", "Europe/Bucharest"),
                                                ("AMERICA/ST_JOHNS", "America/St_Johns")])
def test_a_time_zone_name_in_any_case_is_read_as_the_zone_database_spells_it(given, spelled):
    from cxbench.core.options import make_options

    assert make_options(timezone=given).timezone == spelled


@pytest.mark.parametrize("zone", ["America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "America/Sao_Paulo"])
def test_wall_clock_times_in_the_engine_agree_with_zoneinfo_and_go_back_to_the_instant(zone):
    # The reference is Python's zoneinfo itself (IANA tz database): Lord Howe moves by 30 minutes, Kathmandu is
    # +05:45 (+05:30 before 1986), Sao Paulo dropped daylight saving in 2019.
    import datetime as dt
    from zoneinfo import ZoneInfo

    import ibis

    from cxbench.core.reporting import LocalClock

    instants = [dt.datetime(1985, 1, 1) + dt.timedelta(hours=11 * 24 * k + 13 * k % 24, minutes=17 * k % 60)
                for k in range(0, 1400)]  # about 42 years, one instant every 11 days at a moving hour
    clock = LocalClock.over(zone, instants[0], instants[-1])
    t = ibis.memtable({"ts": instants})
    con = ibis.duckdb.connect()
    local = t.mutate(local=clock.to_local(t.ts))  # a column, as prepare() leaves the tables
    out = con.to_pyarrow(local.mutate(back=clock.to_utc(local.local)))
    info = ZoneInfo(zone)
    for row in out.to_pylist():
        expected = row["ts"].replace(tzinfo=dt.UTC).astimezone(info).replace(tzinfo=None)
        assert row["local"] == expected, (row["ts"], row["local"], expected)
        if not info.fromutc(row["ts"].replace(tzinfo=info)).fold:  # the hour a clock turns back is ambiguous
            assert row["back"] == row["ts"], row


@pytest.mark.parametrize("backend", ["duckdb"], indirect=True)
def test_report_options_line_summarises_the_rates_and_sla_targets_instead_of_python_tuples(run_case, tmp_path):
    from cxbench.report.model import build_model

    orders = [order("o1", "2026-03-10T10:00:00Z", 100, "EUR"), order("o2", "2026-03-10T11:00:00Z", 50, "USD")]
    card = run_case({"orders": orders}, period="all", metrics=["sales"], currency="EUR", fx=rates_file(tmp_path),
                    sla_targets="urgent=30m/4h")
    shown = dict(build_model(card).options)
    # RATES: 3 lines, USD and GBP, from 1 to 8 March; urgent 30 min = 0.5 h.
    assert shown["fx"] == "3 rates for GBP, USD, 2026-03-01 to 2026-03-08"
    assert shown["sla-targets"] == "urgent=0.5h/4h"
    assert "datetime" not in " ".join(shown.values())
