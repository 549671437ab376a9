"""Re-encrypt every stored contact under the current data key (after adding a new key first in SUFLER_DATA_KEYS),
and encrypt values written before encryption existed. Idempotent; safe to run while the backend serves."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from backend.crypto import DataCipher
from backend.db import Database
from backend.db.models import BotConversation, Client, Lead

__all__ = ("Rotated", "rotate")

BATCH = 500


@dataclass(frozen=True)
class Rotated:
    clients: int
    leads: int
    conversations: int


async def rotate(db: Database, cipher: DataCipher) -> Rotated:
    clients = 0
    changed: Counter[type] = Counter()
    async with db.transaction() as session:
        for client in (await session.scalars(select(Client).with_for_update())).yield_per(BATCH):
            if not cipher.is_current(client.contact_info) or (client.contact_info and not client.contact_hash):
                plain = cipher.decrypt(client.contact_info)
                client.contact_info = cipher.encrypt(plain)
                client.contact_hash = cipher.lookup_hash(plain)
                clients += 1
        # A contact a bot collected, in the lead it became and in its conversation.
        for model, field in ((Lead, "data"), (BotConversation, "collected")):
            for row in (await session.scalars(select(model).with_for_update())).yield_per(BATCH):
                data = getattr(row, field)
                if _reencrypt(data, cipher):
                    setattr(row, field, {**data, "contact": cipher.encrypt(cipher.decrypt(data["contact"]))})
                    changed[model] += 1
    return Rotated(clients, changed[Lead], changed[BotConversation])


def _reencrypt(data: dict[str, Any] | None, cipher: DataCipher) -> bool:
    contact = (data or {}).get("contact")
    return isinstance(contact, str) and bool(contact) and not cipher.is_current(contact)
