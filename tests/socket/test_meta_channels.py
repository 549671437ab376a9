"""WhatsApp, Messenger and Instagram end to end: real-shaped Meta webhook bodies, signed over their raw bytes,
posted to the real backend; replies sent to a fake Graph API on a real port."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from itertools import count
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from backend.db.models import BotConversation, BotUpdate, Lead
from backend.settings import GraphApiSettings, InstagramSettings, MessengerSettings, WhatsAppSettings
from tests.fakes.graph_api import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    FakeGraphApi,
    messaging_body,
    messaging_text,
    signed,
    whatsapp_body,
    whatsapp_status,
    whatsapp_text,
)
from tests.helpers import serving
from tests.socket.conftest import Backend, StartBackend

_numbers = count(1)


def new_number() -> str:
    """A WhatsApp number (wa_id) or a Messenger/Instagram id nobody else in the run uses."""
    return f"48600{next(_numbers):06d}{int(time.time()) % 1000:03d}"


def new_id(prefix: str = "wamid.") -> str:
    return f"{prefix}HBgL{next(_numbers):08d}{time.monotonic_ns()}"


def meta_settings(graph: FakeGraphApi, template: str | None = None) -> dict[str, object]:
    secrets: dict[str, Any] = {"verify_token": SecretStr(VERIFY_TOKEN), "app_secret": SecretStr(APP_SECRET)}
    return {
        "graph_api": GraphApiSettings(base=graph.url),
        "whatsapp": WhatsAppSettings(
            **secrets, access_token=SecretStr("wa-token"), phone_number_id=PHONE_NUMBER_ID, template=template
        ),
        "messenger": MessengerSettings(**secrets, access_token=SecretStr("page-token")),
        "instagram": InstagramSettings(**secrets, access_token=SecretStr("ig-token")),
    }


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphApi]:
    fake = FakeGraphApi()
    async with serving(fake) as url:
        fake.url = url
        yield fake


@pytest.fixture
async def meta_backend(start_backend: StartBackend, graph: FakeGraphApi) -> AsyncIterator[Backend]:
    async with start_backend(extra=meta_settings(graph)) as backend:
        yield backend


async def post(backend: Backend, channel: str, body: dict[str, Any], secret: str = APP_SECRET) -> httpx.Response:
    raw, headers = signed(body, secret)
    async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
        return await http.post(f"/bots/{channel}/webhook", content=raw, headers=headers)


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - polling what the fake server recorded
            await asyncio.sleep(0.02)


async def stored_events(backend: Backend, channel: str, *ids: str) -> int:
    async with backend.db.sessions() as db:
        found = await db.scalar(select(func.count()).where(BotUpdate.channel == channel, BotUpdate.event_id.in_(ids)))
    return int(found or 0)


# ---- the webhook machinery, shared by the three ----------------------------------------------------------


@pytest.mark.parametrize("channel", ["whatsapp", "messenger", "instagram"])
async def test_verification_echoes_the_challenge_only_for_the_right_token(meta_backend: Backend, channel: str) -> None:
    async with httpx.AsyncClient(base_url=meta_backend.url, timeout=10) as http:
        query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
        good = await http.get(f"/bots/{channel}/webhook", params=query)
        assert good.status_code == 200 and good.text == "1158201444"
        assert good.headers["content-type"].startswith("text/plain")
        wrong = await http.get(f"/bots/{channel}/webhook", params={**query, "hub.verify_token": "guess"})
        assert wrong.status_code == 403 and "1158201444" not in wrong.text
        not_subscribe = await http.get(f"/bots/{channel}/webhook", params={**query, "hub.mode": "unsubscribe"})
        assert not_subscribe.status_code == 403


async def test_an_unconfigured_channel_is_404(backend: Backend) -> None:
    async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
        query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}
        assert (await http.get("/bots/whatsapp/webhook", params=query)).status_code == 404


def a_message(channel: str, message_id: str, sender: str, text: str, at: float | None = None) -> dict[str, Any]:
    """A body with one customer message, as the channel's webhook gets it."""
    if channel == "whatsapp":
        return whatsapp_body(whatsapp_text(message_id, sender, text, at=at))
    return messaging_body(
        "page" if channel == "messenger" else "instagram", messaging_text(message_id, sender, text, at)
    )


