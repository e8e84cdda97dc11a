"""Head-to-head benchmark: cxbench against hand-written DuckDB SQL, polars and pandas on the same data.

    .venv/bin/pip install -r benchmarks/requirements.txt      # polars (pandas is already in requirements.lock)
    .venv/bin/python benchmarks/compare.py                     # size S (20,000 customers)
    .venv/bin/python benchmarks/compare.py --sizes S,M --json bench.json
    .venv/bin/python benchmarks/compare.py --sizes M --only cxbench-web,duckdb-sql --repeat 3
    .venv/bin/python benchmarks/compare.py --engine spark --only cxbench-web,duckdb-sql
    .venv/bin/python benchmarks/compare.py --sizes M --only cxbench-web --validation-cache --repeat 2   # warm

Sizes: S 20,000 customers (about 1.9 M events), M 200,000 (about 19 M), L 1,000,000 (about 94 M), all over
365 days, written by `cxbench.demo.generate_dataset` as Parquet and cached under `--data-dir`
(default /tmp/cxbench-bench), so a rerun skips the generation. L is optional: pandas peaks at about 4 GiB
on M, so expect about 20 GiB on L (leave it out with --only).

Contenders, each run in its own Python subprocess so that its peak RSS is its own:

    cxbench-web   cxbench.compute(folder, period="month", metrics=<the 10 web metrics below>)
    cxbench-all   cxbench.compute(folder, period="month"): the full scorecard (every metric)
    duckdb-sql    hand-written DuckDB SQL over the Parquet files, read in place
    polars        a polars LazyFrame plan, collected with the streaming engine
    pandas        pandas DataFrames read from the Parquet files

The web family: sessions, pageviews, unique_visitors, bounce_rate, avg_session_duration, pages_per_session,
time_on_page, exit_rate, dau, mau, per calendar month. Every contender writes the overall value of each of
them per month (no segment, no breakdown) and the parent checks that all contenders agree on every value
(relative tolerance 1e-6, absolute 1e-6: cxbench rounds its values to 6 decimals); it exits 1 on any
disagreement or crash. For cxbench-all only those values are compared (it computes many more).

Measured per contender: wall time of the subprocess (interpreter start and imports included), the time of
the computation alone as the child measures it, CPU time (user + system, threads and reaped descendants
included) and peak RSS, both from os.wait4 on the child. The parent stays small (the data is generated in a
subprocess too) because Linux starts a child's ru_maxrss from its parent's peak. The files are read once
before the runs so that every contender starts from a warm page cache. With `--engine spark` the local JVM
is a child of the cxbench process, stopped and reaped at the end: its CPU time is counted, but the peak RSS
is the larger of the Python process and the JVM, not their sum (a cluster's executors, with SPARK_MASTER set,
are not counted at all). The machine should be otherwise idle (other load inflates the wall times);
`--repeat 3` reports the run with the median wall time.

How cxbench defines the web metrics (src/cxbench/metrics/sessions.py and events.py), as the hand-written
versions reproduce them:

* A session is (user_id, session_id): the generated events always carry a session_id, so the 30-minute rule
  never applies (checked when the dataset is prepared). A session belongs to the month of its first event.
* sessions: sessions started in the month. pages_per_session: their pageviews / sessions. bounce_rate:
  sessions with exactly one pageview and no event other than pageview/pageleave / sessions x 100.
  avg_session_duration: mean of (last event - first event) in seconds, single-event sessions 0 s.
* pageviews: pageview events by the month of the pageview.
* time_on_page: per pageview, the time to the next page event (pageview or pageleave) of its session in
  (ts, file order); pageviews without one are left out; mean over the pageviews of the month.
* exit_rate: pageviews that have no later pageview in their session / pageviews of the month x 100, i.e.
  each session's last pageview counts as an exit in the month of that pageview.
* unique_visitors and mau: distinct user_id with any event in the month (the same number for monthly periods).
* dau: distinct (user_id, UTC day) pairs in the month / the calendar days of the month (days without
  activity count as 0).
* Months run from the month of the first event to that of the last; the data has events in every month.

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import importlib.metadata
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SIZES: dict[str, int] = {"S": 20_000, "M": 200_000, "L": 1_000_000}
DAYS = 365
WEB_METRICS: tuple[str, ...] = (
    "sessions", "pageviews", "unique_visitors", "bounce_rate", "avg_session_duration",
    "pages_per_session", "time_on_page", "exit_rate", "dau", "mau",
)
CONTENDERS: tuple[str, ...] = ("cxbench-web", "cxbench-all", "duckdb-sql", "polars", "pandas")
BASELINE = "duckdb-sql"  # the ratio column divides by this contender
PAGE_EVENTS = ("pageview", "pageleave")
REL_TOL = ABS_TOL = 1e-6

#: metric id -> period start (ISO date) -> value
Values = dict[str, dict[str, float]]
#: month (ISO date of its first day) -> aggregate name -> number; what each hand-written contender computes
MonthAggregates = dict[str, dict[str, float]]


# -- the data --------------------------------------------------------------------------------------------

def event_files(folder: Path) -> list[str]:
    """The events Parquet files in a fixed order (file order breaks timestamp ties, as cxbench's row numbers)."""
    if (folder / "events").is_dir():
        return sorted(str(p) for p in (folder / "events").glob("*.parquet"))
    return [str(folder / "events.parquet")]


def dataset_folder(data_dir: Path, size: str) -> Path:
    return data_dir / f"{size}-{SIZES[size]}c-{DAYS}d"


def prepare_dataset(data_dir: Path, size: str) -> tuple[Path, dict[str, Any]]:
    """The dataset of `size` and what was recorded about it, generated in a subprocess when not cached.

    Not in this process: a child's peak RSS (ru_maxrss) starts from its parent's peak at fork/exec time, so
    the parent that launches the contenders must never grow (generating M takes about 4 GiB).
    """
    folder = dataset_folder(data_dir, size)
    marker = folder / ".compare.json"  # written last: a folder without it is an interrupted generation
    if not marker.exists():
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--generate", size,
                        "--data-dir", str(data_dir)], check=True, stdin=subprocess.DEVNULL)
    return folder, json.loads(marker.read_text())


