"""Client files: create, find, update and archive clients; list their sessions and interactions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select, update

from backend.crypto import DataCipher
from backend.db import Database
from backend.db.models import Client, ClientSession, Interaction, User
from backend.domain.accounts.access import check_client, visible
from backend.domain.clients.schemas import ClientIn, ClientOut, ClientPatch
from backend.domain.integrations.webhooks import Webhooks, client_event
from backend.errors import NotFound

MAX_PAGE = 200


# Letters with diacritics and what they are searched as: "Wisniewski" finds "Wiśniewski" and "LUKASZ" "Łukasz".
# Folded on both sides, in SQL with translate() (core PostgreSQL, whatever the database's locale: the capitals are
# listed too, since lower() of a non-ASCII letter depends on the locale) and here with the same table.
_WITH = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻäöüßÄÖÜáàâãåéèêëíìîïóòôõúùûýÿçñÁÀÂÃÅÉÈÊËÍÌÎÏÓÒÔÕÚÙÛÝÇÑčďěňřšťůžČĎĚŇŘŠŤŮŽ"
_WITHOUT = "acelnoszzacelnoszzaousaouaaaaaeeeeiiiioooouuuyycnaaaaaeeeeiiiioooouuuycncdenrstuzcdenrstuz"
_FOLD = str.maketrans(_WITH, _WITHOUT)


def fold(text: str) -> str:
    """What a name is compared as: without diacritics, lower case."""
    return text.translate(_FOLD).lower()


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ClientService:
    """Contact info is encrypted on the way in and decrypted on the way out (:class:`ClientOut`)."""

    def __init__(self, db: Database, cipher: DataCipher, webhooks: Webhooks | None = None) -> None:
        self.db = db
        self.cipher = cipher
        self.webhooks = webhooks  # client-file events for a CRM (None: nobody listens)

    async def announce(self, session: Any, event_type: str, client: Client) -> None:
        """A client-file event for the CRM, in the caller's transaction (poke the sender after the commit)."""
        if self.webhooks is not None:
            await self.webhooks.announce(session, event_type, *client_event(client, self.cipher))

    def poke(self) -> None:
        if self.webhooks is not None:
            self.webhooks.poke()

    def new(self, name: str, contact_info: str | None, owner_id: int, archetype: str | None = None) -> Client:
        client = Client(name=name, owner_id=owner_id, archived=False, archetype=archetype)
        self._set_contact(client, contact_info)
        return client

    def _set_contact(self, client: Client, contact_info: str | None) -> None:
        client.contact_info = self.cipher.encrypt(contact_info)
        client.contact_hash = self.cipher.lookup_hash(contact_info)

    def out(self, client: Client) -> ClientOut:
        shown = ClientOut.model_validate(client)
        return shown.model_copy(update={"contact_info": self.cipher.decrypt(client.contact_info)})

    async def create(self, data: ClientIn, owner_id: int) -> ClientOut:
        client = self.new(data.name, data.contact_info, owner_id)
        async with self.db.transaction() as session:
            session.add(client)
            await session.flush()
            await session.refresh(client)
            await self.announce(session, "client.created", client)
        self.poke()
        return self.out(client)

    async def get(self, client_id: int, user: User) -> ClientOut:
        async with self.db.sessions() as session:
            client = await session.get(Client, client_id)
        return self.out(check_client(user, client, client_id))

    async def search(
        self,
        user: User,
        *,
        q: str | None = None,
        archetype: str | None = None,
        archived: bool | None = False,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ClientOut]:
        """Newest first. ``q`` matches a name (substring, ignoring case and diacritics) or a whole contact (phone
        number or e-mail, however spaced: contact info is encrypted, so it is found by its keyed hash);
        archived=None: all."""
        query = visible(user, select(Client))
        if q:
            folded_name = func.translate(Client.name, _WITH, _WITHOUT)
            query = query.where(
                or_(folded_name.ilike(_like(fold(q))), Client.contact_hash == self.cipher.lookup_hash(q))
            )
        if archetype:
            query = query.where(Client.archetype == archetype)
        if archived is not None:
            query = query.where(Client.archived == archived)
        query = query.order_by(Client.updated_at.desc(), Client.id.desc()).limit(min(limit, MAX_PAGE)).offset(offset)
        async with self.db.sessions() as session:
            return [self.out(c) for c in (await session.scalars(query)).all()]

    async def update(self, client_id: int, patch: ClientPatch, user: User) -> ClientOut:
        async with self.db.transaction() as session:
            client = check_client(user, await session.get(Client, client_id, with_for_update=True), client_id)
            was_archived = client.archived
            for field, value in patch.model_dump(exclude_unset=True).items():
                if field == "name" and value is None:
                    continue  # a name cannot be removed
                if field == "contact_info":
                    self._set_contact(client, value)
                else:
                    setattr(client, field, value)
            await session.flush()
            await session.refresh(client)
            archived = client.archived and not was_archived
            await self.announce(session, "client.archived" if archived else "client.updated", client)
        self.poke()
        return self.out(client)

    async def check_session(self, session_id: int, user: User) -> int:
        """The session's client id, when the user may see that client; else NotFound."""
        async with self.db.sessions() as session:
            row = (
                await session.execute(
                    select(ClientSession.client_id, Client)
                    .join(Client, Client.id == ClientSession.client_id)
                    .where(ClientSession.id == session_id)
                )
            ).first()
        if row is None or not check_client(user, row[1], row[0]):
            raise NotFound(f"Session {session_id} does not exist.")
        return int(row[0])

    async def set_archetype(self, client_id: int, archetype: str) -> None:
        # One idempotent statement, one round trip: it runs after many observations (the leader is remembered).
        await self.db.statement(
            update(Client)
            .where(Client.id == client_id, Client.archetype.is_distinct_from(archetype))
            .values(archetype=archetype)
        )

    async def sessions(self, client_id: int, user: User) -> Sequence[ClientSession]:
        await self.get(client_id, user)
        query = (
            select(ClientSession)
            .where(ClientSession.client_id == client_id)
            .order_by(ClientSession.started_at.desc(), ClientSession.id.desc())
        )
        async with self.db.sessions() as session:
            return (await session.scalars(query)).all()

    async def interactions(self, session_id: int, user: User) -> Sequence[Interaction]:
        await self.check_session(session_id, user)
        async with self.db.sessions() as session:
            query = select(Interaction).where(Interaction.session_id == session_id).order_by(Interaction.id)
            return (await session.scalars(query)).all()
