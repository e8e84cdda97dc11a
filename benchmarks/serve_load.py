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


async def load(port: int, path: str, requests: int, clients: int, gzip: bool) -> tuple[list[float], int, float]:
    """`clients` keep-alive connections sending GETs until `requests` are answered. A small HTTP/1.1 client on
    asyncio streams: httpx spends more time than the server on a 2.6 MB answer, and would measure itself."""
    latencies: list[float] = []
    errors = 0
    remaining = requests
    head = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            + ("Accept-Encoding: gzip\r\n" if gzip else "") + "\r\n").encode()

    async def client() -> None:
        nonlocal errors, remaining
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        try:
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                writer.write(head)
                status = (await reader.readline()).split(b" ", 2)[1]
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                if status != b"200":
                    errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--path", default="/api/scorecard?period=month")
    parser.add_argument("--identity", action="store_true", help="Ask for the uncompressed answer (default: gzip, "
                                                                 "as browsers and BI tools ask).")
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
        latencies, errors, elapsed = asyncio.run(load(port, args.path, args.requests, args.clients,
                                                      gzip=not args.identity))
    finally:
        server.terminate()
        server.wait(10)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(f"data: demo company, {args.customers} customers, {args.days} days; response {len(cold.content):,} bytes")
    print(f"cold {args.path}: {cold_seconds:.1f} s; one warm request: {warm_one * 1000:.1f} ms")
    encoding = "identity" if args.identity else "gzip"
    print(f"{args.requests} requests ({encoding}), {args.clients} clients: {errors} errors, p50 {p(0.5):.1f} ms, "
          f"p95 {p(0.95):.1f} ms, "
          f"p99 {p(0.99):.1f} ms, mean {statistics.fmean(latencies) * 1000:.1f} ms, "
          f"{args.requests / elapsed:.0f} requests/s")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
