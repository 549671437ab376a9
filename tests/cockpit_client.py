"""A test client for /ws/cockpit over a real WebSocket; every event it receives must parse as a ServerEvent."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from backend.domain.protocol.cockpit import parse_server_event

TIMEOUT = 10.0


class Cockpit:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []  # everything received, in order
        self._cursor = 0
        self.last_seq = 0

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def observe(self, text: str, client_message_id: str | None = None) -> str:
        cmid = client_message_id or uuid.uuid4().hex
        await self.send({"v": 1, "type": "observation", "client_message_id": cmid, "text": text})
        return cmid

    async def _receive(self, wait: float) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), wait)
        parse_server_event(raw)  # the documented schema holds for every event
        event: dict[str, Any] = json.loads(raw)
        if event.get("seq") is not None:
            self.last_seq = event["seq"]
        self.events.append(event)
        return event

    async def next(self, event_type: str, wait: float = TIMEOUT, **match: Any) -> dict[str, Any]:
        """The next event of this type (and these field values), skipping others (they stay in ``events``)."""
        while True:
            while self._cursor < len(self.events):
                event = self.events[self._cursor]
                self._cursor += 1
                if event["type"] == event_type and all(event.get(k) == v for k, v in match.items()):
                    return event
            await self._receive(wait)

    async def next_of(self, *event_types: str, wait: float = TIMEOUT) -> dict[str, Any]:
        """The next event of any of these types."""
        while True:
            while self._cursor < len(self.events):
                event = self.events[self._cursor]
                self._cursor += 1
                if event["type"] in event_types:
                    return event
            await self._receive(wait)

    async def quiet(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Collect whatever arrives within ``seconds`` of silence."""
        try:
            while True:
                await self._receive(seconds)
        except TimeoutError:
            pass
        return self.events

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == event_type]

    async def open_new_client(self, name: str = "Jan Kowalski", contact: str | None = None) -> dict[str, Any]:
        await self.send({"v": 1, "type": "open_session", "new_client": {"name": name, "contact_info": contact}})
        return await self.next("session")


@asynccontextmanager
async def cockpit(base_url: str, token: str | None) -> AsyncIterator[Cockpit]:
    url = base_url.replace("http://", "ws://") + "/ws/cockpit"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with connect(url, additional_headers=headers, open_timeout=TIMEOUT, max_size=2**22) as ws:
        client = Cockpit(ws)
        await client.next("hello")
        yield client
