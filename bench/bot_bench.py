"""Customer bots: how fast a webhook is acknowledged, and how fast a hand-over shows in a salesperson's cockpit.

Starts the real product (`sufler up`: embedded PostgreSQL, the shipped pack, fastembed) in its own process with
the Telegram bot pointed at a fake Bot API in this process, and no LLM (a request for a human is handed over
without one). Every update is stored in PostgreSQL before its acknowledgement, as in production.

- Telegram webhook acknowledgement: POST an Update → 200 (sequential; a third of them ask for a human);
- Telegram webhook → lead in the cockpit: POST "I want a salesperson" in a new chat → the `lead` event on an open
  /ws/cockpit (stored, handled, lead + outbox committed, NOTIFY, LISTEN, pushed);
- the same two for the web widget: message → `ack`, and message → `lead` in the cockpit;
- a salesperson's fast path (observation → `fast_result`) idle, then while anonymous widget customers flood the
  backend (a second run of the product with its default limits: several sockets on each of a few conversations,
  every socket sending as fast as it can, and a burst of new conversations from one address) — the flood is
  refused or answered within its budgets and the salesperson's p95 stays within 1.5x of idle.

    .venv/bin/python bench/bot_bench.py [--updates 300] [--leads 100] [--flood-seconds 15] [--flood-messages N]
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
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.product import running_product
from bench.socket_bench import observe, open_socket, token_for, unique_observation, until
from bench.stats import percentile
from tests.fakes.telegram import FakeTelegram, text_update
from tests.helpers import serving

SECRET = "bench-webhook-secret"
ASK_HUMAN = "Chcę porozmawiać z doradcą o leasingu"
QUESTIONS = ["Jaki jest zasięg zimą?", "Ile trwa ładowanie w domu?", ASK_HUMAN]


def row(name: str, ms: list[float], target: str) -> str:
    return f"{name:<48} {len(ms):>5} {percentile(ms, 50):>8.1f} {percentile(ms, 95):>8.1f} {max(ms):>8.1f}   {target}"


async def lead_event(cockpit: ClientConnection, marker: str) -> None:
    while True:
        event = json.loads(await asyncio.wait_for(cockpit.recv(), 30))
        if event["type"] == "lead" and marker in event["lead"]["last_message"]:
            return


async def telegram_acks(http: httpx.AsyncClient, count: int) -> list[float]:
    times = []
    for n in range(count):
        update = text_update(10_000 + n, 900_000 + n // 3, f"{QUESTIONS[n % 3]} #{n}")
        started = time.perf_counter()
        response = await http.post("/bots/telegram/webhook", json=update)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return times


async def telegram_to_cockpit(http: httpx.AsyncClient, cockpit: ClientConnection, count: int) -> list[float]:
    times = []
    for n in range(count):
        marker = f"#tg{n}"
        started = time.perf_counter()
        await http.post("/bots/telegram/webhook", json=text_update(50_000 + n, 800_000 + n, f"{ASK_HUMAN} {marker}"))
        await lead_event(cockpit, marker)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def widget(base: str) -> ClientConnection:
    ws = await connect(base.replace("http://", "ws://") + "/bots/web", compression=None)
    await ws.send(json.dumps({"type": "hello", "language": "pl"}))
    while json.loads(await ws.recv())["type"] != "welcome":
        pass
    return ws


async def widget_round(base: str, cockpit: ClientConnection, n: int) -> tuple[float, float]:
    """(message → ack, message → lead in the cockpit) for one new web conversation asking for a human."""
    chat = await widget(base)
    try:
        marker = f"#web{n}"
        started = time.perf_counter()
        await chat.send(json.dumps({"type": "message", "id": f"m{n}", "text": f"{ASK_HUMAN} {marker}"}))
        while json.loads(await chat.recv())["type"] != "ack":
            pass
        acked = (time.perf_counter() - started) * 1000
        await lead_event(cockpit, marker)
        return acked, (time.perf_counter() - started) * 1000
    finally:
        await chat.close()


async def main(updates: int, leads: int, flood_seconds: float, flood_messages: int | None) -> None:
    fake = FakeTelegram()
    async with serving(fake) as tg_url:
        fake.url = tg_url
        env = {
            "SUFLER_LLM_HOST": "",
            "SUFLER_TELEGRAM_BOT_TOKEN": fake.token,
            "SUFLER_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "SUFLER_TELEGRAM_API_BASE": tg_url,
            # Every widget chat of the benchmark comes from this one address: lift the per-address limits.
            "SUFLER_WIDGET_NEW_CHATS_PER_ADDRESS": "100000",
            "SUFLER_WIDGET_MESSAGES_PER_ADDRESS": "100000",
            "SUFLER_WIDGET_CONNECTIONS_PER_ADDRESS": "100000",
        }
        with tempfile.TemporaryDirectory() as tmp:
            async with running_product(tmp, **env) as product:
                token = await token_for(product.base, product.username, product.password)
                cockpit = await connect(
                    product.base.replace("http://", "ws://") + "/ws/cockpit",
                    additional_headers={"Authorization": f"Bearer {token}"},
                    max_size=2**22,
                    compression=None,
                )
                await until(cockpit, "hello")
                headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                async with httpx.AsyncClient(base_url=product.base, headers=headers, timeout=30) as http:
                    await telegram_acks(http, 20)  # warm-up
                    acks = await telegram_acks(http, updates)
                    await asyncio.sleep(2)  # let the background handling of those finish
                    to_cockpit = await telegram_to_cockpit(http, cockpit, leads)
                web = [await widget_round(product.base, cockpit, n) for n in range(leads)]
                await cockpit.close()
    print(f"\n{'ms':<48} {'n':>5} {'p50':>8} {'p95':>8} {'max':>8}   target")
    print(row("Telegram webhook acknowledged (200)", acks, "p95 ≤ 100 ms"))
    print(row("Telegram webhook → lead in a connected cockpit", to_cockpit, "p95 ≤ 1000 ms"))
    print(row("web widget message → ack", [a for a, _ in web], ""))
    print(row("web widget message → lead in a connected cockpit", [b for _, b in web], "p95 ≤ 1000 ms"))

    idle, during, counts = await salesperson_under_flood(flood_seconds, flood_messages)
    ratio = percentile(during, 95) / percentile(idle, 95)
    print(row("salesperson fast path, idle", idle, ""))
    print(row("salesperson fast path, during the widget flood", during, f"p95 ≤ 1.5x idle: {ratio:.2f}x"))
    print("the flood: " + ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items())))


FLOOD_CONVERSATIONS = 4
SOCKETS_PER_CONVERSATION = 3
NEW_CHATS_AT_ONCE = 50


async def new_conversation(base: str) -> str:
    """A web conversation the customer has written in once; its id, as the widget keeps it."""
    async with connect(base.replace("http://", "ws://") + "/bots/web", compression=None) as ws:
        await ws.send(json.dumps({"type": "hello", "language": "pl"}))
        while (frame := json.loads(await ws.recv()))["type"] != "welcome":
            pass
        await ws.send(json.dumps({"type": "message", "id": "first", "text": QUESTIONS[0]}))
        while json.loads(await ws.recv())["type"] != "ack":
            pass
        return str(frame["conversation_id"])


async def flooding_customer(
    base: str, conversation: str | None, stop: asyncio.Event, counts: dict[str, int], messages: int | None
) -> None:
    """One widget client sending messages as fast as it can (not waiting for answers) until ``stop`` or until it has
    sent ``messages``, opening the conversation again whenever the backend closes its socket — as an attacker
    would. Having sent its messages it keeps the socket open (the answers still come)."""
    n = 0
    while not stop.is_set():
        try:
            async with connect(base.replace("http://", "ws://") + "/bots/web", compression=None) as ws:
                await ws.send(json.dumps({"type": "hello", "conversation_id": conversation, "language": "pl"}))

                async def read(ws: ClientConnection = ws) -> None:
                    async for raw in ws:
                        kind = json.loads(raw)["type"]
                        counts[kind] = counts.get(kind, 0) + 1

                reader = asyncio.create_task(read())
                try:
                    while not stop.is_set():
                        if messages is not None and n >= messages:
                            await stop.wait()
                            break
                        n += 1
                        text = f"{QUESTIONS[n % 2]} {n}"
                        await ws.send(json.dumps({"type": "message", "id": uuid.uuid4().hex, "text": text}))
                        counts["sent"] = counts.get("sent", 0) + 1
                        await asyncio.sleep(0.01)
                finally:
                    reader.cancel()
                    await asyncio.gather(reader, return_exceptions=True)
        except (ConnectionClosed, OSError, InvalidStatus):
            counts["closed by the backend"] = counts.get("closed by the backend", 0) + 1
            await asyncio.sleep(0.05)


async def new_conversation_burst(base: str, counts: dict[str, int]) -> None:
    async def one() -> None:
        try:
            async with connect(base.replace("http://", "ws://") + "/bots/web", compression=None) as ws:
                await ws.send(json.dumps({"type": "hello", "language": "pl"}))
                kind = json.loads(await asyncio.wait_for(ws.recv(), 10))["type"]
                counts[f"new chat: {kind}"] = counts.get(f"new chat: {kind}", 0) + 1
        except Exception as exc:  # a refused handshake or a closed socket is the protection working
            counts[f"new chat: {type(exc).__name__}"] = counts.get(f"new chat: {type(exc).__name__}", 0) + 1

    await asyncio.gather(*(one() for _ in range(NEW_CHATS_AT_ONCE)))


async def salesperson_under_flood(
    seconds: float, messages: int | None
) -> tuple[list[float], list[float], dict[str, int]]:
    """The fast path idle, then during the flood, on a product run with its default widget limits."""
    with tempfile.TemporaryDirectory() as tmp:
        # The widget's limits as shipped; the salesperson's own message limit lifted (typing as fast as a benchmark).
        async with running_product(tmp, SUFLER_LLM_HOST="", SUFLER_SESSIONS_MESSAGE_BURST="1000000") as product:
            token = await token_for(product.base, product.username, product.password)
            ws = await open_socket(product.base, token)
            for n in range(20):  # warm-up
                await observe(ws, unique_observation(n), "fast_result")
            idle = [(await observe(ws, unique_observation(100 + n), "fast_result"))[0] for n in range(100)]
            conversations = [await new_conversation(product.base) for _ in range(FLOOD_CONVERSATIONS)]
            stop, counts = asyncio.Event(), {}
            flood = [
                asyncio.create_task(flooding_customer(product.base, conversation, stop, counts, messages))
                for conversation in conversations
                for _ in range(SOCKETS_PER_CONVERSATION)
            ]
            await new_conversation_burst(product.base, counts)
            during: list[float] = []
            ends = time.monotonic() + seconds
            n = 0
            while time.monotonic() < ends:
                n += 1
                during.append((await observe(ws, unique_observation(1000 + n), "fast_result"))[0])
            stop.set()
            await asyncio.gather(*flood, return_exceptions=True)
            await ws.close()
    return idle, during, counts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--leads", type=int, default=100)
    parser.add_argument("--flood-seconds", type=float, default=15.0)
    parser.add_argument(
        "--flood-messages",
        type=int,
        default=None,
        help="messages per flooding client (default: no end, as fast as it can)",
    )
    args = parser.parse_args()
    asyncio.run(main(args.updates, args.leads, args.flood_seconds, args.flood_messages))
