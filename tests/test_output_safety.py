"""Output a hostile dataset cannot subvert, and errors a user can act on (issue 14: crashes, safe output, friction).

Every test runs in-process on a handful of rows, DuckDB only: the behaviour is the renderers' and the CLI's.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import time
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest
from rich.console import Console
from typer.testing import CliRunner

import cxbench
from conftest import answers, write_tables
from cxbench import cli, render, render_clv
from cxbench.cli import app
from cxbench.core.errors import UsageError
from cxbench.metrics import METRICS_BY_ID
from cxbench.output import csv_safe, redact, terminal_text, write_atomically

runner = CliRunner()

HOSTILE = "[/]"  # closes a Rich style that was never opened: MarkupError when printed as markup
FORMULA = "=SUM(A1:A9)*10"


def _surveys(touchpoints: tuple[str, ...]) -> list[dict]:
    rows = []
    for i, touchpoint in enumerate(touchpoints):
        rows += answers("csat", {5: 4, 2: 1 + i}, start=100 * i, touchpoint=touchpoint)
    return rows


@pytest.fixture
def hostile_folder(tmp_path: Path) -> Path:
    return write_tables(tmp_path / "data", {"surveys": _surveys((HOSTILE, FORMULA, "\x1b]0;pwned\x07[bold]x"))})


# -- crashes: exit 3, one line --------------------------------------------------------------------------


def _explode(*args, **kwargs):
    raise RuntimeError("something broke\nsecond line")


def test_unexpected_exception_exits_3_with_one_line_and_how_to_report_it(survey_folder_small, monkeypatch):
    monkeypatch.setattr("cxbench.api.compute", _explode)
    monkeypatch.delenv("CXBENCH_DEBUG", raising=False)
    result = runner.invoke(app, ["run", str(survey_folder_small)])
    assert result.exit_code == cli.CRASH_EXIT == 3
    assert "Traceback" not in result.output
    assert "internal error: RuntimeError: something broke" in result.output
    assert "second line" not in result.output
    assert "please report it" in result.output and "--debug" in result.output


def test_debug_flag_and_environment_variable_show_the_traceback(survey_folder_small, monkeypatch):
    monkeypatch.setattr("cxbench.api.compute", _explode)
    result = runner.invoke(app, ["--debug", "run", str(survey_folder_small)])
    assert result.exit_code == 3 and "Traceback" in result.output
    monkeypatch.setenv("CXBENCH_DEBUG", "1")
    result = runner.invoke(app, ["run", str(survey_folder_small)])
    assert result.exit_code == 3 and "Traceback" in result.output


def test_fail_on_still_exits_1_and_user_errors_2_distinct_from_a_crash(survey_folder_small):
    assert runner.invoke(app, ["run", str(survey_folder_small), "--period", "fortnight"]).exit_code == 2
    assert runner.invoke(app, ["run", str(survey_folder_small / "nope")]).exit_code == 2


@pytest.fixture
def survey_folder_small(tmp_path: Path) -> Path:
    return write_tables(tmp_path / "small", {"surveys": answers("csat", {5: 3, 2: 1})})


# -- --out ----------------------------------------------------------------------------------------------


def test_out_naming_a_folder_exits_2_with_one_line_before_computing(survey_folder_small, tmp_path, monkeypatch):
    monkeypatch.setattr("cxbench.api.compute", _explode)  # never reached
    result = runner.invoke(app, ["run", str(survey_folder_small), "--format", "json", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a folder" in result.output and len(result.output.strip().splitlines()) == 1


def test_out_in_a_missing_folder_is_created_for_the_table_format_too(survey_folder_small, tmp_path):
    out = tmp_path / "new" / "deeper" / "card.txt"
    result = runner.invoke(app, ["run", str(survey_folder_small), "--out", str(out), "--metric", "csat"])
    assert result.exit_code == 0, result.output
    assert "csat" in out.read_text()


def test_out_under_a_file_exits_2(survey_folder_small, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    result = runner.invoke(app, ["run", str(survey_folder_small), "--out", str(blocker / "card.json")])
    assert result.exit_code == 2 and "is a file, not a folder" in result.output


def test_a_full_disk_exits_2_with_one_line_and_leaves_the_old_file(survey_folder_small, tmp_path, monkeypatch):
    out = tmp_path / "out" / "card.json"
    out.parent.mkdir()
    out.write_text("previous run")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    result = runner.invoke(app, ["run", str(survey_folder_small), "--format", "json", "--out", str(out),
                                 "--metric", "csat"])
    assert result.exit_code == 2, result.output
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert out.read_text() == "previous run"  # written atomically: the old file is whole
    assert [p.name for p in out.parent.iterdir()] == ["card.json"]  # no temporary file left behind


def test_an_oserror_of_the_machine_anywhere_exits_2_not_3(survey_folder_small, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/tmp/spill")

    monkeypatch.setattr("cxbench.api.compute", full)
    result = runner.invoke(app, ["run", str(survey_folder_small)])
    assert result.exit_code == 2 and "No space left on device" in result.output


def test_write_atomically_replaces_the_file_whole_with_a_normal_mode(tmp_path):
    out = tmp_path / "a.csv"
    write_atomically(out, "one\n")
    write_atomically(out, "two\n")
    assert out.read_text() == "two\n" and [p.name for p in tmp_path.iterdir()] == ["a.csv"]
    assert out.stat().st_mode & 0o777 != 0o600  # not mkstemp's private mode


def test_out_refuses_to_overwrite_one_of_the_sources_input_files(survey_folder_small):
    target = survey_folder_small / "surveys.csv"
    before = target.read_text()
    result = runner.invoke(app, ["run", str(survey_folder_small), "--format", "csv", "--out", str(target)])
    assert result.exit_code == 2 and "would overwrite an input" in result.output
    assert target.read_text() == before
    result = runner.invoke(app, ["run", str(survey_folder_small), "--format", "csv", "--out",
                                 str(survey_folder_small / "SURVEYS.parquet")])
    assert result.exit_code == 2


# -- markup and control characters ----------------------------------------------------------------------


def test_rich_markup_and_control_characters_in_data_print_as_text(hostile_folder):
    result = runner.invoke(app, ["run", str(hostile_folder), "--metric", "csat", "--min-sample", "1",
                                 "--period", "all"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert HOSTILE in result.output  # the touchpoint, as written
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b]0;pwned\\x07[bold]x" in result.output  # escaped, shown, not run


def test_markup_in_a_finding_prints_as_text(tmp_path):
    card = cxbench.compute(write_tables(tmp_path / "data", {"surveys": _surveys((HOSTILE, "[red]b"))}),
                           metrics=["csat"], period="all", min_sample=1)
    assert any(HOSTILE in f.message for f in card.findings)
    sink = io.StringIO()
    Console(file=sink, width=100).print(render.scorecard_renderable(card))
    assert HOSTILE in sink.getvalue() and "[red]b" in sink.getvalue()


def test_error_lines_keep_brackets_in_paths_and_the_spark_extra(tmp_path, monkeypatch):
    missing = tmp_path / "data[1]" / "[/]x"
    result = runner.invoke(app, ["run", str(missing)])
    assert result.exit_code == 2 and f"{missing}: no such file or folder" in result.output

    def spark(*args, **kwargs):
        raise UsageError("the Spark engine needs the spark extra: pip install 'cxbench[spark]'")

    monkeypatch.setattr("cxbench.api.compute", spark)
    result = runner.invoke(app, ["run", str(tmp_path)])
    assert result.exit_code == 2 and "pip install 'cxbench[spark]'" in result.output


def test_terminal_text_escapes_escape_osc_carriage_return_and_bidi_overrides():
    assert terminal_text("a\x1b[31mb") == "a\\x1b[31mb"
    assert terminal_text("x\ry") == "x\\ry"
    assert terminal_text("\x9b1m") == "\\x9b1m"
    assert terminal_text("abc\u202edcb") == "abc\\u202edcb"
    assert terminal_text("two\nlines") == "two\nlines"


# -- CSV injection --------------------------------------------------------------------------------------


def test_csv_neutralises_formula_text_cells_but_keeps_negative_numbers_numeric():
    table = pa.table({"text": ["=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx", "plain", None],
                      "value": [-1.5, 2.0, -3.0, 0.0, 1.0, 1.0, 1.0, None]})
    out = csv_safe(table)
    assert out.column("text").to_pylist() == ["'=1+1", "'+33", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "plain", None]
    assert out.column("value").to_pylist() == table.column("value").to_pylist()


def test_scorecard_csv_neutralises_a_formula_in_a_breakdown_value(hostile_folder):
    result = runner.invoke(app, ["run", str(hostile_folder), "--metric", "csat", "--format", "csv",
                                 "--period", "all", "--min-sample", "1"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    values = {r["dimension_value"] for r in rows if r["dimension_column"] == "touchpoint"}
    assert "'" + FORMULA in values and FORMULA not in values
    assert all(not r["delta"].startswith("'") for r in rows)


def test_clv_csv_neutralises_a_formula_customer_id():
    forecast = SimpleNamespace(records=lambda: [{"customer_id": "=cmd|' /C calc'!A0", "clv": -0.5},
                                                {"customer_id": "c2", "clv": 3.0}])
    rows = list(csv.DictReader(io.StringIO(render_clv.clv_csv(forecast))))  # type: ignore[arg-type]
    assert rows[0]["customer_id"] == "'=cmd|' /C calc'!A0" and rows[0]["clv"] == "-0.5"


# -- secrets ---------------------------------------------------------------------------------------------


def test_connection_url_passwords_are_masked_in_messages_and_the_source():
    assert redact("postgres://ana:s3cr%40t@db:5432/cx failed") == "postgres://ana:***@db:5432/cx failed"
    assert redact("host=db password=hunter2 user=x") == "host=db password=*** user=x"
    assert redact("duckdb://ro@db/x") == "duckdb://ro@db/x"


def test_a_failed_connection_never_prints_the_password():
    result = runner.invoke(app, ["validate", "postgres://ana:hunter2@127.0.0.1:9/cx"])
    assert result.exit_code == 2, result.output
    assert "hunter2" not in result.output and "***" in result.output


# -- VADER on a very long mention ---------------------------------------------------------------------


def test_vader_scores_a_very_long_mention_on_its_first_characters_quickly(tmp_path):
    from cxbench.metrics.social import SENTIMENT_TEXT_LIMIT, compound_score

    long_text = ("I love it, great service. " * 8_000)  # 208,000 characters: minutes for VADER on the whole
    started = time.perf_counter()
    assert compound_score(long_text) > 0.05
    assert time.perf_counter() - started < 2
    mentions = [{"mention_id": "m1", "platform": "x", "ts": "2026-10-02T10:00:00Z", "text": long_text},
                {"mention_id": "m2", "platform": "x", "ts": "2026-10-02T11:00:00Z", "text": "awful"}]
    card = cxbench.compute(write_tables(tmp_path / "m", {"mentions": mentions}), metrics=["social_listening"])
    details = card.get("social_listening")[-1]["details"]
    assert details["sentiment_text_limit"] == SENTIMENT_TEXT_LIMIT and details["texts_scored_in_part"] == 1
    assert "first 2,000" in METRICS_BY_ID["social_listening"].notes


def test_out_refuses_the_database_file_it_reads_and_other_inputs(tmp_path):
    database, holidays = tmp_path / "shop.duckdb", tmp_path / "holidays.txt"
    database.write_bytes(b"")
    holidays.write_text("2026-12-25\n")
    with pytest.raises(UsageError, match="would overwrite an input"):
        cli._check_out(database, [str(database)])
    with pytest.raises(UsageError, match="would overwrite an input"):
        cli._check_out(holidays, [str(tmp_path / "data"), holidays])
    cli._check_out(tmp_path / "data" / "out" / "card.json", [str(tmp_path / "data")])  # a sub-folder is fine
    cli._check_out(tmp_path / "card.json", ["postgres://u:p@h/db"])  # a connection has no files here


def test_a_closed_pipe_is_not_a_crash(survey_folder_small, monkeypatch):
    def closed(*args, **kwargs):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr("cxbench.api.compute", closed)
    result = runner.invoke(app, ["run", str(survey_folder_small)])
    assert result.exit_code == 0 and "internal error" not in result.output


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_csv_and_json_on_a_terminal_escape_control_characters_but_pipes_get_the_bytes(monkeypatch):
    text = json.dumps({"touchpoint": "a\x1b]0;x\x07b\u202e\x9b"}, ensure_ascii=False)
    screen = _Terminal()
    monkeypatch.setattr(cli.sys, "stdout", screen)
    cli._write(text, None, json_text=True)
    assert not any(c in screen.getvalue() for c in "\x1b\x07\u202e\x9b")
    assert json.loads(screen.getvalue()) == json.loads(text)  # still valid JSON, same data
    screen = _Terminal()
    monkeypatch.setattr(cli.sys, "stdout", screen)
    cli._write('id,touchpoint\n1,"a\x1b[2Jb"\n', None)
    assert screen.getvalue() == 'id,touchpoint\n1,"a\\x1b[2Jb"\n'
    pipe = io.StringIO()
    monkeypatch.setattr(cli.sys, "stdout", pipe)
    cli._write('1,"a\x1b[2Jb"\n', None)
    assert pipe.getvalue() == '1,"a\x1b[2Jb"\n'
