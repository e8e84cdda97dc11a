"""A bounded load test of `cxbench serve` on loopback (issue 17): the demo company's data, one cold request, one
warm-up, then N cached scorecard requests from C concurrent clients. Prints the cold time and the warm latency
percentiles and throughput; exits 1 on any error.

    python benchmarks/serve_load.py [--requests 2000] [--clients 50] [--customers 500] [--days 365]

The server runs as its own process (`cxbench serve`), so the clients do not share its interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from cxbench.demo import generate_dataset


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def load(base: str, path: str, requests: int, clients: int) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(c: httpx.AsyncClient) -> None:
        nonlocal errors
        while True:
            try:
                queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            started = time.perf_counter()
            response = await c.get(path)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                errors += 1

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as c:
        started = time.perf_counter()
        await asyncio.gather(*(client(c) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--path", default="/api/scorecard?period=month")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="cxbench-load-")) / "data"
    generate_dataset(folder, customers=args.customers, days=args.days, seed=7, file_format="csv")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "cxbench.cli", "serve", str(folder), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        started = time.perf_counter()
        cold = httpx.get(base + args.path, timeout=600)
        cold_seconds = time.perf_counter() - started
        if cold.status_code != 200:
            print(f"cold request failed: {cold.status_code} {cold.text[:200]}")
            return 1
        started = time.perf_counter()
        httpx.get(base + args.path, timeout=60)
        warm_one = time.perf_counter() - started
        latencies, errors, elapsed = asyncio.run(load(base, args.path, args.requests, args.clients))
    finally:
        server.terminate()
        server.wait(10)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(f"data: demo company, {args.customers} customers, {args.days} days; response {len(cold.content):,} bytes")
    print(f"cold {args.path}: {cold_seconds:.1f} s; one warm request: {warm_one * 1000:.1f} ms")
    print(f"{args.requests} requests, {args.clients} clients: {errors} errors, p50 {p(0.5):.1f} ms, p95 {p(0.95):.1f} ms, "
          f"p99 {p(0.99):.1f} ms, mean {statistics.fmean(latencies) * 1000:.1f} ms, "
          f"{args.requests / elapsed:.0f} requests/s")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