@pytest.mark.parametrize("channel", ["whatsapp", "messenger", "instagram"])
async def test_a_missing_or_wrong_signature_stores_nothing(
    meta_backend: Backend, graph: FakeGraphApi, channel: str
) -> None:
    number, message_id = new_number(), new_id()
    body = a_message(channel, message_id, number, "Dzień dobry")
    raw, headers = signed(body)
    url = f"/bots/{channel}/webhook"
    async with httpx.AsyncClient(base_url=meta_backend.url, timeout=10) as http:
        missing = await http.post(url, content=raw, headers={"Content-Type": "application/json"})
        assert missing.status_code == 401
        assert (await post(meta_backend, channel, body, "guess")).status_code == 403  # another app's secret
        tampered = raw.replace(b"Dzie", b"Hej ")  # the signature of other bytes
        assert (await http.post(url, content=tampered, headers=headers)).status_code == 403
    await asyncio.sleep(0.2)
    assert await stored_events(meta_backend, channel, message_id) == 0
    assert graph.to(number) == []


async def test_the_signature_is_over_the_raw_bytes_emoji_and_polish_included(
    meta_backend: Backend, graph: FakeGraphApi
) -> None:
    number, message_id = new_number(), new_id()
    body = whatsapp_body(whatsapp_text(message_id, number, "Zażółć gęślą jaźń 🚗⚡ — jaki zasięg zimą?"))
    raw, headers = signed(body)
    assert b"\\u017c" in raw  # Meta escapes non-ASCII: the digest is of these bytes, not of the decoded text
    reencoded = json.dumps(body, ensure_ascii=False).encode()  # the same JSON, other bytes
    async with httpx.AsyncClient(base_url=meta_backend.url, timeout=10) as http:
        assert (await http.post("/bots/whatsapp/webhook", content=reencoded, headers=headers)).status_code == 403
        assert (await http.post("/bots/whatsapp/webhook", content=raw, headers=headers)).status_code == 200
    await until(lambda: len(graph.to(number)) >= 1)
    async with meta_backend.db.sessions() as db:
        convo = await db.scalar(select(BotConversation).where(BotConversation.external_id == number))
    assert convo is not None and convo.transcript[0]["text"] == "Zażółć gęślą jaźń 🚗⚡ — jaki zasięg zimą?"


async def test_a_batched_body_is_answered_once_per_message_and_statuses_are_ignored(
    meta_backend: Backend, graph: FakeGraphApi
) -> None:
    first, second = new_number(), new_number()
    one, two, three = new_id(), new_id(), new_id()
    body = whatsapp_body(
        whatsapp_text(one, first, "Jaki jest zasięg zimą?"),
        whatsapp_text(two, second, "Jak wygląda leasing na firmę?"),
        statuses=[whatsapp_status("wamid.OUT1", first), whatsapp_status("wamid.OUT2", second, "read")],
    )
    body["entry"].append(whatsapp_body(whatsapp_text(three, first, "A ładowanie w domu?"))["entry"][0])
    body["entry"].append(whatsapp_body(whatsapp_text(one, first, "Jaki jest zasięg zimą?"))["entry"][0])  # twice in one
    for _ in range(3):  # Meta redelivers a body whose 200 it did not see
        response = await post(meta_backend, "whatsapp", body)
        assert response.status_code == 200
    await until(lambda: len(graph.to(first)) >= 3 and len(graph.to(second)) >= 2)
    await asyncio.sleep(0.5)
    assert await stored_events(meta_backend, "whatsapp", one, two, three) == 3
    assert await stored_events(meta_backend, "whatsapp", "wamid.OUT1", "wamid.OUT2") == 0  # statuses: not events
    async with meta_backend.db.sessions() as db:
        convo = await db.scalar(select(BotConversation).where(BotConversation.external_id == first))
    assert convo is not None
    said = [t["text"] for t in convo.transcript if t["from"] == "customer"]
    assert said == ["Jaki jest zasięg zimą?", "A ładowanie w domu?"]  # once each, in order
    bot_lines = [t["text"] for t in convo.transcript if t["from"] == "bot"]
    assert graph.texts(first) == bot_lines  # every reply sent once, nothing more
    assert all(b["messaging_product"] == "whatsapp" for b in graph.to(first))


