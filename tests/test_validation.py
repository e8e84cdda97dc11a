"""Validation: bad rows are set aside with table, row and reason; counts always add up."""

from __future__ import annotations

import pytest

import cxbench
from conftest import answers, pick, write_tables
from cxbench.core.errors import InputError

BAD_SURVEYS = """
response_id,respondent_id,ts,survey,score,scale_min,scale_max,item,answer
r1,c1,2026-10-01T10:00:00Z,nps,9,,,,
r2,c2,2026-10-01T10:00:00Z,nps,11,,,,
r3,c3,yesterday,nps,5,,,,
r1,c4,2026-10-02T10:00:00Z,nps,3,,,,
r5,c5,2026-10-02T10:00:00Z,csat,0,1,5,,
r6,c6,2026-10-02T10:00:00Z,cxi,3,,,mood,
r7,c7,2026-10-02T10:00:00Z,task_completion,,,,,maybe
r8,c8,2026-10-02T10:00:00Z,poll,3,,,,
r9,c9,2026-10-02T10:00:00Z,nps,7,2,10,,
r10,c10,2026-10-02T10:00:00Z,nps,nan,,,,
r11,,2026-10-02T10:00:00Z,ces,3,,,,
r12,c12,2026-10-02T10:00:00Z,nps,,,,,
r13,c13,2026-10-02T10:00:00+02:00,NPS,10,,,,
"""

EXPECTED_REASONS = {
    2: "nps score 11 is outside 0-10",
    3: "ts 'yesterday' is not an ISO 8601 timestamp (e.g. 2026-10-01T12:00:00Z)",
    4: "duplicate response_id 'r1': counted once",
    5: "csat score 0 is outside 1-5",
    6: "cxi answer needs item effort, empathy, understanding or efficiency, not mood",
    7: "task_completion answer 'maybe' is not yes or no",
    8: "survey 'poll' is not one of: nps, csat, css, ces, cxi, enps, esat, intent, task_completion",
    9: "nps answers use a 0-10 or 1-10 scale, not 2-10",
    10: "score 'nan' is not a finite number",
    11: "missing respondent_id",
    12: "missing score for a nps answer",
}


def test_bad_survey_rows_are_set_aside_with_row_number_and_reason(tmp_path, backend):
    folder = write_tables(tmp_path, {"surveys": BAD_SURVEYS})
    card = cxbench.compute(folder, engine=backend, period="all", metrics=["nps"])
    doc = card.to_dict()
    assert doc["inputs"]["surveys"]["rows"] == 13
    assert doc["inputs"]["surveys"]["rejected"] == len(EXPECTED_REASONS)
    assert doc["inputs"]["surveys"]["used"] == 13 - len(EXPECTED_REASONS)
    assert {r["row"]: r["reason"] for r in doc["rejected"]} == EXPECTED_REASONS
    assert all(r["table"] == "surveys" for r in doc["rejected"])
    # The two good NPS rows (9, and 10 with an offset, case-insensitive survey name): 2 promoters → 100.
    record = pick(card, "nps")
    assert (record["value"], record["n"]) == (100.0, 2)


def test_rejected_list_is_capped_but_counts_are_not(tmp_path):
    rows = answers("nps", {12: 40}) + answers("nps", {9: 5}, start=100)
    folder = write_tables(tmp_path, {"surveys": rows})
    card = cxbench.compute(folder, period="all", metrics=["nps"], rejected_cap=10)
    doc = card.to_dict()
    assert doc["inputs"]["surveys"] == {"rows": 45, "used": 5, "rejected": 40, "file": str(folder / "surveys.csv")}
    assert len(doc["rejected"]) == 10


def test_negative_order_amount_is_only_accepted_for_refunds(tmp_path):
    orders = """
order_id,customer_id,ts,amount,kind
o1,c1,2026-10-01T00:00:00Z,-5,purchase
o2,c1,2026-10-01T00:00:00Z,-5,refund
o3,c1,2026-10-01T00:00:00Z,12.5,
o4,c1,2026-10-01T00:00:00Z,12.5,gift
"""
    validation = cxbench.check(write_tables(tmp_path, {"orders": orders}))
    assert validation.reports["orders"].rows == 4 and validation.reports["orders"].used == 2
    assert [r.reason for r in validation.rejected] == [
        "amount -5 is negative but kind is purchase; a negative amount must be kind refund",
        "kind 'gift' is not one of: purchase, recurring, upsell, cross_sell, addon, refund",
    ]


