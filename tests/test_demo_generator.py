"""The demo generator: every contract table, deterministic, valid but for the declared bad rows, chunked at scale,
and an initiative that visibly moves the numbers after INITIATIVE_DAY."""

from __future__ import annotations

import csv
import datetime as dt
import filecmp
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import cxbench
from cxbench.core.contract import TABLES, ColumnType
from cxbench.demo import BAD_ROWS, INITIATIVE_DAY, generate_dataset, initiative_day, months_before_initiative

START = dt.date(2025, 11, 1)
SMALL = {"customers": 300, "days": 60, "seed": 11}


def rows(folder: Path, table: str) -> list[dict[str, str]]:
    with (folder / f"{table}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("small_csv")
    return folder, generate_dataset(folder, **SMALL)


@pytest.fixture(scope="module")
def small_parquet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("small_parquet")
    return folder, generate_dataset(folder, file_format="parquet", chunk_rows=2_000, **SMALL)


@pytest.fixture(scope="module")
def year_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A year of a mid-sized company: enough answers to see the initiative's effects clearly."""
    folder = tmp_path_factory.mktemp("year_csv")
    generate_dataset(folder, customers=2000, days=365, seed=3, bad_rows=False)
    return folder


def test_same_seed_writes_identical_files_and_another_seed_does_not(tmp_path: Path, small_csv):
    first, _ = small_csv
    generate_dataset(tmp_path / "again", **SMALL)
    names = [f"{t.name}.csv" for t in TABLES]
    match, mismatch, errors = filecmp.cmpfiles(first, tmp_path / "again", names, shallow=False)
    assert (sorted(mismatch), errors) == ([], [])
    assert len(match) == len(TABLES)

    generate_dataset(tmp_path / "other", **{**SMALL, "seed": SMALL["seed"] + 1})
    assert not filecmp.cmp(first / "events.csv", tmp_path / "other" / "events.csv", shallow=False)


def test_every_contract_table_is_written_as_csv_with_exactly_the_contract_columns(small_csv):
    folder, counts = small_csv
    assert set(counts) == {t.name for t in TABLES}
    for spec in TABLES:
        with (folder / f"{spec.name}.csv").open(encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        assert header == [c.name for c in spec.columns], spec.name
        assert counts[spec.name] > 0, f"{spec.name} is empty"
        assert len(rows(folder, spec.name)) == counts[spec.name]


def test_every_contract_table_is_written_as_parquet_with_contract_columns_and_types(small_parquet):
    folder, counts = small_parquet
    for spec in TABLES:
        path = folder / spec.name if spec.name == "events" else folder / f"{spec.name}.parquet"
        schema = pq.read_schema(sorted(path.glob("*.parquet"))[0] if path.is_dir() else path)
        assert schema.names == [c.name for c in spec.columns], spec.name
        for column in spec.columns:
            kind = str(schema.field(column.name).type)
            expected = {ColumnType.TIMESTAMP: "timestamp[us]", ColumnType.DATE: "date32[day]",
                        ColumnType.BOOLEAN: "bool"}.get(column.type)
            if expected:
                assert kind == expected, (spec.name, column.name, kind)
        assert pq.ParquetDataset(path).read().num_rows == counts[spec.name]


def test_required_columns_are_never_empty(small_csv):
    folder, _ = small_csv
    empty = {}
    for spec in TABLES:
        for row_number, row in enumerate(rows(folder, spec.name), start=1):
            missing = [c for c in spec.required_columns if not row[c].strip()]
            if missing:
                empty[(spec.name, row_number)] = missing
    assert empty == {}


def test_validation_sets_aside_exactly_the_declared_bad_rows_of_a_csv_dataset(small_csv):
    folder, counts = small_csv
    validation = cxbench.check(folder)
    rejected = {name: report.rejected for name, report in validation.reports.items() if report.rejected}
    assert rejected == BAD_ROWS
    assert {name: report.rows for name, report in validation.reports.items()} == counts
    assert 3 <= sum(BAD_ROWS.values()) <= 10


def test_parquet_dataset_has_no_bad_rows_and_validates_cleanly(small_parquet):
    folder, counts = small_parquet
    validation = cxbench.check(folder)
    found = {name: (report.rows, report.rejected) for name, report in validation.reports.items()}
    assert found == {name: (rows_written, 0) for name, rows_written in counts.items()}


def test_chunked_parquet_writes_events_as_part_files_with_the_same_data(small_parquet, tmp_path: Path):
    folder, counts = small_parquet
    parts = sorted((folder / "events").glob("part-*.parquet"))
    assert [p.name for p in parts][:2] == ["part-00000.parquet", "part-00001.parquet"]
    sizes = [pq.ParquetFile(p).metadata.num_rows for p in parts]
    assert len(parts) >= 3 and max(sizes) <= 2_000
    assert sum(sizes) == counts["events"]
    # The chunk size only changes how the data is split into files, not the data.
    whole = generate_dataset(tmp_path, file_format="parquet", **SMALL)
    assert whole == counts
    assert len(list((tmp_path / "events").glob("*.parquet"))) == 1
    chunked = pq.ParquetDataset(folder / "events").read().sort_by("event_id")
    assert chunked.equals(pq.read_table(tmp_path / "events").sort_by("event_id"))


def test_timestamps_and_dates_parse_and_fall_inside_the_period(small_csv):
    folder, _ = small_csv
    end = dt.datetime.combine(START + dt.timedelta(days=SMALL["days"]), dt.time(), dt.UTC)
    unparseable, outside, offsets, total = [], [], 0, 0
    for spec in TABLES:
        for row in rows(folder, spec.name):
            for column in spec.columns:
                text = row[column.name]
                if not text or column.type not in (ColumnType.TIMESTAMP, ColumnType.DATE):
                    continue
                try:
                    if column.type is ColumnType.DATE:
                        value = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), dt.UTC)
                    else:
                        value = instant(text)
                except ValueError:
                    unparseable.append((spec.name, column.name, text))
                    continue
                total += 1
                if column.type is ColumnType.TIMESTAMP:
                    assert value.tzinfo is not None, text
                    offsets += not text.endswith("Z")
                # Only signups and subscription starts of the existing base lie before the period.
                if value >= end or (value.date() < START and column.name not in ("signup_at", "start_at")):
                    outside.append((spec.name, column.name, text))
    assert unparseable == [("surveys", "ts", "not-a-date")]
    assert outside == []
    assert 0.02 < offsets / total < 0.10  # about 5 % carry an offset such as +02:00


