"""The HTML report (issue 15): one self-contained file drawn from the scorecard's records.

The demo company (500 customers, a year) is computed once for the module, on DuckDB; the --compare window is
checked on a small NPS-only dataset, which keeps the module's time down (the window doubles the engine's work).
The browser checks run Debian's chromium through Playwright (`make test` installs it when absent; Playwright's
own browser download needs the internet). Where chromium is not found the test fails and says how to install it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import cxbench
from cxbench.api import Scorecard
from cxbench.core.registry import Family
from cxbench.demo import generate_dataset
from cxbench.metrics import METRICS_BY_ID
from cxbench.report.model import MRR_BRIDGE, segment_label
from conftest import answers, write_tables

DEMO = {"customers": 500, "days": 365, "seed": 7}
HOSTILE_SEGMENT = "<script>alert('segment')</script>"
HOSTILE_TOUCHPOINT = "</script><img src=x onerror=alert('touchpoint')>"


@pytest.fixture(scope="module")
def demo_card(tmp_path_factory: pytest.TempPathFactory) -> Scorecard:
    folder = tmp_path_factory.mktemp("demo") / "data"
    generate_dataset(folder, file_format="csv", **DEMO)
    return cxbench.compute(folder, period="month", engine="duckdb")


@pytest.fixture(scope="module")
def demo_report(demo_card: Scorecard, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cxbench.report import write_html

    return write_html(demo_card, tmp_path_factory.mktemp("report") / "report.html")


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """NPS answers from two segments, one named like a script, one touchpoint named like a tag."""
    customers = [{"customer_id": f"c{i}", "signup_at": "2026-01-01", "segment": HOSTILE_SEGMENT if i % 2 else "plain"}
                 for i in range(80)]
    rows = (answers("nps", {10: 20, 8: 10, 3: 10}, ts="2026-09-10T12:00:00Z", touchpoint="ordering")
            + answers("nps", {9: 15, 7: 15, 2: 10}, start=40, ts="2026-10-10T12:00:00Z", touchpoint=HOSTILE_TOUCHPOINT))
    return write_tables(tmp_path_factory.mktemp("hostile"), {"customers": customers, "surveys": rows})


@pytest.fixture(scope="module")
def hostile_card(hostile_folder: Path) -> Scorecard:
    # CES has no answers: it goes to the list of unavailable metrics.
    return cxbench.compute(hostile_folder, metrics=["nps", "ces"], segment="segment",
                           compare="2026-09-01..2026-09-30", engine="duckdb")


class _Page(HTMLParser):
    """The tags, resource attributes, visible text and embedded data of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.resources: list[tuple[str, str, str]] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "data", "poster") and value is not None:
                self.resources.append((tag, name, value))
            if name == "id" and value:
                self.ids.add(value)
        if tag == "script":
            self._script, self._buffer = dict(attrs), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._buffer)))
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._buffer.append(data)
        else:
            self.text.append(data)

    @property
    def payload(self) -> dict[str, Any]:
        found = [body for attrs, body in self.scripts if attrs.get("id") == "cx-data"]
        assert len(found) == 1
        return json.loads(found[0])


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


# -- the file ------------------------------------------------------------------------------------------------------


def test_report_parses_is_self_contained_and_under_8_mb(demo_report: Path):
    html = demo_report.read_text(encoding="utf-8")
    page = parse(html)
    assert html.startswith("<!DOCTYPE html>") and page.tags.count("html") == 1
    # Only links inside the page: no script, style sheet, image or font is fetched from anywhere.
    assert [r for r in page.resources if not r[2].startswith("#")] == []
    assert "<link" not in html and not any("src" in attrs for attrs, _ in page.scripts)
    # Plotly's JavaScript once, the data once, the report's script once.
    assert len(page.scripts) == 3 and html.count("Plotly = ") <= 1
    assert demo_report.stat().st_size < 8_000_000


