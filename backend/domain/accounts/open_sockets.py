"""The authenticated sockets of this process, by user and login, so that logging out, a password change or being
deactivated (or demoted) closes them at once — in every backend process: each ending is announced through
PostgreSQL NOTIFY and every process closes its own matching sockets. Sockets also re-check their login every
REVALIDATE_SECONDS, which covers expiry and an announcement missed while a process was away from the database."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from backend.db import Database
from backend.db.notifications import listen, notify

__all__ = ("REVALIDATE_SECONDS", "OpenSockets")

log = structlog.get_logger(__name__)

REVALIDATE_SECONDS = 30.0
CHANNEL = "sufler_logins"

Close = Callable[[str], Awaitable[None]]  # close(reason)


def _login(token: str) -> str:
    """What names a login in announcements: never the token itself (NOTIFY payloads reach every listener)."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


class OpenSockets:
    def __init__(self, db: Database | None = None) -> None:
        """``db``: announce endings to the other processes on that database (None: this process only)."""
        self.db = db
        self._sockets: dict[Close, tuple[int, str]] = {}  # close -> (user id, login)
        self._task: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        if self.db is not None:
            self._task = asyncio.create_task(listen(self.db.url, CHANNEL, self._heard))

    async def close(self) -> None:
        tasks = [t for t in (self._task, *self._closing) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def add(self, user_id: int, token: str, close: Close) -> None:
        self._sockets[close] = (user_id, _login(token))

    def discard(self, close: Close) -> None:
        self._sockets.pop(close, None)

    async def close_login(self, token: str, reason: str) -> None:
        await self._end({"login": _login(token), "reason": reason})

    async def close_user(self, user_id: int, reason: str, keep: str | None = None) -> None:
        """Close the user's sockets (but those of the login ``keep``, when given)."""
        await self._end({"user": user_id, "keep": _login(keep) if keep is not None else None, "reason": reason})

    async def _end(self, ending: dict[str, Any]) -> None:
        """Close this process's sockets the ending names, then announce it to the others."""
        await self._close(ending)
        if self.db is None:
            return
        try:
            async with self.db.transaction() as session:
                await notify(session, CHANNEL, json.dumps(ending))
        except Exception:  # the other processes' sockets then end at their next re-check
            log.warning("login_end_not_announced", exc_info=True)

    async def _close(self, ending: dict[str, Any]) -> None:
        if "login" in ending:
            closers = [c for c, (_, t) in self._sockets.items() if t == ending["login"]]
        else:
            closers = [c for c, (u, t) in self._sockets.items() if u == ending["user"] and t != ending["keep"]]
        for close in closers:
            self._sockets.pop(close, None)
        await asyncio.gather(*(close(str(ending["reason"])) for close in closers), return_exceptions=True)

    def _heard(self, payload: str) -> None:
        # This process's own announcement comes back too, with its sockets already closed: nothing to do then.
        task = asyncio.create_task(self._close(json.loads(payload)))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
