"""Customer bots: how fast a webhook is acknowledged, and how fast a hand-over shows in a salesperson's cockpit.

Starts the real product (`sufler up`: embedded PostgreSQL, the shipped pack, fastembed) in its own process with
the Telegram bot pointed at a fake Bot API in this process, and no LLM (a request for a human is handed over
without one). Every update is stored in PostgreSQL before its acknowledgement, as in production.

- Telegram webhook acknowledgement: POST an Update → 200 (sequential; a third of them ask for a human);
- Telegram webhook → lead in the cockpit: POST "I want a salesperson" in a new chat → the `lead` event on an open
  /ws/cockpit (stored, handled, lead + outbox committed, NOTIFY, LISTEN, pushed);
- the same two for the web widget: message → `ack`, and message → `lead` in the cockpit;
- WhatsApp webhook acknowledgement: POST a signed Cloud API body (X-Hub-Signature-256 checked over the raw bytes,
  its message stored) → 200, against a fake Graph API in this process;
- CRM webhook delivery: a Telegram customer asks for a salesperson → the CRM receiver in this process holds the
  signed `lead.created` (verified with the Standard Webhooks reference library);
- the FAQ cache: a chat's first question answered by a model that takes 1 s (the fake model server, in a second
  run of the product), then the same question in other chats — answered from the cache;
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

from backend.domain.integrations.webhooks import new_secret
from bench.product import running_product
from bench.socket_bench import observe, open_socket, token_for, unique_observation, until
from bench.stats import percentile
from tests.fakes.graph_api import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    FakeGraphApi,
    signed,
    whatsapp_body,
    whatsapp_text,
)
from tests.fakes.model_server import FakeModelServer, Reply, running
from tests.fakes.telegram import FakeTelegram, text_update
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.helpers import serving

SECRET = "bench-webhook-secret"
ASK_HUMAN = "Chcę porozmawiać z doradcą o leasingu"
QUESTIONS = ["Jaki jest zasięg zimą?", "Ile trwa ładowanie w domu?", ASK_HUMAN]


def row(name: str, ms: list[float], target: str) -> str:
    return f"{name:<56} {len(ms):>5} {percentile(ms, 50):>8.1f} {percentile(ms, 95):>8.1f} {max(ms):>8.1f}   {target}"


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


async def telegram_to_cockpit(
    http: httpx.AsyncClient, cockpit: ClientConnection, crm: WebhookReceiver, count: int
) -> tuple[list[float], list[float]]:
    """(ask for a human → lead in the cockpit, → lead.created at the CRM) for new Telegram chats."""
    to_cockpit, to_crm = [], []
    for n in range(count):
        marker = f"#tg{n}"
        started = time.perf_counter()
        await http.post("/bots/telegram/webhook", json=text_update(50_000 + n, 800_000 + n, f"{ASK_HUMAN} {marker}"))
        await lead_event(cockpit, marker)
        to_cockpit.append((time.perf_counter() - started) * 1000)
        while not any(marker in json.dumps(e["data"], ensure_ascii=False) for e in crm.of_type("lead.created")):  # noqa: ASYNC110
            await asyncio.sleep(0.001)  # polling what the receiver recorded
        to_crm.append((time.perf_counter() - started) * 1000)
    return to_cockpit, to_crm


async def whatsapp_acks(http: httpx.AsyncClient, count: int, first: int = 0) -> list[float]:
    times = []
    for n in range(first, first + count):
        message = whatsapp_text(f"wamid.BENCH{n:08d}", f"4860{n // 3:07d}", f"{QUESTIONS[n % 3]} #{n}")
        raw, headers = signed(whatsapp_body(message))
        started = time.perf_counter()
        response = await http.post("/bots/whatsapp/webhook", content=raw, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return times


async def faq_answers(count: int) -> tuple[list[float], list[float]]:
    """(first asking → answer sent, the same question in other chats → answer sent), the model taking 1 s."""
    fake_telegram, model = FakeTelegram(), FakeModelServer(default=Reply(first_token_delay=1.0))
    async with serving(fake_telegram) as tg_url, running(model):
        env = {
            "SUFLER_LLM_HOST": model.url,
            "SUFLER_TELEGRAM_BOT_TOKEN": fake_telegram.token,
            "SUFLER_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "SUFLER_TELEGRAM_API_BASE": tg_url,
        }
        with tempfile.TemporaryDirectory() as tmp:
            async with running_product(tmp, **env) as product:
                headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                async with httpx.AsyncClient(base_url=product.base, headers=headers, timeout=30) as http:

                    async def answered(n: int, question: str) -> float:
                        chat = 600_000 + n
                        started = time.perf_counter()
                        await http.post("/bots/telegram/webhook", json=text_update(70_000 + n, chat, question))
                        while not any(p["chat_id"] == chat for p in fake_telegram.sent()):  # noqa: ASYNC110
                            await asyncio.sleep(0.001)  # polling what the fake Bot API recorded
                        return (time.perf_counter() - started) * 1000

                    questions = [
                        "Jaki jest zasięg zimą?",
                        "Ile trwa ładowanie w domu?",
                        "Jak wygląda leasing na firmę?",
                    ]
                    first = [await answered(n, q) for n, q in enumerate(questions)]
                    again = [await answered(100 + n, questions[n % 3]) for n in range(count)]
    return first, again


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
    fake, graph, crm = FakeTelegram(), FakeGraphApi(), WebhookReceiver(secret=new_secret())
    async with serving(fake) as tg_url, serving(graph) as graph_url, serving(crm) as crm_url:
        fake.url = tg_url
        env = {
            "SUFLER_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
            "SUFLER_WHATSAPP_APP_SECRET": APP_SECRET,
            "SUFLER_WHATSAPP_ACCESS_TOKEN": "wa-token",
            "SUFLER_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "SUFLER_GRAPH_API_BASE": graph_url,
            "SUFLER_CRM_WEBHOOK_URL": crm_url + "/hooks",
            "SUFLER_CRM_WEBHOOK_SECRET": crm.secret,
            "SUFLER_CRM_WEBHOOK_EVENTS": "lead.created",
            "SUFLER_CRM_WEBHOOK_PERSONAL_DATA": "true",  # the benchmark finds its lead by the words in it
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
                    await asyncio.sleep(2)  # the Telegram updates' handling done: WhatsApp's acks measured alone
                    await whatsapp_acks(http, 20)  # warm-up
                    whatsapp = await whatsapp_acks(http, updates, first=20)
                    await asyncio.sleep(2)  # let the background handling of those finish
                    to_cockpit, to_crm = await telegram_to_cockpit(http, cockpit, crm, leads)
                web = [await widget_round(product.base, cockpit, n) for n in range(leads)]
                await cockpit.close()
    print(f"\n{'ms':<56} {'n':>5} {'p50':>8} {'p95':>8} {'max':>8}   target")
    print(row("Telegram webhook acknowledged (200)", acks, "p95 ≤ 100 ms"))
    print(row("Telegram webhook → lead in a connected cockpit", to_cockpit, "p95 ≤ 1000 ms"))
    print(row("WhatsApp webhook acknowledged (200, signature checked)", whatsapp, "p95 ≤ 100 ms"))
    print(row("Telegram webhook → lead.created at the CRM (signed)", to_crm, "p95 ≤ 1000 ms"))
    print(row("web widget message → ack", [a for a, _ in web], ""))
    print(row("web widget message → lead in a connected cockpit", [b for _, b in web], "p95 ≤ 1000 ms"))

    first, again = await faq_answers(leads)
    print(row("bot answer, the model asked (it takes 1 s)", first, ""))
    print(row("bot answer, the same question from the FAQ cache", again, ""))

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