def test_header_and_findings_come_first(demo_card: Scorecard, demo_report: Path):
    page = parse(demo_report.read_text(encoding="utf-8"))
    text = " ".join(" ".join(page.text).split())
    assert text.index("Rows read, used and set aside") < text.index("Findings: what needs attention first")
    assert text.index("Findings: what needs attention first") < text.index(Family.SURVEYS.value + " NPS answers")
    inputs = demo_card.validation.to_dict()["inputs"]
    assert f"{inputs['events']['rows']:,}" in text and "set-aside" in page.ids
    for finding in demo_card.findings:
        assert finding.message in text and f"card-{finding.metric}" in page.ids


def test_every_metric_with_a_value_has_a_chart_of_its_records(demo_card: Scorecard, demo_report: Path):
    page = parse(demo_report.read_text(encoding="utf-8"))
    payload = page.payload
    charts = payload["charts"]
    assert {c["id"] for c in charts} <= page.ids
    trends = {c["metric"]: c for c in charts if c["kind"] == "trend"}
    with_value = {r.id for r in demo_card.records if r.ok and r.value is not None}
    assert with_value, "the demo has values"
    for metric_id in sorted(with_value):
        if any(r.id == metric_id and r.dimension is None and r.ok for r in demo_card.records):
            records = demo_card.get(metric_id)  # whole dataset, overall, every period
            drawn = trends[metric_id]["data"]["0"]
            assert drawn["x"] == [_day(r.period_start) for r in records], metric_id
            assert drawn["y"] == [r.value if r.ok else None for r in records], metric_id
            assert drawn["lo"] == [r.ci_low for r in records] and drawn["hi"] == [r.ci_high for r in records]
            assert drawn["n"] == [r.n for r in records]
            assert drawn["sig"] == [bool(r.change and r.change.significant) for r in records]
        else:  # reported per breakdown value only: a chart of those values
            assert any(c["metric"] == metric_id for c in charts), metric_id
    unavailable = {r.id for r in demo_card.records} - with_value
    listed = " ".join(page.text)
    assert all(METRICS_BY_ID[m].name in listed for m in unavailable)


def test_breakdown_and_family_charts_hold_the_records_values(demo_card: Scorecard, demo_report: Path):
    charts = parse(demo_report.read_text(encoding="utf-8")).payload["charts"]
    by_value = {}
    for r in demo_card.records:
        if r.dimension is not None and r.ok and not r.segment:
            by_value[(r.id, _day(r.period_start), ", ".join(r.dimension), ", ".join(str(v) for v in r.dimension.values()))] = r
    dots = [c for c in charts if c["kind"] in ("dots", "bars")]
    assert any(c["metric"] == "csat" and c["options"]["dimension"] == "touchpoint" for c in dots)
    for chart in dots:
        data = chart["data"]["0"]
        for label, value, low, n in zip(data["labels"], data["y"], data["lo"], data["n"], strict=True):
            record = by_value[(chart["metric"], data["period"], chart["options"]["dimension"], label)]
            assert (value, low, n) == (record.value, record.ci_low, record.n), chart["id"]
    kinds = {c["kind"] for c in charts}
    assert {"nps", "heatmap", "waterfall", "stack", "strip", "grouped", "bars"} <= kinds
    bridge = next(c for c in charts if c["kind"] == "waterfall")["data"]["0"]
    for (metric_id, label, sign), (shown, value) in zip(MRR_BRIDGE, bridge["steps"], strict=True):
        record = next(r for r in demo_card.get(metric_id) if _day(r.period_start) == bridge["period"])
        assert (shown, value) == (label, sign * record.value)
    nps = next(c for c in charts if c["kind"] == "nps" and c["metric"] == "nps")["data"]["0"]
    latest = [r for r in demo_card.get("nps") if r.ok][-1]
    assert nps["promoters"][-1] == latest.details["positive_pct"]
    assert nps["detractors"][-1] == latest.details["negative_pct"]
    heatmap = next(c for c in charts if c["kind"] == "heatmap")["data"]["0"]
    cell = by_value[("retention_cohorts", heatmap["cohorts"][0], "cohort, offset", f"{heatmap['cohorts'][0]}, 0")]
    assert heatmap["z"][0][0] == cell.value
    mrr_cohorts = next(c for c in charts if c["metric"] == "net_mrr_retention_cohorts")["data"]["0"]
    cells = [r for r in demo_card.records
             if r.id == "net_mrr_retention_cohorts" and r.ok and r.value is not None and not r.segment]
    assert cells
    for r in cells:
        row = mrr_cohorts["cohorts"].index(str(r.dimension["cohort"]))
        assert mrr_cohorts["z"][row][mrr_cohorts["offsets"].index(r.dimension["offset"])] == r.value
    assert mrr_cohorts["zmax"] == max(100.0, *(r.value for r in cells))
    health = next(c for c in charts if c["id"].endswith("customer-health-bands"))["data"]["0"]
    scores = [r for r in demo_card.get("customer_health_score") if r.ok]
    assert health["x"] == [_day(r.period_start) for r in scores]
    for series, key in zip(health["series"], ("green_pct", "yellow_pct", "red_pct"), strict=True):
        assert series["y"] == [r.details[key] for r in scores]
    resolution = next(c for c in charts if c["id"].endswith("resolution-by-channel"))["data"]["0"]
    series = {s["name"]: s["y"] for s in resolution["series"]}
    for i, channel in enumerate(resolution["labels"]):
        record = by_value[("median_resolution_time", resolution["period"], "channel", channel)]
        assert [series[k][i] for k in ("10th percentile", "25th", "median", "75th", "90th")] == [
            record.details["p10"], record.details["p25"], record.value, record.details["p75"], record.details["p90"]]


