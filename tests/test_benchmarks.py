"""The benchmark library, verticals, your own bands and targets (--benchmarks), and --fail-on."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import cxbench
from conftest import answers, pick, write_tables
from cxbench.cli import app
from cxbench.core.benchmarks import LABELS, BenchmarkLibrary, ordering_problems
from cxbench.core.errors import UsageError
from cxbench.metrics import METRICS_BY_ID

LIBRARY = BenchmarkLibrary.builtin()

# NPS answers: 10 ×6, 9 ×4, 8 ×5, 3 ×5 → promoters 10, detractors 5 of 20 → NPS +25 ("great", 003: > 20).
NPS_ROWS = answers("nps", {10: 6, 9: 4, 8: 5, 3: 5})


def _every_benchmark():
    for metric_id, bench in LIBRARY.defaults.items():
        yield metric_id, "library", bench
    for vertical, entries in LIBRARY.verticals.items():
        for metric_id, bench in entries.items():
            yield metric_id, f"vertical {vertical}", bench


@pytest.mark.parametrize(("metric_id", "applied", "bench"), list(_every_benchmark()),
                         ids=[f"{m}-{a}" for m, a, _ in _every_benchmark()])
def test_every_library_band_is_ordered_sourced_and_follows_the_metric_direction(metric_id, applied, bench):
    assert metric_id in METRICS_BY_ID, f"{metric_id} is no metric of the registry"
    assert bench.source.strip() and bench.statement.strip()
    assert bench.applied == applied
    assert all(b.label in LABELS for _, bands in bench.all_bands() for b in bands)
    assert all(bands for _, bands in bench.all_bands())
    assert ordering_problems(bench, METRICS_BY_ID[metric_id].direction.value) == []


def test_ordering_check_catches_a_better_label_on_the_worse_side():
    # Churn is better down: "great" above "good" contradicts it; overlapping bands are reported too.
    bad = LIBRARY.defaults["churn_rate"]
    flipped = type(bad)(source="x", statement="x", bands=tuple(reversed(
        [b.__class__(b.label, b.low, b.high) for b in bad.bands])))
    assert ordering_problems(flipped, "down")


def test_vertical_bands_replace_the_library_ones_and_say_so(run_case):
    # Seed 004's example: 100 at the start, 5 lost → 5 %. Library (003, 2-8 % healthy) → good.
    # --vertical saas: Recurly's B2B average 4.91 % a month → 5 % is worse → fair.
    rows = [{"subscription_id": f"s{i}", "customer_id": f"k{i}", "start_at": "2026-08-01T10:00:00Z",
             "end_at": "2026-09-15T00:00:00Z" if i < 5 else "", "mrr": 30} for i in range(100)]
    library = pick(run_case({"subscriptions": rows}, metrics=["churn_rate"]), "churn_rate", period_start="2026-09-01")
    saas = pick(run_case({"subscriptions": rows}, metrics=["churn_rate"], vertical="saas"), "churn_rate",
                period_start="2026-09-01")
    assert library["benchmark"] == {"rating": "good", "source": "003", "applied": "library"}
    assert saas["benchmark"]["rating"] == "fair"
    assert saas["benchmark"]["applied"] == "vertical saas"
    assert saas["benchmark"]["source"].startswith("Recurly")


def test_unknown_vertical_is_a_usage_error_listing_the_known_ones(tmp_path: Path):
    folder = write_tables(tmp_path / "d", {"surveys": NPS_ROWS})
    with pytest.raises(UsageError, match="known verticals: ecommerce, saas"):
        cxbench.compute(folder, vertical="banking")


def test_own_benchmarks_file_sets_bands_targets_and_segment_targets(tmp_path: Path):
    # NPS +25 overall. The file's bands: ≤ 30 poor, above good → poor; target 20 → met (higher is better).
    # Segment plan=pro (NPS of c0-c9 = 10 promoters of 10 = +100) has its own target 110 → not met.
    rows = NPS_ROWS
    customers = [{"customer_id": f"c{i}", "signup_at": "2026-01-01", "plan": "pro" if i < 10 else "basic"}
                 for i in range(20)]
    folder = write_tables(tmp_path / "d", {"surveys": rows, "customers": customers})
    (tmp_path / "ours.yaml").write_text(
        "nps:\n"
        "  source: board target 2026\n"
        "  bands:\n"
        "    - {label: poor, high: 30}\n"
        "    - {label: good, low: 30, low_inclusive: false}\n"
        "  target: 20\n"
        "  segments:\n"
        "    plan=pro: {target: 110}\n"
        "csat:\n"
        "  target: 90\n", encoding="utf-8")
    card = cxbench.compute(folder, period="all", segment="plan", metrics=["nps"], benchmarks=tmp_path / "ours.yaml")
    overall = pick(card, "nps")
    assert overall["benchmark"] == {"rating": "poor", "source": "board target 2026", "applied": "file",
                                    "target": 20.0, "target_met": True}
    pro = pick(card, "nps", segment={"plan": "pro"})
    assert pro["value"] == pytest.approx(100)
    assert pro["benchmark"]["target"] == 110 and pro["benchmark"]["target_met"] is False
    assert pro["benchmark"]["rating"] == "good"  # the file's bands still apply to the segment


def test_benchmarks_file_with_an_unknown_label_names_the_fix(tmp_path: Path):
    folder = write_tables(tmp_path / "d", {"surveys": NPS_ROWS})
    (tmp_path / "bad.yaml").write_text("nps:\n  source: x\n  bands:\n    - {label: superb, low: 0}\n", encoding="utf-8")
    with pytest.raises(UsageError, match="superb.*poor, fair, good, great, excellent"):
        cxbench.compute(folder, benchmarks=tmp_path / "bad.yaml")


def test_fail_on_exits_1_when_a_latest_rating_is_that_band_or_worse(tmp_path: Path):
    # NPS +25 is "great" (003): --fail-on great → exit 1 naming nps; --fail-on good → exit 0.
    folder = write_tables(tmp_path / "d", {"surveys": NPS_ROWS})
    runner = CliRunner()
    failing = runner.invoke(app, ["run", str(folder), "--metric", "nps", "--fail-on", "great", "--format", "json"])
    assert failing.exit_code == 1
    assert "nps (great)" in failing.stderr
    passing = runner.invoke(app, ["run", str(folder), "--metric", "nps", "--fail-on", "good", "--format", "json"])
    assert passing.exit_code == 0
    wrong = runner.invoke(app, ["run", str(folder), "--metric", "nps", "--fail-on", "awful"])
    assert wrong.exit_code == 2
