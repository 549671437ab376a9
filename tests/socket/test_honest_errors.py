"""Input the database cannot store is refused where it enters, as a 400 / typed error naming the field — never as
"the database is not reachable" (which is said only when it is not), never as a 500."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed

from backend.db.models import Interaction
from backend.runtime import SOCKET_OPTIONS
from backend.settings import DatabaseSettings
from tests.socket.conftest import Backend, StartBackend
from tests.socket.test_web_widget import widget

NESTED = "[" * 5000 + "]" * 5000
TOO_BIG = [2**63, 10**30, -(2**63) - 1]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/clients/", {"name": "Jan\x00Kowalski"}, "name"),
        ("POST", "/clients/", {"name": "Jan", "contact_info": "\ud800"}, "contact_info"),
        ("GET", "/clients/?q=Kow%00alski", None, "q"),
        *[("GET", f"/clients/{n}", None, "client_id") for n in TOO_BIG[:2]],
        *[("GET", f"/sessions/{n}/interactions", None, "session_id") for n in TOO_BIG[:2]],
        ("PATCH", "/clients/1", {"name": "Jan", "archived": None, "contact_info": "a\x00"}, "contact_info"),
    ],
)
async def test_http_refuses_unstorable_input_naming_the_field(
    backend: Backend, method: str, path: str, body: object, field: str
) -> None:
    async with backend.http() as http:
        # json.dumps escapes as JSON does (\u0000, \ud800): what any client may send
        content = json.dumps(body) if body is not None else None
        answer = await http.request(method, path, content=content, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "bad_request" and error["message"].startswith(field), error


async def test_http_refuses_deeply_nested_json(backend: Backend) -> None:
    async with backend.http() as http:
        answer = await http.post("/clients/", content=NESTED, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"


async def test_the_cockpit_socket_refuses_unstorable_observations_and_stores_nothing(backend: Backend) -> None:
    async with backend.cockpit() as cockpit:
        session = await cockpit.open_new_client(f"Klient {uuid.uuid4().hex[:6]}")
        cmid = await cockpit.observe("klient\x00 pyta o cenę")
        error = await cockpit.next("error")
        assert error["code"] == "bad_request" and error["client_message_id"] == cmid
        assert "text" in error["message"]
        await cockpit.send({"v": 1, "type": "resume", "session_id": 2**63, "last_seq": 0})
        assert (await cockpit.next("error"))["code"] == "bad_request"
        await cockpit.send(NESTED)
        assert (await cockpit.next("error"))["code"] == "bad_request"
        await cockpit.send({"v": 1, "type": "open_session", "client_id": 10**30})
        assert (await cockpit.next("error"))["code"] == "bad_request"
    async with backend.db.sessions() as db:
        stored = await db.scalar(
            select(func.count()).select_from(Interaction).where(Interaction.session_id == session["session_id"])
        )
    assert stored == 0


async def test_the_widget_refuses_unstorable_messages_with_a_typed_error(backend: Backend) -> None:
    async with widget(backend) as chat:
        await chat.send({"type": "message", "id": "m1", "text": "dzień dobry\x00"})
        assert (await chat.next("error"))["code"] == "bad_request"
        await chat.send(NESTED)
        assert (await chat.next("error"))["code"] == "bad_request"
        await chat.say("Dzień dobry, jaki jest zasięg?")
        await chat.next("ack")  # the chat goes on


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=40))
async def test_database_unavailable_is_never_said_while_the_database_is_up(backend: Backend, name: str) -> None:
    async with backend.http() as http:
        body = json.dumps({"name": name})
        created = await http.post("/clients/", content=body, headers={"Content-Type": "application/json"})
        searched = await http.get("/clients/", params={"q": name})
    for answer in (created, searched):
        assert answer.status_code < 500, answer.text
        if answer.status_code >= 400:
            assert answer.json()["error"]["code"] in {"bad_request", "invalid_input"}


async def test_a_flood_of_observations_is_refused_as_rate_limited_and_nothing_is_stored_silently(
    backend: Backend,
) -> None:
    async with backend.cockpit() as cockpit:
        session = await cockpit.open_new_client(f"Klient {uuid.uuid4().hex[:6]}")
        sent = [await cockpit.observe(f"obserwacja {n}: pyta o zasięg") for n in range(40)]
        answers = {}
        while len(answers) < len(sent):
            event = await cockpit.next_of("ack", "error")
            answers[event["client_message_id"]] = event["type"] if event["type"] == "ack" else event["code"]
    acked = [cmid for cmid in sent if answers[cmid] == "ack"]
    assert 10 <= len(acked) < 40  # the burst went through, the flood did not
    assert {answers[cmid] for cmid in sent} == {"ack", "rate_limited"}
    async with backend.db.sessions() as db:
        stored = await db.scalar(
            select(func.count()).select_from(Interaction).where(Interaction.session_id == session["session_id"])
        )
    assert stored == len(acked)  # exactly what was acknowledged


async def test_a_frame_past_the_limit_closes_the_socket_before_it_is_read(backend: Backend) -> None:
    async with backend.cockpit() as cockpit:
        await cockpit.send("x" * (SOCKET_OPTIONS["ws_max_size"] + 1))
        with pytest.raises(ConnectionClosed) as closed:
            await cockpit.next("pong")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big


async def test_a_socket_that_asks_without_reading_is_closed_and_memory_stays_bounded(backend: Backend) -> None:
    async with backend.cockpit() as cockpit:
        session = await cockpit.open_new_client(f"Klient {uuid.uuid4().hex[:6]}")
        for n in range(8):
            await cockpit.observe(f"obserwacja {n}: pyta o leasing, zasięg zimą i ładowanie w domu")
        await cockpit.next("moves")
        # Every event since the session opened, again and again: ~20 frames per request.
        resume = json.dumps({"v": 1, "type": "resume", "session_id": session["session_id"], "last_seq": session["seq"]})
        for _ in range(5000):  # not reading meanwhile: the answers pile up on the server's side
            await cockpit.ws.send(resume)
        # Still not reading until the server has given up on the socket: reading as soon as the asking stops lets a
        # slow server (CI's) serve everything to a client that keeps up, which is not what this test is about.
        async with asyncio.timeout(60):
            while not any(outbox.overflowed for outbox in backend.services.hub.peers):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        answers = 0
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(cockpit.ws.recv(), 10)
                answers += 1
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert answers < 20 * 5000  # closed, not served: what piled up was dropped
    async with asyncio.timeout(10):  # and the server lets the socket go once it has read what was sent
        while backend.services.hub.peers:  # noqa: ASYNC110 - polling what the server holds
            await asyncio.sleep(0.05)


async def test_no_free_database_connection_is_a_quick_typed_busy_and_nothing_stored(
    start_backend: StartBackend,
) -> None:
    """Overload: every pooled connection taken. Answered `busy` within the pool's wait (not internal_error
    after 30 s, not a closed socket), the observation not stored, and served again once free."""
    async with start_backend(database=DatabaseSettings(pool_timeout=0.5)) as backend:
        await busy_and_back(backend)


async def busy_and_back(backend: Backend) -> None:
    db = backend.services.db
    async with backend.cockpit() as cockpit, contextlib.AsyncExitStack() as held:
        session = await cockpit.open_new_client(f"Klient {uuid.uuid4().hex[:6]}")
        for engine in (db.engine, db._autocommit):  # each pool: its size plus its overflow, all checked out
            for _ in range(engine.pool.size() + engine.pool._max_overflow):  # type: ignore[attr-defined]
                await held.enter_async_context(engine.connect())
        started = time.monotonic()
        cmid = await cockpit.observe("Pyta o leasing")
        refused = await cockpit.next("error")
        waited = time.monotonic() - started
        async with backend.http() as http:
            listed = await http.get("/clients/")
        await held.aclose()  # the load passes
        again = await cockpit.observe("Pyta o leasing", client_message_id=cmid)
        assert (await cockpit.next("ack"))["client_message_id"] == again
    assert refused["code"] == "busy" and refused["client_message_id"] == cmid, refused
    assert waited < backend.services.settings.database.pool_timeout + 2
    assert listed.status_code == 503 and listed.json()["error"]["code"] == "busy"
    async with backend.db.sessions() as db_session:
        stored = await db_session.scalars(
            select(Interaction.user_input).where(Interaction.session_id == session["session_id"])
        )
        assert stored.all() == ["Pyta o leasing"]  # once: the busy attempt stored nothing
