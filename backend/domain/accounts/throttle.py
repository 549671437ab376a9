"""Failed logins slow down the account they aim at, from the address they come from — never the whole team.

Keys: the account at the client's real address (the cockpit logs everyone in from its own server, so it forwards
the browser's address, signed: see :mod:`backend.domain.accounts.forwarding`), and the address alone (many
usernames tried from one place). Past the free failures each key waits, and the wait doubles with every further
failure (30 s, 1 min, 2 min … at most 15 min) instead of a hard lock. In memory, per backend process.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque

from backend.errors import RateLimited

__all__ = ("LoginThrottle",)


class LoginThrottle:
    def __init__(
        self,
        per_account: int = 5,
        per_address: int = 50,
        window: float = 900.0,
        first_wait: float = 30.0,
        longest_wait: float = 900.0,
    ) -> None:
        self.per_account, self.per_address, self.window = per_account, per_address, window
        self.first_wait, self.longest_wait = first_wait, longest_wait
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _wait(self, key: str, free: int, now: float) -> float:
        """Seconds this key must still wait (0: it may try now)."""
        seen = self._failures.get(key)
        if seen is None:
            return 0.0
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if not seen:
            del self._failures[key]
            return 0.0
        over = len(seen) - free
        if over < 0:
            return 0.0
        wait = min(self.longest_wait, self.first_wait * 2.0**over)
        return max(0.0, seen[-1] + wait - now)

    def check(self, username: str, address: str) -> None:
        now = time.monotonic()
        wait = max(
            self._wait(_account(username, address), self.per_account, now),
            self._wait(f"a:{address}", self.per_address, now),
        )
        if wait > 0:
            raise RateLimited(f"Too many failed logins; try again in {math.ceil(wait)} s.")

    def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        self._failures[_account(username, address)].append(now)
        self._failures[f"a:{address}"].append(now)

    def succeeded(self, username: str, address: str) -> None:
        self._failures.pop(_account(username, address), None)


def _account(username: str, address: str) -> str:
    return f"u:{username.lower()}@{address}"
