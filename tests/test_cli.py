"""The command line: formats, exit codes and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import answers, write_tables
from cxbench.cli import app
from cxbench.metrics import REGISTRY

runner = CliRunner()


def _strict_json(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def survey_folder(tmp_path: Path) -> Path:
    rows = answers("nps", {10: 6, 9: 4, 8: 5, 3: 5}) + answers("csat", {5: 3, 2: 1}, start=100)
    rows += answers("nps", {2: 1}, start=200, ts="2026-09-20T10:00:00Z")
    return write_tables(tmp_path / "data", {"surveys": rows})


def test_run_json_through_the_installed_command_follows_the_contract(survey_folder: Path):
    result = subprocess.run([Path(sys.executable).parent / "cxbench", "run", str(survey_folder), "--format", "json"],
                            capture_output=True, text=True, check=True)
    doc = _strict_json(result.stdout)
    assert {"cxbench_version", "source", "generated_at", "period", "inputs", "rejected", "metrics"} <= set(doc)
    assert doc["period"] == "month" and doc["generated_at"].endswith("Z")
    assert doc["inputs"]["surveys"]["rows"] == 25
    nps = [r for r in doc["metrics"] if r["id"] == "nps" and r["segment"] == {} and "dimension" not in r]
    assert [(r["period_start"], r["period_end"]) for r in nps] == [("2026-09-01", "2026-09-30"), ("2026-10-01", "2026-10-31")]
    october = nps[1]
    # 10 promoters, 5 detractors of 20 → 25; September: 1 detractor → −100.
    assert october["value"] == pytest.approx(25.0)
    assert october["change"]["previous"] == pytest.approx(-100.0)
    required = {"id", "period_start", "period_end", "segment", "value", "unit", "n", "ci_low", "ci_high",
                "benchmark", "change", "status"}
    assert all(required <= set(r) for r in doc["metrics"])
    assert all(r["status"] in ("ok", "unavailable") for r in doc["metrics"])
    assert all(("reason" in r) == (r["status"] == "unavailable") for r in doc["metrics"])


def test_run_csv_writes_flat_records_to_a_file(survey_folder: Path, tmp_path: Path):
    out = tmp_path / "out" / "card.csv"
    result = runner.invoke(app, ["run", str(survey_folder), "--format", "csv", "--out", str(out), "--period", "all"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    csat = [r for r in rows if r["id"] == "csat" and not r["dimension_column"]]
    assert len(csat) == 1 and float(csat[0]["value"]) == pytest.approx(75.0)  # 3 of 4 score 4-5


def test_csv_carries_the_change_test_and_its_p_value(tmp_path: Path):
    rows = answers("nps", {10: 6, 9: 4, 8: 5, 3: 5})
    rows += answers("nps", {10: 1, 2: 9}, start=200, ts="2026-09-20T10:00:00Z")
    folder = write_tables(tmp_path / "data", {"surveys": rows})
    result = runner.invoke(app, ["run", str(folder), "--format", "csv", "--metric", "nps", "--min-sample", "5"])
    assert result.exit_code == 0, result.output
    october = [r for r in csv.DictReader(io.StringIO(result.stdout)) if r["period_start"] == "2026-10-01"
               and not r["dimension_column"] and not r["segment_column"]]
    # By hand: September 1 promoter, 9 detractors of 10 (NPS -80, variance (0.1 + 0.9 - 0.8^2) / 10 = 0.036);
    # October 10 and 5 of 20 (NPS 25, variance (0.75 - 0.25^2) / 20 = 0.034375);
    # z = 1.05 / sqrt(0.070375) = 3.9580, two-sided p = 7.557e-5.
    assert october[0]["change_test"] == "NPS difference z"
    assert float(october[0]["p_value"]) == pytest.approx(7.557e-5, rel=1e-3)
    assert october[0]["significant"] == "true"


def test_run_table_shows_every_family_metric(survey_folder: Path):
    result = runner.invoke(app, ["run", str(survey_folder)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for metric in REGISTRY:
        assert metric.id in result.output
    assert "Voice of the customer" in result.output


def test_missing_column_exits_2_with_one_line_naming_file_and_column(tmp_path: Path):
    folder = write_tables(tmp_path, {"surveys": "response_id,respondent_id,survey,score\nr1,c1,nps,9\n"})
    result = runner.invoke(app, ["run", str(folder)])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "surveys.csv" in lines[0] and "required column ts is missing" in lines[0]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--segment", "plan"], "needs a customers table"),
        (["--from", "2026-13-01"], "is not a date"),
        (["--from", "2026-10-02", "--to", "2026-10-01"], "is after --to"),
        (["--metric", "nope"], "unknown metric nope"),
        (["--memory-limit", "lots"], "write an amount such as 4GB"),
        (["--as-of", "yesterday"], "--as-of 'yesterday' is not a date"),
        (["--nps-detractor-max", "9"], "below the promoters' lowest answer"),
    ],
)
def test_bad_usage_exits_2_with_the_fix(survey_folder: Path, arguments: list[str], message: str):
    result = runner.invoke(app, ["run", str(survey_folder), *arguments])
    assert result.exit_code == 2
    assert message in result.stderr


def test_unknown_period_is_a_usage_error(survey_folder: Path):
    assert runner.invoke(app, ["run", str(survey_folder), "--period", "fortnight"]).exit_code == 2


def test_validate_reports_counts_that_add_up(tmp_path: Path):
    rows = answers("nps", {9: 3, 11: 2})
    folder = write_tables(tmp_path, {"surveys": rows})
    result = runner.invoke(app, ["validate", str(folder), "--format", "json"])
    assert result.exit_code == 0
    doc = _strict_json(result.stdout)
    report = doc["inputs"]["surveys"]
    assert (report["rows"], report["used"], report["rejected"]) == (5, 3, 2)
    assert [r["row"] for r in doc["rejected"]] == [4, 5]


def test_metrics_catalog_lists_every_registered_metric_with_its_formula():
    result = runner.invoke(app, ["metrics", "--format", "json"])
    assert result.exit_code == 0
    catalog = _strict_json(result.stdout)
    assert [m["id"] for m in catalog] == [m.id for m in REGISTRY]
    assert all(m["formula"] and m["unit"] for m in catalog)
    nps = next(m for m in catalog if m["id"] == "nps")
    assert nps["benchmark"]["source"] == "003"


def test_every_command_has_help():
    for command in ("run", "report", "validate", "metrics", "demo", "generate", "docs", "serve", "watch",
                    "funnel", "paths"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, command


def _gib(setting: str) -> float:
    number, unit = setting.split()
    return float(number) * {"MiB": 2**-10, "GiB": 1.0, "TiB": 2**10}[unit]


def test_without_a_memory_limit_duckdb_may_use_a_quarter_of_the_memory_it_detects(survey_folder: Path,
                                                                                   monkeypatch: pytest.MonkeyPatch):
    import duckdb

    from cxbench.core.sources import open_source

    monkeypatch.delenv("CXBENCH_MEMORY_LIMIT", raising=False)
    # DuckDB's own default is 80 % of the memory it detects: a quarter of it is that default x 0.25 / 0.8. Both are
    # shown to 0.1 GiB, hence the tolerance.
    duckdb_default = _gib(duckdb.connect().sql("SELECT current_setting('memory_limit')").fetchone()[0])
    ours = _gib(open_source(survey_folder).con.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0])
    assert ours == pytest.approx(duckdb_default * 0.25 / 0.8, abs=0.1)
    assert ours < duckdb_default / 2


def test_the_duckdb_that_pre_parses_a_csv_for_spark_has_the_engines_limit_and_spill_folder(
        monkeypatch: pytest.MonkeyPatch):
    import duckdb

    from cxbench.core.sources import side_duckdb

    monkeypatch.delenv("CXBENCH_MEMORY_LIMIT", raising=False)
    duckdb_default = _gib(duckdb.connect().sql("SELECT current_setting('memory_limit')").fetchone()[0])
    side = side_duckdb()
    limit, spill = side.sql("SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
    assert _gib(limit) == pytest.approx(duckdb_default * 0.25 / 0.8, abs=0.1)
    assert "cxbench-duckdb-" in spill and not spill.startswith(".")  # the process's private folder, not ./.tmp
    monkeypatch.setenv("CXBENCH_MEMORY_LIMIT", "512MB")  # 512,000,000 bytes = 488.2 MiB
    assert side_duckdb().sql("SELECT current_setting('memory_limit')").fetchone()[0] == "488.2 MiB"


def test_the_default_limit_is_a_quarter_of_the_detected_memory_at_least_1_gib_or_left_to_duckdb_without_an_amount():
    from cxbench.core.sources import _share_of_detected

    # DuckDB's 18.8 GiB is 80 % of 23.5 GiB detected; a quarter of that is 5.875 GiB = 6,308,233,216 bytes.
    assert _share_of_detected("18.8 GiB") == "6308233216B"
    # DuckDB's 4.0 GiB is 80 % of 5 GiB; a quarter, 1.25 GiB = 1,342,177,280 bytes, is above the 1 GiB floor.
    assert _share_of_detected("4.0 GiB") == "1342177280B"
    # DuckDB's 2.0 GiB is 80 % of 2.5 GiB; a quarter, 0.625 GiB, is under the floor: 1 GiB = 1,073,741,824 bytes.
    assert _share_of_detected("2.0 GiB") == "1073741824B"
    # 500 MB (decimal units) is 80 % of 625,000,000 bytes; a quarter (156,250,000) is under the floor, and the floor
    # (1 GiB) is above DuckDB's own default, which then stands: 500,000,000 bytes.
    assert _share_of_detected("500 MB") == "500000000B"
    assert _share_of_detected("16383.9 PiB") is None  # DuckDB's "no limit", when it cannot detect the memory
    assert _share_of_detected("0 bytes") is None  # not 1 byte, under which every query fails


def test_a_memory_limit_for_an_engine_it_cannot_limit_is_refused_not_ignored(survey_folder: Path):
    import ibis

    import cxbench
    from cxbench.core.errors import UsageError

    # Refused before Spark starts: Spark's memory is set in its own configuration.
    result = runner.invoke(app, ["run", str(survey_folder), "--engine", "spark", "--memory-limit", "4GB"])
    assert result.exit_code == 2 and "spark.driver.memory" in result.stderr
    with pytest.raises(UsageError, match="set it on your own connection"):
        cxbench.compute(survey_folder, engine=ibis.duckdb.connect(), memory_limit="4GB", metrics=["nps"])


def test_memory_limit_is_given_to_duckdb(survey_folder: Path, monkeypatch: pytest.MonkeyPatch):
    from cxbench.core.sources import open_source

    # 512 MB = 512,000,000 bytes = 488.3 MiB, as DuckDB reports it.
    con = open_source(survey_folder, memory_limit="512MB").con
    assert con.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0] == "488.2 MiB"
    monkeypatch.setenv("CXBENCH_MEMORY_LIMIT", "1GiB")
    assert open_source(survey_folder).con.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0] == "1.0 GiB"
    result = runner.invoke(app, ["run", str(survey_folder), "--memory-limit", "512MB", "--format", "json"])
    assert result.exit_code == 0 and _strict_json(result.stdout)["metrics"]


def test_duckdb_connections_leave_no_spill_folder_behind(survey_folder: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    import gc
    import tempfile

    from cxbench.core import sources

    # Each connection got a folder made beforehand, which nothing removed: 45,000 of them were in /tmp.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(sources, "_spill_root", None)
    spilling = sources.open_source(survey_folder).con
    idle = sources.open_source(survey_folder).con
    spilling.raw_sql("SET memory_limit = '32MB'")
    spilling.raw_sql("CREATE TEMP TABLE spilled AS SELECT md5(CAST(range AS VARCHAR)) AS s FROM range(1500000)")
    folder = Path(spilling.raw_sql("SELECT current_setting('temp_directory')").fetchone()[0])
    assert folder.is_relative_to(tmp_path / "tmp") and any(folder.iterdir())
    spilling.disconnect()
    idle.disconnect()
    del spilling, idle
    gc.collect()
    # left: the process's own (empty) folder, removed when it exits
    assert [p.relative_to(tmp_path) for p in (tmp_path / "tmp").rglob("*")] == [folder.parent.relative_to(tmp_path)]


def _as_duckdb_file(folder: Path, path: Path) -> Path:
    import duckdb

    with duckdb.connect(str(path)) as db:
        db.execute(f"CREATE TABLE surveys AS SELECT * FROM read_csv('{folder / 'surveys.csv'}', all_varchar = true)")
    return path


def test_a_duckdb_database_file_or_url_gets_the_memory_limit_and_spills_to_a_private_folder(
        survey_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from cxbench.core.errors import UsageError
    from cxbench.core.sources import open_source

    monkeypatch.delenv("CXBENCH_MEMORY_LIMIT", raising=False)
    path = _as_duckdb_file(survey_folder, tmp_path / "shop.duckdb")
    settings = "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    quarter = open_source(survey_folder).con.raw_sql(settings).fetchone()[0]  # a folder's default (test above)
    for source in (path, f"duckdb://{path}"):
        limit, spill = open_source(source).con.raw_sql(settings).fetchone()
        assert limit == quarter, source  # not DuckDB's own 80 %
        assert not spill.startswith(str(tmp_path)), source  # not shop.duckdb.tmp beside the user's data
        # 512 MB = 512,000,000 bytes = 488.28 MiB, which DuckDB shows as 488.2 MiB
        assert open_source(source, memory_limit="512MB").con.raw_sql(settings).fetchone()[0] == "488.2 MiB", source
        with pytest.raises(UsageError, match="write an amount such as 4GB"):
            open_source(source, memory_limit="lots")
    # A URL that sets DuckDB's memory_limit itself keeps it: 1 GB = 953.67 MiB.
    url = f"duckdb://{_as_duckdb_file(survey_folder, tmp_path / 'own.duckdb')}?memory_limit=1GB"
    assert open_source(url).con.raw_sql(settings).fetchone()[0] == "953.6 MiB"


def test_a_duckdb_file_opened_again_while_open_keeps_the_default_limit_and_its_spill_folder(
        survey_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from cxbench.core.sources import open_source

    monkeypatch.delenv("CXBENCH_MEMORY_LIMIT", raising=False)
    path = _as_duckdb_file(survey_folder, tmp_path / "shop.duckdb")
    quarter = open_source(survey_folder).con.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]
    # Both openings share one DuckDB instance (as the server's requests do): the second must not take a quarter of
    # the first's limit as if it were DuckDB's default (5.8 GiB, then 1.8 GiB...).
    first = open_source(path).con
    second = open_source(path).con
    assert second.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0] == quarter
    # Once the instance has spilled, DuckDB refuses to move its temporary folder: a third opening still works.
    first.raw_sql("SET memory_limit = '32MB'")
    first.raw_sql("CREATE TEMP TABLE spilled AS SELECT md5(CAST(range AS VARCHAR)) AS s FROM range(1500000)")
    assert first.raw_sql("SELECT count(*) FROM duckdb_temporary_files()").fetchone()[0] > 0
    assert open_source(path).con.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0] == quarter


def test_a_memory_limit_from_the_environment_is_named_when_wrong_and_ignored_when_blank(
        survey_folder: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CXBENCH_MEMORY_LIMIT", "lots")
    result = runner.invoke(app, ["run", str(survey_folder), "--format", "json"])
    assert result.exit_code == 2 and "$CXBENCH_MEMORY_LIMIT 'lots'" in result.stderr
    monkeypatch.setenv("CXBENCH_MEMORY_LIMIT", "  ")  # blank, as unset: the default
    assert runner.invoke(app, ["run", str(survey_folder), "--format", "json"]).exit_code == 0


def test_running_out_of_memory_reading_a_file_says_to_raise_the_limit_not_to_fix_the_file(survey_folder: Path):
    # DuckDB's CSV reader takes a block of 30.5 MiB at once: at 1 MB no file can be read.
    result = runner.invoke(app, ["run", str(survey_folder), "--memory-limit", "1MB"])
    assert result.exit_code == 2
    assert "surveys.csv: DuckDB ran out of memory" in result.stderr and "--memory-limit" in result.stderr
    assert "Fix the file" not in result.stderr


def test_running_out_of_memory_reading_a_vendor_export_says_to_raise_the_limit_not_to_export_it_again():
    stripe = Path(__file__).parent / "data" / "adapters" / "stripe"
    result = runner.invoke(app, ["run", str(stripe), "--from-format", "stripe", "--memory-limit", "1MB"])
    assert result.exit_code == 2
    assert "DuckDB ran out of memory reading it" in result.stderr and "--memory-limit" in result.stderr
    assert "Export it again" not in result.stderr


def test_running_out_of_memory_reading_a_text_export_through_a_mapping_says_to_raise_the_limit():
    # The CDNOW master file: whitespace-separated lines, read line by line in DuckDB (adapters' read_text_lines).
    cdnow = Path(__file__).parent / "data" / "adapters" / "cdnow_master"
    result = runner.invoke(app, ["run", str(cdnow), "--mapping", str(cdnow / "map.yaml"), "--memory-limit", "1MB",
                                 "--metric", "aov"])
    assert result.exit_code == 2
    assert "CDNOW_master.txt: DuckDB ran out of memory reading it" in result.stderr
    assert "--memory-limit" in result.stderr and "could not be read as text lines" not in result.stderr


def _out_of_memory(*args: object, **kwargs: object) -> None:
    import duckdb

    # the message of DuckDB 1.5 when a sort cannot get a block past memory_limit
    raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of size 256.0 KiB "
                                      "(37.9 MiB/38.1 MiB used)")


def test_running_out_of_memory_in_a_metric_exits_2_with_the_limit_instead_of_reporting_a_bug(
        survey_folder: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("cxbench.api.compute", _out_of_memory)
    result = runner.invoke(app, ["run", str(survey_folder)])
    assert result.exit_code == 2
    assert "DuckDB ran out of memory" in result.stderr and "--memory-limit" in result.stderr
    assert "bug" not in result.stderr


def test_running_out_of_memory_validating_a_table_says_to_raise_the_limit_not_that_the_file_is_damaged(
        survey_folder: Path, monkeypatch: pytest.MonkeyPatch):
    import cxbench
    from cxbench.core.errors import UsageError

    monkeypatch.setattr("cxbench.core.validation.check_table", _out_of_memory)  # the CSV's validation query
    with pytest.raises(UsageError, match=r"surveys.csv: DuckDB ran out of memory validating it .*--memory-limit"):
        cxbench.check(survey_folder)


def test_a_memory_limit_of_nothing_is_refused_before_duckdb_fails_on_the_first_file(survey_folder: Path):
    # At 0 bytes DuckDB cannot allocate its first block, and the error blamed the CSV file ("Fix the file").
    result = runner.invoke(app, ["run", str(survey_folder), "--memory-limit", "0GB"])
    assert result.exit_code == 2 and "memory limit '0GB'" in result.stderr and "surveys.csv" not in result.stderr
