"""Scale benchmark: generate a Parquet dataset and time the scorecard on it.

    .venv/bin/python benchmarks/scale.py --customers 200000 [--metrics nps,sessions,bounce_rate] [--engine duckdb]

Prints rows, wall time and peak memory (RSS of this process) per step. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import cxbench
from cxbench.demo import generate_dataset


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--data", type=Path, help="reuse (or keep) the dataset in this folder")
    parser.add_argument("--metrics", default="", help="comma-separated metric ids (default: all)")
    parser.add_argument("--period", default="month")
    parser.add_argument("--engine", default="duckdb", choices=["duckdb", "spark"])
    args = parser.parse_args()

    folder = args.data or Path(tempfile.mkdtemp(prefix="cxbench-scale-"))
    started = time.perf_counter()
    if not (folder / "customers.parquet").exists():
        counts = generate_dataset(folder, customers=args.customers, days=args.days, file_format="parquet", bad_rows=False)
        print(f"generate: {sum(counts.values()):,} rows ({counts['events']:,} events) in "
              f"{time.perf_counter() - started:.1f} s, peak {peak_rss_gb():.2f} GB")
    metrics = [m for m in args.metrics.split(",") if m] or None
    started = time.perf_counter()
    card = cxbench.compute(folder, period=args.period, metrics=metrics, engine=args.engine)
    elapsed = time.perf_counter() - started
    ok = sum(1 for r in card.records if r["status"] == "ok")
    print(f"scorecard: {len(card.records):,} records ({ok:,} ok) in {elapsed:.1f} s, peak {peak_rss_gb():.2f} GB")
    if args.data is None:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
