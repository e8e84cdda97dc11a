"""Hostile and malformed inputs: each is read correctly, set aside with its reason, or stopped with one clear line.

Expected counts are worked from the files written in each test (RFC 4180 for CSV quoting).
"""

from __future__ import annotations

import gzip
import os
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import cxbench
from cxbench.core.errors import InputError, UsageError
from tests.conftest import answers, write_tables

HEADER = "response_id,respondent_id,ts,survey,score,comment\n"


def _nps_row(i: int, score: int = 9, comment: str = "ok") -> str:
    return f"r{i},c{i},2026-10-05T12:00:00Z,nps,{score},{comment}\n"


def _report(folder, backend="duckdb", table="surveys"):
    validation = cxbench.check(folder, engine=backend)
    report = validation.reports[table]
    return report, validation.rejected


# --- CSV read strictly (RFC 4180) -----------------------------------------------------------------------------


def test_csv_doubled_quotes_next_to_a_comma_stay_inside_one_field(tmp_path):
    # RFC 4180 section 2.7: a quote inside a quoted field is written twice; the comma after it is text.
    text = HEADER + _nps_row(1) + 'r2,c2,2026-10-05T12:00:00Z,nps,0,"said ""no"", then left"\n' + _nps_row(3)
    report, rejected = _report(write_tables(tmp_path, {"surveys": text}))
    assert (report.rows, report.used, rejected) == (3, 3, [])
    card = cxbench.compute(tmp_path, metrics=["nps"], period="all")
    # 2 promoters, 1 detractor of 3: (2 - 1) / 3 = 33.3
    assert card.get("nps")[0].value == pytest.approx(100 / 3)


def test_csv_quoted_newlines_keep_a_record_whole_anywhere_in_the_file(tmp_path):
    # 30,000 answers; every 1,000th comment spans two lines inside quotes, also past the reader's 20,480-row sample.
    rows = [_nps_row(i, comment='"line one\nline two"' if i % 1000 == 0 else "fine") for i in range(30_000)]
    report, rejected = _report(write_tables(tmp_path, {"surveys": HEADER + "".join(rows)}))
    assert (report.rows, report.used, rejected) == (30_000, 30_000, [])


def test_csv_row_with_one_field_too_many_late_in_the_file_is_set_aside_not_cut(tmp_path):
    rows = [_nps_row(i) for i in range(25_000)]
    rows[24_000] = "r24000,c24000,2026-10-05T12:00:00Z,nps,9,fine,EXTRA\n"  # row 24,001 of the file
    report, rejected = _report(write_tables(tmp_path, {"surveys": HEADER + "".join(rows)}))
    assert (report.rows, report.used, report.rejected) == (25_000, 24_999, 1)
    assert [(r.row, r.reason) for r in rejected] == [
        (24_001, "the row has 7 fields, the header 6: quote values that contain the delimiter")]


@pytest.fixture
def ragged_then_invalid(tmp_path):
    """Row 2 is ragged (skipped by the reader), row 4 is read but its score is 11: both set aside, by file row."""
    text = (HEADER + _nps_row(1) + "r2,c2\n" + _nps_row(3) + _nps_row(4, score=11)
            + 'r5,c5,2026-10-05T12:00:00Z,nps,"7\n' + _nps_row(6))
    return write_tables(tmp_path, {"surveys": text})


def test_rows_after_a_skipped_record_keep_their_own_row_numbers(ragged_then_invalid, backend):
    report, rejected = _report(ragged_then_invalid, backend)
    # Row 5 opens a quote that never closes: the reader takes the rest of the file (row 6) into it.
    assert (report.rows, report.used, report.rejected) == (5, 2, 3)
    assert [(r.row, r.reason.split(":")[0]) for r in rejected] == [
        (2, "the row has 2 fields, the header 6"),
        (4, "nps score 11 is outside 0-10"),
        (5, "a quoted value is not closed, or text follows its closing quote"),
    ]


