"""The data keys against what is stored: :func:`rotate` re-encrypts every stored contact under the current data key
(after adding a new key first in SUFLER_DATA_KEYS) and encrypts values written before encryption existed
(idempotent; safe to run while the backend serves); :func:`check_readable` refuses keys that cannot read what is
stored (a restore on a machine without the backup's keys), before anyone is shown a broken client list."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, func, select, type_coerce
from sqlalchemy.orm.attributes import flag_modified

from backend.crypto import PREFIX, DataCipher, DataKeyError
from backend.db import Database
from backend.db.models import BotConversation, Client, ClientSession, Interaction, Lead
from backend.db.sealed import SEALED, contacts_in, use_cipher

__all__ = ("MissingDataKeys", "Rotated", "check_readable", "rotate")

BATCH = 500
SAMPLED_OBSERVATIONS = 1000


@dataclass(frozen=True)
class Rotated:
    clients: int
    leads: int
    conversations: int
    texts: int = 0  # rows whose free text holds a contact, sealed again under the current key


# Free text with contacts sealed in it (backend/db/sealed.py): read through the sealed column types (opened with
# any configured key), written back sealed under the current one.
SEALED_TEXTS: tuple[tuple[type, tuple[str, ...]], ...] = (
    (Interaction, ("user_input",)),
    (ClientSession, ("summary", "key_facts")),
    (BotConversation, ("transcript",)),
    (Lead, ("transcript",)),
)


async def rotate(db: Database, cipher: DataCipher) -> Rotated:
    use_cipher(cipher)  # the sealed columns read below open with it
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
    texts = 0
    for table, fields in SEALED_TEXTS:
        async with db.transaction() as session:
            for row in (await session.scalars(select(table).with_for_update())).yield_per(BATCH):
                touched = [f for f in fields if contacts_in(json.dumps(getattr(row, f), ensure_ascii=False))]
                for f in touched:
                    flag_modified(row, f)  # written again: sealed under the current key
                texts += bool(touched)
    return Rotated(clients, changed[Lead], changed[BotConversation], texts)


def _reencrypt(data: dict[str, Any] | None, cipher: DataCipher) -> bool:
    contact = (data or {}).get("contact")
    return isinstance(contact, str) and bool(contact) and not cipher.is_current(contact)


class MissingDataKeys(DataKeyError):
    """Stored contact data is under a data key this server does not have (or has under another value)."""


async def check_readable(db: Database, cipher: DataCipher) -> None:
    """One stored value per data key in use, decrypted: a key missing or different raises MissingDataKeys."""
    columns: list[ColumnElement[str | None]] = [
        Client.contact_info.expression,
        Lead.data["contact"].astext,
        BotConversation.collected["contact"].astext,
    ]
    # The first contact sealed into an observation's text (PostgreSQL's substring gives the regex's group), of the
    # newest observations only: every start runs this, and a whole-table regex scan grows with every note typed.
    newest = select(Interaction.user_input).order_by(Interaction.id.desc()).limit(SAMPLED_OBSERVATIONS).subquery()
    columns.append(func.substring(type_coerce(newest.c.user_input, Text), SEALED.pattern))
    async with db.sessions() as session:
        for column in columns:
            key_id = func.split_part(column, ":", 2)
            samples = await session.scalars(select(func.min(column)).where(column.startswith(PREFIX)).group_by(key_id))
            for stored in samples:
                try:
                    cipher.decrypt(stored)
                except DataKeyError as exc:
                    raise MissingDataKeys(
                        f"{exc.message} The stored contact data cannot be read with this server's data keys (a "
                        "backup restored on another machine?): set SUFLER_DATA_KEYS, or copy the data dir's "
                        "data_keys file, from where the data was written, then start again."
                    ) from exc
