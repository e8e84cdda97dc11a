"""Typed results: frozen records rendered to JSON, Arrow and CSV from the same objects; one Options definition."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys

import pytest

from conftest import answers
from cxbench.core.errors import UsageError
from cxbench.core.options import DEFAULTS, Options, make_options
from cxbench.core.records import Change, MetricRecord, Rating


@pytest.fixture
def duckdb_case(tmp_path):
    """Like conftest's run_case, on DuckDB only: these tests are about the result objects, not the engine (both
    engines' values are checked by the metric tests)."""
    from conftest import write_tables

    import cxbench

    counter = iter(range(100))

    def run(tables, **options):
        return cxbench.compute(write_tables(tmp_path / f"case{next(counter)}", tables), **options)

    return run


def _nps_card(run_case):
    # October: 6 promoters (9-10), 2 passives, 2 detractors → NPS (6 − 2) / 10 × 100 = 40.
    # November: 3 promoters, 3 passives, 4 detractors → NPS (3 − 4) / 10 × 100 = −10; change −50.
    october = answers("nps", {10: 3, 9: 3, 8: 2, 3: 2}, ts="2026-10-05T12:00:00Z")
    november = answers("nps", {9: 3, 7: 3, 0: 4}, start=100, ts="2026-11-05T12:00:00Z")
    return run_case({"surveys": october + november}, metrics=["nps"], min_sample=5)


def test_records_are_frozen_typed_objects_that_also_read_as_their_json(duckdb_case):
    card = _nps_card(duckdb_case)
    october, november = card.get("nps")
    assert isinstance(november, MetricRecord)
    assert (october.value, november.value) == (40.0, -10.0)
    assert november.period_start == dt.date(2026, 11, 1) and november.period_end == dt.date(2026, 11, 30)
    assert isinstance(november.change, Change) and november.change.previous == 40.0 and november.change.delta == -50.0
    assert november.change.test == "NPS difference z"
    with pytest.raises(dataclasses.FrozenInstanceError):
        november.value = 0.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        november.segment["plan"] = "pro"  # type: ignore[index]
    # The JSON view and to_dict agree with the attributes.
    assert november["value"] == -10.0 and november["period_start"] == "2026-11-01"
    assert november.to_dict() == dict(november)
    assert november["change"]["delta"] == -50.0


def test_json_arrow_and_csv_are_rendered_from_the_same_records(duckdb_case):
    from cxbench import render

    card = _nps_card(duckdb_case)
    document = json.loads(card.to_json())
    assert [r["value"] for r in document["metrics"]] == [40.0, -10.0]
    assert document["metrics"] == [r.to_dict() for r in card.records]
    table = card.to_arrow()
    assert table.column("value").to_pylist() == [40.0, -10.0]
    assert table.column("delta").to_pylist() == [None, -50.0]
    csv_lines = render.to_csv(card).splitlines()
    assert len(csv_lines) == 3 and ",-10," in csv_lines[2]


def test_a_rating_carries_target_keys_only_when_a_target_is_set():
    assert Rating("good", "003", "library").to_dict() == {"rating": "good", "source": "003", "applied": "library"}
    with_target = Rating(None, "file", "targets.yaml", target=50.0, target_met=None, has_target=True)
    assert with_target.to_dict()["target"] == 50.0 and with_target.to_dict()["target_met"] is None


def test_records_of_one_series_share_a_hashable_key_without_their_period(duckdb_case):
    october, november = _nps_card(duckdb_case).get("nps")
    assert october.series_key == november.series_key
    assert october.key != november.key
    assert len({october.key, november.key}) == 2


def test_as_of_replaces_the_machines_date_for_future_dates(run_case):
    # A resolution typed as 2099: with as_of 2024-06-15 the monthly periods run from March (the ticket's month) to
    # June 2024 (as_of), whatever the machine's date.
    rows = [{"ticket_id": "t1", "channel": "email", "opened_at": "2024-03-02T10:00:00Z",
             "resolved_at": "2099-03-01T00:00:00Z"}]
    card = run_case({"tickets": rows}, metrics=["open_tickets"], as_of="2024-06-15")
    starts = sorted({r["period_start"] for r in card.get("open_tickets")})
    assert starts == ["2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01"]


def test_options_checks_live_with_the_options():
    assert make_options(as_of="2026-01-31").as_of == dt.date(2026, 1, 31)
    assert make_options().min_sample == DEFAULTS.min_sample == Options().min_sample
    for bad in ({"nps_detractor_max": 9}, {"nps_detractor_max": float("nan")}, {"lifetime_years": float("inf")},
                {"session_timeout_minutes": float("inf")}, {"as_of": "31/01/2026"}):
        with pytest.raises(UsageError):
            make_options(**bad)


def test_the_cli_starts_without_loading_the_engine_or_scipy():
    # `cxbench --help` must not pay for Ibis and SciPy (0.6 s and more of imports).
    code = "import sys, cxbench.cli; print(sorted(m for m in ('ibis', 'scipy', 'duckdb') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_an_event_or_survey_metric_run_on_duckdb_does_not_import_pandas(tmp_path):
    # Importing pandas is 0.25-0.3 s of a 3 s one-metric run on 18.9 M events; Ibis's to_pyarrow() and DuckDB's
    # query parameters would pull it in. A CSV with a line the reader skips takes the rejected-records path too.
    from conftest import write_tables

    events = "user_id,ts,event,page,session_id\n" + "".join(
        f"u{i % 3},2026-10-0{1 + i % 5}T10:0{i}:00Z,pageview,/p{i % 2},s{i % 4}\n" for i in range(8)) + "u9,\"broken\n"
    folder = write_tables(tmp_path / "data", {"events": events, "surveys": answers("nps", {10: 3, 3: 1})})
    code = ("import sys, cxbench; card = cxbench.compute(sys.argv[1], period='month', metrics=sys.argv[2:]); "
            "d = card.to_dict(); print(len(d['metrics']), d['inputs']['events']['rejected'], 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(folder), "nps", "sessions", "time_on_page", "mau"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[1:] == ["1", "False"] and int(out[0]) >= 4


def test_records_serialise_pickle_and_refuse_changes_like_read_only_json(duckdb_case):
    import copy
    import pickle

    import pandas as pd

    card = _nps_card(duckdb_case)
    november = card.get("nps")[1]
    assert json.loads(json.dumps(list(card.records))) == card.to_dict()["metrics"]
    assert json.loads(json.dumps(card.findings[0]))["kind"] == card.findings[0].kind if card.findings else True
    assert pickle.loads(pickle.dumps(november)) == november and copy.deepcopy(november).value == -10.0
    assert pd.json_normalize(list(card.records))["value"].tolist() == [40.0, -10.0]
    for change in (lambda: november.__setitem__("value", 0), lambda: november.segment.update(plan="pro"),
                   lambda: november.pop("value")):
        with pytest.raises(TypeError):
            change()
    # A nested object read through the JSON view is a copy: changing it leaves the record as it was.
    november["change"].pop("p_value")
    assert "p_value" in november["change"] and november.change.test == "NPS difference z"
    assert november.evolve(value=0.0)["value"] == 0.0 and november.value == -10.0