def test_clv_cac_by_acquisition_channel_is_drawn_from_its_records_against_the_3_to_1_line(demo_card: Scorecard,
                                                                                          demo_report: Path):
    charts = parse(demo_report.read_text(encoding="utf-8")).payload["charts"]
    chart = next(c for c in charts if c["kind"] == "ratio")
    assert chart["metric"] == "clv_cac_ratio" and chart["options"]["line"] == {"y": 3.0, "label": "3 : 1"}  # seed 004
    data = chart["data"]["0"]
    records = {r.dimension["acquisition_channel"]: r for r in demo_card.records if r.id == "clv_cac_ratio"
               and r.dimension and not r.segment and r.ok and _day(r.period_start) == data["period"]}
    assert data["labels"] and sorted(data["labels"]) == sorted(records)
    for label, value, clv, cac, n in zip(data["labels"], data["y"], data["clv"], data["cac"], data["n"], strict=True):
        record = records[label]
        assert (value, clv, cac, n) == (record.value, record.details["clv"], record.details["cac"], record.n)
    # Beside CAC by the same channel column: the family charts put them next to each other.
    ids = [c["id"] for c in charts]
    assert ids.index(chart["id"]) == ids.index("chart-cac-by-acquisition_channel-2") + 1
    cac = next(c for c in charts if c["id"] == "chart-cac-by-acquisition_channel-2")["data"]["0"]
    shown = set(data["labels"]) | {w.split(" (")[0] for w in data["without"]}
    assert cac["period"] == data["period"] and set(cac["labels"]) == shown


def test_cli_report_draws_the_clv_holdout_check_without_being_given_a_calibration_end(tmp_path: Path):
    from typer.testing import CliRunner

    from cxbench.cli import app

    # CDNOW's sample (tests/data/cdnow, Fader, Hardie & Lee 2005): orders from 1997-01-01 to 1998-06-30, 546 days.
    # Two thirds in, 364 days after the first, is 1997-12-31, so the calibration ends on the last day of the month
    # before, 1997-11-30, and the holdout runs from 1997-12-01 to the last order, 1998-06-30.
    cdnow = Path(__file__).parent / "data" / "cdnow"
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", str(cdnow), "--out", str(out), "--metric", "clv_predicted"])
    assert result.exit_code == 0, result.output
    holdout = next(c for c in parse(out.read_text(encoding="utf-8")).payload["charts"] if c["kind"] == "holdout")
    assert "1997-12-01 to 1998-06-30" in holdout["title"]
    assert sum(holdout["data"]["0"]["customers"]) == 2357  # the whole cohort bought before the calibration end


