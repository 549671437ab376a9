"""Client files: create, find, update and archive clients; list their sessions and interactions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, or_, select

from backend.db import Database
from backend.db.models import Client, ClientSession, Interaction
from backend.domain.clients.schemas import ClientIn, ClientPatch
from backend.errors import NotFound

MAX_PAGE = 200


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ClientService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, data: ClientIn, owner_id: int) -> Client:
        client = Client(name=data.name, contact_info=data.contact_info, owner_id=owner_id, archived=False)
        async with self.db.transaction() as session:
            session.add(client)
            await session.flush()
            await session.refresh(client)
        return client

    async def get(self, client_id: int) -> Client:
        async with self.db.sessions() as session:
            client = await session.get(Client, client_id)
        if client is None:
            raise NotFound(f"Client {client_id} does not exist.")
        return client

    async def search(
        self,
        *,
        q: str | None = None,
        archetype: str | None = None,
        archived: bool | None = False,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[Client]:
        """Newest first. ``q`` matches name or contact info (case-insensitive substring); archived=None: all."""
        query: Select[tuple[Client]] = select(Client)
        if q:
            pattern = _like(q)
            query = query.where(or_(Client.name.ilike(pattern), Client.contact_info.ilike(pattern)))
        if archetype:
            query = query.where(Client.archetype == archetype)
        if archived is not None:
            query = query.where(Client.archived == archived)
        query = query.order_by(Client.updated_at.desc(), Client.id.desc()).limit(min(limit, MAX_PAGE)).offset(offset)
        async with self.db.sessions() as session:
            return (await session.scalars(query)).all()

    async def update(self, client_id: int, patch: ClientPatch) -> Client:
        async with self.db.transaction() as session:
            client = await session.get(Client, client_id, with_for_update=True)
            if client is None:
                raise NotFound(f"Client {client_id} does not exist.")
            for field, value in patch.model_dump(exclude_unset=True).items():
                if field == "name" and value is None:
                    continue  # a name cannot be removed
                setattr(client, field, value)
            await session.flush()
            await session.refresh(client)
        return client

    async def set_archetype(self, client_id: int, archetype: str) -> None:
        async with self.db.transaction() as session:
            client = await session.get(Client, client_id)
            if client is not None and client.archetype != archetype:
                client.archetype = archetype

    async def sessions(self, client_id: int) -> Sequence[ClientSession]:
        await self.get(client_id)
        query = (
            select(ClientSession)
            .where(ClientSession.client_id == client_id)
            .order_by(ClientSession.started_at.desc(), ClientSession.id.desc())
        )
        async with self.db.sessions() as session:
            return (await session.scalars(query)).all()

    async def interactions(self, session_id: int) -> Sequence[Interaction]:
        async with self.db.sessions() as session:
            if await session.get(ClientSession, session_id) is None:
                raise NotFound(f"Session {session_id} does not exist.")
            query = select(Interaction).where(Interaction.session_id == session_id).order_by(Interaction.id)
            return (await session.scalars(query)).all()
