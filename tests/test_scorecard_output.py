"""What a new user meets first: formats, the Python objects, the terminal table (issue 14, friction).

In-process, tiny data, DuckDB only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import cxbench
from conftest import answers, write_tables
from cxbench import render
from cxbench.cli import app
from cxbench.core.records import MetricRecord
from cxbench.findings import findings
from cxbench.metrics import METRICS_BY_ID, REGISTRY

runner = CliRunner()


@pytest.fixture(scope="module")
def two_month_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = answers("nps", {10: 6, 9: 4, 8: 5, 3: 5}) + answers("csat", {5: 3, 2: 1}, start=100)
    rows += answers("nps", {2: 1}, start=200, ts="2026-09-20T10:00:00Z")
    return write_tables(tmp_path_factory.mktemp("two") / "data", {"surveys": rows})


@pytest.fixture(scope="module")
def card(two_month_folder: Path) -> cxbench.Scorecard:
    return cxbench.compute(two_month_folder, metrics=["nps", "csat"], compare="2026-09-01..2026-09-30")


# -- formats ---------------------------------------------------------------------------------------------


def test_validate_format_csv_prints_csv_not_json(two_month_folder: Path):
    result = runner.invoke(app, ["validate", str(two_month_folder), "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["kind"] == "table" and rows[0]["table"] == "surveys" and rows[0]["rows"] == "25"


def test_metrics_format_csv_prints_one_row_per_metric():
    result = runner.invoke(app, ["metrics", "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == [m.id for m in REGISTRY]
    assert {"formula", "unit", "benchmark", "benchmark_source"} <= set(rows[0])


# -- the Python objects ------------------------------------------------------------------------------------


def test_scorecard_repr_is_short_and_html_repr_is_escaped(card: cxbench.Scorecard):
    text = repr(card)
    assert text.startswith("<Scorecard") and len(text) < 2_000 and "records" in text
    html = card._repr_html_()
    assert "<table>" in html and len(html) < 5_000
    hostile = cxbench.Scorecard(records=(), findings=(), validation=card.validation, source="<script>x</script>",
                                period=card.period, options=card.options, generated_at=card.generated_at)
    assert "<script>" not in hostile._repr_html_() and "&lt;script&gt;" in hostile._repr_html_()


def test_get_of_an_unknown_metric_raises_keyerror_naming_the_known_ones(card: cxbench.Scorecard):
    with pytest.raises(KeyError, match="npss.*csat, nps"):
        card.get("npss")
    assert card.get("ces") == []  # a registered metric this run did not compute: no records, no error


def test_compute_takes_the_clis_from_and_to_and_still_accepts_start_and_end(two_month_folder: Path):
    card = cxbench.compute(two_month_folder, metrics=["nps"], from_="2026-10-01", to="2026-10-31")
    assert {r.period_start for r in card.get("nps")} == {dt.date(2026, 10, 1)}
    with pytest.warns(DeprecationWarning, match="from_"):
        old = cxbench.compute(two_month_folder, metrics=["nps"], start="2026-10-01")
    assert {r.period_start for r in old.get("nps")} == {dt.date(2026, 10, 1)}
    with pytest.raises(cxbench.UsageError, match="not both"):
        cxbench.compute(two_month_folder, from_="2026-10-01", start="2026-10-01")


def test_csv_and_pandas_keep_compared_with_details_and_targets(card: cxbench.Scorecard, two_month_folder: Path,
                                                               tmp_path: Path):
    frame = card.to_pandas()
    october = frame[(frame.id == "nps") & (frame.period_start == "2026-10-01") & frame.dimension_column.isna()].iloc[0]
    # --compare 2026-09 (1 detractor of 1, NPS -100) against October's 25: delta 125.
    assert october.compared_from == "2026-09-01" and october.compared_to == "2026-09-30"
    assert october.compared_value == pytest.approx(-100) and october.compared_delta == pytest.approx(125)
    assert json.loads(october.details)["positive"] == 10
    targets = tmp_path / "targets.yaml"
    targets.write_text("nps:\n  target: 30\n")
    result = runner.invoke(app, ["run", str(two_month_folder), "--metric", "nps", "--format", "csv",
                                 "--benchmarks", str(targets)])
    rows = [r for r in csv.DictReader(io.StringIO(result.stdout))
            if r["period_start"] == "2026-10-01" and not r["dimension_column"]]
    assert float(rows[0]["benchmark_target"]) == 30 and rows[0]["benchmark_target_met"] == "false"  # 25 < 30
    assert json.loads(rows[0]["details"])["negative"] == 5


# -- the terminal table ------------------------------------------------------------------------------------


def _printed(card: cxbench.Scorecard, width: int = 100, **options) -> str:
    sink = io.StringIO()
    Console(file=sink, width=width, no_color=True).print(render.scorecard_renderable(card, **options))
    return sink.getvalue()


def test_terminal_table_fits_100_columns_with_the_sources_in_a_footnote(card: cxbench.Scorecard):
    text = _printed(card)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 100
    assert "rating sources: seed 003: nps, csat" in text
    nps = next(line for line in text.splitlines() if line.startswith("nps "))
    assert "(003)" not in nps and "25.0" in nps  # the value is whole, the source went to the footnote


def test_a_small_sample_value_carries_a_marker_in_its_row(card: cxbench.Scorecard):
    # October's CSAT has 4 answers, under --min-sample 30.
    csat = next(line for line in _printed(card).splitlines() if line.startswith("csat "))
    assert "4†" in csat


def test_unavailable_metrics_are_one_line_unless_asked(tmp_path: Path):
    orders = [{"order_id": f"o{i}", "customer_id": f"c{i}", "ts": "2026-10-05T10:00:00Z", "amount": 20}
              for i in range(3)]
    card = cxbench.compute(write_tables(tmp_path / "d", {"orders": orders}))
    text = _printed(card)
    assert "unavailable (" in text and "nps, csat" in text
    assert not any(line.startswith("nps ") for line in text.splitlines())
    assert any(line.startswith("sales ") for line in text.splitlines())
    assert len(text.splitlines()) < 60
    shown = _printed(card, show_unavailable=True)
    assert any(line.startswith("nps: needs the surveys table") for line in shown.splitlines())


def test_three_clvs_side_by_side_get_one_line_saying_how_they_differ(tmp_path: Path):
    orders = [{"order_id": f"o{i}{m}", "customer_id": f"c{i}", "ts": f"2026-{m:02d}-05T10:00:00Z", "amount": 20}
              for i in range(3) for m in (8, 9, 10)]
    card = cxbench.compute(write_tables(tmp_path / "d", {"orders": orders}), metrics=["clv", "clv_historical"],
                           lifetime_years=2)
    assert render.CLV_DIFFERENCE in _printed(card, width=400)


def test_progress_shows_only_when_standard_error_is_a_terminal():
    with render.metric_progress(Console(file=io.StringIO(), force_terminal=False)) as progress:
        assert progress is None
    sink = io.StringIO()
    with render.metric_progress(Console(file=sink, force_terminal=True), after_seconds=0) as progress:
        assert progress is not None
        time.sleep(0.2)  # the bar starts from a timer
        progress("nps", 1, 2)
        progress("[/]csat", 2, 2)  # a step name is text, never markup
    assert "[/]csat" in sink.getvalue()


# -- segments ----------------------------------------------------------------------------------------------


def _record(segment: dict) -> MetricRecord:
    return MetricRecord(id="csat", period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 10, 31),
                        segment=segment, dimension=None, value=50.0, unit="percent", n=40)


def test_findings_name_the_segment_and_customers_without_one():
    from cxbench.core.records import Rating

    rated = [r.evolve(benchmark=Rating(rating="poor", source="003", applied="library"))
             for r in (_record({"plan": "pro"}), _record({"plan": None}))]
    messages = [f.message for f in findings(rated, METRICS_BY_ID)]
    assert any("for customers with plan pro" in m for m in messages)
    assert any("for customers with no plan" in m for m in messages)
    assert not any("None" in m for m in messages)


def test_a_gap_between_touchpoints_of_a_segment_names_the_segment():
    rows = [_record({"plan": "pro"}).evolve(dimension={"touchpoint": "web"}, value=80.0),
            _record({"plan": "pro"}).evolve(dimension={"touchpoint": "shop"}, value=40.0)]
    gap = [f for f in findings(rows, METRICS_BY_ID) if f.kind == "touchpoint_gap"]
    assert len(gap) == 1 and "by 40.0 points for customers with plan pro" in gap[0].message


def test_metrics_of_tables_without_customers_are_not_repeated_per_segment(tmp_path: Path):
    customers = [{"customer_id": f"c{i}", "signup_at": "2026-01-01T00:00:00Z", "plan": "pro" if i else "basic"}
                 for i in range(2)]
    campaigns = [{"date": "2026-10-01", "campaign": "a", "impressions": 100, "clicks": 5}]
    rows = [
        {"response_id": "r1", "respondent_id": "c1", "ts": "2026-10-05T12:00:00Z", "survey": "csat", "score": 5}]
    card = cxbench.compute(write_tables(tmp_path / "d", {"customers": customers, "campaigns": campaigns,
                                                         "surveys": rows}),
                           metrics=["ctr", "csat"], segment="plan")
    assert {tuple(r.segment.items()) for r in card.records if r.id == "ctr"} == {()}
    assert ("plan", "pro") in {item for r in card.records if r.id == "csat" for item in r.segment.items()}


def test_segmented_table_names_the_segment_column_once_and_fits_100_columns(tmp_path: Path):
    customers = [{"customer_id": f"c{i}", "signup_at": "2026-01-01T00:00:00Z", "plan": ("pro", "business")[i % 2]}
                 for i in range(4)]
    orders = [{"order_id": f"o{i}", "customer_id": f"c{i % 4}", "ts": f"2026-{9 + i % 2}-05T10:00:00Z",
               "amount": 123_456.78 * (1 + i)} for i in range(8)]
    card = cxbench.compute(write_tables(tmp_path / "d", {"customers": customers, "orders": orders}),
                           metrics=["sales"], segment="plan", compare="2026-09-01..2026-09-30")
    text = _printed(card)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 100
    header = next(line for line in text.splitlines() if line.startswith("metric"))
    assert "plan" in header and "plan=" not in text
    # October's sales: orders 1, 3, 5, 7 → 123,456.78 × (2 + 4 + 6 + 8) = 2,469,135.60, shown without cents.
    assert "2,469,136" in next(line for line in text.splitlines() if line.startswith("sales") and " all " in line)