async def test_a_status_only_body_is_acknowledged_and_nothing_is_sent(
    meta_backend: Backend, graph: FakeGraphApi
) -> None:
    number = new_number()
    response = await post(meta_backend, "whatsapp", whatsapp_body(statuses=[whatsapp_status("wamid.X", number)]))
    assert response.status_code == 200 and response.json() == {"stored": 0}
    await asyncio.sleep(0.3)
    assert graph.to(number) == []


async def test_media_location_and_a_contact_card(meta_backend: Backend, graph: FakeGraphApi) -> None:
    number = new_number()
    photo = {
        "from": number,
        "id": new_id(),
        "timestamp": str(int(time.time())),
        "type": "image",
        "image": {"mime_type": "image/jpeg", "sha256": "abc", "id": "1234"},
    }
    await post(meta_backend, "whatsapp", whatsapp_body(photo))
    await until(lambda: len(graph.texts(number)) == 1)
    assert "tylko wiadomości tekstowe" in graph.texts(number)[0]  # a polite text-only answer

    where = {"latitude": 52.2297, "longitude": 21.0122, "name": "Salon", "address": "ul. Prosta 1, Warszawa"}
    location = {
        "from": number,
        "id": new_id(),
        "timestamp": str(int(time.time())),
        "type": "location",
        "location": where,
    }
    await post(meta_backend, "whatsapp", whatsapp_body(location))
    await until(lambda: len(graph.texts(number)) == 2)
    assert "lokalizację" in graph.texts(number)[1]

    card = {
        "name": {"formatted_name": "Jan Kowalski", "first_name": "Jan"},
        "phones": [{"phone": "+48 600 100 200", "wa_id": "48600100200", "type": "CELL"}],
    }
    contact = {
        "from": number,
        "id": new_id(),
        "timestamp": str(int(time.time())),
        "type": "contacts",
        "contacts": [card],
    }
    await post(meta_backend, "whatsapp", whatsapp_body(contact))
    await until(lambda: len(graph.texts(number)) == 3)
    assert "Dziękuję, Jan Kowalski" in graph.texts(number)[2]
    async with meta_backend.db.sessions() as db:
        lead = await db.scalar(select(Lead).where(Lead.channel == "whatsapp", Lead.external_conversation_id == number))
    assert lead is not None and lead.data["handover_reason"] == "contact_shared"
    assert "600 100 200" not in json.dumps(lead.data)  # the contact is kept encrypted
    assert meta_backend.services.clients.cipher.decrypt(lead.data["contact"]) == "+48 600 100 200"


async def test_buttons_are_whatsapp_reply_buttons_and_a_tap_hands_over(
    meta_backend: Backend, graph: FakeGraphApi
) -> None:
    number = new_number()
    await post(meta_backend, "whatsapp", whatsapp_body(whatsapp_text(new_id(), number, "Chcę porozmawiać z doradcą")))
    await until(lambda: len(graph.to(number)) >= 2)
    handover, ask = graph.to(number)[:2]
    assert handover["type"] == "text" and "Przekazuję" in handover["text"]["body"]
    assert ask["type"] == "interactive"  # the number they write from, shared with one tap
    (button,) = ask["interactive"]["action"]["buttons"]
    assert button["reply"] == {"id": "share_phone", "title": "Udostępnij kontakt"}
    tap = {
        "from": number,
        "id": new_id(),
        "timestamp": str(int(time.time())),
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": "share_phone", "title": "Udostępnij"}},
    }
    await post(meta_backend, "whatsapp", whatsapp_body(tap))
    await until(lambda: len(graph.to(number)) >= 3)
    async with meta_backend.db.sessions() as db:
        lead = await db.scalar(select(Lead).where(Lead.external_conversation_id == number))
    assert lead is not None and meta_backend.services.clients.cipher.decrypt(lead.data["contact"]) == f"+{number}"


