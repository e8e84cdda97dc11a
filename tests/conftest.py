"""Shared fixtures: one `backend` fixture runs a test on DuckDB and on Spark (local mode).

Spark tests share one SparkSession for the whole run: `pytest_collection_modifyitems` puts every Spark item in
the xdist group "spark", so `--dist loadgroup` sends them all to one worker, and the session is made once per
process.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

import cxbench
from cxbench.api import Scorecard

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
# The validation cache of this test run stays out of the user's ~/.cache (one folder per run and worker).
os.environ.setdefault("CXBENCH_CACHE_DIR", tempfile.mkdtemp(prefix="cxbench-test-cache-"))

BACKENDS = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Any:
    """Put every Spark item in the xdist group "spark", so `--dist loadgroup` sends them all to one worker.

    Spark items are those of the `backend` fixture's spark parameter and those marked `spark`; one with its own
    `xdist_group` keeps it (the standalone-cluster test runs Spark in processes of its own). The marks are added
    before the other hooks run (xdist's reads them), and the group suffixes checked after (see below).
    """
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_spark = (callspec is not None and callspec.params.get("backend") == "spark") or item.get_closest_marker("spark")
        if on_spark and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group("spark"))
    result = yield
    if getattr(config.option, "loadgroup", False):  # on an xdist worker under --dist loadgroup
        _keep_group_suffixes(items)
    return result


def _keep_group_suffixes(items: list[pytest.Item]) -> None:
    """Give each grouped item the `@group` node-id suffix xdist's scheduler groups by.

    pytest-xdist 3.8 adds the suffix by assigning `item._nodeid`, which pytest 9.2 no longer reads (the id lives
    in `item._id`), so every group is silently ignored (pytest-dev/pytest-xdist#1386, fix proposed in #1388).
    This sets the suffix where pytest 9.2 reads it; it does nothing once xdist's own suffix shows in the id.
    """
    from _pytest.nodeid import NodeId

    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        suffix = "@" + "_".join(names)
        if names and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
            item._id = NodeId.parse(item.nodeid + suffix)


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
