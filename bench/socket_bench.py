"""Cockpit socket latency: observation sent → fast result received, and the backend's LLM-path overhead.

Starts the real product (`sufler up`: embedded PostgreSQL, the shipped pack, fastembed, local Qdrant) in its own
process and drives /ws/cockpit over loopback from this one. Every observation is stored in PostgreSQL before
its ack, as in production.

- fast path, 1 socket: observations one after another;
- fast path, N sockets: every socket sends one observation every 2 s (staggered), for --duration seconds;
- LLM overhead: a fake Ollama in this process answers instantly; from the fast result to the assessment and to
  the first streamed move is the backend's own work around one LLM call (prompt, HTTP, validation, rules).

    .venv/bin/python bench/socket_bench.py [--sockets 200] [--duration 30] [--sequential 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.product import running_product
from bench.stats import percentile
from tests.fakes.model_server import FakeModelServer, instance_of, running

OBSERVATIONS = [
    "Klient pyta o leasing na firmę i odliczenie VAT",
    "Przyjechał z żoną i dwójką dzieci, pyta o foteliki Isofix",
    "Worried the battery will degrade and that range in winter is too low",
    "Pyta o rabat i czy jest jakaś promocja na auto demonstracyjne",
    "Wants to know the 0-60 time, launch mode and how it handles on a track",
    "Ma fotowoltaikę na dachu i pyta o wallbox w garażu",
    "Od 20 lat jeździ Mercedesem, porównuje jakość wykończenia",
    "First EV ever, does not understand how charging works",
]


DETAILS = ["jutro", "w przyszłym tygodniu", "z żoną", "sam", "po pracy", "przed świętami", "again", "today"]


def unique_observation(number: int) -> str:
    """Every observation differs (as in a real conversation), so no cache anywhere could flatter the numbers."""
    return f"{OBSERVATIONS[number % len(OBSERVATIONS)]}, {random.choice(DETAILS)} #{number}"


async def token_for(base: str, username: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post("/auth/login", json={"username": username, "password": password})
        return str(response.json()["token"])


async def open_socket(base: str, token: str) -> ClientConnection:
    ws = await connect(
        base.replace("http://", "ws://") + "/ws/cockpit",
        additional_headers={"Authorization": f"Bearer {token}"},
        max_size=2**22,
        open_timeout=60,
        compression=None,
    )
    await until(ws, "hello")
    await ws.send(json.dumps({"v": 1, "type": "open_session", "new_client": {"name": f"Bench {uuid.uuid4().hex[:6]}"}}))
    await until(ws, "session")
    return ws


async def until(ws: ClientConnection, event_type: str) -> dict[str, object]:
    while True:
        event: dict[str, object] = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if event["type"] == event_type:
            return event
        if event["type"] == "error":  # a refusal is a result too: say it instead of waiting for what never comes
            raise RuntimeError(f"the backend answered {event['code']}: {event['message']}")


async def observe(ws: ClientConnection, text: str, *wanted: str) -> list[float]:
    """Send one observation; milliseconds until each wanted event type (in order) arrives."""
    started = time.perf_counter()
    await ws.send(json.dumps({"v": 1, "type": "observation", "client_message_id": uuid.uuid4().hex, "text": text}))
    times = []
    for event_type in wanted:
        await until(ws, event_type)
        times.append((time.perf_counter() - started) * 1000)
    return times


def cpu_seconds() -> list[float]:
    """CPU time used so far by the backend process and by this one (Linux /proc)."""
    import os

    def used(pid: int) -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return [used(BACKEND_PID[0]), used(os.getpid())]


BACKEND_PID: list[int] = [0]


def row(label: str, timings: list[float]) -> str:
    return (
        f"{label:<44} {len(timings):>6} {statistics.median(timings):>8.1f} "
        f"{percentile(timings, 95):>8.1f} {percentile(timings, 99):>8.1f} {max(timings):>8.1f}"
    )


async def fast_path(
    base: str, token: str, sockets: int, duration: float, sequential: int, intervals: list[float]
) -> None:
    ws = await open_socket(base, token)
    for text in OBSERVATIONS:  # warm-up
        await observe(ws, text, "fast_result")
    one = [(await observe(ws, unique_observation(i), "fast_result"))[0] for i in range(sequential)]
    await ws.close()
    print(row("fast path, 1 socket", one))

    conns = [await open_socket(base, token) for _ in range(sockets)]
    for interval in intervals:
        await many_sockets(conns, interval, duration)
    for ws in conns:
        await ws.close()


async def many_sockets(conns: list[ClientConnection], interval: float, duration: float) -> None:
    sockets = len(conns)
    many: list[float] = []
    deadline = time.perf_counter() + duration

    async def client(number: int, ws: ClientConnection) -> None:
        await asyncio.sleep(interval * number / sockets)  # staggered: one observation every `interval` s per socket
        sent = 0
        while time.perf_counter() < deadline:
            tick = time.perf_counter()
            sent += 1
            many.extend(await observe(ws, unique_observation(number * 10_000 + sent), "fast_result"))
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - tick)))

    cpu = cpu_seconds()
    await asyncio.gather(*(client(i, ws) for i, ws in enumerate(conns)))
    cpu = [b - a for a, b in zip(cpu, cpu_seconds(), strict=True)]
    rate = len(many) / duration
    print(row(f"fast path, {sockets} sockets, 1 obs / {interval:g} s each", many) + f"   ({rate:.0f} obs/s)")
    print(f"  (CPU during the run: backend {cpu[0] / duration:.2f} cores, this load generator {cpu[1] / duration:.2f})")


async def llm_overhead(base: str, token: str, rounds: int) -> None:
    ws = await open_socket(base, token)
    to_assessment, to_move = [], []
    for i in range(rounds + 3):
        fast, assessment, move = await observe(ws, unique_observation(i), "fast_result", "assessment", "move")
        await until(ws, "moves")
        if i >= 3:  # warm-up
            to_assessment.append(assessment - fast)
            to_move.append(move - assessment)
    await ws.close()
    print(row("LLM overhead: fast result → assessment", to_assessment))
    print(row("LLM overhead: assessment → first move", to_move))


def plain_answer(request: dict[str, Any]) -> str:
    """The fake model's answer in the requested shape, with no number in it: the observations' "#n" quoted back
    would be a claim the pack does not hold, and such moves are replaced (backend/domain/copilot/grounding.py)."""
    schema = request.get("format")
    said = "the client asks about range and charging at home"
    return json.dumps(instance_of(schema, schema, said)) if isinstance(schema, dict) else said


async def main(sockets: int, duration: float, sequential: int, rounds: int, intervals: list[float]) -> None:
    header = f"{'measurement':<44} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    with tempfile.TemporaryDirectory() as tmp:
        # One benchmark user stands for many salespeople: no per-socket message limit in the way of the measurement.
        async with running_product(tmp, SUFLER_LLM_HOST="", SUFLER_SESSIONS_MESSAGE_BURST="1000000") as product:
            BACKEND_PID[0] = product.pid
            token = await token_for(product.base, product.username, product.password)
            print(header)
            await fast_path(product.base, token, sockets, duration, sequential, intervals)
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeModelServer(respond=plain_answer)
        fake.default.chunk_size = 4096  # the whole answer at once: no model time at all
        unlimited = {"SUFLER_SESSIONS_MESSAGE_BURST": "1000000"}
        async with running(fake), running_product(tmp, SUFLER_LLM_HOST=fake.url, **unlimited) as product:
            token = await token_for(product.base, product.username, product.password)
            await llm_overhead(product.base, token, rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--sequential", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--intervals", default="2", help="seconds between one socket's observations")
    args = parser.parse_args()
    intervals = [float(i) for i in args.intervals.split(",")]
    asyncio.run(main(args.sockets, args.duration, args.sequential, args.rounds, intervals))