def test_to_html_shades_the_benchmarks_the_card_was_computed_with(hostile_folder: Path, tmp_path: Path):
    bands = tmp_path / "bands.yaml"
    bands.write_text("nps:\n  source: our board\n  bands:\n    - {label: poor, high: 30}\n"
                     "    - {label: good, low: 30, low_inclusive: false}\n", encoding="utf-8")
    card = cxbench.compute(hostile_folder, metrics=["nps"], benchmarks=bands, engine="duckdb")
    trend = next(c for c in parse(card.to_html()).payload["charts"] if c["id"] == "chart-nps-trend")
    assert trend["options"]["bands"] == [{"label": "poor", "low": None, "high": 30.0},
                                         {"label": "good", "low": 30.0, "high": None}]


def test_without_javascript_each_card_lists_its_values(hostile_card: Scorecard):
    html = hostile_card.to_html()
    start = html.index("<noscript>", html.index('id="card-nps"'))
    text = " ".join(parse(html[start:html.index("</noscript>", start)]).text).split()
    # NPS of the whole dataset: September (20 − 10) / 40 = 25.0, October (15 − 10) / 40 = 12.5 (hostile_folder).
    assert "2026-09" in text and "25.0" in text and "2026-10" in text and "12.5" in text
    assert "<noscript><style>" in html  # the empty chart boxes are hidden too


def test_hostile_values_show_as_text(hostile_card: Scorecard):
    html = hostile_card.to_html()
    page = parse(html)
    assert "<script>alert" not in html and "<img" not in html
    assert page.tags.count("script") == 3 and "img" not in page.tags
    text = "".join(page.text)
    assert segment_label({"segment": HOSTILE_SEGMENT}) in text  # the option's text, as written
    assert "--compare 2026-09-01..2026-09-30" in " ".join(text.split())
    payload = page.payload  # the embedded JSON holds the names unchanged
    assert segment_label({"segment": HOSTILE_SEGMENT}) in payload["segments"]
    assert any(HOSTILE_TOUCHPOINT in c["data"]["0"].get("labels", []) for c in payload["charts"])
    assert payload["compare"] == ["2026-09-01", "2026-09-30"]


def test_unavailable_metrics_are_listed_with_their_reason_not_as_cards(hostile_card: Scorecard):
    page = parse(hostile_card.to_html())
    text = " ".join("".join(page.text).split())
    reason = next(r.reason for r in hostile_card.get("ces") if r.reason)
    assert "Unavailable metrics (1)" in text and f"Customer Effort Score ces: {reason}" in text
    assert "card-ces" not in page.ids and "card-nps" in page.ids


def test_report_command_writes_the_page_of_the_run(hostile_folder: Path, hostile_card: Scorecard, tmp_path: Path):
    from typer.testing import CliRunner

    from cxbench.cli import app

    out = tmp_path / "out" / "report.html"
    result = CliRunner().invoke(app, ["report", str(hostile_folder), "--out", str(out), "--metric", "nps",
                                      "--metric", "ces", "--segment", "segment", "--compare", "2026-09-01..2026-09-30"])
    assert result.exit_code == 0, result.output
    written = parse(out.read_text(encoding="utf-8")).payload
    assert written == parse(hostile_card.to_html()).payload  # the same records, the same charts
    bad = CliRunner().invoke(app, ["report", str(hostile_folder), "--out", str(out), "--period", "fortnight"])
    assert bad.exit_code == 2


def test_bands_and_targets_of_a_benchmarks_file_are_drawn_per_segment(hostile_card: Scorecard, tmp_path: Path):
    bands = tmp_path / "bands.yaml"
    bands.write_text("nps:\n  source: our board\n  bands:\n    - {label: poor, high: 30}\n"
                     "    - {label: good, low: 30, low_inclusive: false}\n  target: 35\n"
                     "  segments:\n    segment=plain: {target: 50}\n", encoding="utf-8")
    charts = parse(hostile_card.to_html(benchmarks=bands)).payload["charts"]
    trend = next(c for c in charts if c["id"] == "chart-nps-trend")
    assert trend["options"]["bands"] == [{"label": "poor", "low": None, "high": 30.0},
                                         {"label": "good", "low": 30.0, "high": None}]
    plain = parse(hostile_card.to_html()).payload["segments"].index("segment=plain")
    assert trend["data"]["0"]["target"] == 35.0 and trend["data"][str(plain)]["target"] == 50.0