def test_surveys_follow_the_conventions_the_engine_relies_on(year_csv):
    answers = rows(year_csv, "surveys")
    by_survey = defaultdict(list)
    for row in answers:
        by_survey[row["survey"]].append(row)
    assert len(answers) > 5000 and set(by_survey) == {"nps", "csat", "css", "ces", "cxi", "enps", "esat", "intent",
                                                      "task_completion"}
    scales = {"nps": {("0", "10")}, "csat": {("1", "5")}, "css": {("1", "10")}, "ces": {("1", "7"), ("1", "5")},
              "cxi": {("1", "5")}, "enps": {("0", "10")}, "esat": {("1", "10")}, "intent": {("", "")},
              "task_completion": {("", "")}}
    assert {s: {(r["scale_min"], r["scale_max"]) for r in rs} for s, rs in by_survey.items()} == scales
    ces_items = Counter((r["scale_max"], r["item"]) for r in by_survey["ces"])
    assert set(ces_items) == {("7", ""), ("5", "ease")} and ces_items[("5", "ease")] < ces_items[("7", "")]
    # Each cxi respondent answers the four items at once; each intent answer has its task_completion.
    cxi = defaultdict(list)
    for row in by_survey["cxi"]:
        cxi[(row["respondent_id"], row["ts"])].append(row["item"])
    assert {tuple(sorted(items)) for items in cxi.values()} == {("efficiency", "effort", "empathy", "understanding")}
    intents = Counter((r["respondent_id"], r["ts"]) for r in by_survey["intent"])
    tasks = Counter((r["respondent_id"], r["ts"]) for r in by_survey["task_completion"])
    assert intents == tasks
    assert {r["answer"] for r in by_survey["task_completion"]} == {"yes", "no"}
    intents_chosen = {r["answer"] for r in by_survey["intent"]}
    assert intents_chosen == {"buy", "compare prices", "get support", "track order", "browse"}
    assert all(r["score"] == "" for r in by_survey["intent"] + by_survey["task_completion"])
    assert all(r["respondent_id"].startswith("e_") for r in by_survey["enps"] + by_survey["esat"])
    # Support follow-ups carry the contact channel; checkout (ordering) scores below the other touchpoints.
    assert {r["channel"] for r in by_survey["csat"] if r["touchpoint"] == "support"} >= {"phone", "email", "chat"}
    css = defaultdict(list)
    for row in by_survey["css"]:
        css[row["touchpoint"]].append(float(row["score"]))
    mean = {touchpoint: sum(scores) / len(scores) for touchpoint, scores in css.items()}
    assert set(mean) == {"ordering", "onboarding", "support", "delivery"}
    assert mean["ordering"] < min(mean["onboarding"], mean["delivery"]) - 0.5


