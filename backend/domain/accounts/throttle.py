"""Login attempts are rate limited: after a few failures for one username from one address, and after many from
one address, further attempts are refused for a while (in memory, per backend process)."""

from __future__ import annotations

import time
from collections import defaultdict, deque

from backend.errors import RateLimited

__all__ = ("LoginThrottle",)


class LoginThrottle:
    def __init__(self, per_user: int = 5, per_address: int = 50, window: float = 300.0) -> None:
        self.per_user, self.per_address, self.window = per_user, per_address, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> int:
        seen = self._failures.get(key)
        if seen is None:
            return 0
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if not seen:
            del self._failures[key]
            return 0
        return len(seen)

    def check(self, username: str, address: str) -> None:
        now = time.monotonic()
        if (
            self._recent(f"u:{username.lower()}@{address}", now) >= self.per_user
            or self._recent(f"a:{address}", now) >= self.per_address
        ):
            raise RateLimited("Too many failed logins; wait a few minutes and try again.")

    def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        self._failures[f"u:{username.lower()}@{address}"].append(now)
        self._failures[f"a:{address}"].append(now)

    def succeeded(self, username: str, address: str) -> None:
        self._failures.pop(f"u:{username.lower()}@{address}", None)
