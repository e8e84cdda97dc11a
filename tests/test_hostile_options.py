"""Options an adversarial user gives: special files as --out or inputs, secrets in odd places, non-finite or
mistyped benchmarks, and CLV settings outside the data. Every one stops with a one-line error (exit 2) or works,
and none replaces a device, leaks a password or runs for minutes."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import answers, write_tables
from cxbench.cli import app
from cxbench.core.benchmarks import BenchmarkLibrary
from cxbench.core.business_hours import read_holidays
from cxbench.core.errors import UsageError
from cxbench.lifetime_value import MAX_HORIZON_MONTHS, make_settings
from cxbench.output import redact, write_atomically

runner = CliRunner()
CDNOW = Path(__file__).parent / "data" / "cdnow"


@pytest.fixture
def surveys(tmp_path: Path) -> Path:
    return write_tables(tmp_path / "data", {"surveys": answers("csat", {5: 4, 2: 1})})


# -- 1. --out naming a device or a pipe ------------------------------------------------------------------


def test_out_dev_null_is_written_to_and_stays_a_character_device(surveys):
    result = runner.invoke(app, ["run", str(surveys), "--format", "json", "--metric", "csat", "--out", os.devnull])
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_write_atomically_writes_into_a_fifo_without_replacing_it_or_leaving_a_temporary_file(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    write_atomically(fifo, "hello through the pipe")
    reader.join(timeout=5)
    assert received == ["hello through the pipe"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_out_through_a_symlink_to_a_device_keeps_the_link_and_the_device(tmp_path):
    link = tmp_path / "sink"
    link.symlink_to(os.devnull)
    write_atomically(link, "text")
    assert link.is_symlink() and stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["sink"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_out_dev_full_exits_2_with_one_line_saying_the_disk_is_full(surveys):
    result = runner.invoke(app, ["run", str(surveys), "--format", "json", "--metric", "csat", "--out", "/dev/full"])
    assert result.exit_code == 2, result.output
    assert "the disk is full" in result.output and "Traceback" not in result.output
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


# -- 2. secrets in messages ------------------------------------------------------------------------------


def test_a_password_containing_at_signs_is_masked_to_the_last_at_before_the_host():
    assert redact("postgres://u:p@ss@127.0.0.1:1/db failed") == "postgres://u:***@127.0.0.1:1/db failed"


def test_a_url_password_containing_a_space_is_masked_whole():
    assert redact("postgres://u:p ss@127.0.0.1:1/db") == "postgres://u:***@127.0.0.1:1/db"


def test_a_quoted_connection_string_password_containing_a_space_is_masked_whole():
    assert redact("host=db password='my secret' user=x") == "host=db password=*** user=x"
    assert redact('host=db Password="my secret"') == "host=db Password=***"
    assert redact("host=db password = 'my secret'") == "host=db password = ***"


@pytest.mark.parametrize("name", ["access_token", "sslpassword", "password", "token", "secret", "key", "api_key",
                                  "credentials", "motherduck_token", "PASSWORD", "Access_Token", "API_KEY",
                                  "aws_secret_access_key", "aws_access_key_id", "apikey"])
def test_secret_named_query_parameters_are_masked_in_any_case(name: str):
    text = f"postgres://db:5432/cx?sslmode=require&{name}=S3cr3tValue&application_name=cx"
    assert redact(text) == f"postgres://db:5432/cx?sslmode=require&{name}=***&application_name=cx"
    assert redact(f"md:cx?{name}=S3cr3tValue") == f"md:cx?{name}=***"


def test_setting_parameters_that_merely_mention_key_and_prose_about_a_token_are_left_as_they_are():
    assert redact("key_event=signup sslmode=require") == "key_event=signup sslmode=require"
    assert redact("open /?token= followed by the token") == "open /?token= followed by the token"


# -- 3. benchmarks files with non-finite numbers or a mistyped metric ------------------------------------


@pytest.mark.parametrize(("yaml_text", "key"), [
    ("nps:\n  target: .nan\n", "target"),
    ("nps:\n  target: .inf\n", "target"),
    ("nps:\n  target: -.inf\n", "target"),
    ("nps:\n  bands:\n    - {label: poor, high: .nan}\n", "high"),
    ("nps:\n  bands:\n    - {label: poor, low: -.inf, high: 0}\n", "low"),
    ("nps:\n  segments:\n    plan=pro:\n      target: .inf\n", "target"),
])
def test_benchmarks_file_with_a_non_finite_number_is_refused_naming_metric_and_key(tmp_path, yaml_text, key):
    path = tmp_path / "ours.yaml"
    path.write_text(yaml_text)
    with pytest.raises(UsageError, match=rf"nps.*: {key} is (nan|inf|-inf); give a finite number"):
        BenchmarkLibrary.builtin().with_file(path)


def test_benchmarks_file_with_an_unknown_metric_id_is_refused_with_close_matches(tmp_path):
    path = tmp_path / "ours.yaml"
    path.write_text("nsp:\n  target: 40\n")
    with pytest.raises(UsageError, match=r"'nsp' is not a metric id; did you mean .*\bnps\b"):
        BenchmarkLibrary.builtin().with_file(path)


def test_benchmarks_file_with_a_non_finite_target_exits_2_instead_of_breaking_json(surveys, tmp_path):
    path = tmp_path / "ours.yaml"
    path.write_text("csat:\n  target: .nan\n")
    result = runner.invoke(app, ["run", str(surveys), "--format", "json", "--metric", "csat",
                                 "--benchmarks", str(path)])
    assert result.exit_code == 2, result.output
    assert "target is nan" in result.output and "Traceback" not in result.output


# -- 4. settings files that are devices or huge ----------------------------------------------------------


def test_holidays_from_a_device_is_refused_not_read_without_limit():
    with pytest.raises(UsageError, match="--holidays /dev/zero: is not a regular file"):
        read_holidays("/dev/zero")


def test_benchmarks_from_a_device_is_refused_not_read_without_limit():
    with pytest.raises(UsageError, match="--benchmarks /dev/zero: is not a regular file"):
        BenchmarkLibrary.builtin().with_file("/dev/zero")


def test_settings_files_over_10_mb_are_refused(tmp_path):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as file:
        file.truncate(10 * 1024 * 1024 + 1)  # sparse: no 10 MB written
    with pytest.raises(UsageError, match="--holidays .*: is larger than 10 MB"):
        read_holidays(huge)
    with pytest.raises(UsageError, match="--benchmarks .*: is larger than 10 MB"):
        BenchmarkLibrary.builtin().with_file(huge)


# -- 5. CLV settings outside the data --------------------------------------------------------------------


def test_clv_calibration_end_after_the_last_order_exits_2_naming_the_last_order_day():
    result = runner.invoke(app, ["clv", str(CDNOW), "--calibration-end", "9999-12-31"])
    assert result.exit_code == 2, result.output
    assert "--calibration-end 9999-12-31: after the last purchase (1998-06-30)" in result.stderr


def test_clv_calibration_end_before_the_first_order_names_the_first_order_day():
    result = runner.invoke(app, ["clv", str(CDNOW), "--calibration-end", "1990-01-01"])
    assert result.exit_code == 2, result.output
    assert "the first purchase is on 1997-01-01" in result.stderr


@pytest.mark.parametrize(("horizon", "unit"), [(1e8, "day"), (1e308, "day"), (5300, "week"), (36600, "day")])
def test_clv_horizon_beyond_100_years_is_refused(horizon: float, unit: str):
    with pytest.raises(UsageError, match=r"--horizon .*: longer than 100 years; give at most \d+ " + unit):
        make_settings("1997-09-30", unit, horizon)


def test_clv_horizon_of_100_years_is_accepted():
    assert make_settings("1997-09-30", "week", 5200).horizon == 5200
    assert make_settings("1997-09-30", "day", 36525).horizon == 36525
    assert MAX_HORIZON_MONTHS == 1200


def test_clv_cli_huge_horizon_exits_2_at_once():
    result = runner.invoke(app, ["clv", str(CDNOW), "--calibration-end", "1997-09-30", "--horizon", "1e308"])
    assert result.exit_code == 2, result.output
    assert "longer than 100 years" in result.stderr