def generate(data_dir: Path, size: str) -> None:
    """Write the dataset of `size`, check the hand-written versions' assumptions on it, then the marker."""
    from cxbench.demo import generate_dataset

    customers = SIZES[size]
    folder = dataset_folder(data_dir, size)
    marker = folder / ".compare.json"

    print(f"[{size}] generating {customers:,} customers over {DAYS} days into {folder} ...", flush=True)
    started = time.perf_counter()
    counts = generate_dataset(folder, customers=customers, days=DAYS, file_format="parquet", bad_rows=False)
    info = {"customers": customers, "days": DAYS, "rows": counts, "generate_seconds": time.perf_counter() - started,
            "checks": check_assumptions(folder)}
    marker.write_text(json.dumps(info, indent=2))
    print(f"[{size}] generated {sum(counts.values()):,} rows ({counts['events']:,} events) in "
          f"{info['generate_seconds']:.1f} s", flush=True)


def check_assumptions(folder: Path) -> dict[str, int]:
    """Count what would make the hand-written versions differ from cxbench; all must be 0.

    They skip what cxbench does only for data that needs it: validation (no bad rows), de-duplication by
    event_id, the 30-minute session rule (every event has a session_id), and they break timestamp ties
    within a session by (file, row) where cxbench uses the row number inside each file.
    """
    import duckdb

    files = _sql_list(event_files(folder))
    sql = f"""
        WITH e AS (SELECT * FROM read_parquet({files}))
        SELECT
            (SELECT count(*) FROM e WHERE user_id IS NULL OR user_id = '' OR ts IS NULL OR event IS NULL
                                          OR event = '' OR session_id IS NULL OR session_id = '') AS missing,
            (SELECT count(*) - count(DISTINCT event_id) FROM e) AS duplicate_event_ids,
            (SELECT count(*) FROM (SELECT 1 FROM e WHERE event IN ('pageview', 'pageleave')
                                   GROUP BY user_id, session_id, ts HAVING count(*) > 1)) AS tied_page_events,
            (SELECT count(*) FROM e WHERE epoch_us(ts) % 1000 <> 0) AS sub_millisecond
    """
    con = duckdb.connect()
    names = ("missing", "duplicate_event_ids", "tied_page_events", "sub_millisecond")
    row = con.sql(sql).fetchone()
    assert row is not None
    checks = dict(zip(names, (int(v) for v in row), strict=True))
    if any(checks.values()):
        print(f"WARNING: {folder}: the hand-written versions assume none of these, but found {checks}; "
              "values may disagree with cxbench.", flush=True)
    return checks


