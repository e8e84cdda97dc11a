"""The metric reference is generated from the registry and must be current."""

from __future__ import annotations

from pathlib import Path

from cxbench.docs import metrics_markdown
from cxbench.metrics import REGISTRY

ROOT = Path(__file__).resolve().parents[1]


def test_docs_metrics_md_is_current():
    written = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert written == metrics_markdown(), "docs/metrics.md is stale: run `make docs`"


def test_every_metric_is_documented_with_formula_and_source():
    text = metrics_markdown()
    for metric in REGISTRY:
        assert f"### {metric.id}\n" in text
        assert metric.formula and metric.source and metric.description, metric.id


def test_every_metric_has_a_test_that_names_it():
    tests = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*metrics*.py"))
    untested = [m.id for m in REGISTRY if f'"{m.id}"' not in tests]
    assert not untested, f"metrics without a hand-worked test: {untested}"


def test_readme_starts_with_the_two_setup_commands():
    head = (ROOT / "README.md").read_text(encoding="utf-8")[:1500]
    assert "make demo" in head and "make test" in head
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
