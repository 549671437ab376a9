"""Meta's customer-service window: on WhatsApp, Messenger and Instagram a business may write to a customer only
within 24 hours of the customer's last message (after that: an approved template, or nothing)."""

from __future__ import annotations

import time

__all__ = ("MESSAGING_WINDOW_SECONDS", "WINDOWED_CHANNELS", "window_closed")

MESSAGING_WINDOW_SECONDS = 24 * 3600
WINDOWED_CHANNELS = frozenset({"whatsapp", "messenger", "instagram"})


def window_closed(channel: str, customer_at: float | None, now: float | None = None) -> bool:
    """Whether a reply in ``channel`` now falls outside the window (``customer_at``: the customer's last message,
    Unix seconds; None: they never wrote)."""
    if channel not in WINDOWED_CHANNELS:
        return False
    return customer_at is None or (now if now is not None else time.time()) - customer_at > MESSAGING_WINDOW_SECONDS