def warm_page_cache(folder: Path) -> None:
    """Read every file once so that the first contender does not pay for the disk alone."""
    for path in folder.rglob("*.parquet"):
        with path.open("rb") as handle:
            while handle.read(1 << 24):
                pass


def _sql_list(items: Iterable[str]) -> str:
    return "[" + ", ".join("'" + item.replace("'", "''") + "'" for item in items) + "]"


# -- the contenders (each runs in its own subprocess) ----------------------------------------------------

def run_cxbench(folder: Path, engine: str, metrics: tuple[str, ...] | None) -> tuple[Values, dict[str, Any]]:
    import cxbench

    card = cxbench.compute(folder, period="month", metrics=list(metrics) if metrics else None, engine=engine)
    values: Values = {}
    for record in card.records:
        # The overall record of each month: no segment, no breakdown, with a value.
        if (record["id"] in WEB_METRICS and record["segment"] == {} and record.get("dimension") is None
                and record["status"] == "ok"):
            values.setdefault(record["id"], {})[record["period_start"]] = float(record["value"])
    ok = sum(1 for r in card.records if r["status"] == "ok")
    return values, {"records": len(card.records), "records_ok": ok}


DUCKDB_SESSIONS = """
WITH s AS MATERIALIZED (
    SELECT min(ts) AS start_ts,
           max(ts) AS end_ts,
           count(*) FILTER (WHERE event = 'pageview') AS pageviews,
           count(*) FILTER (WHERE event NOT IN ('pageview', 'pageleave')) AS interactions,
           max(ts) FILTER (WHERE event = 'pageview') AS last_pageview
    FROM events
    GROUP BY user_id, session_id
)
SELECT 'start' AS kind, date_trunc('month', start_ts)::DATE AS month,
       count(*) AS sessions,
       sum(pageviews) AS session_pageviews,
       count(*) FILTER (WHERE pageviews = 1 AND interactions = 0) AS bounces,
       sum(epoch_ms(end_ts) - epoch_ms(start_ts)) AS duration_ms,
       NULL AS exits
FROM s GROUP BY ALL
UNION ALL
-- A session's exit page is its last pageview: one exit per session with a pageview, in that pageview's month.
SELECT 'exit', date_trunc('month', last_pageview)::DATE, NULL, NULL, NULL, NULL, count(*)
FROM s WHERE last_pageview IS NOT NULL GROUP BY ALL
"""

DUCKDB_PAGES = """
SELECT date_trunc('month', ts)::DATE AS month,
       count(*) AS pageviews,
       count(next_ts) AS timed_pageviews,
       sum(epoch_ms(next_ts) - epoch_ms(ts)) AS time_on_page_ms
FROM (
    SELECT ts, event,
           lead(ts) OVER (PARTITION BY user_id, session_id ORDER BY ts, _file, _row) AS next_ts
    FROM events
    WHERE event IN ('pageview', 'pageleave')
)
WHERE event = 'pageview'
GROUP BY ALL
"""

DUCKDB_USERS = """
SELECT date_trunc('month', day)::DATE AS month, count(DISTINCT user_id) AS users, count(*) AS user_days
FROM (SELECT DISTINCT user_id, ts::DATE AS day FROM events)
GROUP BY ALL
"""


def run_duckdb_sql(folder: Path) -> MonthAggregates:
    import duckdb

    con = duckdb.connect()
    con.execute(f"""
        CREATE TEMP VIEW events AS
        SELECT user_id, session_id, ts, event, filename AS _file, file_row_number AS _row
        FROM read_parquet({_sql_list(event_files(folder))}, filename = true, file_row_number = true)
    """)
    aggregates: MonthAggregates = {}
    for sql in (DUCKDB_SESSIONS, DUCKDB_PAGES, DUCKDB_USERS):
        relation = con.sql(sql)
        for row in relation.fetchall():
            record = dict(zip(relation.columns, row, strict=True))
            record.pop("kind", None)
            month = record.pop("month").isoformat()
            aggregates.setdefault(month, {}).update({k: float(v) for k, v in record.items() if v is not None})
    return aggregates


