"""Sources: CSV, Parquet (file and folder), JSON Lines, a DuckDB file and an Ibis connection give the same numbers."""

from __future__ import annotations

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
