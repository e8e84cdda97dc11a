"""Adapters (`--from-format`) and the mapping file (`--mapping`): each reads a small export written in the vendor's
own format (tests/data/adapters/*, each folder's README cites the format's documentation); every expected value is
worked by hand from those files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import ibis
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import cxbench
from cxbench.adapters import ADAPTERS, open_export
from cxbench.adapters.base import from_minor_units, url_path
from cxbench.cli import app
from cxbench.core.contract import TABLES_BY_NAME
from cxbench.core.errors import InputError, UsageError
from cxbench.core.validation import validate

DATA = Path(__file__).parent / "data" / "adapters"
runner = CliRunner()


def _tables(folder: Path, as_of: dt.date, **how):
    dataset = open_export(folder, **how)
    result = validate(dataset, as_of=as_of)
    rows = {name: dataset.con.to_pyarrow(t.expr.order_by("_row")).to_pylist() for name, t in result.tables.items()}
    return result, rows


@pytest.fixture(scope="module")
def stripe_tables():
    return _tables(DATA / "stripe", dt.date(2026, 10, 30), from_format="stripe")


def _counts_add_up(result) -> None:
    for report in result.reports.values():
        assert report.rows == report.used + report.rejected


def test_registry_declares_each_adapter_once_with_contract_columns():
    names = [a.name for a in ADAPTERS]
    assert len(names) == len(set(names))
    for adapter in ADAPTERS:
        for output in adapter.outputs:
            known = {c.name for c in TABLES_BY_NAME[output.table].columns}
            assert {c for c, _ in output.columns} <= known, (adapter.name, output.table)
            assert set(output.reads) | set(output.optional) <= {f.key for f in adapter.files}


def test_shared_expressions():
    con = ibis.duckdb.connect()
    # Stripe amounts are in the smallest unit: 120000 US cents = 1200.00; yen have no minor unit (500 = 500 JPY);
    # the Kuwaiti dinar has three decimals (1500 fils = 1.5 KWD) (https://docs.stripe.com/currencies).
    values = [con.execute(from_minor_units(ibis.literal(a), c)) for a, c in
              ((120000, "usd"), (500, "jpy"), (1500, "kwd"))]
    assert values == [1200.0, 500.0, 1.5]
    assert con.execute(url_path(ibis.literal("https://shop.example/pricing?plan=pro#top"))) == "/pricing"
    assert con.execute(url_path(ibis.literal("https://shop.example"))) == "/"


def test_ga4_sessions_are_per_device_and_logins_stitched():
    result, rows = _tables(DATA / "ga4", dt.date(2026, 10, 2), from_format="ga4")
    _counts_add_up(result)
    # 10 events; the last has neither user_pseudo_id nor user_id (consent denied): set aside with the reason.
    assert (result.reports["events"].rows, result.reports["events"].used) == (10, 9)
    assert "cookieless" in result.rejected[0].reason and result.rejected[0].row == 10
    events = rows["events"]
    # Device 2000.1790845200 logs in as cust_42 at 09:30: its earlier pageview at 09:00 is cust_42's too.
    assert [e["user_id"] for e in events[6:]] == ["cust_42"] * 3
    # ga_session_id 1790845200 is used by both devices: three sessions (device 1000 at 09:00 and 10:00, device
    # 2000 at 09:00), not two.
    assert len({e["session_id"] for e in events}) == 3
    assert [e["event"] for e in events[:5]] == ["session_start", "pageview", "pageview", "scroll", "checkout"]
    # event_timestamp 1790845200500000 us = 2026-10-01 09:00:00.5 UTC; the path without host and query.
    assert events[1]["ts"] == dt.datetime(2026, 10, 1, 9, 0, 0, 500000)
    assert events[2]["page"] == "/pricing" and events[3]["scroll_pct"] == 90


def test_ga4_scorecard_counts_sessions_and_pageviews():
    card = cxbench.compute(DATA / "ga4", from_format="ga4", metrics=["sessions", "pageviews", "unique_visitors"],
                           period="all", as_of="2026-10-02")
    values = {r["id"]: r["value"] for r in card.records if not r.to_dict().get("dimension")}
    # 5 page_view events among the 9 used (rows 2, 3, 6, 7, 9); 2 visitors (device 1000, cust_42); 3 sessions.
    assert values == {"sessions": 3, "pageviews": 5, "unique_visitors": 2}


def test_stripe_mrr_per_month_with_coupons_and_both_billing_period_places(stripe_tables):
    result, rows = stripe_tables
    _counts_add_up(result)
    subs = {s["subscription_id"]: s for s in rows["subscriptions"]}
    # sub_A: annual 120000 cents = 1200.00 / 12 = 100.00 a month, 25 % coupon (forever): 75.00.
    # sub_B: 3 seats x 2500 cents = 75.00 a month, 10.00 off each (monthly) invoice (repeating): 65.00.
    # sub_D: 1200 cents every 2 weeks: 12.00 x 52 / 24 = 26.00 a month.
    # sub_E: 50.00 a month; its 50 % coupon is `once` (the first invoice only): 50.00.
    assert {k: round(s["mrr"], 2) for k, s in subs.items()} == {"sub_A": 75.0, "sub_B": 65.0, "sub_D": 26.0,
                                                                "sub_E": 50.0}
    # sub_C's first payment failed (incomplete_expired): set aside.
    assert [(r.table, r.row) for r in result.rejected if r.table == "subscriptions"] == [("subscriptions", 3)]
    # cancel_at_period_end: sub_B's period end is on the subscription (API before 2025-03-31): 1794700800 =
    # 2026-11-15; sub_E's on its item (2025-03-31 and later): 1796083200 = 2026-12-01. sub_D ended 2026-10-20.
    assert subs["sub_B"]["end_at"] == dt.datetime(2026, 11, 15)
    assert subs["sub_E"]["end_at"] == dt.datetime(2026, 12, 1)
    assert subs["sub_D"]["end_at"] == dt.datetime(2026, 10, 20)
    assert subs["sub_A"]["end_at"] is None and subs["sub_A"]["plan"] == "Pro annual"


def test_stripe_charges_and_refunds_become_orders(stripe_tables):
    result, rows = stripe_tables
    orders = {o["order_id"]: (o["customer_id"], o["amount"], o["kind"]) for o in rows["orders"]}
    # ch_1 120000 and ch_2 7500 cents with invoices (recurring), ch_4 1999 without (purchase); re_1 refunds 500
    # cents of ch_4 (customer cus_5). ch_3 failed and ch_5 is in yen while the rest is in dollars: set aside.
    assert orders == {"ch_1": ("cus_1", 1200.0, "recurring"), "ch_2": ("cus_2", 75.0, "recurring"),
                      "ch_4": ("cus_5", 19.99, "purchase"), "re_1": ("cus_5", -5.0, "refund")}
    report = result.reports["orders"]
    assert (report.rows, report.used, report.rejected) == (6, 4, 2)
    reasons = sorted(r.reason for r in result.rejected if r.table == "orders")
    assert reasons[0].startswith("charge status 'failed'") and reasons[1].startswith("currency jpy is not usd")
    # cus_9 was deleted.
    assert [c["customer_id"] for c in rows["customers"]] == ["cus_1", "cus_2", "cus_4", "cus_5"]


def test_shopify_orders_grouped_with_refund_give_sales_and_aov():
    result, rows = _tables(DATA / "shopify", dt.date(2026, 10, 30), from_format="shopify")
    _counts_add_up(result)
    orders = {o["order_id"]: (o["customer_id"], o["amount"]) for o in rows["orders"]}
    # #1001: three line items, 2 x 20.00 + 30.00 + 20.00 = Subtotal 90.00, 30.00 refunded; #1003 is ANA@ = ana@.
    assert orders == {"#1001": ("ana@example.com", 90.0), "#1001 refund": ("ana@example.com", -30.0),
                      "#1002": ("bob@example.com", 45.0), "#1003": ("ana@example.com", 60.0)}
    # Created at 2026-10-03 14:05:22 +0200 = 12:05:22 UTC.
    assert rows["orders"][0]["ts"] == dt.datetime(2026, 10, 3, 12, 5, 22)
    assert sorted(r.reason[:24] for r in result.rejected) == ["cancelled at 2026-10-22 ", "no Email: the order cann"]
    assert [c["customer_id"] for c in rows["customers"]] == ["ana@example.com", "bob@example.com"]
    card = cxbench.compute(DATA / "shopify", from_format="shopify", metrics=["sales", "aov"], period="all",
                           as_of="2026-10-30")
    values = {r["id"]: r["value"] for r in card.records if not r.to_dict().get("dimension")}
    # Net sales 90 + 45 + 60 - 30 = 165.00 over 3 orders: AOV 55.00.
    assert values == {"sales": pytest.approx(165.0), "aov": pytest.approx(55.0)}


def test_mapping_reads_online_retail_and_a_clickstream_without_preprocessing():
    folder = DATA / "mapping"
    result, rows = _tables(folder, dt.date(2026, 10, 30), mapping=folder / "map.yaml")
    _counts_add_up(result)
    orders = {o["order_id"]: (o["customer_id"], round(o["amount"], 2), o["ts"]) for o in rows["orders"]}
    # 536365: 6 x £2.55 + 6 x £3.39 = 15.30 + 20.34 = 35.64; 536366: 6 x 1.85 = 11.10; 536367: 32 x £1,690.00;
    # the cancellation C536379: -1 x £27.50, a refund.
    assert orders == {"536365": ("17850", 35.64, dt.datetime(2010, 12, 1, 8, 26)),
                      "536366": ("17850", 11.10, dt.datetime(2010, 12, 1, 8, 28)),
                      "536367": ("13047", 54080.0, dt.datetime(2010, 12, 1, 8, 34)),
                      "C536379": ("14527", -27.5, dt.datetime(2010, 12, 1, 9, 41))}
    assert [o["kind"] for o in rows["orders"] if o["order_id"] == "C536379"] == ["refund"]
    # 13/01/2010 has no month 13 in %m/%d/%Y; "yesterday" is not Unix milliseconds.
    assert sorted(r.reason for r in result.rejected) == [
        "invoicedate '13/01/2010 08:34' does not match the format %m/%d/%Y %H:%M",
        "time_ms 'yesterday' is not Unix time in ms"]
    events = rows["events"]
    # 1790845230000 ms = 2026-10-01 09:00:30 UTC; begin_checkout renamed checkout.
    assert [(e["event"], e["ts"]) for e in events[:2]] == [("pageview", dt.datetime(2026, 10, 1, 9)),
                                                           ("checkout", dt.datetime(2026, 10, 1, 9, 0, 30))]


@pytest.mark.parametrize(("text", "message"), [
    ("tables: {orders: {files: x.csv, columns: {order_id: a}}}", "required column customer_id is not mapped"),
    ("tables: {invoices: {files: x.csv, columns: {}}}", "invoices: not a contract table"),
    ("tables: {events: {files: e.csv, columns: {user_id: a, ts: {column: t, unit: days}, event: e}}}",
     "unit: 'days' is not one of"),
    ("tables: {events: {files: e.csv, columns: {user_id: a, ts: {column: t, format: '%H:%M'}, event: e}}}",
     "needs a year, a month and a day"),
    ("[1, 2", "not a YAML mapping file"),
])
def test_mapping_file_errors_name_the_key_and_the_fix(tmp_path, text, message):
    mapping = tmp_path / "map.yaml"
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        open_export(DATA / "mapping", mapping=mapping)


def test_mapping_names_a_source_column_that_is_not_there(tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("tables: {events: {files: events.csv, columns: {user_id: visitor_id, ts: time_ms, "
                       "event: name}}}", encoding="utf-8")
    with pytest.raises(InputError, match=r"column 'visitor_id' is not in the export \(columns found: visitor, "):
        open_export(DATA / "mapping", mapping=mapping)


def test_unknown_format_and_missing_files_say_what_to_do(tmp_path):
    with pytest.raises(UsageError, match="use one of ga4, stripe"):
        open_export(DATA / "ga4", from_format="salesforce")
    with pytest.raises(InputError, match="no GA4 events_YYYYMMDD export"):
        open_export(tmp_path, from_format="ga4")


def test_cli_convert_writes_parquet_that_runs_as_a_folder(tmp_path):
    out = tmp_path / "tables"
    result = runner.invoke(app, ["convert", str(DATA / "stripe"), "--from-format", "stripe", "--out", str(out),
                                 "--as-of", "2026-10-30"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["customers.parquet", "orders.parquet", "subscriptions.parquet"]
    assert pq.read_table(out / "subscriptions.parquet").num_rows == 4
    again = runner.invoke(app, ["validate", str(out), "--format", "json", "--as-of", "2026-10-30"])
    assert json.loads(again.stdout)["inputs"]["orders"]["rejected"] == 0


def test_cli_run_from_format_json_lists_rows_set_aside_with_their_file():
    result = runner.invoke(app, ["run", str(DATA / "ga4"), "--from-format", "ga4", "--format", "json",
                                 "--metric", "pageviews", "--as-of", "2026-10-02"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["inputs"]["events"] == {"rows": 10, "used": 9, "rejected": 1,
                                            "file": str(DATA / "ga4" / "events_20261001.jsonl")}
    assert document["rejected"][0]["row"] == 10
    bad = runner.invoke(app, ["run", str(DATA / "ga4"), "--from-format", "nope"])
    assert bad.exit_code == 2 and "unknown" in bad.output


def test_zendesk_tickets_metrics_and_good_bad_csat():
    metrics = ["avg_resolution_time", "first_response_time", "first_contact_resolution", "csat"]
    card = cxbench.compute(DATA / "zendesk", from_format="zendesk", metrics=metrics, period="all", as_of="2026-10-30")
    values = {r["id"]: r["value"] for r in card.records if not r.to_dict().get("dimension")}
    # Solved 101, 102, 105: created -> solved_at 08:00 -> 11:00 (3 h), 10-02 09:00 -> 10-03 09:00 (24 h),
    # 07:30 -> 08:30 (1 h; 105's metrics row has no solved_at: created + full_resolution_time 60 min): mean
    # 28 h / 3 = 33,600 s. First replies after 30, 90 and 15 calendar minutes: 45 min.
    # FCR: of the 4 tickets kept (104 was deleted), 101 and 105 were solved with one reply: 2 / 4 = 50 %.
    # CSAT: 101 good, 102 bad, 105 good (103 only offered): 2 / 3.
    assert values == {"avg_resolution_time": pytest.approx(33600), "first_response_time": pytest.approx(2700),
                      "first_contact_resolution": pytest.approx(50), "csat": pytest.approx(200 / 3)}
    inputs = card.validation.reports
    assert (inputs["tickets"].rows, inputs["tickets"].used, inputs["surveys"].rows) == (5, 4, 3)
    assert card.validation.rejected[0].reason == "a deleted ticket"


def test_zendesk_impossible_reply_time_is_set_aside_not_an_engine_error(tmp_path):
    for file in (DATA / "zendesk").iterdir():
        (tmp_path / file.name).write_bytes(file.read_bytes())
    metrics = tmp_path / "ticket_metrics.csv"
    # Ticket 101's reply time 30 -> 1e300 minutes: its seconds overflowed 64 bits (a DuckDB conversion error).
    metrics.write_text(metrics.read_text(encoding="utf-8").replace(",1,0,30,30,180,180", ",1,0,1e300,30,180,180"),
                       encoding="utf-8")
    result = validate(open_export(tmp_path, from_format="zendesk"), as_of=dt.date(2026, 10, 30))
    assert [(r.row, r.reason) for r in result.rejected if r.table == "tickets"] == [
        (1, "reply_time_in_minutes '1e+300' is not a duration in minutes"), (4, "a deleted ticket")]


def test_zendesk_priority_group_assignee_tags_reopens_and_replies_fill_the_optional_ticket_columns():
    result, rows = _tables(DATA / "zendesk", dt.date(2026, 10, 30), from_format="zendesk")
    _counts_add_up(result)
    got = {r["ticket_id"]: (r["priority"], r["group"], r["agent"], r["tags"], r["reopens"], r["agent_replies"])
           for r in rows["tickets"]}
    # From tickets.json (priority lower-cased: 105 says High; the tags list joined by spaces; 103's empty list and
    # null priority and assignee stay empty) and ticket_metrics.csv (reopens, replies); 104 was deleted.
    assert got == {"101": ("normal", "360001", "7", "billing invoice", 0, 1),
                   "102": ("urgent", "360002", "7", "login vip", 1, 3),
                   "103": (None, "360001", None, None, 0, 0),
                   "105": ("high", "360001", "8", "billing", 0, 1)}


def test_posthog_pageviews_scroll_depth_and_survey_answers():
    card = cxbench.compute(DATA / "posthog", from_format="posthog", metrics=["nps", "csat", "scroll_depth", "pageviews"],
                           period="all", as_of="2026-10-30")
    values = {r["id"]: r["value"] for r in card.records if not r.to_dict().get("dimension")}
    # Pageviews of / and /pricing (the last $pageview has no id: set aside). Their deepest scrolls arrive on the
    # next page event: 0.5 on the /pricing pageview, 0.8 on the $pageleave: (50 + 80) / 2 = 65 %.
    # `Q4 NPS` answered 9 (a promoter, NPS 100); `Checkout CSAT` 2 on 1-5 (not satisfied, 0 %); `Feature feedback`
    # says neither NPS, CSAT nor CES: set aside.
    assert values == {"pageviews": 2, "scroll_depth": pytest.approx(65), "nps": 100, "csat": 0}
    reports = card.validation.reports
    assert [(reports[t].rows, reports[t].used) for t in ("events", "surveys")] == [(9, 8), (3, 2)]
    assert any("Feature feedback" in r.reason for r in card.validation.rejected)


def test_segment_anonymous_visits_stitched_to_the_identified_user():
    result, rows = _tables(DATA / "segment", dt.date(2026, 10, 30), from_format="segment")
    _counts_add_up(result)
    events = sorted(rows["events"], key=lambda e: e["ts"])
    # identifies ties anon-A to user-1 at 09:02:30: its pageviews at 09:00 and 09:01 and its Checkout Started at
    # 09:02 (before the identify call) are user-1's; anon-B was never identified.
    assert [(e["user_id"], e["event"], e["page"]) for e in events] == [
        ("user-1", "pageview", "/"), ("user-1", "pageview", "/pricing"), ("user-1", "checkout", "/checkout"),
        ("user-1", "order_completed", "/thanks"), ("anon-B", "pageview", "/")]
    # 4 pages + 2 tracks read; the fourth page call has neither id.
    assert (result.reports["events"].rows, result.reports["events"].used) == (6, 5)
    assert result.rejected[0].file.endswith("pages.csv") and result.rejected[0].row == 4


def test_adapters_doc_describes_every_adapter_and_derivation():
    text = (Path(__file__).parents[1] / "docs" / "adapters.md").read_text(encoding="utf-8")
    for adapter in ADAPTERS:
        assert f"--from-format {adapter.name}" in text
        for output in adapter.outputs:
            for column, how in output.columns:
                assert f"| `{column}` | {how} |" in text, (adapter.name, output.table, column)


def test_stripe_api_lists_alone_items_embedded_and_invoices_as_orders_in_a_zero_decimal_currency():
    result, rows = _tables(DATA / "stripe_api", dt.date(2026, 10, 30), from_format="stripe")
    # Yen have no minor unit: 2 seats x 3000 JPY a month + 36000 JPY a year / 12 = 6000 + 3000 = 9000 JPY a month.
    assert [(s["subscription_id"], s["mrr"], s["plan"]) for s in rows["subscriptions"]] == [
        ("sub_J1", 9000.0, "Priority support")]
    # No charges: paid invoices are the orders. in_1 (its subscription's first, 42000 JPY, paid 1790812860 =
    # 2026-10-01 00:01 UTC) and in_2 (5000 JPY, no subscription); in_3 is open, in_4 paid 0 (a trial).
    assert [(o["order_id"], o["amount"], o["kind"], o["ts"]) for o in rows["orders"]] == [
        ("in_1", 42000.0, "recurring", dt.datetime(2026, 10, 1, 0, 1)),
        ("in_2", 5000.0, "purchase", dt.datetime(2026, 10, 5, 0, 1))]
    assert [r.row for r in result.rejected if r.table == "orders"] == [3, 4]


def test_qualtrics_nps_with_three_header_rows_and_the_export_time_zone():
    result, rows = _tables(DATA / "qualtrics", dt.date(2026, 10, 30), from_format="qualtrics")
    _counts_add_up(result)
    # The question-text and import-id header rows are not responses; R_4 is a survey preview (Status 1).
    assert (result.reports["surveys"].rows, result.reports["surveys"].used) == (4, 3)
    answers = [(s["respondent_id"], s["score"], s["ts"]) for s in rows["surveys"]]
    # RecordedDate in America/Denver (MDT, UTC-6 in October): 09:00 -> 15:00 UTC, 10-02 18:30 -> 10-03 00:30 UTC.
    assert answers == [("cus_1", 10, dt.datetime(2026, 10, 1, 15)), ("cus_2", 3, dt.datetime(2026, 10, 3, 0, 30)),
                       ("cleo@example.com", 8, dt.datetime(2026, 10, 3, 14))]
    # One promoter (10), one passive (8), one detractor (3): NPS (1 - 1) / 3 x 100 = 0.


def test_mapping_suggest_guesses_columns_formats_and_line_items(tmp_path):
    out = tmp_path / "map.yaml"
    result = runner.invoke(app, ["mapping", "suggest", str(DATA / "mapping"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    # Online Retail: InvoiceNo repeats over an invoice's lines, dates read 12/01/2010 08:26, prices £2.55 per unit.
    assert "group_by: order_id" in text
    assert 'ts: {column: "InvoiceDate", format: "%m/%d/%Y %H:%M"}' in text
    assert 'amount: {column: "UnitPrice", multiply: "Quantity", currency_symbol: true}' in text
    # events.csv: time_ms holds 13-digit Unix milliseconds.
    assert 'ts: {column: "time_ms", unit: ms}' in text
    # The suggestion is a mapping file cxbench reads as it is.
    dataset = open_export(DATA / "mapping", mapping=out)
    assert set(dataset.tables) == {"orders", "events"}


def test_counts_per_source_file_when_a_table_comes_from_several(stripe_tables):
    result, _ = stripe_tables
    files = result.reports["orders"].to_dict()["files"]
    # charge.csv: 5 charges, ch_3 (failed) and ch_5 (yen) set aside; refund.csv: re_1 used.
    assert {Path(f).name: counts for f, counts in files.items()} == {
        "charge.csv": {"rows": 5, "used": 3, "rejected": 2}, "refund.csv": {"rows": 1, "used": 1, "rejected": 0}}


def test_a_column_named_aside_in_a_contract_folder_sets_nothing_aside(tmp_path):
    (tmp_path / "orders.csv").write_text("order_id,customer_id,ts,amount,_aside\no1,c1,2026-10-01,5,boom\n",
                                         encoding="utf-8")
    result = cxbench.api.check(tmp_path, as_of="2026-10-30")
    assert (result.reports["orders"].used, result.rejected) == (1, [])


def test_adapters_refuse_spark_before_starting_it():
    with pytest.raises(UsageError, match="read the export with DuckDB"):
        open_export(DATA / "ga4", from_format="ga4", engine="spark")


def test_ga4_parquet_export_with_typed_params_reads_the_same(tmp_path):
    import duckdb

    # BigQuery's Parquet export types the INT64 fields (event_timestamp, int_value) where its JSON writes text.
    source = DATA / "ga4" / "events_20261001.jsonl"
    duckdb.execute(f"""COPY (SELECT event_date, CAST(event_timestamp AS BIGINT) AS event_timestamp, event_name,
        list_transform(event_params, p -> {{'key': p.key, 'value': {{'string_value': p.value.string_value,
          'int_value': CAST(p.value.int_value AS BIGINT), 'float_value': CAST(NULL AS DOUBLE),
          'double_value': CAST(NULL AS DOUBLE)}}}}) AS event_params, user_id, user_pseudo_id
        FROM read_json('{source}', format='newline_delimited'))
        TO '{tmp_path / "events_20261001.parquet"}' (FORMAT parquet)""")
    result, rows = _tables(tmp_path, dt.date(2026, 10, 2), from_format="ga4")
    events = rows["events"]
    assert (result.reports["events"].rows, result.reports["events"].used) == (10, 9)
    assert len({e["session_id"] for e in events}) == 3
    assert events[3]["scroll_pct"] == 90 and events[1]["ts"] == dt.datetime(2026, 10, 1, 9, 0, 0, 500000)