def run_polars(folder: Path) -> MonthAggregates:
    import polars as pl

    ts, event = pl.col("ts"), pl.col("event")
    is_pageview = event == "pageview"

    def month(column: str) -> pl.Expr:
        return pl.col(column).dt.truncate("1mo").dt.date().alias("month")

    # The row index runs over the files in the given order: (ts, _row) orders ties as DuckDB's (ts, file, row).
    events = pl.scan_parquet(event_files(folder), row_index_name="_row").select(
        "user_id", "session_id", "ts", "event", "_row")
    sessions = events.group_by("user_id", "session_id").agg(
        start=ts.min(),
        end=ts.max(),
        pageviews=is_pageview.sum(),
        interactions=(~event.is_in(PAGE_EVENTS)).sum(),
        last_pageview=ts.filter(is_pageview).max(),
    )
    by_start = sessions.group_by(month("start")).agg(
        sessions=pl.len(),
        session_pageviews=pl.col("pageviews").sum(),
        bounces=((pl.col("pageviews") == 1) & (pl.col("interactions") == 0)).sum(),
        duration_ms=(pl.col("end") - pl.col("start")).dt.total_milliseconds().sum(),
    )
    exits = sessions.drop_nulls("last_pageview").group_by(month("last_pageview")).agg(exits=pl.len())
    session_key = ("user_id", "session_id")
    same_session = pl.all_horizontal(pl.col(c).shift(-1) == pl.col(c) for c in session_key)
    pages = (
        events.filter(event.is_in(PAGE_EVENTS))
        .sort(*session_key, "ts", "_row")
        .with_columns(next_ts=pl.when(same_session).then(ts.shift(-1)))
        .filter(is_pageview)
        .group_by(month("ts"))
        .agg(
            pageviews=pl.len(),
            timed_pageviews=pl.col("next_ts").count(),
            time_on_page_ms=(pl.col("next_ts") - ts).dt.total_milliseconds().sum(),
        )
    )
    users = (
        events.select("user_id", day=ts.dt.date()).unique()
        .group_by(month("day")).agg(users=pl.col("user_id").n_unique(), user_days=pl.len())
    )
    # One collect for the four plans: the scan and the session table are shared between them.
    frames = pl.collect_all([by_start, exits, pages, users], engine="streaming")
    aggregates: MonthAggregates = {}
    for frame in frames:
        for row in frame.iter_rows(named=True):
            month_start = row.pop("month").isoformat()
            aggregates.setdefault(month_start, {}).update({k: float(v) for k, v in row.items()})
    return aggregates


def run_pandas(folder: Path) -> MonthAggregates:
    import numpy as np
    import pandas as pd

    columns = ["user_id", "session_id", "ts", "event"]
    # Concatenated in file order, so the index is the position in (file, row) order that breaks ties.
    events = pd.concat([pd.read_parquet(path, columns=columns) for path in event_files(folder)], ignore_index=True)
    is_pageview = events["event"].eq("pageview")
    one_ms = pd.Timedelta(milliseconds=1)

    def month(series: pd.Series) -> pd.Series:
        return series.dt.to_period("M").rename("month")

    flags = events[["user_id", "session_id", "ts"]].assign(
        pageview=is_pageview,
        interaction=~events["event"].isin(PAGE_EVENTS),
        pageview_ts=events["ts"].where(is_pageview),
    )
    sessions = flags.groupby(["user_id", "session_id"], sort=False).agg(
        start=("ts", "min"), end=("ts", "max"), pageviews=("pageview", "sum"), interactions=("interaction", "sum"),
        last_pageview=("pageview_ts", "max"),
    )
    sessions["bounce"] = sessions["pageviews"].eq(1) & sessions["interactions"].eq(0)
    sessions["duration_ms"] = (sessions["end"] - sessions["start"]) / one_ms
    by_start = sessions.groupby(month(sessions["start"])).agg(
        sessions=("bounce", "size"), session_pageviews=("pageviews", "sum"), bounces=("bounce", "sum"),
        duration_ms=("duration_ms", "sum"),
    )
    ended = sessions["last_pageview"].dropna()
    exits = ended.groupby(month(ended)).size().rename("exits").to_frame()

    pages = events.loc[events["event"].isin(PAGE_EVENTS), ["user_id", "session_id", "ts", "event"]]
    pages = pages.assign(_row=pages.index).sort_values(["user_id", "session_id", "ts", "_row"])
    same_session = (pages["user_id"].shift(-1).eq(pages["user_id"])
                    & pages["session_id"].shift(-1).eq(pages["session_id"]))
    next_ts = pages["ts"].shift(-1).where(same_session)
    viewed = pages["event"].eq("pageview")
    timed = pd.DataFrame({"time_on_page_ms": ((next_ts - pages["ts"]) / one_ms)[viewed],
                          "timed": next_ts[viewed].notna()})
    by_page_month = timed.groupby(month(pages["ts"][viewed])).agg(
        pageviews=("timed", "size"), timed_pageviews=("timed", "sum"), time_on_page_ms=("time_on_page_ms", "sum"))

    user_days = pd.DataFrame({"user_id": events["user_id"], "day": events["ts"].dt.floor("D")}).drop_duplicates()
    users = user_days.groupby(month(user_days["day"])).agg(users=("user_id", "nunique"), user_days=("day", "size"))

    aggregates: MonthAggregates = {}
    for frame in (by_start, exits, by_page_month, users):
        for period, row in frame.iterrows():
            month_start = period.start_time.date().isoformat()
            aggregates.setdefault(month_start, {}).update({k: float(np.float64(v)) for k, v in row.items()})
    return aggregates


