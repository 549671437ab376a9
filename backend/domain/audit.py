"""The audit log: who signed in, changed a role, exported data, edited rules/knowledge/archetypes or claimed a
lead — written in the same transaction as the change where there is one; readable by leads and admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, get
from litestar.params import QueryParameter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db import Database
from backend.db.models import AuditEntry, User
from backend.domain.accounts.access import TEAM_LEADS
from backend.services import ServicesDep

__all__ = ("AuditEntryOut", "add_entry", "audit_log", "record")


def add_entry(
    session: AsyncSession, actor_id: int | None, action: str, target: str | None = None, **details: Any
) -> None:
    """Add an entry to a transaction that makes the change it records."""
    session.add(AuditEntry(actor_id=actor_id, action=action, target=target, details=details))


async def record(db: Database, actor_id: int | None, action: str, target: str | None = None, **details: Any) -> None:
    """An entry on its own (sign-ins, exports: nothing else to commit with it)."""
    async with db.transaction() as session:
        add_entry(session, actor_id, action, target, **details)


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None
    actor: str | None = None
    action: str
    target: str | None
    details: dict[str, Any]


@get("/audit", summary="The audit log, newest first (leads and admins)", tags=["accounts"], guards=[TEAM_LEADS])
async def audit_log(
    request: Request[User, str, Any],
    services: ServicesDep,
    action: Annotated[str | None, QueryParameter(description="Only this action, e.g. sign_in")] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    offset: Annotated[int, QueryParameter(ge=0)] = 0,
) -> list[AuditEntryOut]:
    query = select(AuditEntry, User.username).outerjoin(User, User.id == AuditEntry.actor_id)
    if action:
        query = query.where(AuditEntry.action == action)
    query = query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    db: Database = services.db
    async with db.sessions() as session:
        rows = (await session.execute(query)).all()
    return [AuditEntryOut.model_validate(entry).model_copy(update={"actor": username}) for entry, username in rows]
