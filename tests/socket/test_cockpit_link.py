"""cockpit/api.py against the real backend: the link the Reflex cockpit uses, including a backend restart."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from backend.db.models import Interaction
from cockpit.api import BackendError, ClientFiles, CockpitLink, PendingMessages, login
from tests.helpers import restartable_port
from tests.socket.conftest import PASSWORD, Backend, StartBackend


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    async def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self.arrived.set()

    async def wait_for(self, event_type: str, within: float = 10.0, **match: Any) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                for event in self.events:
                    if event["type"] == event_type and all(event.get(k) == v for k, v in match.items()):
                        return event
                self.arrived.clear()
                await self.arrived.wait()


async def test_login_client_files_and_a_first_observation(backend: Backend) -> None:
    with pytest.raises(BackendError) as refused:
        await login(backend.url, "nobody", "wrong password")
    assert refused.value.code == "not_authenticated"
    files = ClientFiles(backend.url, backend.token)
    created = await files.create("Zofia Lewandowska", "zofia@example.com")
    assert [c["id"] for c in await files.search(" Zofia@Example.com")] == [created["id"]]

    events = Recorder()
    link = CockpitLink(backend.url, backend.token, events)
    link.start()
    try:
        await events.wait_for("hello")
        await link.open_client(created["id"])
        session = await events.wait_for("session")
        cmid = await link.send_observation("Pyta o zasięg zimą i ładowanie w domu")
        await events.wait_for("ack", client_message_id=cmid)
        assert link.outbox == {} and link.session_id == session["session_id"]
        moves = await events.wait_for("moves")
        assert len(moves["moves"]) == 4 and link.last_seq == moves["seq"]
    finally:
        await link.stop()
        await files.archive(created["id"])
        assert await files.search(" Zofia@Example.com") == []
        await files.close()


async def test_an_observation_typed_while_the_backend_restarts_is_delivered(
    start_backend: StartBackend, migrated_db_url: str
) -> None:
    port = restartable_port()
    events = Recorder()
    async with start_backend(port=port) as backend:
        link = CockpitLink(backend.url, backend.token, events)
        link.start()
        await events.wait_for("hello")
        await link.open_new_client("Marek Wójcik")
        await events.wait_for("session")
        await link.send_observation("Pierwsza: pyta o leasing")
        await events.wait_for("moves")
    try:
        await events.wait_for("connection", state="reconnecting")
        cmid = await link.send_observation("Druga, wpisana bez połączenia: pyta o VAT")  # the backend is down
        assert cmid in link.outbox
        with pytest.raises(PendingMessages):  # another client now would take (or drop) what was typed for this one
            await link.open_new_client("Ktoś inny")
        assert cmid in link.outbox
        async with start_backend(port=port) as restarted:
            ack = await events.wait_for("ack", client_message_id=cmid)
            snapshot = [e for e in events.events if e["type"] == "session"][-1]
            assert [h["text"] for h in snapshot["history"]][:1] == ["Pierwsza: pyta o leasing"]
            fast = await events.wait_for("fast_result", interaction_id=ack["interaction_id"])
            assert fast["knowledge"]
            async with restarted.db.sessions() as db:
                stored = await db.scalar(select(Interaction.user_input).where(Interaction.id == ack["interaction_id"]))
            assert stored == "Druga, wpisana bez połączenia: pyta o VAT"
            assert link.outbox == {}
    finally:
        await link.stop()
    assert PASSWORD  # the same accounts work across the restart (same database and secret)
