"""Property-based test: random, often hostile, survey tables (CSV or Parquet) through `cxbench run`.

Whatever the rows hold, the run ends without a traceback with exit 0 or 2; every record of the file is counted
(rows read = records written = used + set aside); nothing NaN or infinite reaches the JSON; and the NPS equals a
plain computation (Reichheld 2003: % answers 9-10 minus % answers 0-6) over the rows cxbench says it used.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cxbench.cli import app

COLUMNS = ("response_id", "respondent_id", "ts", "survey", "score", "comment")

# Text with the characters that break readers: delimiters, quotes, newlines, non-ASCII (no NUL: a NUL byte makes
# the file binary, which is refused as a whole by design).
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00", exclude_categories=("Cs",)),
               max_size=12)
SCORE = st.one_of(st.integers(0, 10).map(str), st.integers(0, 10).map(lambda n: f" {n} "),
                  st.sampled_from(["11", "-1", "ten", "", "nan", "inf", "-inf", "1e400", "7.5", "1_0", "9d", "0x9"]),
                  TEXT)
TS = st.one_of(
    st.dates(min_value=__import__("datetime").date(2024, 1, 1), max_value=__import__("datetime").date(2026, 11, 30))
    .map(lambda d: d.isoformat() + "T10:00:00Z"),
    st.sampled_from(["2026-10-05", "2026-10-05 08:30:00+02:00", "2026-13-01", "2026-10-05T12:00:00+25:00",
                     "9999-12-31T23:59:59Z", "1900-01-01", "", "yesterday"]),
    TEXT)
ROW = st.fixed_dictionaries({
    "response_id": st.integers(0, 40).map(lambda i: f"r{i}"),  # repeats: duplicates are counted once
    "respondent_id": st.one_of(st.integers(0, 9).map(lambda i: f"c{i}"), st.just("")),
    "ts": TS,
    "survey": st.sampled_from(["nps", "nps", "nps", "NPS", " nps", "csat", "unknown"]),
    "score": SCORE,
    "comment": TEXT,
    # CSV only: a record with one field too many or too few
    "shape": st.sampled_from(["ok"] * 12 + ["extra", "short"]),
})


def _write(folder: Path, rows: list[dict[str, str]], fmt: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(pa.table({c: [r[c] for r in rows] for c in COLUMNS},
                                schema=pa.schema([(c, pa.string()) for c in COLUMNS])), folder / "surveys.parquet")
        return
    sink = io.StringIO()
    # RFC 4180: records end in CR LF, and a field holding a comma, a quote, a CR or an LF is quoted. (With "\n"
    # alone, Python's writer leaves a field's lone CR unquoted, which readers take as the end of a record.)
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        fields = [row[c] for c in COLUMNS]
        writer.writerow(fields + ["surplus"] if row["shape"] == "extra" else
                        fields[:3] if row["shape"] == "short" else fields)
    (folder / "surveys.csv").write_text(sink.getvalue(), encoding="utf-8")


def _plain_nps(rows: list[dict[str, str]], used_rows: set[int]) -> float | None:
    scores = [float(rows[i - 1]["score"].strip()) for i in sorted(used_rows)
              if rows[i - 1]["survey"].strip().lower() == "nps"]
    if not scores:
        return None
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    return 100 * (promoters - detractors) / len(scores)


def _refuse(token: str) -> None:
    raise AssertionError(f"{token} in the JSON output")


def _no_nan(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_no_nan(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_nan(v) for v in value)
    return True


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(rows=st.lists(ROW, max_size=30), fmt=st.sampled_from(["csv", "parquet"]))
def test_any_survey_table_is_counted_whole_and_its_used_rows_give_the_plain_nps(tmp_path_factory, rows, fmt):
    folder = tmp_path_factory.mktemp("prop") / "data"
    if fmt == "parquet":
        rows = [r | {"shape": "ok"} for r in rows]
    _write(folder, rows, fmt)
    result = CliRunner().invoke(app, ["run", str(folder), "--metric", "nps", "--period", "all", "--format", "json",
                                      "--as-of", "2026-12-04"], env={"CXBENCH_CACHE_DIR": "off"})
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:  # refused as a whole: one line saying why
        assert result.output.strip().count("\n") <= 1, result.output
        return
    document = json.loads(result.stdout, parse_constant=_refuse)  # a bare NaN or Infinity token fails here
    assert _no_nan(document)
    counts = document["inputs"]["surveys"]
    assert counts["rows"] == len(rows)
    assert counts["rows"] == counts["used"] + counts["rejected"]
    rejected = {r["row"] for r in document["rejected"]}
    assert len(rejected) == counts["rejected"]  # every row set aside is listed once, by its row in the file
    expected = _plain_nps(rows, set(range(1, len(rows) + 1)) - rejected)
    (record,) = [r for r in document["metrics"] if r["id"] == "nps" and not r["segment"]]
    if expected is None:
        assert record["value"] is None
    else:
        # The JSON holds values rounded to 6 decimals (CONTRACT.md): 2 detractors of 3 answers read −66.666667.
        assert math.isclose(record["value"], expected, abs_tol=5e-7)
