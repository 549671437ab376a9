from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from backend.db.models import User
from backend.domain.clients.schemas import ClientIn, ClientOut, ClientPatch, InteractionOut, SessionOut
from backend.domain.clients.services import MAX_PAGE
from backend.services import Services, ServicesDep


def named(client: ClientOut, services: Services, user: User) -> ClientOut:
    """The file with its archetype's name in the user's language."""
    archetype = services.pack.archetypes.get(client.archetype or "")
    return client.model_copy(update={"archetype_name": archetype.name.get(user.language) if archetype else None})


class ClientController(Controller):
    path = "/clients"
    tags = ("clients",)

    @post("/", status_code=HTTP_201_CREATED, summary="Create a client file")
    async def create(
        self, data: JSONBody[ClientIn], request: Request[User, str, Any], services: ServicesDep
    ) -> ClientOut:
        return await services.clients.create(data, request.user.id)

    @get("/", summary="List or search client files, newest first")
    async def search(
        self,
        request: Request[User, str, Any],
        services: ServicesDep,
        q: Annotated[
            str | None, QueryParameter(description="Part of the name, or a whole phone number or e-mail")
        ] = None,
        archetype: Annotated[str | None, QueryParameter(description="Leading archetype slug")] = None,
        archived: Annotated[bool, QueryParameter(description="Archived clients instead of active ones")] = False,
        include_all: Annotated[bool, QueryParameter(name="all", description="Archived and active together")] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> list[ClientOut]:
        found = await services.clients.search(
            request.user,
            q=q,
            archetype=archetype,
            archived=None if include_all else archived,
            limit=limit,
            offset=offset,
        )
        return [named(client, services, request.user) for client in found]

    @get("/{client_id:int}", summary="One client file")
    async def get_one(
        self, client_id: FromPath[int], request: Request[User, str, Any], services: ServicesDep
    ) -> ClientOut:
        return named(await services.clients.get(client_id, request.user), services, request.user)

    @patch("/{client_id:int}", summary="Change name, contact info or archived")
    async def update(
        self,
        client_id: FromPath[int],
        data: JSONBody[ClientPatch],
        request: Request[User, str, Any],
        services: ServicesDep,
    ) -> ClientOut:
        return await services.clients.update(client_id, data, request.user)

    @post("/{client_id:int}/archive", status_code=200, summary="Archive a client file (kept, hidden from lists)")
    async def archive(
        self, client_id: FromPath[int], request: Request[User, str, Any], services: ServicesDep
    ) -> ClientOut:
        return await services.clients.update(client_id, ClientPatch(archived=True), request.user)

    @get("/{client_id:int}/sessions", summary="The client's sessions, newest first")
    async def sessions(
        self, client_id: FromPath[int], request: Request[User, str, Any], services: ServicesDep
    ) -> list[SessionOut]:
        return [SessionOut.model_validate(s) for s in await services.clients.sessions(client_id, request.user)]


class SessionController(Controller):
    path = "/sessions"
    tags = ("clients",)

    @get("/{session_id:int}/interactions", summary="A session's interactions in order")
    async def interactions(
        self, session_id: FromPath[int], request: Request[User, str, Any], services: ServicesDep
    ) -> list[InteractionOut]:
        return [InteractionOut.model_validate(i) for i in await services.clients.interactions(session_id, request.user)]
