"""CLV benchmark: fit BG/NBD and Gamma-Gamma on 1,000,000 simulated customers, and (optionally) run the whole
`cxbench clv` on their orders as a Parquet file.

    .venv/bin/python benchmarks/clv.py [--customers 1000000] [--orders]

Customers are simulated from the BG/NBD story (Fader, Hardie & Lee 2005) with the CDNOW parameters
(r 0.243, α 4.414, a 0.793, b 2.426 per week), first purchases spread over 12 weeks, a 39-week calibration and
a 39-week holdout; spend per purchase from the Gamma-Gamma story (p 6.25, q 3.74, v 15.44). Times are whole
days, as the engine's summary gives them. Prints seconds and peak memory (RSS of this process) per step.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cxbench.lifetime_value import CustomerSummary, forecast, make_settings
from cxbench.models import BetaGeoModel, GammaGammaModel

R, ALPHA, A, B = 0.243, 4.414, 0.793, 2.426
P, Q, V = 6.25, 3.74, 15.44
CALIBRATION_WEEKS = HOLDOUT_WEEKS = 39


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def simulate(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Purchase days (customer index, day from the study start, amount) and each customer's first day."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 84, n)  # acquired over 12 weeks, as the CDNOW cohort
    rate = rng.gamma(R, 1 / ALPHA, n) / 7  # per day
    dropout = rng.beta(A, B, n)
    spend_rate = rng.gamma(Q, 1 / V, n)  # ν of the Gamma-Gamma model
    end = (CALIBRATION_WEEKS + HOLDOUT_WEEKS) * 7
    customers, days = [np.arange(n)], [first.astype(np.float64)]
    now = first.astype(np.float64)
    active = np.arange(n)
    while active.size:
        now[active] += rng.exponential(1 / np.maximum(rate[active], 1e-12))
        alive = now[active] < end
        # A purchase ends the customer's life with probability p, after it is made (the BG/NBD story).
        active = active[alive]
        customers.append(active)
        days.append(now[active].copy())
        active = active[rng.random(active.size) >= dropout[active]]
    who = np.concatenate(customers)
    day = np.floor(np.concatenate(days))
    amount = rng.gamma(P, 1 / spend_rate[who])
    return who, day, amount, first


def summary_in_numpy(who: np.ndarray, day: np.ndarray, amount: np.ndarray, n: int, end_day: int) -> CustomerSummary:
    """The calibration summary of `lifetime_value.summarise`, in numpy (so the fit is timed on its own)."""
    keep = day <= end_day
    who, day, amount = who[keep], day[keep], amount[keep]
    key = who.astype(np.int64) * 100_000 + day.astype(np.int64)
    unique, index = np.unique(key, return_index=True)  # one transaction per customer-day
    cust, d = unique // 100_000, (unique % 100_000).astype(np.float64)
    day_amount = np.bincount(np.searchsorted(unique, key), weights=amount, minlength=len(unique))
    count = np.bincount(cust, minlength=n).astype(np.float64)
    first = np.full(n, np.inf)
    np.minimum.at(first, cust, d)
    last = np.full(n, -np.inf)
    np.maximum.at(last, cust, d)
    total = np.bincount(cust, weights=day_amount, minlength=n)
    first_amount = np.bincount(cust, weights=np.where(d == first[cust], day_amount, 0.0), minlength=n)
    frequency = count - 1
    monetary = np.where(frequency > 0, (total - first_amount) / np.maximum(frequency, 1), 0.0)
    return CustomerSummary([str(i) for i in range(n)], frequency, (last - first) / 7, (end_day - first) / 7,
                           monetary, np.zeros(n), None, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", action="store_true", help="also run cxbench.predict_clv on the orders (Parquet)")
    args = parser.parse_args()
    n = args.customers

    started = time.perf_counter()
    who, day, amount, _ = simulate(n)
    print(f"simulate: {n:,} customers, {len(who):,} purchases in {time.perf_counter() - started:.1f} s")
    end_day = CALIBRATION_WEEKS * 7
    summary = summary_in_numpy(who, day, amount, n, end_day)
    repeat = summary.frequency > 0
    print(f"summary: {int(repeat.sum()):,} customers with repeat purchases")

    started = time.perf_counter()
    bg = BetaGeoModel.fit(summary.frequency, summary.recency, summary.T)
    print(f"BG/NBD fit: {time.perf_counter() - started:.2f} s  r {bg.r:.3f} α {bg.alpha:.3f} a {bg.a:.3f} b {bg.b:.3f} "
          f"(simulated with {R}, {ALPHA}, {A}, {B}), peak {peak_rss_gb():.2f} GB")
    started = time.perf_counter()
    gg = GammaGammaModel.fit(summary.frequency[repeat], summary.monetary_value[repeat])
    print(f"Gamma-Gamma fit: {time.perf_counter() - started:.2f} s  p {gg.p:.2f} q {gg.q:.2f} v {gg.v:.2f} "
          f"(simulated with {P}, {Q}, {V}), peak {peak_rss_gb():.2f} GB")
    settings = make_settings(dt.date(1997, 1, 1) + dt.timedelta(days=end_day), "week")
    started = time.perf_counter()
    result = forecast(summary, settings)
    print(f"both fits + P(alive), expected purchases and 12-month CLV of every customer: "
          f"{time.perf_counter() - started:.2f} s, total CLV {result.clv.sum():,.0f}, peak {peak_rss_gb():.2f} GB")

    if args.orders:
        import cxbench

        folder = Path(tempfile.mkdtemp(prefix="cxbench-clv-"))
        start = np.datetime64("1997-01-01")
        table = pa.table({
            "order_id": pa.array(np.arange(len(who)).astype(str)),
            "customer_id": pa.array(who.astype(str)),
            "ts": pa.array((start + day.astype("timedelta64[D]")).astype("datetime64[us]")),
            "amount": pa.array(np.round(amount, 2)),
        })
        pq.write_table(table, folder / "orders.parquet")
        del table
        started = time.perf_counter()
        result = cxbench.predict_clv(folder, calibration_end=settings.calibration_end, time_unit="week")
        print(f"cxbench.predict_clv on {len(who):,} orders (Parquet, DuckDB): {time.perf_counter() - started:.1f} s, "
              f"{len(result.summary):,} customers, holdout {result.holdout()['error_pct']:+.1f} %, "
              f"peak {peak_rss_gb():.2f} GB")
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
