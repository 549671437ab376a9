"""Who may see and do what. Enforced here, in the backend, for every endpoint and socket message.

- salesperson: own clients, their sessions and the leads they claimed; the unclaimed lead inbox;
- lead: everything of the team (all client files, sessions, the review), archetypes, knowledge, scoring rules,
  the audit log;
- admin: what a lead may, plus users (create, roles, deactivate) and settings.

A client file someone may not see answers 404, as one that does not exist: its existence is not told either.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import Select

from backend.db.models import Client, Role, User
from backend.errors import NotFound, PermissionDenied

__all__ = ("ADMIN_ONLY", "TEAM_LEADS", "can_see", "check_client", "only", "visible")

TEAM_ROLES = frozenset({Role.LEAD, Role.ADMIN})


def sees_team(user: User) -> bool:
    return user.role in TEAM_ROLES


def can_see(user: User, client: Client) -> bool:
    return sees_team(user) or client.owner_id == user.id


def check_client(user: User, client: Client | None, client_id: int) -> Client:
    if client is None or not can_see(user, client):
        raise NotFound(f"Client {client_id} does not exist.")
    return client


def visible(user: User, query: Select[Any]) -> Select[Any]:
    """Restrict a query over clients to those the user may see."""
    return query if sees_team(user) else query.where(Client.owner_id == user.id)


def only(*roles: Role) -> Any:
    """A Litestar guard: the endpoint is for these roles."""
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user: User = connection.user
        if user.role not in allowed:
            raise PermissionDenied(f"This needs the role {' or '.join(sorted(r.value for r in allowed))}.")

    return guard


TEAM_LEADS = only(Role.LEAD, Role.ADMIN)
ADMIN_ONLY = only(Role.ADMIN)