def _before_after(items: list[tuple[dt.datetime, float]], days: int = 365) -> tuple[float, float]:
    cut = dt.datetime.combine(START + dt.timedelta(days=initiative_day(days)), dt.time(), dt.UTC)
    before = [v for t, v in items if t < cut]
    after = [v for t, v in items if t >= cut]
    assert len(before) > 100 and len(after) > 100
    return sum(before) / len(before), sum(after) / len(after)


def test_initiative_raises_nps_clearly_but_plausibly(year_csv):
    assert initiative_day(365) == INITIATIVE_DAY
    nps = [(instant(r["ts"]), 100.0 * (float(r["score"]) >= 9) - 100.0 * (float(r["score"]) <= 6))
           for r in rows(year_csv, "surveys") if r["survey"] == "nps"]
    before, after = _before_after(nps)
    assert 10 <= after - before <= 30, (before, after)


def test_initiative_lifts_csat_and_lowers_effort(year_csv):
    answers = rows(year_csv, "surveys")
    csat = [(instant(r["ts"]), float(r["score"] in ("4", "5"))) for r in answers if r["survey"] == "csat"]
    ces = [(instant(r["ts"]), float(r["score"])) for r in answers if r["survey"] == "ces" and r["item"] == ""]
    csat_before, csat_after = _before_after(csat)
    ces_before, ces_after = _before_after(ces)
    assert csat_after > csat_before + 0.05
    assert ces_after < ces_before - 0.3


def test_initiative_cuts_cart_abandonment_bounce_and_resolution_time(year_csv):
    carts = [(instant(r["created_at"]), float(r["checked_out_at"] == "")) for r in rows(year_csv, "carts")]
    abandoned_before, abandoned_after = _before_after(carts)
    assert abandoned_after < abandoned_before - 0.05

    pageviews: dict[str, list[dt.datetime]] = defaultdict(list)
    for row in rows(year_csv, "events"):
        if row["event"] == "pageview":
            pageviews[row["session_id"]].append(instant(row["ts"]))
    bounces = [(min(times), float(len(times) == 1)) for times in pageviews.values()]
    bounce_before, bounce_after = _before_after(bounces)
    assert bounce_after < bounce_before - 0.04

    tickets = rows(year_csv, "tickets")
    hours = [(instant(r["opened_at"]), (instant(r["resolved_at"]) - instant(r["opened_at"])).total_seconds() / 3600)
             for r in tickets if r["resolved_at"]]
    hours_before, hours_after = _before_after(hours)
    assert hours_after < 0.8 * hours_before
    assert any(r["resolved_at"] == "" for r in tickets)  # a few are still open at the end