def test_a_late_byte_that_is_not_utf8_sets_aside_its_row_only(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    body = (HEADER + "".join(_nps_row(i) for i in range(1, 5000))).encode() + b"r5000,c5000,2026-10-05,nps,9,caf\xe9\n"
    (folder / "surveys.csv").write_bytes(body)
    report, rejected = _report(folder)
    assert (report.rows, report.used) == (5000, 4999)
    assert [(r.row, r.reason) for r in rejected] == [
        (5000, "the row holds bytes that are not UTF-8: save the file as UTF-8")]


# --- JSON -----------------------------------------------------------------------------------------------------


def test_json_cell_of_another_type_sets_aside_its_own_row_only(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "surveys.jsonl").write_text(
        '{"response_id": "r1", "respondent_id": "c1", "ts": "2026-10-05", "survey": "nps", "score": 9}\n'
        '{"response_id": "r2", "respondent_id": "c2", "ts": "2026-10-05", "survey": "nps", "score": "ten"}\n'
        '{"response_id": 3, "respondent_id": "c3", "ts": "2026-10-05", "survey": "nps", "score": "0"}\n')
    report, rejected = _report(folder)
    assert (report.rows, report.used) == (3, 2)
    assert [(r.row, r.reason.split(" is ")[0]) for r in rejected] == [(2, "score 'ten'")]


@pytest.mark.parametrize(("backend", "gz"), [("duckdb", False), ("duckdb", True),
                                              pytest.param("spark", False, marks=pytest.mark.spark)],
                         ids=["duckdb-jsonl", "duckdb-jsonl.gz", "spark-jsonl"], indirect=["backend"])
def test_a_jsonl_line_that_is_not_an_object_is_set_aside_with_its_line_number(tmp_path, backend, gz):
    # Lines 1, 5 and 7 are answers; line 2 is blank (no row), line 3 is cut short, line 4 is an array, line 6 a
    # bare string. NPS of the three kept answers (9, 9, 0): (2 - 1) / 3 = 33.3.
    text = ('{"response_id": "r1", "respondent_id": "c1", "ts": "2026-10-05", "survey": "nps", "score": 9}\n'
            '\n'
            '{"response_id": "r2", "respondent_id": "c2", "ts": "2026-10\n'
            '[1, 2]\n'
            '{"response_id": "r5", "respondent_id": "c5", "ts": "2026-10-05", "survey": "nps", "score": "9", '
            '"a/b~c": "kept"}\n'
            '"just text"\n'
            '{"response_id": "r7", "respondent_id": "c7", "ts": "2026-10-05", "survey": "nps", "score": 0}\n')
    folder = tmp_path / "data"
    folder.mkdir()
    if gz:
        (folder / "surveys.jsonl.gz").write_bytes(gzip.compress(text.encode()))
    else:
        (folder / "surveys.jsonl").write_text(text)
    report, rejected = _report(folder, backend)
    assert (report.rows, report.used, report.rejected) == (6, 3, 3)
    assert [(r.row, r.reason.split(" (")[0].split(":")[0]) for r in rejected] == [
        (3, "the line is not valid JSON"),
        (4, "the line is a JSON array, not an object of named values"),
        (6, "the line is a JSON string, not an object of named values"),
    ]
    card = cxbench.compute(folder, metrics=["nps"], period="all", engine=backend)
    assert card.get("nps")[0].value == pytest.approx(100 / 3)


# --- Parquet --------------------------------------------------------------------------------------------------


def test_parquet_parts_are_matched_by_column_name_so_refunds_stay_refunds(tmp_path, backend):
    folder = tmp_path / "data" / "orders"
    folder.mkdir(parents=True)
    common = {"order_id": ["o1", "o2"], "customer_id": ["c1", "c2"],
              "ts": ["2026-10-05T10:00:00Z", "2026-10-06T10:00:00Z"]}
    pq.write_table(pa.table(common | {"amount": [300.0, 250.0]}), folder / "part-0.parquet")  # no kind column
    pq.write_table(pa.table({"kind": ["refund", "refund"], "amount": [-500.0, -300.0],
                             "order_id": ["o3", "o4"], "customer_id": ["c1", "c2"],
                             "ts": ["2026-10-07T10:00:00Z", "2026-10-08T10:00:00Z"]}), folder / "part-1.parquet")
    card = cxbench.compute(tmp_path / "data", engine=backend, metrics=["sales"], period="all")
    # purchases 300 + 250 = 550, refunds -500 - 300 = -800: net sales -250
    assert card.get("sales")[0].value == pytest.approx(-250.0)


def test_nanosecond_parquet_timestamps_as_pandas_writes_them_are_read_alike_on_every_engine(tmp_path, backend):
    # pandas and pyarrow write nanosecond timestamps (Parquet's TIMESTAMP(NANOS)), which Spark refused to read
    # (PARQUET_TYPE_ILLEGAL). Read on any engine, the nanoseconds are dropped toward zero, as DuckDB casts them:
    # 23:59:59.999999999 on 30 September stays in September (rounded, it would move to October).
    import numpy as np

    def nanos(*stamps: str, tz: str | None = None) -> pa.Array:
        return pa.array(np.array(stamps, dtype="datetime64[ns]")).cast(pa.timestamp("ns", tz=tz))

    folder = tmp_path / "data"
    (folder / "surveys").mkdir(parents=True)
    # Wall clocks (no time zone), in a folder of parts, as Spark and pandas' partitioned writes leave them.
    pq.write_table(pa.table({"response_id": ["r1", "r2"], "respondent_id": ["c1", "c2"],
                             "ts": nanos("2026-09-30T23:59:59.999999999", "2026-10-01T10:00:00.123456789"),
                             "score": [9, 10], "survey": ["nps", "nps"]}), folder / "surveys" / "part-0.parquet")
    pq.write_table(pa.table({"response_id": ["r3"], "respondent_id": ["c3"], "ts": nanos("2026-10-15T08:00:00"),
                             "score": [6], "survey": ["nps"]}), folder / "surveys" / "part-1.parquet")
    # Instants in UTC (a time zone set), one file.
    pq.write_table(pa.table({"order_id": ["o1", "o2", "o3"], "customer_id": ["c1", "c2", "c3"],
                             "ts": nanos("2026-09-30T23:59:59.999999999", "2026-10-01T00:00:00.000000001",
                                         "2026-10-20T12:00:00", tz="UTC"),
                             "amount": [100.0, 50.0, 25.0]}), folder / "orders.parquet")
    card = cxbench.compute(folder, engine=backend, metrics=["nps", "sales"], period="month", as_of="2026-10-31")
    nps = {r.period_start.isoformat(): (r.value, r.n) for r in card.get("nps") if r.ok}
    sales = {r.period_start.isoformat(): r.value for r in card.get("sales") if r.ok}
    # September: one promoter (9) of 1 -> NPS 100. October: a promoter (10) and a detractor (6) of 2 -> NPS 0.
    assert nps == {"2026-09-01": (pytest.approx(100.0), 1), "2026-10-01": (pytest.approx(0.0), 2)}
    # September 100; October 50 + 25 = 75 (00:00:00.000000001 is 00:00:00.000000, still 1 October).
    assert sales == {"2026-09-01": pytest.approx(100.0), "2026-10-01": pytest.approx(75.0)}


def test_parquet_parts_with_types_that_cannot_be_read_together_stop_with_both_files_named(tmp_path):
    folder = tmp_path / "data" / "orders"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"order_id": ["o1"], "customer_id": ["c1"], "ts": ["2026-10-05"], "amount": [10.0]}),
                   folder / "a.parquet")
    pq.write_table(pa.table({"order_id": ["o2"], "customer_id": ["c2"], "ts": ["2026-10-05"],
                             "amount": pa.array([True])}), folder / "b.parquet")
    with pytest.raises(InputError, match=r"column amount is double in a.parquet but bool in b.parquet"):
        cxbench.check(tmp_path / "data")


