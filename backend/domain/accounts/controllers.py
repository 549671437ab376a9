from __future__ import annotations

import secrets
from typing import Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.db.models import User as UserRow
from backend.domain.accounts.access import ADMIN_ONLY
from backend.domain.accounts.auth import CSRF_COOKIE, refuse_foreign_origin
from backend.domain.accounts.forwarding import client_address, forwarding_key
from backend.domain.accounts.schemas import (
    LoginRequest,
    LoginResponse,
    NewUser,
    PasswordChange,
    PasswordReset,
    Preferences,
    User,
    UserChange,
)
from backend.domain.accounts.services import AccountService
from backend.domain.audit import record
from backend.errors import NotAuthenticated, RateLimited, UnsupportedMediaType
from backend.services import ServicesDep


class AuthController(Controller):
    path = "/auth"
    tags = ("accounts",)

    @post("/login", status_code=HTTP_200_OK, summary="Log in; returns a token and sets the session cookie")
    async def login(
        self, data: JSONBody[LoginRequest], request: Request[Any, Any, Any], services: ServicesDep
    ) -> Response[LoginResponse]:
        # Login CSRF: another site could post a form (text/plain) logging the browser into an account of its
        # choosing. Only JSON from our own pages (or from programs, which send no Origin) is a login.
        refuse_foreign_origin(request)
        if request.content_type[0] != "application/json":
            raise UnsupportedMediaType("Log in with a JSON body (Content-Type: application/json).")
        accounts: AccountService = services.accounts
        address = client_address(request, forwarding_key(services.settings.secret_key()))
        try:
            services.login_throttle.check(data.username, address)
        except RateLimited:
            await record(services.db, None, "sign_in_throttled", data.username, address=address)
            raise
        try:
            issued = await accounts.login(data.username, data.password)
        except NotAuthenticated:
            services.login_throttle.failed(data.username, address)
            await record(services.db, None, "sign_in_failed", data.username, address=address)
            raise
        services.login_throttle.succeeded(data.username, address)
        await record(services.db, issued.user.id, "sign_in", issued.user.username, address=address)
        settings = services.settings
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
        # Double-submit CSRF token: a page of ours reads it and echoes it in X-CSRF-Token on writes made with
        # the cookie; another site can make the browser send the cookie, but cannot read this one.
        csrf = Cookie(
            key=CSRF_COOKIE,
            value=secrets.token_urlsafe(24),
            expires=int(issued.expires_at.timestamp()),
            httponly=False,
            secure=settings.production,
            samesite="strict",
            path="/",
        )
        return Response(body, cookies=[cookie, csrf])

    @post("/logout", status_code=HTTP_204_NO_CONTENT, summary="End this login session")
    async def logout(self, request: Request[UserRow, str, Any], services: ServicesDep) -> Response[None]:
        await services.accounts.logout(request.auth)
        await record(services.db, request.user.id, "sign_out", request.user.username)
        await services.open_sockets.close_login(request.auth, "logged out")
        settings = services.settings
        return Response(
            None,
            status_code=HTTP_204_NO_CONTENT,
            cookies=[Cookie(key=settings.auth.cookie_name, value="", max_age=0, path="/")],
        )

    @get("/me", summary="The logged-in user")
    async def me(self, request: Request[UserRow, str, Any]) -> User:
        return User.model_validate(request.user)

    @post("/password", status_code=HTTP_204_NO_CONTENT, summary="Change your own password (ends your other logins)")
    async def change_password(
        self, data: JSONBody[PasswordChange], request: Request[UserRow, str, Any], services: ServicesDep
    ) -> None:
        await services.accounts.change_password(request.user.id, data.current_password, data.new_password, request.auth)
        await services.open_sockets.close_user(request.user.id, "your password changed", keep=request.auth)

    @patch("/me", summary="Change the logged-in user's preferences (the cockpit language)")
    async def preferences(
        self, data: JSONBody[Preferences], request: Request[UserRow, str, Any], services: ServicesDep
    ) -> User:
        accounts: AccountService = services.accounts
        return User.model_validate(await accounts.set_language(request.user.id, data.language))


class UserController(Controller):
    """Users, for admins: list, create, change role, deactivate (which also ends their logins and sockets)."""

    path = "/users"
    tags = ("accounts",)
    guards = (ADMIN_ONLY,)

    @get("/", summary="All users")
    async def list_users(self, request: Request[UserRow, str, Any], services: ServicesDep) -> list[User]:
        return [User.model_validate(u) for u in await services.accounts.users()]

    @post("/", status_code=HTTP_201_CREATED, summary="Create a user")
    async def create(self, data: JSONBody[NewUser], request: Request[UserRow, str, Any], services: ServicesDep) -> User:
        user = await services.accounts.create_user(data.username, data.password, data.role)
        await record(services.db, request.user.id, "user_created", user.username, role=user.role.value)
        return User.model_validate(user)

    @patch("/{user_id:int}", summary="Change a user's role or deactivate / reactivate them")
    async def change(
        self,
        user_id: FromPath[int],
        data: JSONBody[UserChange],
        request: Request[UserRow, str, Any],
        services: ServicesDep,
    ) -> User:
        accounts: AccountService = services.accounts
        user = await accounts.change(user_id, request.user.id, data.role, data.active)
        if data.role is not None or data.active is False:  # their rights changed: their sockets log in again
            await services.open_sockets.close_user(user_id, "your account changed")
        return User.model_validate(user)

    @post("/{user_id:int}/password", status_code=HTTP_200_OK, summary="Reset a user's password (they must change it)")
    async def reset_password(
        self,
        user_id: FromPath[int],
        data: JSONBody[PasswordReset],
        request: Request[UserRow, str, Any],
        services: ServicesDep,
    ) -> User:
        user = await services.accounts.reset_password(user_id, request.user.id, data.password)
        await services.open_sockets.close_user(user_id, "your password was reset")
        return User.model_validate(user)