async def test_a_refused_send_is_retried_and_a_permanent_refusal_is_given_up(
    meta_backend: Backend, graph: FakeGraphApi
) -> None:
    number = new_number()
    graph.refuse(500, 2, times=1, message="Temporary")  # transient: sent at the retry
    await post(meta_backend, "whatsapp", whatsapp_body(whatsapp_text(new_id(), number, "Jaki jest zasięg zimą?")))
    await until(lambda: len(graph.to(number)) >= 1, within=15)
    other = new_number()
    graph.refuse(400, 131026, times=1, message="Message undeliverable")  # permanent: not tried again
    await post(meta_backend, "whatsapp", whatsapp_body(whatsapp_text(new_id(), other, "Dzień dobry")))
    await until(lambda: len(graph.refused) == 2)
    await asyncio.sleep(1.5)
    assert len(graph.refused) == 2


# ---- the 24-hour window and take-over ---------------------------------------------------------------------


async def claimed_lead(
    backend: Backend, cockpit: Any, number: str, at: float, channel: str = "whatsapp"
) -> dict[str, Any]:
    """A customer (who last wrote at ``at``) asks for a salesperson; ``cockpit`` takes the lead."""
    await post(backend, channel, a_message(channel, new_id(), number, "Poproszę kontakt z doradcą", at))
    lead = await cockpit.next("lead", wait=10)
    assert lead["lead"]["channel"] == channel
    await cockpit.send({"v": 1, "type": "claim_lead", "lead_id": lead["lead"]["id"]})
    session: dict[str, Any] = await cockpit.next("session")
    return session


async def test_take_over_reply_and_hand_back_inside_the_window(meta_backend: Backend, graph: FakeGraphApi) -> None:
    number = new_number()
    async with meta_backend.cockpit() as cockpit:
        session = await claimed_lead(meta_backend, cockpit, number, time.time())
        assert session["customer_chat"]["channel"] == "whatsapp" and session["customer_chat"]["window"] == "open"
        await cockpit.send({"v": 1, "type": "customer_reply", "text": "Dzień dobry, tu Anna z salonu."})
        await cockpit.next("customer_channel", action="replied", speaker="salesperson")
        await until(lambda: "Dzień dobry, tu Anna z salonu." in graph.texts(number))
        before = len(graph.to(number))
        await post(meta_backend, "whatsapp", whatsapp_body(whatsapp_text(new_id(), number, "A jaki zasięg?")))
        said = await cockpit.next("customer_channel", action="said")
        assert said["text"] == "A jaki zasięg?"
        await asyncio.sleep(0.3)
        assert len(graph.to(number)) == before  # taken over: the bot is silent
        await cockpit.send({"v": 1, "type": "hand_back"})
        await cockpit.next("customer_channel", action="handed_back")
        await post(meta_backend, "whatsapp", whatsapp_body(whatsapp_text(new_id(), number, "A ładowanie w domu?")))
        await until(lambda: len(graph.to(number)) > before)  # the bot answers again


