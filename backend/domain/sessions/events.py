"""The numbered events of one live session, the newest kept for sockets that reconnect and resume."""

from __future__ import annotations

import time
from collections import deque

from backend.domain.protocol import cockpit as p

__all__ = ("EVENT_LOG", "EventLog")

EVENT_LOG = 2000  # events kept per session for resuming; older gaps get a full snapshot instead


class EventLog:
    """Numbers events (seq) and keeps the last ``keep`` of them.

    Numbering starts at the microsecond clock, not at 1: a cockpit that reconnects to another backend process
    (behind a load balancer) or to a restarted one brings a ``last_seq`` of another log. That number is then
    either older than this log's first event or newer than its last, and both give a full snapshot — never a
    wrong slice of events that happen to have the same numbers.
    """

    def __init__(self, session_id: int, keep: int = EVENT_LOG) -> None:
        self.session_id = session_id
        self.seq = time.time_ns() // 1000
        self._kept: deque[tuple[int, str]] = deque(maxlen=keep)

    def add(self, event: p.Event) -> str:
        """Number ``event`` as this session's next one; returns its wire text."""
        self.seq += 1
        event.seq, event.session_id = self.seq, self.session_id
        text = p.encode(event)
        self._kept.append((self.seq, text))
        return text

    def since(self, last_seq: int) -> list[str] | None:
        """The events after ``last_seq``, or None when they are not all kept here (send a snapshot)."""
        if last_seq > self.seq:
            return None
        if last_seq == self.seq:
            return []
        if not self._kept or self._kept[0][0] > last_seq + 1:
            return None
        return [text for seq, text in self._kept if seq > last_seq]