def web_values(aggregates: MonthAggregates) -> Values:
    """The 10 web metrics per month from the monthly aggregates every hand-written contender computes."""
    values: Values = {m: {} for m in WEB_METRICS}
    for month_start, a in sorted(aggregates.items()):
        first = dt.date.fromisoformat(month_start)
        days = calendar.monthrange(first.year, first.month)[1]
        if a.get("sessions"):
            values["sessions"][month_start] = a["sessions"]
            values["pages_per_session"][month_start] = a["session_pageviews"] / a["sessions"]
            values["bounce_rate"][month_start] = 100 * a["bounces"] / a["sessions"]
            values["avg_session_duration"][month_start] = a["duration_ms"] / 1000 / a["sessions"]
        if a.get("pageviews"):
            values["pageviews"][month_start] = a["pageviews"]
            values["exit_rate"][month_start] = 100 * a.get("exits", 0.0) / a["pageviews"]
        if a.get("timed_pageviews"):
            values["time_on_page"][month_start] = a["time_on_page_ms"] / 1000 / a["timed_pageviews"]
        if a.get("users"):
            values["unique_visitors"][month_start] = a["users"]
            values["mau"][month_start] = a["users"]
            values["dau"][month_start] = a["user_days"] / days
    return values


CHILD_IMPORTS: dict[str, tuple[str, ...]] = {
    "cxbench-web": ("cxbench", "cxbench.api"),
    "cxbench-all": ("cxbench", "cxbench.api"),
    "duckdb-sql": ("duckdb",),
    "polars": ("polars",),
    "pandas": ("pandas", "pyarrow.parquet"),
}


def run_child(name: str, folder: Path, engine: str, result: Path) -> None:
    """Compute in this process and write the values and the computation's own seconds to `result`."""
    # The libraries are imported before the clock starts: `compute_seconds` is the work alone, the parent's
    # wall time includes the interpreter start and the imports.
    for module in CHILD_IMPORTS[name]:
        importlib.import_module(module)
    started = time.perf_counter()
    extra: dict[str, Any] = {}
    if name == "cxbench-web":
        values, extra = run_cxbench(folder, engine, WEB_METRICS)
    elif name == "cxbench-all":
        values, extra = run_cxbench(folder, engine, None)
    else:
        hand_written: dict[str, Callable[[Path], MonthAggregates]] = {
            "duckdb-sql": run_duckdb_sql, "polars": run_polars, "pandas": run_pandas}
        values = web_values(hand_written[name](folder))
    seconds = time.perf_counter() - started
    extra["own_peak_rss_bytes"] = own_peak_rss()
    if engine == "spark" and name.startswith("cxbench"):
        stop_spark_jvm()
    result.write_text(json.dumps({"values": values, "compute_seconds": seconds, **extra}))


def stop_spark_jvm() -> None:
    """Stop the local Spark JVM and wait for it to exit.

    The JVM is a child of this process; only a child that its parent reaps adds its CPU time and peak RSS to
    the rusage the benchmark reads, and PySpark leaves its JVM to die by itself after Python has exited.
    """
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if SparkContext._active_spark_context is not None:
        SparkContext._active_spark_context.stop()
    process = getattr(gateway, "proc", None)
    if gateway is not None:
        gateway.shutdown()
    if process is not None:
        if process.stdin is not None:
            process.stdin.close()  # the JVM exits when its standard input closes
        process.wait(timeout=120)