async def test_outside_the_window_without_a_template_nothing_is_sent_and_the_lead_says_call(
    meta_backend: Backend, graph: FakeGraphApi
) -> None:
    number = new_number()
    async with meta_backend.cockpit() as cockpit:
        session = await claimed_lead(meta_backend, cockpit, number, time.time() - 25 * 3600)
        assert session["customer_chat"]["window"] == "closed"  # the cockpit says so before anything is typed
        sent_before = len(graph.to(number))
        await cockpit.send({"v": 1, "type": "customer_reply", "text": "Dzień dobry, wracam z ofertą."})
        line = await cockpit.next("customer_channel", action="outside_window")
        assert line["text"] == "Dzień dobry, wracam z ofertą."
        await asyncio.sleep(0.5)
        assert len(graph.to(number)) == sent_before
    async with meta_backend.db.sessions() as db:
        lead = await db.scalar(select(Lead).where(Lead.external_conversation_id == number))
    assert lead is not None and lead.data["reply_by"] == "phone_or_email"


async def test_outside_the_window_the_approved_template_goes_instead(
    start_backend: StartBackend, graph: FakeGraphApi
) -> None:
    number = new_number()
    meta = meta_settings(graph, template="follow_up:pl")
    async with start_backend(extra=meta) as backend, backend.cockpit() as cockpit:
        await claimed_lead(backend, cockpit, number, time.time() - 25 * 3600)
        await cockpit.send({"v": 1, "type": "customer_reply", "text": "Dzień dobry, wracam z ofertą."})
        await cockpit.next("customer_channel", action="template_sent")
        await until(lambda: "[template follow_up]" in graph.texts(number))
    (template,) = [b for b in graph.to(number) if b["type"] == "template"]
    assert template["template"] == {"name": "follow_up", "language": {"code": "pl"}}
    assert "Dzień dobry, wracam z ofertą." not in graph.texts(number)


async def test_a_graph_api_window_refusal_is_final(meta_backend: Backend, graph: FakeGraphApi) -> None:
    number = new_number()
    graph.refuse(400, 131047, message="Re-engagement message")
    await post(meta_backend, "whatsapp", whatsapp_body(whatsapp_text(new_id(), number, "Dzień dobry")))
    await until(lambda: len(graph.refused) == 1)
    await asyncio.sleep(1.5)
    assert len(graph.refused) == 1 and graph.to(number) == []


# ---- Messenger and Instagram ------------------------------------------------------------------------------


@pytest.mark.parametrize("channel,kind", [("messenger", "page"), ("instagram", "instagram")])
async def test_messenger_and_instagram_answer_and_ignore_echoes_and_receipts(
    meta_backend: Backend, graph: FakeGraphApi, channel: str, kind: str
) -> None:
    user, mid = new_number(), new_id("m_")
    echo = messaging_text(new_id("m_"), "1234567890", "our own reply", is_echo=True)
    echo["recipient"] = {"id": user}
    receipt = {"sender": {"id": user}, "recipient": {"id": "1"}, "timestamp": 1, "delivery": {"mids": [mid]}}
    read = {"sender": {"id": user}, "recipient": {"id": "1"}, "timestamp": 1, "read": {"watermark": 1}}
    body = messaging_body(kind, messaging_text(mid, user, "Jaki jest zasięg zimą? 🥶"), echo, receipt, read)
    for _ in range(2):
        assert (await post(meta_backend, channel, body)).status_code == 200
    await until(lambda: len(graph.to(user)) >= 2)
    await asyncio.sleep(0.4)
    assert await stored_events(meta_backend, channel, mid) == 1
    first = graph.to(user)[0]
    assert first["messaging_type"] == "RESPONSE" and first["recipient"] == {"id": user}
    async with meta_backend.db.sessions() as db:
        convo = await db.scalar(
            select(BotConversation).where(BotConversation.channel == channel, BotConversation.external_id == user)
        )
    assert convo is not None and [t["text"] for t in convo.transcript if t["from"] == "customer"] == [
        "Jaki jest zasięg zimą? 🥶"
    ]
    assert len(graph.texts(user)) == len([t for t in convo.transcript if t["from"] == "bot"])


async def test_a_body_for_another_object_is_refused(meta_backend: Backend) -> None:
    body = messaging_body("instagram", messaging_text(new_id("m_"), new_number(), "hej"))
    assert (await post(meta_backend, "messenger", body)).status_code == 422