def test_a_corrupt_parquet_page_stops_with_the_file_named(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    rows = answers("nps", {9: 20_000, 3: 20_000})
    table = pa.table({k: [r[k] for r in rows] for k in rows[0]} | {"score": [float(r["score"]) for r in rows]})
    path = folder / "surveys.parquet"
    pq.write_table(table, path, compression="snappy", row_group_size=10_000)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 2000] = os.urandom(2000)  # the footer (schema, offsets) stays intact
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"surveys.parquet: could not be read"):
        cxbench.compute(folder, metrics=["nps"], period="all")


def test_an_unreadable_parquet_part_stops_with_the_part_named(tmp_path):
    folder = tmp_path / "data" / "surveys"
    folder.mkdir(parents=True)
    rows = answers("nps", {9: 2})
    pq.write_table(pa.table({k: [str(r[k]) for r in rows] for k in rows[0]}), folder / "part-0.parquet")
    os.symlink(tmp_path / "gone.parquet", folder / "part-1.parquet")  # a part the reader cannot open
    with pytest.raises(InputError, match=r"part-1.parquet: part of table surveys cannot be read as Parquet"):
        cxbench.check(tmp_path / "data")


# --- Which files are read -------------------------------------------------------------------------------------


def test_table_files_are_found_whatever_the_case_compressed_or_tab_separated(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    text = HEADER + _nps_row(1) + _nps_row(2, score=0)
    (folder / "Surveys.CSV").write_text(text)
    with gzip.open(folder / "orders.csv.gz", "wt") as handle:
        handle.write("order_id,customer_id,ts,amount\no1,c1,2026-10-05,10\n")
    (folder / "tickets.tsv").write_text("ticket_id\tcustomer_id\topened_at\tchannel\nt1\tc1\t2026-10-05\temail\n")
    validation = cxbench.check(folder)
    assert {name: r.used for name, r in validation.reports.items()} == {"surveys": 2, "orders": 1, "tickets": 1}


def test_entries_named_like_tables_but_not_readable_are_listed_with_why(tmp_path):
    folder = write_tables(tmp_path / "data", {"surveys": answers("nps", {9: 1})})
    (folder / "orders.csv").mkdir()
    os.mkfifo(folder / "tickets.csv")
    os.symlink(folder / "loop.csv", folder / "loop.csv")
    (folder / "events.csv.zip").write_bytes(b"PK")
    card = cxbench.compute(folder, metrics=["nps"], period="all")
    assert card.to_dict()["ignored_files"] == [
        {"file": "events.csv.zip",
         "reason": "compressed in a format cxbench does not read; unpack it or compress it with gzip (.gz)"},
        {"file": "loop.csv", "reason": "a symbolic link that loops"},
        {"file": "orders.csv", "reason": "a folder named like a file; put the orders table's file in the source "
                                         "folder, or its Parquet parts in a folder named orders"},
        {"file": "tickets.csv", "reason": "not a regular file (a pipe, socket or device)"},
    ]


def test_a_folder_with_no_table_names_the_expected_file_names(tmp_path):
    (tmp_path / "Survey_answers.csv").write_text("a\n1\n")
    with pytest.raises(InputError, match=r"no table found \(Survey_answers.csv \(not named after a table\)\)\. "
                                         r"Name each file after its table: customers, .*surveys"):
        cxbench.check(tmp_path)


def test_an_empty_source_name_is_refused_rather_than_read_as_the_current_folder():
    with pytest.raises(UsageError, match="the source is empty"):
        cxbench.check("")


def test_a_database_url_to_a_missing_file_is_refused_and_creates_nothing(tmp_path):
    target = tmp_path / "missing.duckdb"
    with pytest.raises(InputError, match="no such database file"):
        cxbench.check(f"duckdb://{target}")
    assert not target.exists()


# --- Values ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", ["+25:00", "+99:99", "-13:60", "+1500"])
def test_impossible_utc_offsets_are_set_aside(tmp_path, offset):
    text = HEADER + _nps_row(1) + f"r2,c2,2026-10-05T12:00:00{offset},nps,9,ok\n"
    report, rejected = _report(write_tables(tmp_path, {"surveys": text}))
    assert (report.used, [r.row for r in rejected]) == (1, [2])
    assert rejected[0].reason.startswith(f"ts '2026-10-05T12:00:00{offset}' is not an ISO 8601 timestamp")


def test_real_utc_offsets_from_minus_12_to_plus_14_are_applied(tmp_path):
    text = HEADER + "r1,c1,2026-10-05T12:00:00+14:00,nps,9,ok\nr2,c2,2026-10-05T12:00:00-12:00,nps,9,ok\n"
    report, rejected = _report(write_tables(tmp_path, {"surveys": text}))
    assert (report.used, rejected) == (2, [])


# --- Option files ---------------------------------------------------------------------------------------------


def test_a_holidays_file_that_is_not_utf8_is_a_usage_error(tmp_path):
    from cxbench.core.business_hours import read_holidays

    path = tmp_path / "holidays.txt"
    path.write_bytes(b"2026-12-25\n# No\xebl\n")  # 11 bytes of the first line, then "# No": the byte is at 15
    with pytest.raises(UsageError, match=r"is not UTF-8 text \(bad byte at offset 15\)"):
        read_holidays(path)


def test_a_mistyped_first_holiday_is_an_error_while_a_header_is_skipped(tmp_path):
    from cxbench.core.business_hours import read_holidays

    (tmp_path / "typo.txt").write_text("2026-13-01\n2026-12-25\n")
    with pytest.raises(UsageError, match=r"line 1: '2026-13-01' is not a date"):
        read_holidays(tmp_path / "typo.txt")
    (tmp_path / "header.csv").write_text("date,name\n2026-12-25,Christmas\n")
    assert [str(d) for d in read_holidays(tmp_path / "header.csv")] == ["2026-12-25"]


def test_a_benchmarks_file_nested_5000_deep_is_a_usage_error(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("nps: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(UsageError, match="nested too deeply"):
        cxbench.compute(write_tables(tmp_path / "data", {"surveys": answers("nps", {9: 1})}),
                        metrics=["nps"], benchmarks=path)


# --- Dates far from the rest ----------------------------------------------------------------------------------


def test_rows_dated_after_the_as_of_day_are_set_aside_as_typos(tmp_path):
    text = HEADER + _nps_row(1) + "r2,c2,2999-10-05T12:00:00Z,nps,0,typo\n" + "r3,c3,2026-12-05T23:00:00Z,nps,9,ok\n"
    folder = write_tables(tmp_path, {"surveys": text})
    validation = cxbench.check(folder, as_of="2026-12-04")
    # as_of 2026-12-04 plus one day: 2026-12-05 (any time) is kept, 2999 is not.
    assert [(r.row, r.reason) for r in validation.rejected] == [
        (2, "ts 2999-10-05T12:00:00Z is after 2026-12-04, the run's as-of date: fix the date, or pass --as-of when "
            "the data runs later")]
    card = cxbench.compute(folder, metrics=["nps"], as_of="2026-12-04")
    # The latest period is December 2026 (row 3, a promoter), not October 2999.
    (latest,) = [r for r in card.latest() if r.id == "nps"]
    assert (str(latest.period_start), latest.value) == ("2026-12-01", 100.0)


def test_a_row_dated_a_century_before_the_rest_is_kept_and_flagged(tmp_path):
    rows = [_nps_row(i) for i in range(200)] + ["r900,c900,1900-01-05T12:00:00Z,nps,9,typo\n"]
    validation = cxbench.check(write_tables(tmp_path, {"surveys": HEADER + "".join(rows)}))
    assert validation.reports["surveys"].used == 201
    assert validation.reports["surveys"].warnings == (
        "1 row dated 1900, 126 years before the rest (from 2026): check ts for typos; the periods start at the "
        "earliest date",)


# --- cxbench validate -----------------------------------------------------------------------------------------


def test_validate_exits_1_when_a_table_has_rows_but_none_usable(tmp_path):
    from typer.testing import CliRunner

    from cxbench.cli import app

    folder = write_tables(tmp_path / "data", {"surveys": HEADER + _nps_row(1, score=11) + _nps_row(2, score=12)})
    (folder / "notes.txt").write_text("hello")
    result = CliRunner().invoke(app, ["validate", str(folder), "--format", "json"])
    assert result.exit_code == 1
    document = __import__("json").loads(result.stdout)
    assert (document["inputs"]["surveys"]["rows"], document["inputs"]["surveys"]["used"]) == (2, 0)
    assert document["ignored_files"] == [{"file": "notes.txt", "reason": "not named after a table"}]


def test_a_record_longer_than_the_readers_limit_is_set_aside_with_its_own_row(tmp_path):
    # DuckDB's CSV reader stops at 2 MB per record; the error used to name line 1 of the file.
    text = HEADER + _nps_row(1) + _nps_row(2, comment="x" * 3_000_000) + _nps_row(3)
    report, rejected = _report(write_tables(tmp_path, {"surveys": text}))
    assert (report.rows, report.used) == (3, 2)
    assert [(r.row, r.reason.split(":")[0]) for r in rejected] == [
        (2, "the row is longer than the CSV reader's 2 MB limit")]


def test_reading_a_source_never_installs_an_engine_extension_from_the_network(tmp_path):
    from cxbench.core.sources import open_source

    dataset = open_source(write_tables(tmp_path, {"surveys": HEADER + _nps_row(1)}))
    setting = dataset.con.raw_sql("SELECT current_setting('autoinstall_known_extensions')").fetchone()[0]
    assert setting is False


# --- Found by the adversarial review of 2026-12-04 ------------------------------------------------------------


def test_a_json_key_that_first_appears_after_the_readers_sample_is_read(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    rows = [{"order_id": f"o{i}", "customer_id": "c1", "ts": "2026-01-01", "amount": 10} for i in range(20_500)]
    rows += [{"order_id": f"r{i}", "customer_id": "c1", "ts": "2026-01-02", "kind": "refund", "amount": -100}
             for i in range(10)]
    (folder / "orders.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    card = cxbench.compute(folder, metrics=["sales"], period="all")
    # 20,500 purchases of 10 = 205,000, then 10 refunds of -100 = -1,000: 204,000 (the refunds' kind is read).
    assert card.get("sales")[0].value == pytest.approx(204_000)


def test_json_records_with_many_rare_keys_keep_their_columns(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "orders.jsonl").write_text("".join(
        json.dumps({"order_id": f"o{i}", "customer_id": "c1", "ts": "2026-01-01", "amount": 10, f"p{i}": 1}) + "\n"
        for i in range(50)))
    assert cxbench.check(folder).reports["orders"].used == 50


def test_parquet_parts_in_partition_folders_and_with_upper_case_names_are_read(tmp_path):
    folder = tmp_path / "data" / "orders"
    (folder / "kind=refund").mkdir(parents=True)
    (folder / "kind=purchase").mkdir(parents=True)
    base = {"order_id": ["o1", "o2"], "customer_id": ["c1", "c2"], "ts": ["2026-01-01", "2026-01-02"]}
    pq.write_table(pa.table(base | {"amount": [100.0, 50.0]}), folder / "kind=purchase" / "a.parquet")
    pq.write_table(pa.table(base | {"order_id": ["o3", "o4"], "amount": [30.0, 20.0]}),
                   folder / "kind=purchase" / "B.PARQUET")
    pq.write_table(pa.table({"order_id": ["o9"], "customer_id": ["c1"], "ts": ["2026-01-03"], "amount": [-40.0]}),
                   folder / "kind=refund" / "part.parquet")
    (folder / "_SUCCESS").write_text("")
    (folder / "notes.txt").write_text("exported by hand")
    card = cxbench.compute(tmp_path / "data", metrics=["sales"], period="all")
    # 100 + 50 + 30 + 20 - 40 = 160: the refund's kind comes from its folder name.
    assert card.get("sales")[0].value == pytest.approx(160.0)
    assert card.to_dict()["ignored_files"] == [
        {"file": "orders/notes.txt", "reason": "not a .parquet file; a table folder holds Parquet parts"}]
    pq.write_table(pa.table(base | {"order_id": ["o5", "o6"], "amount": [1.0, 2.0]}), folder / "loose.parquet")
    with pytest.raises(InputError, match="sits in a partition folder but loose.parquet does not"):
        cxbench.check(tmp_path / "data")


def test_infinite_and_bc_timestamps_in_parquet_are_set_aside(tmp_path):
    import duckdb

    folder = tmp_path / "data"
    folder.mkdir()
    duckdb.sql("SELECT * FROM (VALUES ('o1', 'c1', TIMESTAMP '2026-01-01', 10.0), "
               "('o2', 'c1', TIMESTAMP 'infinity', 10.0), ('o3', 'c1', TIMESTAMP '0044-03-15 (BC)', 10.0)) "
               "AS t(order_id, customer_id, ts, amount)").write_parquet(str(folder / "orders.parquet"))
    validation = cxbench.check(folder)
    assert (validation.reports["orders"].used, [r.row for r in validation.rejected]) == (1, [2, 3])
    assert all("is not a date between the years 1 and 9999" in r.reason for r in validation.rejected)
    assert cxbench.compute(folder, metrics=["sales"], period="all").get("sales")[0].value == pytest.approx(10.0)


def test_a_database_without_any_contract_table_names_the_tables_it_has(tmp_path):
    import duckdb

    path = tmp_path / "shop.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE sales_orders AS SELECT 1 AS id")
    with pytest.raises(InputError, match=r"no table named after a contract table \(tables found: sales_orders\)"):
        cxbench.check(path)


def test_a_truncated_gzip_file_stops_with_its_name_instead_of_losing_its_end(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    text = "order_id,customer_id,ts,amount\n" + "".join(f"o{i},c1,2026-01-01,10\n" for i in range(30_000))
    whole = gzip.compress(text.encode())
    (folder / "orders.csv.gz").write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(InputError, match=r"orders.csv.gz: is truncated"):
        cxbench.check(folder)


def test_a_csv_mixing_line_endings_is_refused_with_the_cause_and_the_fix(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "orders.csv").write_bytes(b"order_id,customer_id,ts,amount\no1,c1,2026-01-01,10\no2,c1,2026-01-02,10\r\n")
    with pytest.raises(InputError, match=r"mixes line endings .* save the file again with one kind"):
        cxbench.check(folder)


def test_columns_that_differ_only_in_case_or_spaces_stop_with_both_named(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    pq.write_table(pa.table({"order_id": ["o1"], "customer_id": ["c1"], "ts": ["2026-01-01"], "amount ": [1.0],
                             "AMOUNT": [2.0]}), folder / "orders.parquet")
    with pytest.raises(InputError, match=r"orders.parquet: columns 'amount ' and 'AMOUNT' are one name"):
        cxbench.check(folder)


def test_a_parquet_column_named_like_the_readers_own_is_refused_with_the_fix(tmp_path):
    folder = tmp_path / "data" / "orders"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"order_id": ["o1"], "customer_id": ["c1"], "ts": ["2026-01-01"], "amount": [1.0],
                             "filename": ["export.csv"]}), folder / "part.parquet")
    with pytest.raises(InputError, match=r"column filename has the name the Parquet reader gives its own column"):
        cxbench.check(tmp_path / "data")


def test_a_typo_far_in_the_past_with_daily_periods_is_refused_instead_of_written_out(tmp_path):
    rows = [_nps_row(i) for i in range(50)] + ["r900,c900,0001-01-05T12:00:00Z,nps,9,typo\n"]
    folder = write_tables(tmp_path, {"surveys": HEADER + "".join(rows)})
    # From 0001-01-05 to 2026-10-05 is 739,889 days (Python: (date(2026,10,5) - date(1,1,5)).days), past 20,000.
    with pytest.raises(UsageError, match=r"--period day from 0001-01-05 to 2026-10-05 makes about 739,889 periods"):
        cxbench.compute(folder, metrics=["nps"], period="day")
    # By year it is 2,026 periods: computed, and the terminal scorecard shows the typo warning.
    from typer.testing import CliRunner

    from cxbench.cli import app

    result = CliRunner().invoke(app, ["run", str(folder), "--metric", "nps", "--period", "year"])
    assert result.exit_code == 0
    assert "warning: surveys: 1 row dated 1, 2025 years before the rest (from 2026)" in " ".join(result.stdout.split())


def test_a_tsv_file_is_split_on_tabs_even_when_its_header_holds_commas(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "orders.tsv").write_text("order_id\tcustomer_id\tts\tamount\tnote, with commas, here\n"
                                       "o1\tc1\t2026-01-01\t10\ta, b\n")
    card = cxbench.compute(folder, metrics=["sales"], period="all")
    assert card.get("sales")[0].value == pytest.approx(10.0)


def test_a_page_named_with_the_breakdown_key_separator_is_its_own_breakdown_value(tmp_path):
    # The engine joins a multi-column breakdown's values with U+241F into one text key and splits it again; a
    # one-column value that holds the character itself (a page "a␟b") must stay whole, not crash the split.
    # Pageviews in October: "a␟b" twice, "/" once → 3 overall, 2 for "a␟b", 1 for "/".
    events = ("user_id,ts,event,page\n"
              "u1,2026-10-05T10:00:00Z,pageview,a\u241fb\n"
              "u1,2026-10-05T10:01:00Z,pageview,a\u241fb\n"
              "u2,2026-10-06T10:00:00Z,pageview,/\n")
    card = cxbench.compute(write_tables(tmp_path, {"events": events}), period="all", metrics=["pageviews"])
    assert [r["value"] for r in card.get("pageviews", dimension=None)] == [3]
    assert [r["value"] for r in card.get("pageviews", dimension={"page": "a\u241fb"})] == [2]
    assert [r["value"] for r in card.get("pageviews", dimension={"page": "/"})] == [1]


def test_nan_and_infinite_scores_in_parquet_are_set_aside_with_one_spelling_on_every_engine(tmp_path, backend):
    folder = tmp_path / "data"
    folder.mkdir()
    pq.write_table(pa.table({
        "response_id": ["r1", "r2", "r3", "r4"], "respondent_id": ["c1", "c2", "c3", "c4"],
        "ts": ["2026-10-01T10:00:00Z"] * 4, "survey": ["nps"] * 4,
        "score": [9.0, float("nan"), float("inf"), float("-inf")],
    }), folder / "surveys.parquet")
    validation = cxbench.check(folder, engine=backend)
    # DuckDB wrote 'nan' and 'inf', Spark 'NaN' and 'Infinity': both now read as Python and JSON spell them.
    assert [(r.row, r.reason) for r in validation.rejected] == [
        (2, "score 'NaN' is not a finite number"), (3, "score 'Infinity' is not a finite number"),
        (4, "score '-Infinity' is not a finite number")]
