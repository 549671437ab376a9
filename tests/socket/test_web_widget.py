"""The web widget's socket end to end: a conversation that becomes a lead, double submits, reconnects, bad frames,
a salesperson replying from the cockpit, and sites that may not open the chat."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from backend.db.models import BotUpdate, Lead
from backend.settings import WidgetSettings
from tests.socket.conftest import Backend, StartBackend

WAIT = 10.0


class Widget:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self._cursor = 0

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def say(self, text: str, frame_id: str | None = None) -> str:
        frame_id = frame_id or uuid.uuid4().hex
        await self.send({"type": "message", "id": frame_id, "text": text})
        return frame_id

    async def next(self, kind: str, **match: Any) -> dict[str, Any]:
        while True:
            while self._cursor < len(self.frames):
                frame = self.frames[self._cursor]
                self._cursor += 1
                if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                    return frame
            self.frames.append(json.loads(await asyncio.wait_for(self.ws.recv(), WAIT)))

    def replies(self) -> list[str]:
        return [f["text"] for f in self.frames if f["type"] == "reply"]


@asynccontextmanager
async def widget(
    backend: Backend, conversation_id: str | None = None, origin: str | None = None
) -> AsyncIterator[Widget]:
    url = backend.url.replace("http://", "ws://") + "/bots/web"
    headers = {"Origin": origin} if origin else None
    async with connect(url, additional_headers=headers, open_timeout=WAIT) as ws:
        client = Widget(ws)
        await client.send({"type": "hello", "conversation_id": conversation_id, "language": "pl"})
        await client.next("welcome")
        yield client


async def test_a_web_conversation_answers_and_hands_over_into_the_cockpit_inbox(backend: Backend) -> None:
    async with backend.cockpit() as cockpit, widget(backend) as chat:
        greeting = await chat.next("reply")
        assert "Dzień dobry" in greeting["text"] and [b["data"] for b in greeting["buttons"]] == ["human", "contact"]
        asked = await chat.say("Jaki jest zasięg zimą i jak ładować w domu?")
        assert (await chat.next("ack", id=asked))["duplicate"] is False
        await chat.next("typing")
        answer = await chat.next("reply")
        assert answer["from"] == "bot" and answer["text"].startswith("Advice about")  # from the (fake) LLM
        await chat.send({"type": "button", "id": "b1", "data": "human"})
        await chat.next("reply", text="Przekazuję rozmowę doradcy — odezwie się wkrótce.")
        assert (await chat.next("reply"))["ask_contact"] is True
        lead = await cockpit.next("lead", wait=WAIT)
        assert lead["lead"]["channel"] == "web" and lead["lead"]["reason"] == "asked_for_human"

        await chat.send({"type": "contact", "id": "c1", "name": "Ola", "phone": "+48 600 100 200", "consent": False})
        refused = await chat.next("error", id="c1")
        assert refused["code"] == "consent_required"
        await chat.send({"type": "contact", "id": "c2", "name": "Ola", "phone": "+48 600 100 200", "consent": True})
        await chat.next("reply", text="Dziękuję, Ola! Doradca skontaktuje się z Tobą.")
    async with backend.db.sessions() as db:
        stored = await db.get(Lead, lead["lead"]["id"])
        assert stored is not None and stored.data["consent"] is True
        assert stored.data["contact"].startswith("enc:")  # kept encrypted
    async with backend.cockpit() as later:  # the inbox shows it decrypted
        shown = next(item for item in later.events[0]["inbox"] if item["id"] == lead["lead"]["id"])
        assert shown["contact"] == "+48 600 100 200"


async def test_a_double_submit_is_stored_and_answered_once(backend: Backend) -> None:
    async with widget(backend) as chat:
        await chat.next("reply")  # greeting
        frame_id = await chat.say("Ile kosztuje leasing na firmę?")
        await chat.say("Ile kosztuje leasing na firmę?", frame_id)
        assert (await chat.next("ack", id=frame_id))["duplicate"] is False
        assert (await chat.next("ack", id=frame_id))["duplicate"] is True
        await chat.next("reply")
        conversation = chat.frames[0]["conversation_id"]
    async with widget(backend, conversation) as again:
        said = [t["text"] for t in again.frames[0]["transcript"] if t["from"] == "customer"]
        assert said == ["Ile kosztuje leasing na firmę?"]
    async with backend.db.sessions() as db:
        count = await db.scalar(select(func.count()).where(BotUpdate.event_id == f"{conversation}:{frame_id}"))
        assert count == 1


async def test_reconnecting_brings_the_conversation_back_and_unknown_ids_start_afresh(backend: Backend) -> None:
    async with widget(backend) as first:
        await first.next("reply")
        await first.say("Czy mogę umówić jazdę próbną?")
        await first.next("reply")
        conversation = first.frames[0]["conversation_id"]
    async with widget(backend, conversation) as second:
        welcome = second.frames[0]
        assert welcome["conversation_id"] == conversation
        texts = [t["text"] for t in welcome["transcript"]]
        assert "Czy mogę umówić jazdę próbną?" in texts and any("Dzień dobry" in t for t in texts)
        assert await _quiet(second) == []  # no second greeting for a conversation that goes on
    for guessed in ("x" * 32, "not-even-the-right-shape"):
        async with widget(backend, guessed) as stranger:
            assert stranger.frames[0]["conversation_id"] not in (conversation, guessed)
            assert stranger.frames[0]["transcript"] == []


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "invalid_json"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"type": "message", "id": "m1", "text": ""}', "invalid_frame"),
        ('{"type": "hello"}', "already_open"),
        ('{"type": "contact", "id": "c", "phone": "1", "consent": true}', "invalid_frame"),
    ],
)
async def test_bad_frames_get_typed_errors_and_the_socket_stays_open(backend: Backend, frame: str, code: str) -> None:
    async with widget(backend) as chat:
        await chat.send(frame)
        assert (await chat.next("error"))["code"] == code
        await chat.say("Jaki zasięg?")
        await chat.next("ack")


async def test_frames_before_hello_are_refused(backend: Backend) -> None:
    url = backend.url.replace("http://", "ws://") + "/bots/web"
    async with connect(url, open_timeout=WAIT) as ws:
        await ws.send(json.dumps({"type": "message", "id": "m", "text": "hej"}))
        assert json.loads(await ws.recv())["code"] == "hello_first"


async def test_a_salesperson_replies_to_a_web_lead_and_the_bot_goes_silent(backend: Backend) -> None:
    async with backend.cockpit() as cockpit, widget(backend) as chat:
        await chat.next("reply")
        await chat.say("Poproszę kontakt z doradcą")
        lead = await cockpit.next("lead", wait=WAIT)
        await cockpit.send({"v": 1, "type": "claim_lead", "lead_id": lead["lead"]["id"]})
        await cockpit.next("session")
        await cockpit.send({"v": 1, "type": "customer_reply", "text": "Tu Anna z salonu, w czym pomóc?"})
        reply = await chat.next("reply", **{"from": "salesperson"})
        assert reply["text"] == "Tu Anna z salonu, w czym pomóc?"
        await chat.say("A jaki jest zasięg?")
        await chat.next("ack")
        assert [f for f in await _quiet(chat) if f["type"] == "reply"] == []  # the human has it now


async def test_sites_not_on_the_list_cannot_open_the_chat(start_backend: StartBackend) -> None:
    allowed = WidgetSettings(allowed_origins="https://salon.example")
    async with start_backend(widget=allowed) as backend:
        async with widget(backend, origin="https://salon.example") as chat:
            await chat.next("reply")
        url = backend.url.replace("http://", "ws://") + "/bots/web"
        with pytest.raises(InvalidStatus) as refused:  # the handshake itself: nothing was opened
            await connect(url, additional_headers={"Origin": "https://evil.example"})
        assert refused.value.response.status_code == 403


async def test_the_widget_script_and_demo_page_are_served(backend: Backend) -> None:
    async with backend.http() as http:
        script = await http.get("/bots/web/widget.js")
        demo = await http.get("/bots/web/demo")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "/bots/web" in script.text
    assert demo.status_code == 200 and '<script src="/bots/web/widget.js"' in demo.text


async def _quiet(chat: Widget, seconds: float = 0.5) -> list[dict[str, Any]]:
    heard: list[dict[str, Any]] = []
    try:
        while True:
            heard.append(json.loads(await asyncio.wait_for(chat.ws.recv(), seconds)))
    except TimeoutError:
        pass
    return heard


async def test_several_sockets_on_one_chat_share_its_rate(backend: Backend) -> None:
    async with widget(backend) as first:
        conversation = next(f for f in first.frames if f["type"] == "welcome")["conversation_id"]
        async with widget(backend, conversation) as second, widget(backend, conversation) as third:
            chats = (first, second, third)
            for n in range(12):
                for chat in chats:
                    await chat.say(f"pytanie {n}")
            answers = [frame for chat in chats for frame in await _acks_or_errors(chat, 12)]
    limited = [a for a in answers if a["type"] == "error" and a["code"] == "rate_limited"]
    assert limited and len(answers) - len(limited) <= 20 + 2  # the chat's burst (and what refilled meanwhile)


async def test_one_address_cannot_open_chats_without_end(start_backend: StartBackend) -> None:
    async with start_backend(widget=WidgetSettings(new_chats_per_address=3)) as backend:
        for _ in range(3):
            async with widget(backend):  # welcomed
                pass
        url = backend.url.replace("http://", "ws://") + "/bots/web"
        async with connect(url) as ws:
            await ws.send(json.dumps({"type": "hello", "conversation_id": None, "language": "pl"}))
            refused = json.loads(await ws.recv())
    assert refused["type"] == "error" and refused["code"] == "rate_limited"


async def _acks_or_errors(chat: Widget, count: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while len(got) < count:
        frame = json.loads(await asyncio.wait_for(chat.ws.recv(), WAIT))
        if frame["type"] in ("ack", "error"):
            got.append(frame)
    return got


async def test_a_socket_that_floods_on_after_its_refusals_is_closed(backend: Backend) -> None:
    async with widget(backend) as chat:
        for n in range(60):  # nobody types that fast: the burst (20), then refusals, then the socket is closed
            await chat.say(f"pytanie {n}")
        frames: list[dict[str, Any]] = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                frames.append(json.loads(await asyncio.wait_for(chat.ws.recv(), WAIT)))
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    # Closed, not served: at most the burst acknowledged; refusals still queued when it closed are dropped.
    assert sum(f["type"] == "ack" for f in frames) <= 22 and len(frames) < 60
