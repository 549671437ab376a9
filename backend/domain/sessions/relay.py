"""Session events across backend processes, through PostgreSQL LISTEN/NOTIFY.

Each process announces the sessions it holds live (``watch`` when it loads one, ``unwatch`` when it leaves
memory); a process that holds the same session answers, so both know of each other. From then on each relays
that session's events to the other, which shows them to its own sockets and reloads the session's state from
the database before its next use (the observation is committed before its ack is sent). A single process pays
one NOTIFY per session loaded and evicted, nothing per event.

PostgreSQL limits a notification to 8000 bytes: larger events go compressed, and one still too large makes the
other process reload the session instead.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import uuid
import zlib
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog

from backend.db import asyncpg_dsn
from backend.domain.protocol import cockpit as p

if TYPE_CHECKING:  # the hub makes its relay
    from backend.domain.sessions.live import SessionHub

__all__ = ("SessionRelay",)

log = structlog.get_logger(__name__)

CHANNEL = "sufler_sessions"
NOTIFY_LIMIT = 7900  # PostgreSQL's payload limit is 8000 bytes
RECONNECT_SECONDS = 2.0


class SessionRelay:
    def __init__(self, database_url: str, hub: SessionHub) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.hub = hub
        self.origin = uuid.uuid4().hex[:12]  # this process
        self._outgoing: asyncio.Queue[str] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    # ---- what the hub calls ---------------------------------------------------------------------------

    def announce(self, session_id: int) -> None:
        self._send({"watch": session_id})

    def withdraw(self, session_id: int) -> None:
        self._send({"unwatch": session_id})

    def publish(self, session_id: int, event: p.Event) -> None:
        encoded = p.encode(event)
        message: dict[str, Any] = {"session": session_id, "event": encoded}
        if len(encoded) > NOTIFY_LIMIT - 100:
            packed = base64.b64encode(zlib.compress(encoded.encode(), 6)).decode()
            message = {"session": session_id, "packed": packed}
            if len(packed) > NOTIFY_LIMIT - 100:
                message = {"session": session_id, "reload": True}
        self._send(message)

    def _send(self, message: dict[str, Any]) -> None:
        self._outgoing.put_nowait(json.dumps({"origin": self.origin, **message}))

    # ---- the connection -------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                conn = await asyncpg.connect(self.dsn)
            except (OSError, asyncpg.PostgresError):
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            try:
                await conn.add_listener(CHANNEL, self._notified)
                for session_id in list(self.hub.sessions):  # what was announced while away was not heard
                    self.announce(session_id)
                self.connected.set()
                while True:  # one sender: notifications leave in the order they were made
                    message = await self._outgoing.get()
                    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, message)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning("session_relay_lost", exc_info=True)  # sessions shared meanwhile reload on next use
                self.connected.clear()
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    await conn.close()

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        message = json.loads(payload)
        origin = message.get("origin")
        if origin == self.origin:
            return
        if "watch" in message:
            if self.hub.remote_watch(int(message["watch"]), origin, True) and not message.get("reply"):
                self._send({"watch": message["watch"], "reply": True})  # so the newcomer knows of us
        elif "unwatch" in message:
            self.hub.remote_watch(int(message["unwatch"]), origin, False)
        elif "session" in message:
            session_id = int(message["session"])
            self.hub.remote_watch(session_id, origin, True)
            if "event" in message:
                event: p.Event | None = p.parse_server_event(message["event"])
            elif "packed" in message:
                event = p.parse_server_event(zlib.decompress(base64.b64decode(message["packed"])))
            else:
                event = None
            self.hub.remote_event(session_id, event)
