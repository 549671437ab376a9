"""Re-encrypt every stored contact under the current data key (after adding a new key first in SUFLER_DATA_KEYS),
and encrypt values written before encryption existed. Idempotent; safe to run while the backend serves."""

from __future__ import annotations

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
    clients = leads = conversations = 0
    async with db.transaction() as session:
        for client in (await session.scalars(select(Client).with_for_update())).yield_per(BATCH):
            if not cipher.is_current(client.contact_info) or (client.contact_info and not client.contact_hash):
                plain = cipher.decrypt(client.contact_info)
                client.contact_info = cipher.encrypt(plain)
                client.contact_hash = cipher.lookup_hash(plain)
                clients += 1
        for lead in (await session.scalars(select(Lead).with_for_update())).yield_per(BATCH):
            if _reencrypt(lead.data, cipher):
                lead.data = {**lead.data, "contact": cipher.encrypt(cipher.decrypt(lead.data["contact"]))}
                leads += 1
        for convo in (await session.scalars(select(BotConversation).with_for_update())).yield_per(BATCH):
            if _reencrypt(convo.collected, cipher):
                contact = cipher.encrypt(cipher.decrypt(convo.collected["contact"]))
                convo.collected = {**convo.collected, "contact": contact}
                conversations += 1
    return Rotated(clients, leads, conversations)


def _reencrypt(data: dict[str, Any] | None, cipher: DataCipher) -> bool:
    contact = (data or {}).get("contact")
    return isinstance(contact, str) and bool(contact) and not cipher.is_current(contact)
