"""HTTP baseline of the backend: latency of /health and an authenticated /auth/me over a real socket.

Starts the real product (`sufler up`: embedded PostgreSQL, migrations, uvicorn) in its own process, so that
the load generator here does not share its event loop, and prints a table.

    .venv/bin/python bench/http_bench.py [--requests 2000] [--concurrency 1,20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.product import running_product
from bench.stats import percentile


async def measure(http: httpx.AsyncClient, path: str, n: int, concurrency: int, headers: dict[str, str]) -> list[float]:
    timings: list[float] = []

    async def worker() -> None:
        for _ in range(n // concurrency):
            started = time.perf_counter()
            response = await http.get(path, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return timings


async def main(requests: int, concurrencies: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with running_product(tmp) as product:
            base, username, password = product.base, product.username, product.password
            limits = httpx.Limits(max_connections=max(concurrencies))
            async with httpx.AsyncClient(base_url=base, limits=limits) as http:
                login = await http.post("/auth/login", json={"username": username, "password": password})
                token = {"Authorization": f"Bearer {login.json()['token']}"}
                http.cookies.clear()
                print(f"{'endpoint':<10} {'conc':>5} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7}")
                for path, headers in (("/health", {}), ("/auth/me", token)):
                    await measure(http, path, 50, 1, headers)  # warm-up
                    for conc in concurrencies:
                        started = time.perf_counter()
                        t = await measure(http, path, requests, conc, headers)
                        rate = len(t) / (time.perf_counter() - started)
                        print(
                            f"{path:<10} {conc:>5} {len(t):>6} {statistics.median(t):>8.2f} "
                            f"{percentile(t, 95):>8.2f} {percentile(t, 99):>8.2f} {rate:>7.0f}"
                        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", default="1,20")
    args = parser.parse_args()
    asyncio.run(main(args.requests, [int(c) for c in args.concurrency.split(",")]))
