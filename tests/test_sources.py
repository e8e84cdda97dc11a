"""Sources: CSV, Parquet (file and folder), JSON Lines, a DuckDB file and an Ibis connection give the same numbers."""

from __future__ import annotations

from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import cxbench
from conftest import pick

# 3 promoters, 1 passive, 1 detractor: NPS = (3 − 1)/5 × 100 = 40.
ROWS = [
    {"response_id": f"r{i}", "respondent_id": f"c{i}", "ts": f"2026-10-0{i + 1}T08:00:00Z", "survey": "nps", "score": s}
    for i, s in enumerate([9, 10, 9, 7, 3])
]


def _arrow() -> pa.Table:
    table = pa.Table.from_pylist(ROWS)
    ts = pa.array([r["ts"] for r in ROWS]).cast(pa.timestamp("us", tz="UTC"))
    return table.set_column(table.schema.get_field_index("ts"), "ts", ts).set_column(
        table.schema.get_field_index("score"), "score", pa.array([float(r["score"]) for r in ROWS]))


def _nps(source) -> float:
    return pick(cxbench.compute(source, period="all", metrics=["nps"]), "nps")["value"]


def test_parquet_file_with_typed_columns(tmp_path):
    pq.write_table(_arrow(), tmp_path / "surveys.parquet")
    assert _nps(tmp_path) == pytest.approx(40.0)


def test_folder_of_parquet_files_reports_the_file_of_a_rejected_row(tmp_path):
    folder = tmp_path / "surveys"
    folder.mkdir()
    table = _arrow()
    pq.write_table(table.slice(0, 3), folder / "part-0.parquet")
    bad = table.slice(3, 2).set_column(4, "score", pa.array([7.0, 13.0]))
    pq.write_table(bad, folder / "part-1.parquet")
    card = cxbench.compute(tmp_path, period="all", metrics=["nps"])
    (rejected,) = card.to_dict()["rejected"]
    assert rejected["row"] == 2 and rejected["file"].endswith("part-1.parquet")
    assert rejected["reason"] == "nps score 13 is outside 0-10"
    assert pick(card, "nps")["value"] == pytest.approx(75.0)  # 3 promoters, 1 passive of 4


