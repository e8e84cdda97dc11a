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


def test_docs_contract_md_is_current_and_lists_every_table():
    from cxbench.core.contract import TABLES
    from cxbench.docs import contract_markdown

    written = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    assert written == contract_markdown(), "docs/contract.md is stale: run `make docs`"
    assert all(f"\n### {spec.name}\n" in written for spec in TABLES) and len(TABLES) == 14


def test_readme_documents_all_fourteen_tables_from_the_contract():
    from cxbench.docs import contract_table_markdown

    assert contract_table_markdown() in (ROOT / "README.md").read_text(encoding="utf-8"), \
        "README's table list is stale: paste `contract_table_markdown()` in"


def test_help_names_only_docs_that_exist():
    import re

    from typer.testing import CliRunner

    from cxbench.cli import app

    for command in ("run", "validate"):
        text = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
        named = set(re.findall(r"[\w/]+\.md", text))
        assert "CONTRACT.md" not in named and "docs/contract.md" in named
        assert all((ROOT / name).exists() for name in named), named