def test_initiative_means_fewer_tickets_per_customer(year_csv):
    signups = sorted(instant(r["signup_at"]) for r in rows(year_csv, "customers"))
    cut = dt.datetime.combine(START + dt.timedelta(days=INITIATIVE_DAY), dt.time(), dt.UTC)
    opened = [instant(r["opened_at"]) for r in rows(year_csv, "tickets")]

    def per_customer_day(first: dt.datetime, last: dt.datetime) -> float:
        tickets = sum(first <= t < last for t in opened)
        # customer-days: each customer counts from signup (or `first`) to `last`
        days = sum(max((last - max(s, first)).total_seconds(), 0) for s in signups) / 86_400
        return tickets / days

    start = dt.datetime.combine(START, dt.time(), dt.UTC)
    end = start + dt.timedelta(days=365)
    assert per_customer_day(cut, end) < 0.85 * per_customer_day(start, cut)


def test_weekends_differ_from_weekdays(year_csv):
    per_weekday = Counter(instant(r["ts"]).weekday() for r in rows(year_csv, "events"))
    weekday = sum(per_weekday[d] for d in range(5)) / 5
    weekend = (per_weekday[5] + per_weekday[6]) / 2
    assert weekend < 0.9 * weekday  # less app use at weekends
    purchases = Counter(instant(r["ts"]).weekday() >= 5 for r in rows(year_csv, "orders") if r["kind"] == "purchase")
    assert purchases[True] / 2 > 1.1 * purchases[False] / 5  # more shopping at weekends


def test_orders_subscriptions_and_ids_are_consistent(year_csv):
    orders = rows(year_csv, "orders")
    assert {r["kind"] for r in orders} == {"purchase", "recurring", "upsell", "cross_sell", "addon", "refund"}
    assert all((float(r["amount"]) < 0) == (r["kind"] == "refund") for r in orders)

    subscriptions = rows(year_csv, "subscriptions")
    starts = {(r["customer_id"], instant(r["start_at"])) for r in subscriptions}
    changes = [r for r in subscriptions if r["end_at"] and (r["customer_id"], instant(r["end_at"])) in starts]
    churned = [r for r in subscriptions if r["end_at"] and r not in changes]
    active = [r for r in subscriptions if not r["end_at"]]
    assert len(changes) > 50 and len(churned) > 50 and len(active) > len(churned)

    customers = {r["customer_id"]: r for r in rows(year_csv, "customers")}
    assert {r["plan"] for r in customers.values()} == {"basic", "pro", "business"}
    assert {r["is_paying"] for r in customers.values()} == {"true", "false"}
    assert {r["customer_id"] for r in subscriptions} <= {c for c, r in customers.items() if r["is_paying"] == "true"}

    events = rows(year_csv, "events")
    assert len({r["event_id"] for r in events}) == len(events)
    users = {r["user_id"] for r in events}
    assert users <= set(customers) | {u for u in users if u.startswith("v_")} and any(u.startswith("v_") for u in users)
    scrolls = [float(r["scroll_pct"]) for r in events if r["event"] == "pageview"]
    assert 0 <= min(scrolls) and max(scrolls) <= 100
    assert all(r["scroll_pct"] == "" for r in events if r["event"] != "pageview")
    assert all(r["feature"] for r in events if r["event"] == "feature_used")


def test_demo_compares_with_the_three_whole_months_before_the_initiative():
    # Day 219 after 2025-11-01: November to May hold 30+31+31+28+31+30+31 = 212 days, so June 8.
    assert dt.date(2025, 11, 1) + dt.timedelta(days=INITIATIVE_DAY) == dt.date(2026, 6, 8)
    assert months_before_initiative(dt.date(2025, 11, 1), 365) == (dt.date(2026, 3, 1), dt.date(2026, 5, 31))
    # Sixty days: the initiative starts on day 36 (2025-12-07); only November lies wholly before it.
    assert months_before_initiative(dt.date(2025, 11, 1), 60) == (dt.date(2025, 11, 1), dt.date(2025, 11, 30))
    # Starting in the initiative's month: nothing before it to compare with.
    assert months_before_initiative(dt.date(2025, 11, 1), 20) is None
