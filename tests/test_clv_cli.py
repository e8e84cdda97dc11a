"""`cxbench clv`: the JSON document of the issue, CSV and table output, and errors that name the fix."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import write_tables
from cxbench.cli import app

runner = CliRunner()
CDNOW = Path(__file__).parent / "data" / "cdnow"
ACCEPTANCE = ["clv", str(CDNOW), "--calibration-end", "1997-09-30", "--time-unit", "week", "--horizon", "39"]


def _strict_json(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def cdnow_document() -> dict:
    result = runner.invoke(app, [*ACCEPTANCE, "--format", "json"])
    assert result.exit_code == 0, result.output
    return _strict_json(result.stdout)


def test_clv_json_has_the_issue_shape_and_the_published_parameters(cdnow_document: dict):
    doc = cdnow_document
    assert set(doc["models"]["bg_nbd"]) >= {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(doc["models"]["gamma_gamma"]) >= {"p", "q", "v"}
    # Fader, Hardie & Lee (2005): BG/NBD r 0.243, α 4.414, a 0.793, b 2.426; Gamma-Gamma p 6.25, q 3.74, v 15.44.
    bg, gg = doc["models"]["bg_nbd"], doc["models"]["gamma_gamma"]
    assert [round(bg[k], 3) for k in ("r", "alpha", "a", "b")] == [0.243, 4.414, 0.793, 2.426]
    assert [round(gg[k], 2) for k in ("p", "q", "v")] == [6.25, 3.74, 15.44]
    assert len(doc["customers"]) == 2357
    fields = {"customer_id", "frequency", "recency", "T", "monetary_value", "p_alive", "expected_purchases", "clv"}
    assert all(fields <= set(c) for c in doc["customers"])
    assert all(isinstance(v, (int, float)) and math.isfinite(v)
               for c in doc["customers"] for k, v in c.items() if k != "customer_id")
    first = doc["customers"][0]
    # CDNOW customer 1 in the papers' summary: x = 2, t_x = 30.43, T = 38.86, zbar = 22.35; E[Y(39)] = 1.226
    # (Hardie's spreadsheet).
    assert first["customer_id"] == "1" and first["frequency"] == 2
    assert (round(first["recency"], 2), round(first["T"], 2)) == (30.43, 38.86)
    assert first["monetary_value"] == pytest.approx((29.73 + 14.96) / 2)  # its two repeat orders; 22.345 → 22.35
    assert first["expected_purchases"] == pytest.approx(1.226, abs=1e-3)
    assert doc["settings"] == {"calibration_end": "1997-09-30", "time_unit": "week", "horizon": 39.0,
                               "horizon_months": pytest.approx(8.969199), "discount_rate": 0.01,
                               "discounting": "monthly", "month_length": pytest.approx(4.348214)}
    assert doc["inputs"]["orders"]["rows"] == 6919 and doc["rejected"] == []


def test_clv_holdout_compares_predicted_and_actual_by_calibration_frequency(cdnow_document: dict):
    holdout = cdnow_document["holdout"]
    assert holdout["status"] == "ok"
    # 1997-10-01 to 1998-06-30: 273 days = 39 weeks, the papers' holdout.
    assert (holdout["start"], holdout["end"], holdout["length"]) == ("1997-10-01", "1998-06-30", 39.0)
    groups = holdout["by_frequency"]
    assert [g["frequency"] for g in groups] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    # The papers' CDNOW summary has 1,411 customers without a repeat purchase and 946 with one.
    assert groups[0]["customers"] == 1411 and sum(g["customers"] for g in groups) == 2357
    assert sum(g["actual"] for g in groups) == holdout["actual_purchases"]
    assert sum(g["predicted"] for g in groups) == pytest.approx(holdout["predicted_purchases"], abs=1e-4)
    totals = cdnow_document["totals"]
    assert totals["customers"] == 2357 and totals["customers_with_repeat_purchases"] == 946
    top = cdnow_document["top_customers"]
    assert [c["clv"] for c in top] == sorted((c["clv"] for c in cdnow_document["customers"]), reverse=True)[:10]


def test_clv_csv_has_one_row_per_customer():
    result = runner.invoke(app, [*ACCEPTANCE, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 2357 and rows[0]["customer_id"] == "1" and float(rows[0]["frequency"]) == 2


def test_clv_table_shows_models_top_customers_and_holdout(tmp_path: Path):
    out = tmp_path / "clv.txt"
    result = runner.invoke(app, [*ACCEPTANCE, "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "r 0.243  α 4.414  a 0.793  b 2.426" in text and "Top customers" in text and "Holdout check" in text


def test_clv_with_too_few_repeat_customers_exits_2_naming_the_fix(tmp_path: Path):
    orders = [{"order_id": str(i), "customer_id": f"c{i % 3}", "ts": f"2026-01-{i + 1:02d}", "amount": 10}
              for i in range(6)]
    folder = write_tables(tmp_path / "data", {"orders": orders})
    result = runner.invoke(app, ["clv", str(folder), "--calibration-end", "2026-01-06"])
    assert result.exit_code == 2
    assert "3 customers with repeat purchases before --calibration-end 2026-01-06, fewer than 20" in result.stderr
    assert "Move the calibration end later" in result.stderr


def test_clv_before_the_first_order_exits_2(tmp_path: Path):
    result = runner.invoke(app, ["clv", str(CDNOW), "--calibration-end", "1996-12-31"])
    assert result.exit_code == 2
    assert "no purchases on or before --calibration-end 1996-12-31: move the calibration end later" in result.stderr


def test_clv_without_orders_exits_2(tmp_path: Path):
    folder = write_tables(tmp_path / "data", {"campaigns": "date,campaign,impressions,clicks\n2026-01-01,x,10,1\n"})
    result = runner.invoke(app, ["clv", str(folder), "--calibration-end", "2026-01-31"])
    assert result.exit_code == 2 and "no orders table" in result.stderr


@pytest.mark.parametrize(("option", "message"), [
    (["--discount-rate", "1.5"], "--discount-rate 1.5: give the monthly rate as a fraction"),
    (["--horizon", "0"], "--horizon 0.0: give a positive number of days"),
])
def test_clv_rejects_bad_options(option: list[str], message: str):
    result = runner.invoke(app, ["clv", str(CDNOW), "--calibration-end", "1997-09-30", *option])
    assert result.exit_code == 2 and message in result.stderr
