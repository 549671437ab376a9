"""The authenticated sockets of this process, by user and login, so that logging out or being deactivated (or
demoted) closes them at once. Sockets also re-check their login every REVALIDATE_SECONDS, which covers expiry
and changes made through another backend process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

__all__ = ("REVALIDATE_SECONDS", "OpenSockets")

REVALIDATE_SECONDS = 30.0

Close = Callable[[str], Awaitable[None]]  # close(reason)


class OpenSockets:
    def __init__(self) -> None:
        self._sockets: dict[Close, tuple[int, str]] = {}  # close -> (user id, token)

    def add(self, user_id: int, token: str, close: Close) -> None:
        self._sockets[close] = (user_id, token)

    def discard(self, close: Close) -> None:
        self._sockets.pop(close, None)

    async def close_login(self, token: str, reason: str) -> None:
        await self._close([c for c, (_, t) in self._sockets.items() if t == token], reason)

    async def close_user(self, user_id: int, reason: str, keep: str | None = None) -> None:
        """Close the user's sockets (but those of the login ``keep``, when given)."""
        await self._close([c for c, (u, t) in self._sockets.items() if u == user_id and t != keep], reason)

    async def _close(self, closers: list[Close], reason: str) -> None:
        for close in closers:
            self._sockets.pop(close, None)
        await asyncio.gather(*(close(reason) for close in closers), return_exceptions=True)