async def test_messenger_asks_for_the_phone_with_its_quick_reply_and_takes_it(
    meta_backend: Backend, graph: FakeGraphApi
) -> None:
    user = new_number()
    ask = messaging_body("page", messaging_text(new_id("m_"), user, "Chcę porozmawiać z doradcą"))
    await post(meta_backend, "messenger", ask)
    await until(lambda: len(graph.to(user)) >= 2)
    quick = graph.to(user)[1]["message"]["quick_replies"]
    assert {"content_type": "user_phone_number"} in quick
    shared = messaging_text(new_id("m_"), user, "+48 600 700 800", quick_reply={"payload": "+48600700800"})
    await post(meta_backend, "messenger", messaging_body("page", shared))
    await until(lambda: len(graph.to(user)) >= 3)
    async with meta_backend.db.sessions() as db:
        lead = await db.scalar(select(Lead).where(Lead.channel == "messenger", Lead.external_conversation_id == user))
    assert lead is not None and meta_backend.services.clients.cipher.decrypt(lead.data["contact"]) == "+48600700800"


async def test_instagram_asks_for_a_typed_number_and_a_postback_is_a_button(
    meta_backend: Backend, graph: FakeGraphApi
) -> None:
    user = new_number()
    tap = {
        "sender": {"id": user},
        "recipient": {"id": "1"},
        "timestamp": int(time.time() * 1000),
        "postback": {"mid": new_id("m_"), "title": "Rozmowa z doradcą", "payload": "human"},
    }
    await post(meta_backend, "instagram", messaging_body("instagram", tap))
    await until(lambda: len(graph.to(user)) >= 2)
    handover, ask = graph.texts(user)[:2]
    assert "Przekazuję" in handover and "napisz tu swój numer" in ask
    assert "quick_replies" not in graph.to(user)[1]["message"]
    await post(
        meta_backend, "instagram", messaging_body("instagram", messaging_text(new_id("m_"), user, "600 700 900"))
    )
    await until(lambda: len(graph.to(user)) >= 3)
    async with meta_backend.db.sessions() as db:
        lead = await db.scalar(select(Lead).where(Lead.channel == "instagram", Lead.external_conversation_id == user))
    assert lead is not None and meta_backend.services.clients.cipher.decrypt(lead.data["contact"]) == "600 700 900"


@pytest.mark.parametrize("channel", ["messenger", "instagram"])
async def test_messenger_and_instagram_take_over_and_keep_the_window(
    meta_backend: Backend, graph: FakeGraphApi, channel: str
) -> None:
    user, late = new_number(), new_number()
    async with meta_backend.cockpit() as cockpit:
        session = await claimed_lead(meta_backend, cockpit, user, time.time(), channel)
        assert session["customer_chat"]["window"] == "open"
        await cockpit.send({"v": 1, "type": "customer_reply", "text": "Dzień dobry, tu Anna."})
        await cockpit.next("customer_channel", action="replied")
        await until(lambda: "Dzień dobry, tu Anna." in graph.texts(user))
        before = len(graph.to(user))
        await post(meta_backend, channel, a_message(channel, new_id("m_"), user, "A zasięg?"))
        assert (await cockpit.next("customer_channel", action="said"))["text"] == "A zasięg?"
        await asyncio.sleep(0.3)
        assert len(graph.to(user)) == before  # taken over: the bot is silent

        session = await claimed_lead(meta_backend, cockpit, late, time.time() - 25 * 3600, channel)
        assert session["customer_chat"]["window"] == "closed"
        sent = len(graph.to(late))
        await cockpit.send({"v": 1, "type": "customer_reply", "text": "Wracam z ofertą."})
        await cockpit.next("customer_channel", action="outside_window")  # no template on these channels
        await asyncio.sleep(0.3)
        assert len(graph.to(late)) == sent
