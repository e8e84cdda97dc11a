"""`clv_predicted` in the scorecard: the `cxbench clv` forecast calibrated at the end of the data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import cxbench
from conftest import pick, write_tables

CDNOW = Path(__file__).parent / "data" / "cdnow"


def test_clv_predicted_is_the_mean_and_total_of_the_per_customer_forecast(backend: Any):
    card = cxbench.compute(CDNOW, engine=backend, metrics=["clv_predicted"], period="all")
    record = pick(card, "clv_predicted")
    assert record["status"] == "ok" and record["unit"] == "money"
    # The scorecard calibrates on every order, up to the last order day of CDNOW (1998-06-30), in days, over
    # 12 months at 1 % a month: the same forecast `cxbench clv` makes with those settings.
    forecast = cxbench.predict_clv(CDNOW, calibration_end="1998-06-30")
    assert record["n"] == 2357
    assert record["details"]["total"] == pytest.approx(float(forecast.clv.sum()), abs=1e-6)  # 6 decimals
    assert record["value"] == pytest.approx(float(forecast.clv.mean()), abs=1e-6)
    assert record["details"]["calibration_end"] == "1998-06-30" and record["details"]["time_unit"] == "day"
    assert set(record["details"]["bg_nbd"]) == {"r", "alpha", "a", "b"}


def test_clv_predicted_lands_in_the_last_period_and_says_why_the_others_are_empty():
    card = cxbench.compute(CDNOW, metrics=["clv_predicted"], period="quarter")
    records = card.get("clv_predicted")
    assert [r["status"] for r in records] == ["unavailable"] * 5 + ["ok"]
    assert "made once, at the end of the data" in records[0]["reason"]


def test_clv_predicted_follows_to_and_the_clv_options():
    card = cxbench.compute(CDNOW, metrics=["clv_predicted"], period="all", to="1997-09-30", clv_time_unit="week",
                           clv_horizon=39)
    record = pick(card, "clv_predicted")
    # Calibrated to 1997-09-30 in weeks: the papers' CDNOW fit (Fader, Hardie & Lee 2005: r = 0.243, α = 4.414,
    # a = 0.793, b = 2.426).
    bg = record["details"]["bg_nbd"]
    assert [round(bg[k], 3) for k in ("r", "alpha", "a", "b")] == [0.243, 4.414, 0.793, 2.426]
    assert record["details"]["horizon"] == 39.0


def test_clv_predicted_is_unavailable_with_the_reason_when_the_models_cannot_be_fitted(tmp_path: Path):
    orders = [{"order_id": str(i), "customer_id": f"c{i % 3}", "ts": f"2026-01-{i + 1:02d}", "amount": 10}
              for i in range(6)]
    card = cxbench.compute(write_tables(tmp_path / "data", {"orders": orders}), metrics=["clv_predicted"])
    record = pick(card, "clv_predicted")
    assert record["status"] == "unavailable" and record["value"] is None
    assert "the CLV models cannot be fitted on the orders up to 2026-01-06" in record["reason"]
    assert "fewer than 20" in record["reason"]


def test_clv_predicted_without_orders_is_unavailable(tmp_path: Path):
    folder = write_tables(tmp_path / "data", {"campaigns": "date,campaign,impressions,clicks\n2026-01-01,x,10,1\n"})
    record = pick(cxbench.compute(folder, metrics=["clv_predicted"]), "clv_predicted")
    assert record["status"] == "unavailable" and "orders" in record["reason"]