def test_end_before_start_and_out_of_range_values_are_set_aside(tmp_path):
    tickets = """
ticket_id,customer_id,channel,opened_at,resolved_at,contacts
t1,c1,email,2026-10-02T10:00:00Z,2026-10-01T10:00:00Z,1
t2,c1,email,2026-10-02T10:00:00Z,2026-10-03T10:00:00Z,0
t3,c1,chat,2026-10-02T10:00:00Z,,2
"""
    validation = cxbench.check(write_tables(tmp_path, {"tickets": tickets}))
    assert [(r.row, r.reason) for r in validation.rejected] == [
        (1, "resolved_at 2026-10-01T10:00:00Z is before opened_at 2026-10-02T10:00:00Z"),
        (2, "contacts 0 is below the minimum 1"),
    ]


def test_missing_required_column_stops_with_file_column_and_fix(tmp_path):
    folder = write_tables(tmp_path, {"surveys": "response_id,respondent_id,survey,score\nr1,c1,nps,9\n"})
    with pytest.raises(InputError) as info:
        cxbench.compute(folder)
    message = str(info.value)
    assert str(folder / "surveys.csv") in message
    assert "required column ts is missing" in message
    assert "Add a ts column" in message
    assert info.value.column == "ts"


def test_header_only_table_has_zero_rows_and_metrics_say_why(tmp_path, backend):
    folder = write_tables(tmp_path, {"surveys": "response_id,respondent_id,ts,survey,score\n"})
    card = cxbench.compute(folder, engine=backend, metrics=["nps"])
    assert card.to_dict()["inputs"]["surveys"]["rows"] == 0
    (record,) = card.records
    assert record["status"] == "unavailable" and record["value"] is None and record["reason"]


def test_empty_file_is_an_empty_table_with_a_note(tmp_path):
    (tmp_path / "surveys.csv").write_text("")
    card = cxbench.compute(tmp_path, metrics=["csat"])
    assert card.to_dict()["inputs"]["surveys"]["rows"] == 0
    assert card.to_dict()["inputs"]["surveys"]["note"] == "the file is empty"
    assert all(r["status"] == "unavailable" for r in card.records)


def test_binary_file_named_csv_stops_with_a_clear_message(tmp_path):
    (tmp_path / "surveys.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(InputError, match=r"surveys\.csv: is not a CSV text file"):
        cxbench.compute(tmp_path)


def test_same_table_given_twice_is_refused(tmp_path):
    write_tables(tmp_path, {"surveys": answers("nps", {9: 1})})
    (tmp_path / "surveys.jsonl").write_text("{}\n")
    with pytest.raises(InputError, match="table surveys is given twice"):
        cxbench.compute(tmp_path)


def test_rows_with_too_many_or_too_few_fields_are_set_aside(tmp_path):
    text = ("response_id,respondent_id,ts,survey,score\n"
            "r1,c1,2026-10-01T00:00:00Z,nps,9\n"
            "r2,c2,2026-10-01T00:00:00Z,nps,9,extra,fields\n"
            "r3,c3\n")
    validation = cxbench.check(write_tables(tmp_path, {"surveys": text}))
    assert (validation.reports["surveys"].rows, validation.reports["surveys"].used) == (3, 1)
    assert [(r.row, r.reason) for r in validation.rejected] == [
        (2, "the row has 7 fields, the header 5: quote values that contain the delimiter"),
        (3, "the row has 2 fields, the header 5: give every row as many fields as the header (an empty field is fine)"),
    ]


def test_duplicate_column_names_stop_with_the_column_named(tmp_path):
    folder = write_tables(tmp_path, {"surveys": "response_id,respondent_id,ts,survey,score,Score\nr1,c1,2026-10-01,nps,9,3\n"})
    with pytest.raises(InputError, match="column score appears twice in the header"):
        cxbench.compute(folder)


def test_semicolon_csv_reads_the_same_on_both_engines(tmp_path, backend):
    text = ("response_id;respondent_id;ts;survey;score;comment\n"
            'r1;c1;2026-10-01T10:00:00Z;nps;9;"two\nlines"\n'
            "r2;c2;2026-10-01T10:00:00Z;nps;3;\n")
    card = cxbench.compute(write_tables(tmp_path, {"surveys": text}), engine=backend, period="all", metrics=["nps"])
    assert card.to_dict()["inputs"]["surveys"] == {"rows": 2, "used": 2, "rejected": 0,
                                                   "file": str(tmp_path / "surveys.csv")}
    assert pick(card, "nps")["value"] == pytest.approx(0.0)  # 1 promoter, 1 detractor


def test_rejections_of_a_single_file_table_name_no_file_on_either_engine(tmp_path, backend):
    folder = write_tables(tmp_path, {"surveys": answers("nps", {9: 1, 12: 1})})
    card = cxbench.compute(folder, engine=backend, period="all", metrics=["nps"])
    assert card.to_dict()["rejected"] == [{"table": "surveys", "row": 2, "reason": "nps score 12 is outside 0-10"}]
