from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from backend.db.models import User as UserRow
from backend.domain.accounts.schemas import LoginRequest, LoginResponse, Preferences, User
from backend.domain.accounts.services import AccountService


class AuthController(Controller):
    path = "/auth"
    tags = ("accounts",)

    @post("/login", status_code=HTTP_200_OK, summary="Log in; returns a token and sets the session cookie")
    async def login(self, data: JSONBody[LoginRequest], request: Request[Any, Any, Any]) -> Response[LoginResponse]:
        accounts: AccountService = request.app.state.accounts
        issued = await accounts.login(data.username, data.password)
        settings = request.app.state.settings
        body = LoginResponse(token=issued.token, expires_at=issued.expires_at, user=User.model_validate(issued.user))
        cookie = Cookie(
            key=settings.auth.cookie_name,
            value=issued.token,
            expires=int(issued.expires_at.timestamp()),
            httponly=True,
            secure=settings.production,
            samesite="lax",
            path="/",
        )
        return Response(body, cookies=[cookie])

    @post("/logout", status_code=HTTP_204_NO_CONTENT, summary="End this login session")
    async def logout(self, request: Request[UserRow, str, Any]) -> Response[None]:
        await request.app.state.accounts.logout(request.auth)
        settings = request.app.state.settings
        return Response(
            None,
            status_code=HTTP_204_NO_CONTENT,
            cookies=[Cookie(key=settings.auth.cookie_name, value="", max_age=0, path="/")],
        )

    @get("/me", summary="The logged-in user")
    async def me(self, request: Request[UserRow, str, Any]) -> User:
        return User.model_validate(request.user)

    @patch("/me", summary="Change the logged-in user's preferences (the cockpit language)")
    async def preferences(self, data: JSONBody[Preferences], request: Request[UserRow, str, Any]) -> User:
        accounts: AccountService = request.app.state.accounts
        return User.model_validate(await accounts.set_language(request.user.id, data.language))
