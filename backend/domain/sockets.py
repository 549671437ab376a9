"""What every WebSocket of ours shares: a per-socket outbox (a slow reader never holds up anyone else) and one
receive loop that yields each frame's data until the peer goes away."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

__all__ = ("POLICY_VIOLATION", "TRY_AGAIN_LATER", "RateBucket", "RatesByKey", "SocketOutbox", "frames")

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013  # overload (RFC 6455's registry): the client reconnects after a pause


class RateBucket:
    """A token bucket: a burst of ``burst`` messages at once, then ``per_second`` on average."""

    def __init__(self, burst: int, per_second: float) -> None:
        self.burst, self.per_second = float(burst), per_second
        self.tokens, self.at = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class RatesByKey:
    """One bucket per key (a user: all their sockets together), the least recently used forgotten past ``keep``."""

    def __init__(self, burst: int, per_second: float, keep: int = 10_000) -> None:
        self.burst, self.per_second, self.keep = burst, per_second, keep
        self.buckets: OrderedDict[object, RateBucket] = OrderedDict()

    def take(self, key: object) -> bool:
        bucket = self.buckets.pop(key, None) or RateBucket(self.burst, self.per_second)
        self.buckets[key] = bucket
        if len(self.buckets) > self.keep:
            self.buckets.popitem(last=False)
        return bucket.take()


MAX_QUEUED_BYTES = 1024 * 1024  # far more than any resume or burst needs; a socket that does not read is closed


class SocketOutbox:
    """Queues text frames for one socket and sends them in order from its own task.

    Bounded: a peer that stops reading while it keeps asking (1,500 resumes grew memory by ~100 MB) is closed
    once MAX_QUEUED_BYTES wait for it; what was queued is dropped, and a reconnect resumes from its last seq.
    """

    def __init__(self, socket: WebSocket[Any, Any, Any]) -> None:
        self.socket = socket
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.queued_bytes = 0
        self.overflowed = False
        self.task = asyncio.create_task(self._run())

    def deliver(self, text: str) -> None:
        if self.overflowed:
            return
        self.queued_bytes += len(text)
        if self.queued_bytes > MAX_QUEUED_BYTES:
            self._overflow()
            return
        self.queue.put_nowait(text)

    def _overflow(self) -> None:
        self.overflowed = True
        self.queue = asyncio.Queue()
        self.queued_bytes = 0
        self.task.cancel()
        self.task = asyncio.create_task(self._close_unread())

    async def _close_unread(self) -> None:
        with contextlib.suppress(Exception):
            await self.socket.close(code=POLICY_VIOLATION, reason="not reading")

    async def _run(self) -> None:
        try:
            while True:
                text = await self.queue.get()
                self.queued_bytes -= len(text)
                await self.socket.send_text(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the receive loop notices the disconnect and cleans up

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def frames(socket: WebSocket[Any, Any, Any]) -> AsyncIterator[str | bytes]:
    """Each received frame's text (or bytes), until the peer disconnects."""
    try:
        while True:
            event = await socket.receive()
            if event["type"] == "websocket.disconnect":
                return
            text, data = event.get("text"), event.get("bytes")
            yield text if isinstance(text, str) else data if isinstance(data, bytes) else b""
    except WebSocketDisconnect:
        return
