"""The sales lead's review on a team's worth of data: how long each /review request takes.

Starts the real product (`sufler up`: embedded PostgreSQL, the shipped pack) with a fake Ollama in this process
that answers instantly, fills it through the cockpit socket as salespeople would (clients, observations that
went the whole LLM path, thumbs up/down on the moves), then times the review endpoints over HTTP as an admin.

    .venv/bin/python bench/review_bench.py [--clients 200] [--observations 5] [--repeat 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.product import running_product
from bench.socket_bench import open_socket, token_for, unique_observation, until
from bench.stats import percentile
from tests.fakes.model_server import FakeModelServer, running

WORKERS = 4  # sockets filling the database at once


async def fill(base: str, token: str, clients: int, observations: int) -> int:
    """Clients with ``observations`` each, every one answered with moves; the first move rated up or down."""
    numbers = iter(range(clients * observations))
    rated = 0

    async def salesperson(share: int) -> None:
        nonlocal rated
        for _ in range(share):
            ws = await open_socket(base, token)  # a new client file and its session
            try:
                for _ in range(observations):
                    number = next(numbers)
                    text = unique_observation(number)
                    await ws.send(
                        json.dumps({"v": 1, "type": "observation", "client_message_id": uuid.uuid4().hex, "text": text})
                    )
                    moves = await until(ws, "moves")
                    first = moves["moves"][0]["id"]  # type: ignore[index]
                    rating = 1 if number % 3 else -1
                    await ws.send(json.dumps({"v": 1, "type": "feedback", "suggestion_id": first, "rating": rating}))
                    await until(ws, "feedback_saved")
                    rated += 1
            finally:
                await ws.close()

    shares = [clients // WORKERS + (1 if i < clients % WORKERS else 0) for i in range(WORKERS)]
    await asyncio.gather(*(salesperson(share) for share in shares))
    return rated


async def timed(http: httpx.AsyncClient, path: str, repeat: int) -> tuple[list[float], int]:
    durations, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = await http.get(path)
        durations.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        size = len(response.content)
    return durations, size


async def main(clients: int, observations: int, repeat: int) -> None:
    fake = FakeModelServer()
    fake.default.chunk_size = 4096  # the whole answer at once
    with tempfile.TemporaryDirectory() as tmp:
        unlimited = {"SUFLER_SESSIONS_MESSAGE_BURST": "1000000"}  # one user filling the review as a team would
        async with running(fake), running_product(tmp, SUFLER_LLM_HOST=fake.url, **unlimited) as product:
            token = await token_for(product.base, product.username, product.password)
            started = time.perf_counter()
            rated = await fill(product.base, token, clients, observations)
            print(
                f"filled: {clients} clients, {clients * observations} observations through the LLM path, "
                f"{rated} ratings in {time.perf_counter() - started:.0f} s"
            )
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=product.base, headers=headers, timeout=60) as http:
                files = (await http.get("/review/clients")).json()
                session = files[0]["latest_session_id"]
                paths = {
                    "team's client files (all)": "/review/clients",
                    "client files, purchase_readiness ≥ 10": "/review/clients?indicator=purchase_readiness&min=10",
                    "a session's timeline": f"/review/sessions/{session}/timeline",
                    "feedback statistics": "/review/feedback",
                    "knowledge proposals": "/review/proposals",
                    "fine-tuning export (JSONL)": "/review/export",
                    "audit log (100 newest)": "/audit",
                }
                print(f"\n{'request':<42} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'kB':>7}")
                for name, path in paths.items():
                    durations, size = await timed(http, path, repeat)
                    print(
                        f"{name:<42} {len(durations):>4} {percentile(durations, 50):>8.1f} "
                        f"{percentile(durations, 95):>8.1f} {max(durations):>8.1f} {size / 1024:>7.1f}"
                    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--observations", type=int, default=5, help="per client")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.clients, args.observations, args.repeat))
