"""Shared fixtures: one `backend` fixture runs a test on DuckDB and on Spark (local mode).

Spark tests share one SparkSession for the whole run: they are grouped on one xdist worker
(`--dist loadgroup`), and the session is made once per process.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

import cxbench
from cxbench.api import Scorecard

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

BACKENDS = [
    "duckdb",
    pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.xdist_group("spark")]),
]


@pytest.fixture(scope="session")
def spark_connection():
    """The one Ibis-on-Spark connection of the test run (Java 17 must be on the PATH)."""
    from cxbench.core.spark import local_spark_connection

    return local_spark_connection()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Any:
    """The engine a test runs on: "duckdb", or the session's Spark connection."""
    if request.param == "spark":
        return request.getfixturevalue("spark_connection")
    return "duckdb"


def write_tables(folder: Path, tables: Mapping[str, str | Iterable[Mapping[str, Any]]]) -> Path:
    """Write each table as `folder/NAME.csv`, from CSV text or a list of row dicts."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in tables.items():
        if isinstance(content, str):
            text = content.strip("\n") + "\n"
        else:
            rows = list(content)
            columns: list[str] = []
            for row in rows:
                columns.extend(c for c in row if c not in columns)
            sink = io.StringIO()
            writer = csv.DictWriter(sink, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            text = sink.getvalue()
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def run_case(tmp_path: Path, backend: Any) -> Callable[..., Scorecard]:
    """Write tables to a fresh folder and compute the scorecard on the test's backend."""
    counter = iter(range(1_000))

    def run(tables: Mapping[str, Any], **options: Any) -> Scorecard:
        folder = write_tables(tmp_path / f"case{next(counter)}", tables)
        return cxbench.compute(folder, engine=backend, **options)

    return run


def pick(card: Scorecard, metric_id: str, *, period_start: str | None = None, segment: dict | None = None,
         dimension: dict | None = None) -> dict[str, Any]:
    """The one record of a metric for a period (default: the only one), segment and breakdown."""
    records = [r for r in card.get(metric_id, segment=segment, dimension=dimension)
               if period_start is None or r["period_start"] == period_start]
    assert len(records) == 1, f"expected one {metric_id} record, found {len(records)}: {records}"
    return records[0]


def answers(survey: str, scores: Mapping[float, int] | None = None, *, start: int = 0, ts: str = "2026-10-05T12:00:00Z",
            **columns: Any) -> list[dict[str, Any]]:
    """Survey rows: `scores` maps a score to how many answers gave it; other columns are constant."""
    rows = []
    index = start
    for score, count in (scores or {}).items():
        for _ in range(count):
            rows.append({"response_id": f"{survey}-{index}", "respondent_id": f"c{index}", "ts": ts,
                         "survey": survey, "score": score, **columns})
            index += 1
    return rows