# -- in the browser ------------------------------------------------------------------------------------------------


def _chromium() -> str:
    path = os.environ.get("CXBENCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed: `make test` installs Debian's package (apt-get install chromium), "
                    "or point CXBENCH_CHROMIUM at a Chromium binary")
    return path


@pytest.fixture(scope="module")
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _open(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_function("window.cxReport && window.cxReport.settled()")
    return page, errors, requests


_VARIANCE = """async (png) => {
  const image = new Image();
  image.src = "data:image/png;base64," + png;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  let sum = 0, squares = 0, count = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const grey = (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3;
    sum += grey; squares += grey * grey; count += 1;
  }
  const mean = sum / count;
  return squares / count - mean * mean;
}"""


def test_demo_report_renders_in_chromium_without_errors(browser: Any, demo_report: Path, demo_card: Scorecard):
    page, errors, requests = _open(browser, demo_report)
    try:
        sections = page.eval_on_selector_all("section.family", "nodes => nodes.map(n => n.id)")
        assert len(sections) == len({METRICS_BY_ID[r.id].family for r in demo_card.records if r.ok})
        for section in sections:
            page.evaluate("id => document.getElementById(id).scrollIntoView()", section)
            page.wait_for_function("window.cxReport.settled()")
            drawn = page.evaluate("id => document.querySelectorAll('#' + id + ' .chart.js-plotly-plot').length", section)
            assert drawn > 0, section
            shot = page.screenshot()
            variance = page.evaluate(_VARIANCE, base64.b64encode(shot).decode())
            assert variance > 100, f"{section} looks blank (pixel variance {variance:.0f})"
        # The trend drawn is the records' series (units other than durations are drawn as they are).
        drawn_nps = page.evaluate("document.getElementById('chart-nps-trend').data"
                                  ".find(t => t.name === 'value').y")
        assert drawn_nps == [r.value if r.ok else None for r in demo_card.get("nps")]
        # A forecast made once (one period with a value) is one dot over its period's label, not a day axis.
        page.evaluate("window.cxReport.renderAll()")
        single = page.evaluate("(() => { const e = document.getElementById('chart-clv_predicted-trend');"
                               " return [e.layout.xaxis.type, e.data.find(t => t.name === 'value').x]; })()")
        latest = [r for r in demo_card.get("clv_predicted") if r.ok]
        assert len(latest) == 1 and single == ["category", [latest[0].period_start.strftime("%Y-%m")]]
        assert errors == []
        assert [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))] == []
    finally:
        page.close()


def test_every_chart_follows_the_segment_selector(browser: Any, hostile_card: Scorecard, tmp_path: Path):
    from cxbench.report import write_html

    path = write_html(hostile_card, tmp_path / "hostile.html")
    page, errors, _ = _open(browser, path)
    try:
        label = segment_label({"segment": HOSTILE_SEGMENT})
        options = page.eval_on_selector_all("#segment option", "nodes => nodes.map(n => n.textContent)")
        assert label in options
        page.select_option("#segment", label=label)
        # Charts are drawn when they scroll into view: the ones below are drawn for the new segment on the way.
        page.evaluate("document.getElementById('card-nps').scrollIntoView()")
        page.wait_for_function("window.cxReport.settled()")
        drawn = page.evaluate("document.getElementById('chart-nps-trend').data.find(t => t.name === 'value').y")
        assert drawn == [r.value for r in hostile_card.get("nps", segment={"segment": HOSTILE_SEGMENT})]
        summary = page.evaluate("[...document.querySelectorAll('#card-nps .summary')]"
                                ".filter(s => !s.hidden).map(s => s.dataset.seg)")
        assert summary == [str(options.index(label))]
        shaded = page.evaluate("document.getElementById('chart-nps-trend').layout.shapes"
                               ".filter(s => s.xref === 'x').map(s => [s.x0, s.x1])")
        assert shaded == [["2026-09-01", "2026-09-30"]]  # the --compare window
        dims = page.evaluate("document.getElementById('chart-nps-by-touchpoint').data[0].y")
        assert any("&lt;/script&gt;" in d for d in dims)  # Plotly shows the entity as the character
        assert errors == []
    finally:
        page.close()