def test_json_lines_file(tmp_path):
    import json

    (tmp_path / "surveys.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    assert _nps(tmp_path) == pytest.approx(40.0)


def test_duckdb_database_file_and_open_connection(tmp_path):
    path = tmp_path / "company.duckdb"
    con = duckdb.connect(str(path))
    con.register("arrow_rows", _arrow())
    con.execute("CREATE TABLE surveys AS SELECT * FROM arrow_rows")
    con.close()
    assert _nps(path) == pytest.approx(40.0)
    assert _nps(ibis.duckdb.connect(str(path), read_only=True)) == pytest.approx(40.0)


def test_column_names_are_matched_case_insensitively(tmp_path):
    (tmp_path / "surveys.csv").write_text(
        "Response_ID,Respondent_ID,TS,Survey,Score\n" + "".join(
            f"{r['response_id']},{r['respondent_id']},{r['ts']},{r['survey']},{r['score']}\n" for r in ROWS))
    assert _nps(tmp_path) == pytest.approx(40.0)


def test_folder_of_parquet_files_numbers_rows_per_file_on_both_engines(tmp_path, backend):
    folder = tmp_path / "surveys"
    folder.mkdir()
    table = _arrow()
    pq.write_table(table.slice(0, 3), folder / "part-0.parquet")
    pq.write_table(table.slice(3, 2).set_column(4, "score", pa.array([7.0, 13.0])), folder / "part-1.parquet")
    card = cxbench.compute(tmp_path, engine=backend, period="all", metrics=["nps"])
    (rejected,) = card.to_dict()["rejected"]
    assert rejected["row"] == 2 and rejected["file"].endswith("part-1.parquet")


def test_parquet_rows_are_validated_in_place_with_bad_rows_and_later_duplicates_left_out(tmp_path):
    from cxbench.core.sources import open_source
    from cxbench.core.validation import validate

    table = _arrow()
    # Row 6 repeats r0's id (a later duplicate: r0 is used, row 6 set aside); row 7 has a score of 13.
    extra = pa.Table.from_pylist([{**ROWS[0], "score": 0.0}, {**ROWS[1], "response_id": "r9", "score": 13.0}])
    extra = extra.set_column(2, "ts", extra.column("ts").cast(pa.timestamp("us", tz="UTC")))
    pq.write_table(pa.concat_tables([table, extra.cast(table.schema)]), tmp_path / "surveys.parquet")
    dataset = open_source(tmp_path)
    validation = validate(dataset)
    report = validation.reports["surveys"]
    assert (report.rows, report.used, report.rejected) == (7, 5, 2)
    assert [(r.row, r.reason) for r in validation.rejected] == [
        (6, "duplicate response_id 'r0': counted once"), (7, "nps score 13 is outside 0-10")]
    # The used rows are a view that reads the file at each query, not a cached copy of the table.
    import ibis.expr.operations as ops

    (table,) = validation.tables["surveys"].expr.op().find(ops.DatabaseTable)
    (kind, sql), = dataset.con.raw_sql(
        f"SELECT 'view', sql FROM duckdb_views() WHERE view_name = '{table.name}' "
        f"UNION ALL SELECT 'table', sql FROM duckdb_tables() WHERE table_name = '{table.name}'").fetchall()
    assert kind == "view" and "read_parquet" in sql.lower()
    # The original five answers: NPS 40 as in ROWS (3 promoters, 1 passive, 1 detractor).
    assert _nps(tmp_path) == pytest.approx(40.0)


def test_validation_of_unchanged_parquet_files_is_reused_and_a_changed_file_is_validated_again(tmp_path, monkeypatch):
    from cxbench.core import validation as validation_module
    from cxbench.core.sources import open_source
    from cxbench.core.validation import validate

    monkeypatch.setenv("CXBENCH_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    bad = _arrow().set_column(4, "score", pa.array([9.0, 10.0, 9.0, 7.0, 13.0]))  # row 5: 13 is outside 0-10
    pq.write_table(bad, data / "surveys.parquet")
    first = validate(open_source(data))
    assert (first.reports["surveys"].used, [r.row for r in first.rejected]) == (4, [5])

    calls = []
    real_check = validation_module.check_table
    monkeypatch.setattr(validation_module, "check_table",
                        lambda *a, **k: calls.append(k.get("with_reason", True)) or real_check(*a, **k))
    again = validate(open_source(data))
    # Only the typed view is built again (with_reason=False); the rows are not checked a second time.
    assert calls == [False]
    assert (again.reports["surveys"].used, [(r.row, r.reason) for r in again.rejected]) == (
        4, [(5, "nps score 13 is outside 0-10")])
    # 3 promoters, 1 passive, no detractor of 4 → (3 − 0) / 4 × 100 = 75, from the reused set-aside rows.
    card = cxbench.compute(data, period="all", metrics=["nps"])
    assert pick(card, "nps")["value"] == pytest.approx(75.0)

    pq.write_table(_arrow(), data / "surveys.parquet")  # fixed: the same size class, a new file version
    calls.clear()
    fixed = validate(open_source(data))
    assert True in calls and fixed.reports["surveys"].rejected == 0
    assert _nps(data) == pytest.approx(40.0)


def test_the_early_date_warning_of_an_unchanged_parquet_file_comes_from_the_validation_cache(tmp_path, monkeypatch):
    from cxbench.core import validation as validation_module
    from cxbench.core.sources import open_source
    from cxbench.core.validation import validate

    monkeypatch.setenv("CXBENCH_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    # 200 answers in 2026 and one typed 1900: 1 row ≤ 1 % of 201, 2026 − 1900 = 126 years before the rest.
    rows = [{"response_id": f"r{i}", "respondent_id": f"c{i}", "ts": "2026-03-01T12:00:00Z", "survey": "nps",
             "score": 9.0} for i in range(200)]
    rows.append({**rows[0], "response_id": "typo", "ts": "1900-03-01T12:00:00Z"})
    table = pa.Table.from_pylist(rows)
    table = table.set_column(2, "ts", pa.array([r["ts"] for r in rows]).cast(pa.timestamp("us", tz="UTC")))
    pq.write_table(table, data / "surveys.parquet")
    expected = ("1 row dated 1900, 126 years before the rest (from 2026): check ts for typos; the periods start at "
                "the earliest date",)
    assert validate(open_source(data)).reports["surveys"].warnings == expected

    def scan(*args: object, **kwargs: object) -> tuple[str, ...]:
        raise AssertionError("the table was scanned for early dates again")

    monkeypatch.setattr(validation_module, "_early_outliers", scan)
    assert validate(open_source(data)).reports["surveys"].warnings == expected


def test_the_facts_of_unchanged_parquet_files_come_from_the_validation_cache_but_not_for_a_localized_table(
        tmp_path, monkeypatch):
    from cxbench.core import facts as facts_module

    monkeypatch.setenv("CXBENCH_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    # By hand: visitor a has pageviews on 30 September 23:30 UTC and 1 October 10:00 UTC (session s1), visitor b
    # one on 1 October (s2): no session id missing. Sessions per month by their first event: September 1, October 1
    # in UTC; in Europe/Warsaw (UTC+2) a's session starts on 1 October 01:30, so September has none and October 2.
    rows = [{"user_id": "a", "ts": "2026-09-30T23:30:00", "event": "pageview", "session_id": "s1"},
            {"user_id": "a", "ts": "2026-10-01T10:00:00", "event": "pageview", "session_id": "s1"},
            {"user_id": "b", "ts": "2026-10-01T12:00:00", "event": "pageview", "session_id": "s2"}]
    table = pa.Table.from_pylist(rows)
    table = table.set_column(1, "ts", pa.array([r["ts"] for r in rows]).cast(pa.timestamp("us")))
    pq.write_table(table, data / "events.parquet")

    def sessions(**options: object) -> dict[str, float]:
        card = cxbench.compute(data, period="month", metrics=["sessions"], as_of="2026-12-01", **options)
        return {r["period_start"]: r["value"] for r in card.get("sessions")}

    assert sessions() == {"2026-09-01": 1.0, "2026-10-01": 1.0}
    asked = []
    real_to_arrow = facts_module.to_arrow
    monkeypatch.setattr(facts_module, "to_arrow", lambda *a: asked.append(1) or real_to_arrow(*a))
    # The same files again: the events' days, whether a session id is missing and the events that occur are kept.
    assert sessions() == {"2026-09-01": 1.0, "2026-10-01": 1.0} and asked == []
    # Localized, the table is another one: its facts are asked (its days differ), and none is taken from UTC's.
    assert sessions(timezone="Europe/Warsaw") == {"2026-10-01": 2.0} and len(asked) >= 2


def test_a_parquet_table_whose_statistics_span_a_few_years_is_not_scanned_for_early_dates(tmp_path, monkeypatch):
    # The footers' min and max of ts (2025 and 2026) leave no room for a gap of more than five years: no scan.
    # Written as text, ts has no such statistics, and the table is scanned.
    from cxbench.core import validation as validation_module
    from cxbench.core.sources import open_source
    from cxbench.core.validation import validate

    monkeypatch.setenv("CXBENCH_CACHE_DIR", "off")
    scanned: list[str] = []
    original = validation_module._early_outliers
    monkeypatch.setattr(validation_module, "_early_outliers",
                        lambda dataset, spec, used: scanned.append(spec.name) or original(dataset, spec, used))
    table = _arrow()
    ts = pa.array(["2025-01-01T00:00:00Z", "2026-12-01T00:00:00Z", *[r["ts"] for r in ROWS[2:]]])
    pq.write_table(table.set_column(2, "ts", ts.cast(pa.timestamp("us", tz="UTC"))), tmp_path / "surveys.parquet")
    assert validation_module._parquet_year_span(open_source(tmp_path).tables["surveys"], "ts") == (2025, 2026)
    assert validate(open_source(tmp_path)).reports["surveys"].warnings == () and scanned == []
    pq.write_table(table.set_column(2, "ts", ts), tmp_path / "surveys.parquet")
    assert validation_module._parquet_year_span(open_source(tmp_path).tables["surveys"], "ts") is None
    assert validate(open_source(tmp_path)).reports["surveys"].warnings == () and scanned == ["surveys"]


def test_a_column_both_in_the_files_and_in_their_partition_folders_stops_with_the_part_and_column_named(tmp_path):
    # A part in `ts=1990-05-01/` whose file also holds ts: DuckDB would read ts from the folder name (1990), not
    # from the file (2026), and the footers' statistics would then describe values that are not read.
    from cxbench.core.errors import InputError
    from cxbench.core.sources import open_source

    for day, rows in (("2026-10-01", slice(0, 4)), ("1990-05-01", slice(4, 5))):
        (tmp_path / "surveys" / f"ts={day}").mkdir(parents=True)
        pq.write_table(_arrow().slice(rows.start, rows.stop - rows.start),
                       tmp_path / "surveys" / f"ts={day}" / "part-0.parquet")
    with pytest.raises(InputError) as error:
        open_source(tmp_path)
    assert error.value.column == "ts" and "/ts=" in (error.value.file or "")
    assert "also named by its partition folder" in str(error.value) and "leave the column out of the files" in str(
        error.value)
    # The usual layout, the key only in the folder names, is read: ts comes from the folders.
    for day in ("2026-10-01", "1990-05-01"):
        part = tmp_path / "surveys" / f"ts={day}" / "part-0.parquet"
        pq.write_table(pq.read_table(part).drop(["ts"]), part)
    raw = open_source(tmp_path).tables["surveys"]
    assert sorted({str(d)[:4] for d in raw.expr.execute()["ts"]}) == ["1990", "2026"]


def test_validating_the_same_parquet_again_on_a_callers_connection_adds_no_view_or_table(tmp_path, monkeypatch):
    # A caller's own DuckDB connection lives across runs: each validation of the same files must replace its
    # temporary view and its table of rows set aside, not add new ones (with and without the validation cache).
    from cxbench.core.sources import open_source
    from cxbench.core.validation import validate

    data = tmp_path / "data"
    data.mkdir()
    pq.write_table(_arrow().set_column(4, "score", pa.array([9.0, 10.0, 9.0, 7.0, 13.0])), data / "surveys.parquet")

    for cache in ("off", str(tmp_path / "cache")):
        monkeypatch.setenv("CXBENCH_CACHE_DIR", cache)
        con = ibis.duckdb.connect()

        def temporary(con: Any = con) -> list[tuple[str, str]]:
            return con.raw_sql(
                "SELECT 'view', view_name FROM duckdb_views() WHERE view_name LIKE 'cxbench_%' UNION ALL "
                "SELECT 'table', table_name FROM duckdb_tables() WHERE table_name LIKE 'cxbench_%' "
                "ORDER BY 1, 2").fetchall()

        runs = [validate(open_source(data, engine=con))]  # with the cache on, this one fills it
        runs.append(validate(open_source(data, engine=con)))
        before = temporary()
        runs.append(validate(open_source(data, engine=con)))
        assert temporary() == before and [kind for kind, _ in before].count("view") <= 2, (cache, before)
        # Every validation still reads right: 4 answers used (row 5 scores 13 and is set aside).
        for validation in runs:
            assert validation.reports["surveys"].used == 4
            assert int(con.execute(validation.tables["surveys"].expr.count())) == 4


def test_a_database_view_with_unstable_row_order_keeps_its_bad_rows_out():
    # A GROUP BY view numbers its rows differently in each query, so its rows are read once, not in place:
    # 400 of 400,000 answers score 99 (outside 0-10) and none of them may reach a metric.
    from cxbench.core.sources import open_source
    from cxbench.core.validation import validate

    con = ibis.duckdb.connect(threads=2)
    con.raw_sql("""CREATE TABLE raw AS SELECT 'r' || i AS response_id, 'c' || (i % 1000) AS respondent_id,
                   TIMESTAMP '2026-01-01' + to_seconds(i % 86400) AS ts, 'nps' AS survey,
                   CASE WHEN i % 1000 = 0 THEN 99 ELSE i % 11 END AS score FROM range(400000) t(i)""")
    con.raw_sql("""CREATE VIEW surveys AS SELECT response_id, any_value(respondent_id) AS respondent_id,
                   any_value(ts) AS ts, any_value(survey) AS survey, any_value(score) AS score
                   FROM raw GROUP BY response_id""")
    validation = validate(open_source(con))
    assert (validation.reports["surveys"].used, validation.reports["surveys"].rejected) == (399_600, 400)
    used = validation.tables["surveys"].expr
    for _ in range(3):
        assert con.execute(used.filter(used.score > 10).count()) == 0
        assert con.execute(used.count()) == 399_600


def test_the_validation_cache_is_not_fooled_by_another_spelling_of_the_same_path(tmp_path, monkeypatch):
    from cxbench.core.sources import open_source
    from cxbench.core.validation import validate

    monkeypatch.setenv("CXBENCH_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    pq.write_table(_arrow().set_column(4, "score", pa.array([9.0, 10.0, 9.0, 7.0, 13.0])), data / "surveys.parquet")
    monkeypatch.chdir(tmp_path)
    for spelling in ("data", str(data), "./data"):  # relative, absolute, and relative again: a cached entry each
        validation = validate(open_source(spelling))
        used = validation.tables["surveys"].expr
        assert validation.reports["surveys"].rejected == 1
        assert validation.tables["surveys"].expr.filter(used.score > 10).count().execute() == 0
        # 3 promoters, 1 passive of 4: (3 − 0) / 4 × 100 = 75.
        assert pick(cxbench.compute(spelling, period="all", metrics=["nps"]), "nps")["value"] == pytest.approx(75.0)


def test_ids_whose_hashes_collide_are_counted_exactly(tmp_path, monkeypatch):
    # On DuckDB a sorted-hash pass rules out repeated ids; when two hashes match (a repeat, or a collision of
    # two different ids) the exact distinct count decides.
    from cxbench.core import validation as v
    from cxbench.core.contract import table_spec
    from cxbench.core.sources import open_source

    pq.write_table(_arrow(), tmp_path / "surveys.parquet")
    dataset = open_source(tmp_path)
    raw, spec = dataset.tables["surveys"], table_spec("surveys")
    assert v._has_duplicate_keys(dataset, spec, raw) is False
    monkeypatch.setattr(v, "_hashes_repeat", lambda con, keys: True)  # as if two of the five ids collided
    assert v._has_duplicate_keys(dataset, spec, raw) is False
    pq.write_table(pa.concat_tables([_arrow(), _arrow().slice(0, 1)]), tmp_path / "surveys.parquet")  # r0 twice
    dataset = open_source(tmp_path)
    assert v._has_duplicate_keys(dataset, spec, dataset.tables["surveys"]) is True


def test_null_ids_are_no_repeats_but_a_repeated_id_is_found_among_them():
    from cxbench.core.validation import _hashes_repeat

    con = ibis.duckdb.connect()
    for ids, repeats in (([None, None, "a", "b"], False), ([None, "a", None, "a"], True), (["b", "a"], False)):
        keys = ibis.memtable({"_k": pa.array(ids, pa.string())})
        assert _hashes_repeat(con, keys) is repeats, ids


def test_query_results_read_without_pandas_have_the_types_and_values_ibis_gives():
    import datetime as dt

    import ibis

    from cxbench.core.arrow import to_arrow, to_scalar

    con = ibis.duckdb.connect()
    t = ibis.memtable({"n": [1, 2, None], "x": [0.5, None, 2.0], "s": ["a", None, "é"],
                       "d": [dt.date(2026, 3, 29), None, dt.date(2026, 10, 25)],
                       "ts": [dt.datetime(2026, 3, 29, 1, 30), None, dt.datetime(2026, 10, 25, 2, 59, 59, 999999)]})
    # A sum of integers is HUGEINT in DuckDB (Arrow decimal128), an untyped null INTEGER: both typed as Ibis types them.
    expr = t.select(t.n, t.x, t.s, t.d, t.ts, total=t.n.sum().over(), none=ibis.null(), flag=t.n > 1,
                    when=t.ts.cast("timestamp('UTC')"))
    ours, ibis_own = to_arrow(con, expr), con.to_pyarrow(expr)
    assert ours.schema == ibis_own.schema and ours.equals(ibis_own)
    assert ours.column("total").to_pylist() == [3, 3, 3] and ours.column("none").null_count == 3
    assert to_scalar(con, t.n.sum()) == 3 and to_scalar(con, t.s.max()) == "é"


def test_a_parquet_file_with_a_column_arrow_cannot_convert_to_its_ibis_type_is_still_read(tmp_path):
    # DuckDB gives an INTERVAL as Arrow month_day_nano_interval, which Arrow cannot cast to the duration Ibis types it;
    # the one-row check that a file can be read must not refuse the file for a column no metric reads.
    pq.write_table(_arrow(), tmp_path / "answers.parquet")
    duckdb.connect().execute(f"COPY (SELECT *, INTERVAL 3 MINUTE AS time_to_answer FROM '{tmp_path / 'answers.parquet'}') "
                             f"TO '{tmp_path / 'surveys.parquet'}'")
    (tmp_path / "answers.parquet").unlink()
    assert _nps(tmp_path) == pytest.approx(40.0)  # the same 3 promoters and 1 detractor of 5 as the plain file


@pytest.mark.parametrize("name, text", [("surveys.csv", "response_id,score\nr1,9\n"),
                                        ("surveys.jsonl", '{"response_id": "r1", "score": 9}\n')])
def test_a_wrong_memory_limit_variable_is_named_not_blamed_on_the_file_spark_reads(tmp_path, monkeypatch, name, text):
    # Before Spark reads a CSV or JSON Lines file, a DuckDB of cxbench's parses it under $CXBENCH_MEMORY_LIMIT: a
    # wrong amount there is the variable's fault ("could not be read as CSV ... Fix the file" sent users to the file).
    from types import SimpleNamespace

    from cxbench.core.errors import UsageError
    from cxbench.core.sources import _read_file, _TableFile

    monkeypatch.setenv("CXBENCH_MEMORY_LIMIT", "lots")
    (tmp_path / name).write_text(text)
    spark = SimpleNamespace(name="pyspark")  # never reached: the DuckDB that pre-parses comes first
    with pytest.raises(UsageError, match=r"^\$CXBENCH_MEMORY_LIMIT 'lots': write an amount"):
        _read_file(spark, "surveys", _TableFile(tmp_path / name, name.split(".")[1]))


def test_the_duckdb_that_pre_parses_for_spark_running_out_of_memory_advises_the_variable_not_the_option(
        tmp_path, monkeypatch):
    # 16 MB is under the 30.5 MiB block DuckDB's CSV reader needs. With Spark, --memory-limit is a usage error
    # (Spark's memory is spark-defaults.conf's): the advice is $CXBENCH_MEMORY_LIMIT, the one setting that helps.
    from types import SimpleNamespace

    from cxbench.core.errors import UsageError
    from cxbench.core.sources import _read_file, _TableFile

    monkeypatch.setenv("CXBENCH_MEMORY_LIMIT", "16MB")
    (tmp_path / "surveys.csv").write_text("response_id,score\nr1,9\n")
    with pytest.raises(UsageError, match="DuckDB ran out of memory reading it") as raised:
        _read_file(SimpleNamespace(name="pyspark"), "surveys", _TableFile(tmp_path / "surveys.csv", "csv"))
    assert "$CXBENCH_MEMORY_LIMIT" in str(raised.value) and "--memory-limit" not in str(raised.value)