def own_peak_rss() -> int | None:
    """This process's own high-water RSS (Linux VmHWM): a cross-check of the parent's ru_maxrss, without
    the subprocesses (a Spark JVM) that ru_maxrss may include."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# -- the parent: run, measure, compare, print ------------------------------------------------------------

@dataclass
class Run:
    contender: str
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    compute_s: float
    extra: dict[str, Any] = field(default_factory=dict)
    values: Values = field(default_factory=dict, repr=False)


def measure(name: str, folder: Path, engine: str, workdir: Path) -> Run:
    """Run one contender in a fresh interpreter; wall time, CPU and peak RSS from os.wait4 on that child alone."""
    result = workdir / f"{name}.json"
    log = workdir / f"{name}.log"
    command = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--folder", str(folder),
               "--engine", engine, "--result", str(result)]
    with log.open("wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        # os.wait4 rather than Popen.wait: it also returns the rusage of this child (and of its reaped children).
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise RuntimeError(f"{name} exited with {child.returncode}:\n{tail}")
    payload = json.loads(result.read_text())
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    rss = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    extra = {k: v for k, v in payload.items() if k not in ("values", "compute_seconds")}
    return Run(name, wall, usage.ru_utime + usage.ru_stime, rss, payload["compute_seconds"], extra, payload["values"])


def compare_values(runs: list[Run]) -> tuple[int, list[str]]:
    """(values checked, disagreements): every (metric, month) value of every run against the first run's."""
    if len(runs) < 2:
        return 0, []
    reference = runs[0]
    keys = sorted({(m, p) for r in runs for m, by_month in r.values.items() for p in by_month})
    problems: list[str] = []
    for metric, month_start in keys:
        expected = reference.values.get(metric, {}).get(month_start)
        for run in runs[1:]:
            got = run.values.get(metric, {}).get(month_start)
            if expected is None or got is None:
                problems.append(f"{metric} {month_start}: {reference.contender}={expected} {run.contender}={got}")
            elif not math.isclose(expected, got, rel_tol=REL_TOL, abs_tol=ABS_TOL):
                problems.append(f"{metric} {month_start}: {reference.contender}={expected!r} "
                                f"{run.contender}={got!r} (diff {got - expected:.3g})")
    return len(keys), problems


def _ratio(value: float, base: float | None) -> str:
    return f"{value / base:6.2f}x" if base else "      -"


def print_table(size: str, info: dict[str, Any], runs: list[Run]) -> None:
    gib = 1024 ** 3
    base = next((r for r in runs if r.contender == BASELINE), None)
    print(f"\n== {size}: {info['customers']:,} customers, {info['rows']['events']:,} events, {DAYS} days, "
          f"period month ==")
    header = (f"{'contender':<12} {'wall s':>8} {'compute s':>9} {'CPU s':>8} {'peak RSS GiB':>12}   "
              f"{'wall/' + BASELINE:>15} {'CPU/' + BASELINE:>14} {'RSS/' + BASELINE:>14}")
    print(header)
    print("-" * len(header))
    for r in runs:
        print(f"{r.contender:<12} {r.wall_s:8.2f} {r.compute_s:9.2f} {r.cpu_s:8.2f} {r.peak_rss_bytes / gib:12.3f}   "
              f"{_ratio(r.wall_s, base.wall_s if base else None):>15} {_ratio(r.cpu_s, base.cpu_s if base else None):>14} "
              f"{_ratio(r.peak_rss_bytes, base.peak_rss_bytes if base else None):>14}")
    web = next((r for r in runs if r.contender == "cxbench-web"), None)
    if web is not None:
        print("cxbench-web vs the hand-written versions (wall / CPU / peak RSS, >1 = cxbench slower or larger):")
        for other in runs:
            if other.contender in ("duckdb-sql", "polars", "pandas"):
                print(f"  vs {other.contender:<11} {web.wall_s / other.wall_s:6.2f}x / {web.cpu_s / other.cpu_s:6.2f}x / "
                      f"{web.peak_rss_bytes / other.peak_rss_bytes:6.2f}x   "
                      f"(compute only: {web.compute_s / other.compute_s:6.2f}x)")
    full = next((r for r in runs if r.contender == "cxbench-all"), None)
    if full is not None and "records" in full.extra:
        print(f"cxbench-all: {full.extra['records']:,} records ({full.extra['records_ok']:,} with a value)")


