"""Survey-tool adapters: Typeform's responses CSV and Delighted's survey responses (tests/data/adapters/typeform
and delighted, each README citing the format). NPS is worked by hand: (promoters − detractors) ÷ answers × 100,
promoters answering 9-10 and detractors 0-6 (Reichheld 2003, "The One Number You Need to Grow")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import cxbench
from cxbench.adapters import open_export
from cxbench.core.validation import validate

DATA = Path(__file__).parent / "data" / "adapters"


def _overall(card) -> dict[str, tuple[float | None, int]]:
    return {r["id"]: (r["value"], r["n"]) for r in card.records if not r.to_dict().get("dimension")}


def test_typeform_nps_from_the_recommend_question_with_the_hidden_customer_id():
    folder = DATA / "typeform"
    dataset = open_export(folder, from_format="typeform")
    result = validate(dataset, as_of=dt.date(2026, 10, 30))
    rows = dataset.con.to_pyarrow(result.tables["surveys"].expr.order_by("_row")).to_pylist()
    # The hidden field customer_id names the respondent; the fifth response has none: its token does.
    assert [r["respondent_id"] for r in rows] == ["cus_1", "cus_2", "cus_3", "cus_4",
                                                  "m1n2b3v4c5x6z7l8m1n2b3v4c5x6z7l8"]
    assert rows[0]["ts"] == dt.datetime(2026, 10, 1, 9, 0, 5)  # Submit Date (UTC)
    # The sixth was never submitted.
    assert [(r.row, r.reason) for r in result.rejected] == [(6, "not submitted: a partial response")]
    card = cxbench.compute(folder, from_format="typeform", metrics=["nps"], period="all", as_of="2026-10-30")
    # Answers 10, 9, 7, 3, 9: promoters 3 (10, 9, 9), detractors 1 (3): (3 - 1) / 5 x 100 = 40.
    assert _overall(card) == {"nps": (pytest.approx(40.0), 5)}


def test_delighted_nps_and_csat_from_the_api_list_with_other_types_set_aside():
    folder = DATA / "delighted"
    card = cxbench.compute(folder, from_format="delighted", metrics=["nps", "csat"], period="all",
                           as_of="2026-10-30")
    # NPS answers 10, 9, 0, 7, 8: promoters 2, detractors 1 (0): (2 - 1) / 5 x 100 = 20. CSAT: one answer, 4 on
    # 1-5, satisfied (4 or 5): 100 %.
    assert _overall(card) == {"nps": (pytest.approx(20.0), 5), "csat": (pytest.approx(100.0), 1)}
    assert [(r.row, r.reason) for r in card.validation.rejected] == [
        (7, "survey_type smileys is not read (nps, enps and csat are): use --mapping")]
    dataset = open_export(folder, from_format="delighted")
    rows = dataset.con.to_pyarrow(dataset.tables["surveys"].expr.order_by("_row")).to_pylist()
    # person_properties' Customer ID names the respondent; person 12 has none. created_at 1790845200 =
    # 2026-10-01 09:00:00 UTC.
    assert [r["respondent_id"] for r in rows[:3]] == ["cus_1", "cus_2", "12"]
    assert rows[0]["ts"] == dt.datetime(2026, 10, 1, 9)


def test_delighted_csv_properties_as_json_text_mixed_json_types_and_an_empty_list(tmp_path):
    # A loader's CSV keeps person_properties as JSON text: its Customer ID still names the respondent (it fell back
    # to the person id, which no other table knows).
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "survey_responses.csv").write_text(
        'id,person,survey_type,score,created_at,person_properties\n1,10,nps,10,1790845200,"{""Customer ID"": '
        '""cus_1""}"\n2,11,nps,6,1790845200,{}\n', encoding="utf-8")
    # Records disagreeing on a field's type ("1" and 3, 1790845200 and ISO text) are read by DuckDB as JSON: the
    # id was '"1"' with its quotes, and the ISO time was not read at all.
    (tmp_path / "mixed").mkdir()
    (tmp_path / "mixed" / "survey_responses.json").write_text(
        '[{"id": "1", "person": "10", "score": 9, "created_at": 1790845200},'
        ' {"id": 3, "person": 12, "score": "7", "created_at": "2026-10-01T10:00:00Z"}]', encoding="utf-8")
    # No responses yet: `[]` is an empty table, not a file "missing column id".
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "survey_responses.json").write_text("[]", encoding="utf-8")
    got = {}
    for name in ("csv", "mixed", "empty"):
        dataset = open_export(tmp_path / name, from_format="delighted")
        rows = dataset.con.to_pyarrow(dataset.tables["surveys"].expr.order_by("_row")).to_pylist()
        got[name] = [(r["response_id"], r["respondent_id"], r["ts"], r["score"]) for r in rows]
    # 1790845200 s = 2026-10-01 09:00:00 UTC.
    assert got == {
        "csv": [("1", "cus_1", dt.datetime(2026, 10, 1, 9), 10.0), ("2", "11", dt.datetime(2026, 10, 1, 9), 6.0)],
        "mixed": [("1", "10", dt.datetime(2026, 10, 1, 9), 9.0), ("3", "12", dt.datetime(2026, 10, 1, 10), 7.0)],
        "empty": []}


def test_typeform_answer_that_is_not_a_number_is_named_not_called_missing(tmp_path):
    (tmp_path / "r.csv").write_text(
        '#,"How likely are you to recommend Acme?",customer_id,Submit Date (UTC)\n'
        "t1,N/A,cus_1,2026-10-01 09:00:05\nt2,,cus_2,2026-10-01 09:00:05\nt3,9,cus_3,2026-10-01 09:00:05\n",
        encoding="utf-8")
    # Another CSV left in the folder is read too (every *.csv): its rows have no token, and were called partial.
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = validate(open_export(tmp_path, from_format="typeform"), as_of=dt.date(2026, 10, 30))
    assert sorted((Path(r.file).name, r.row, r.reason) for r in result.rejected) == [
        ("notes.csv", 1, "no response token (#): not a row of a Typeform download (another CSV in the folder?)"),
        ("r.csv", 1, "the answer 'N/A' is not a number"), ("r.csv", 2, "missing score for a nps answer")]
