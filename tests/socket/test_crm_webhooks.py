"""The CRM hand-off end to end: an admin adds a webhook endpoint, a Telegram customer becomes a lead that a
salesperson claims, answers and closes; a receiver verifies every delivery with the Standard Webhooks reference
library and sees each event once, in order — also after it was down for a while. And a CRM creates leads."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from backend.db.models import Lead, Role, WebhookDelivery, WebhookEndpoint
from backend.domain.accounts.services import AccountService
from backend.domain.integrations.webhooks import new_secret
from backend.settings import CrmSettings, Settings, TelegramSettings
from tests.fakes.telegram import FakeTelegram, text_update
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.helpers import serving
from tests.socket.conftest import PASSWORD, Backend, StartBackend
from tests.socket.test_telegram_bot import SECRET, new_chat, post

API_KEY = "crm-key-" + "x" * 24


async def until(condition: Callable[[], bool], within: float = 15.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - polling what the receiver recorded
            await asyncio.sleep(0.02)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    fake = WebhookReceiver()
    async with serving(fake) as url:
        fake.url = url + "/sufler-events"
        yield fake


@pytest.fixture
async def crm_backend(start_backend: StartBackend, telegram: FakeTelegram) -> AsyncIterator[Backend]:
    bot = TelegramSettings(bot_token=SecretStr(telegram.token), webhook_secret=SecretStr(SECRET), api_base=telegram.url)
    crm = CrmSettings(api_keys=SecretStr(f"other-key,{API_KEY}"))
    async with start_backend(telegram=bot, extra={"crm": crm}) as backend:
        yield backend


async def token_of(backend: Backend, settings: Settings, role: Role) -> str:
    accounts = AccountService.from_settings(backend.db, settings)
    name = f"{role.value}-{uuid.uuid4().hex[:8]}"
    await accounts.create_user(name, PASSWORD, role)
    return (await accounts.login(name, PASSWORD)).token


async def add_endpoint(backend: Backend, settings: Settings, receiver: WebhookReceiver, **given: Any) -> dict[str, Any]:
    admin = await token_of(backend, settings, Role.ADMIN)
    async with httpx.AsyncClient(base_url=backend.url, headers={"Authorization": f"Bearer {admin}"}) as http:
        response = await http.post("/integrations/webhooks/", json={"url": receiver.url, **given})
    assert response.status_code == 201, response.text
    endpoint: dict[str, Any] = response.json()
    receiver.secret = endpoint["secret"]
    return {**endpoint, "admin": admin}


async def test_a_lead_s_life_reaches_the_crm_once_in_order_through_an_outage(
    crm_backend: Backend, settings: Settings, receiver: WebhookReceiver
) -> None:
    endpoint = await add_endpoint(crm_backend, settings, receiver)
    assert endpoint["secret"].startswith("whsec_") and endpoint["personal_data"] is False
    async with crm_backend.cockpit() as cockpit:
        chat = new_chat()
        await post(crm_backend, text_update(chat, chat, "Poproszę kontakt z doradcą"))
        lead = (await cockpit.next("lead", wait=10))["lead"]
        await until(lambda: len(receiver.of_type("lead.created")) == 1)

        receiver.down = True  # the CRM is away: what happens now waits in the outbox
        await cockpit.send({"v": 1, "type": "claim_lead", "lead_id": lead["id"]})
        session = await cockpit.next("session")
        await cockpit.send({"v": 1, "type": "customer_reply", "text": "Dzień dobry, tu Anna z salonu."})
        await cockpit.next("customer_channel", action="replied")
        await cockpit.send({"v": 1, "type": "end_session"})
        await cockpit.next("session_ended")
        await until(lambda: len(receiver.attempts) >= 3)  # tried, refused, retried
        await asyncio.sleep(1.5)
        receiver.down = False
        await until(lambda: len(receiver.events) == 5, within=20)

    order = [e["type"] for e in receiver.events]
    assert order == ["lead.created", "lead.claimed", "client.created", "lead.replied", "lead.closed"]
    assert len({e["id"] for e in receiver.events}) == 5 and receiver.refused == 0
    assert len(receiver.attempts) > 5  # redelivered while down; each event still seen once
    claimed = receiver.of_type("lead.claimed")[0]["data"]
    assert claimed["lead_id"] == lead["id"] and claimed["channel"] == "telegram" and claimed["claimed_by"]
    assert receiver.of_type("client.created")[0]["data"]["client_id"] == session["client"]["id"]
    assert receiver.of_type("lead.closed")[0]["data"]["status"] == "closed"
    everything = json.dumps([e["data"] for e in receiver.events], ensure_ascii=False)
    assert "Jan" not in everything and "Poproszę" not in everything  # no personal data unless enabled

    admin = {"Authorization": f"Bearer {endpoint['admin']}"}
    async with httpx.AsyncClient(base_url=crm_backend.url, headers=admin) as http:
        log = (await http.get(f"/integrations/webhooks/{endpoint['id']}/deliveries")).json()
        assert [d["state"] for d in log] == ["delivered"] * 5
        retried = [d for d in log if d["attempts"] > 1]
        assert retried and retried[0]["log"][0]["status"] == 503 and retried[0]["log"][-1]["status"] == 200
        replayed = (await http.post(f"/integrations/webhooks/deliveries/{log[-1]['id']}/replay")).json()
        assert replayed["event_id"] == log[-1]["event_id"]
    await until(lambda: receiver.redeliveries == [log[-1]["event_id"]])  # recognisable by its id
    assert len(receiver.events) == 5


async def test_personal_data_only_where_the_admin_enabled_it(
    crm_backend: Backend, settings: Settings, receiver: WebhookReceiver
) -> None:
    await add_endpoint(crm_backend, settings, receiver, personal_data=True, events=["lead.created"])
    chat = new_chat()
    await post(crm_backend, text_update(chat, chat, "Chcę porozmawiać z doradcą"))
    await until(lambda: len(receiver.events) == 1)
    (created,) = receiver.events
    assert created["type"] == "lead.created"
    assert created["data"]["name"] == "Jan Kowalski"
    assert created["data"]["transcript"][0] == {"from": "customer", "text": "Chcę porozmawiać z doradcą"}
    async with crm_backend.db.sessions() as db:  # and the body is not kept in plain text
        stored = (await db.scalars(select(WebhookDelivery.body))).all()
    assert stored and not any("Jan Kowalski" in body for body in stored)


async def test_a_forged_secret_does_not_verify(
    crm_backend: Backend, settings: Settings, receiver: WebhookReceiver
) -> None:
    await add_endpoint(crm_backend, settings, receiver, secret=new_secret())
    receiver.secret = new_secret()  # the receiver knows another secret: nothing it gets verifies
    chat = new_chat()
    await post(crm_backend, text_update(chat, chat, "Chcę porozmawiać z doradcą"))
    await until(lambda: receiver.refused >= 1)
    assert receiver.events == []


async def test_only_admins_configure_webhooks(crm_backend: Backend, settings: Settings) -> None:
    for role in (Role.SALESPERSON, Role.LEAD):
        token = await token_of(crm_backend, settings, role)
        async with httpx.AsyncClient(base_url=crm_backend.url, headers={"Authorization": f"Bearer {token}"}) as http:
            assert (await http.get("/integrations/webhooks/")).status_code == 403
            response = await http.post("/integrations/webhooks/", json={"url": "http://crm.example/hook"})
            assert response.status_code == 403


async def test_a_crm_creates_a_lead_with_its_api_key(crm_backend: Backend) -> None:
    external = f"crm-{uuid.uuid4().hex[:8]}"
    lead = {"external_id": external, "name": "Ewa Nowak", "contact": "+48 601 222 333", "message": "Oddzwońcie"}
    async with httpx.AsyncClient(base_url=crm_backend.url, timeout=10) as http, crm_backend.cockpit() as cockpit:
        assert (await http.post("/integrations/leads", json=lead)).status_code == 401
        wrong = await http.post("/integrations/leads", json=lead, headers={"Authorization": "Bearer guess"})
        assert wrong.status_code == 401
        key = {"Authorization": f"Bearer {API_KEY}"}
        created = await http.post("/integrations/leads", json=lead, headers=key)
        assert created.status_code == 201 and created.json()["created"] is True
        shown = (await cockpit.next("lead", wait=10))["lead"]  # in every cockpit's inbox, at once
        assert shown["id"] == created.json()["lead_id"] and shown["channel"] == "crm"
        assert shown["name"] == "Ewa Nowak" and shown["contact"] == "+48 601 222 333"
        again = await http.post("/integrations/leads", json=lead, headers=key)
        assert again.status_code == 200 and again.json() == {"lead_id": shown["id"], "created": False}
        spoof = await http.post("/integrations/leads", json={**lead, "source": "telegram"}, headers=key)
        assert spoof.status_code == 422
        await cockpit.send({"v": 1, "type": "claim_lead", "lead_id": shown["id"]})
        session = await cockpit.next("session")
        assert session["client"]["name"] == "Ewa Nowak" and session["customer_chat"] is None
        assert "Źródło: Crm, zgłoszenie przez API (CRM lub formularz)" in session["key_facts"]
        assert not any("botem" in fact for fact in session["key_facts"])  # it was no bot chat
    async with crm_backend.db.sessions() as db:
        row = await db.get(Lead, shown["id"])
    assert row is not None and "601 222 333" not in json.dumps(row.data)  # encrypted at rest


async def test_inbound_leads_are_off_without_keys(backend: Backend) -> None:
    async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
        response = await http.post(
            "/integrations/leads", json={"external_id": "x"}, headers={"Authorization": "Bearer x"}
        )
    assert response.status_code == 404


async def test_an_endpoint_from_settings(start_backend: StartBackend, receiver: WebhookReceiver) -> None:
    receiver.secret = new_secret()
    crm = CrmSettings(
        webhook_url=receiver.url, webhook_secret=SecretStr(receiver.secret), webhook_events="client.created"
    )
    async with start_backend(extra={"crm": crm}) as backend, backend.cockpit() as cockpit:
        await cockpit.open_new_client("Ola Zielińska")
        await until(lambda: len(receiver.events) == 1)
    assert receiver.events[0]["type"] == "client.created" and "name" not in receiver.events[0]["data"]
    # the settings no longer name it: it is gone (nothing piles up for it)
    async with start_backend() as backend, backend.db.sessions() as db:
        assert await db.scalar(select(WebhookEndpoint).where(WebhookEndpoint.from_settings)) is None


async def test_retry_after_is_honoured_and_a_given_up_delivery_is_replayed(
    crm_backend: Backend, settings: Settings, receiver: WebhookReceiver
) -> None:
    endpoint = await add_endpoint(crm_backend, settings, receiver, events=["client.created"])
    admin = {"Authorization": f"Bearer {endpoint['admin']}"}
    receiver.down, receiver.retry_after = True, 3
    async with crm_backend.http() as http:
        assert (await http.post("/clients/", json={"name": "Ola"})).status_code == 201
    await until(lambda: len(receiver.attempts) == 1)
    await asyncio.sleep(2.0)  # the schedule says 1 s; the receiver asked for 3
    assert len(receiver.attempts) == 1
    await until(lambda: len(receiver.attempts) == 2, within=5)

    async with crm_backend.db.transaction() as db:  # the day of retries is over: the last one is due now
        row = await db.scalar(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint["id"]))
        assert row is not None
        row.attempts, row.next_attempt_at = 10, None
    crm_backend.services.webhooks.poke()
    async with httpx.AsyncClient(base_url=crm_backend.url, headers=admin) as http:
        deliveries = f"/integrations/webhooks/{endpoint['id']}/deliveries"
        async with asyncio.timeout(10):
            while not (failed := (await http.get(deliveries, params={"failed": "true"})).json()):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        assert failed[0]["state"] == "failed" and failed[0]["last_status"] == 503
        receiver.down = False
        assert (await http.post(f"/integrations/webhooks/deliveries/{failed[0]['id']}/replay")).status_code == 200
        await until(lambda: len(receiver.events) == 1)
        log = (await http.get(f"/integrations/webhooks/{endpoint['id']}/deliveries")).json()
        assert log[0]["state"] == "delivered" and receiver.events[0]["id"] == failed[0]["event_id"]


async def test_a_paused_endpoint_keeps_its_events_and_a_removed_one_gets_none(
    crm_backend: Backend, settings: Settings, receiver: WebhookReceiver
) -> None:
    endpoint = await add_endpoint(crm_backend, settings, receiver, events=["client.created", "client.archived"])
    admin = {"Authorization": f"Bearer {endpoint['admin']}"}
    async with httpx.AsyncClient(base_url=crm_backend.url, headers=admin) as http, crm_backend.http() as sales:
        paused = await http.patch(f"/integrations/webhooks/{endpoint['id']}", json={"active": False})
        assert paused.status_code == 200 and paused.json()["active"] is False
        assert paused.json()["secret"] is None  # shown once, when it was made
        client = (await sales.post("/clients/", json={"name": "Ola"})).json()
        await asyncio.sleep(2.5)
        assert receiver.attempts == []  # paused: nothing is sent, nothing is lost
        await http.patch(f"/integrations/webhooks/{endpoint['id']}", json={"active": True})
        await until(lambda: [e["type"] for e in receiver.events] == ["client.created"])
        assert (await http.delete(f"/integrations/webhooks/{endpoint['id']}")).status_code == 204
        await sales.post(f"/clients/{client['id']}/archive")
        await asyncio.sleep(2.5)
        assert len(receiver.events) == 1
        audit = (await http.get("/audit", params={"limit": 20})).json()
        assert {"webhook_added", "webhook_changed", "webhook_removed"} <= {e["action"] for e in audit}


async def test_a_rotated_secret_signs_from_then_on(
    crm_backend: Backend, settings: Settings, receiver: WebhookReceiver
) -> None:
    endpoint = await add_endpoint(crm_backend, settings, receiver, events=["client.created"])
    admin = {"Authorization": f"Bearer {endpoint['admin']}"}
    async with httpx.AsyncClient(base_url=crm_backend.url, headers=admin) as http, crm_backend.http() as sales:
        rotated = (await http.patch(f"/integrations/webhooks/{endpoint['id']}", json={"rotate_secret": True})).json()
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != endpoint["secret"]
        await sales.post("/clients/", json={"name": "Ola"})
        await until(lambda: receiver.refused == 1)  # the receiver still holds the old secret: refused
        receiver.secret = rotated["secret"]
        await until(lambda: len(receiver.events) == 1, within=20)  # retried, signed with the new one


async def test_one_api_key_creates_a_bounded_number_of_leads_at_once(start_backend: StartBackend) -> None:
    crm = CrmSettings(api_keys=SecretStr(API_KEY), leads_burst=5, leads_per_second=0.5)
    key = {"Authorization": f"Bearer {API_KEY}"}
    async with start_backend(extra={"crm": crm}) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=30, headers=key) as http:

            async def one() -> int:
                lead = {"external_id": f"burst-{uuid.uuid4().hex[:10]}"}
                return (await http.post("/integrations/leads", json=lead)).status_code

            started = time.monotonic()
            statuses = await asyncio.gather(*[one() for _ in range(12)])
            elapsed = time.monotonic() - started
        # 5 at once, then one every 2 s while the burst was being sent; the rest refused, nothing stored for them
        assert statuses.count(429) >= 1 and set(statuses) == {201, 429}
        assert statuses.count(201) <= 5 + 0.5 * elapsed + 1
        async with backend.db.sessions() as db:
            stored = (await db.scalars(select(Lead.id).where(Lead.external_conversation_id.like("burst-%")))).all()
        assert len(stored) == statuses.count(201)