def installed(module: str) -> bool:
    """Whether `module` can be imported here, without importing it (polars is no project dependency)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for package in ("cxbench", "ibis-framework", "duckdb", "polars", "pandas", "pyarrow"):
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="S", help="comma-separated, of S (20k customers), M (200k), L (1M)")
    parser.add_argument("--only", default="", help=f"comma-separated contenders (default all: {','.join(CONTENDERS)})")
    parser.add_argument("--engine", default="duckdb", choices=["duckdb", "spark"], help="cxbench's engine")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/cxbench-bench"), help="dataset cache")
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender; the median wall time is shown")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the results to this JSON file")
    # The child sides: the data generation, and one contender, each in its own process.
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--validation-cache", action="store_true",
                        help="let cxbench reuse its validation cache (a rerun on unchanged files skips validation); "
                             "by default every cxbench run validates from scratch, as a first run does")
    args = parser.parse_args()
    if not args.validation_cache and not args.child:
        os.environ["CXBENCH_CACHE_DIR"] = "off"  # inherited by the contenders' subprocesses

    if args.generate:
        generate(args.data_dir, args.generate)
        return 0
    if args.child:
        run_child(args.child, args.folder, args.engine, args.result)
        return 0

    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    contenders = [c.strip() for c in args.only.split(",") if c.strip()] or list(CONTENDERS)
    unknown = [s for s in sizes if s not in SIZES] + [c for c in contenders if c not in CONTENDERS]
    if unknown:
        parser.error(f"unknown size or contender: {', '.join(unknown)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if "polars" in contenders and not installed("polars"):
        print("polars is not installed: skipping the polars contender "
              "(install it with: .venv/bin/pip install -r benchmarks/requirements.txt)", flush=True)
        contenders.remove("polars")

    found = versions()
    print("versions: " + ", ".join(f"{k} {v}" for k, v in found.items()) + f"; {os.cpu_count()} CPUs; "
          f"cxbench engine {args.engine}", flush=True)
    report: dict[str, Any] = {"versions": found, "cpus": os.cpu_count(), "engine": args.engine, "sizes": {}}
    failed = False
    for size in sizes:
        folder, info = prepare_dataset(args.data_dir, size)
        warm_page_cache(folder)
        load_before = os.getloadavg()[0]
        runs: list[Run] = []
        errors: dict[str, str] = {}
        with tempfile.TemporaryDirectory(prefix="cxbench-compare-") as tmp:
            for name in contenders:
                attempts: list[Run] = []
                try:
                    for i in range(args.repeat):
                        print(f"[{size}] {name} run {i + 1}/{args.repeat} ...", end=" ", flush=True)
                        attempts.append(measure(name, folder, args.engine, Path(tmp)))
                        print(f"{attempts[-1].wall_s:.1f} s", flush=True)
                except RuntimeError as exc:
                    print(f"FAILED\n{exc}", flush=True)
                    errors[name] = str(exc)
                    continue
                median = statistics.median_low(a.wall_s for a in attempts)
                runs.append(next(a for a in attempts if a.wall_s == median))
        checked, problems = compare_values(runs)
        # Other work on the machine inflates wall times: say how busy it was.
        load = (load_before, os.getloadavg()[0])
        print_table(size, info, runs)
        print(f"1-minute load average: {load[0]:.2f} before, {load[1]:.2f} after ({os.cpu_count()} CPUs)")
        if problems:
            print(f"DISAGREEMENT: {len(problems)} of {checked} values differ between contenders:")
            for line in problems[:30]:
                print("  " + line)
        elif len(runs) > 1:
            print(f"values: all {checked} (metric, month) values agree across {len(runs)} contenders "
                  f"({', '.join(r.contender for r in runs)})")
        else:
            print("values: fewer than two contenders ran, nothing to compare")
        failed = failed or bool(problems) or bool(errors)
        report["sizes"][size] = {
            "dataset": str(folder), **info, "runs": [{k: v for k, v in asdict(r).items() if k != "values"} for r in runs],
            "values_checked": checked, "disagreements": problems, "errors": errors, "load_average": load,
            "values": runs[0].values if runs else {},
        }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
        print(f"\nresults written to {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
