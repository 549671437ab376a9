"""Logging in and out over HTTP, on a real socket, against real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update

from backend.db import Database
from backend.db.models import AuthToken, Role
from backend.domain.accounts import AccountService
from tests.integration.conftest import PASSWORD, MakeUser


def assert_json_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]


async def login(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    """Log in and forget the cookie, so that each test says explicitly how it authenticates."""
    response = await http.post("/auth/login", json={"username": username, "password": password})
    http.cookies.clear()
    return response


async def test_login_returns_token_and_cookie_and_me_answers(http: httpx.AsyncClient, make_user: MakeUser) -> None:
    user = await make_user(Role.LEAD)
    response = await login(http, user.username)
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {
        "id": user.id,
        "username": user.username,
        "role": "lead",
        "active": True,
        "language": "pl",
        "must_change_password": False,
    }
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    # Bearer token (API clients, the cockpit backend) ...
    me = await http.get("/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["username"] == user.username
    # ... and the cookie (browsers).
    me = await http.get("/auth/me", headers={"Cookie": f"sufler_session={body['token']}"})
    assert me.json()["username"] == user.username


async def test_wrong_password_and_unknown_user_get_the_same_401(http: httpx.AsyncClient, make_user: MakeUser) -> None:
    user = await make_user()
    wrong = await login(http, user.username, "not the password")
    unknown = await login(http, "nobody-at-all")
    assert_json_error(wrong, 401, "not_authenticated")
    assert_json_error(unknown, 401, "not_authenticated")
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


async def test_inactive_user_cannot_log_in_and_loses_open_sessions(
    http: httpx.AsyncClient, make_user: MakeUser, accounts: AccountService
) -> None:
    user, admin = await make_user(), await make_user(Role.ADMIN)
    token = (await login(http, user.username)).json()["token"]
    await accounts.change(user.id, admin.id, None, False)
    assert_json_error(await login(http, user.username), 401, "not_authenticated")
    assert_json_error(
        await http.get("/auth/me", headers={"Authorization": f"Bearer {token}"}), 401, "not_authenticated"
    )


async def test_missing_garbage_and_expired_tokens_are_401(
    http: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    assert_json_error(await http.get("/auth/me"), 401, "not_authenticated")
    assert_json_error(
        await http.get("/auth/me", headers={"Authorization": "Bearer nonsense"}), 401, "not_authenticated"
    )
    assert_json_error(await http.get("/auth/me", headers={"Authorization": "Basic abc"}), 401, "not_authenticated")

    user = await make_user()
    token = (await login(http, user.username)).json()["token"]
    async with db.transaction() as session:
        await session.execute(
            update(AuthToken)
            .where(AuthToken.user_id == user.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    response = await http.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert_json_error(response, 401, "not_authenticated")
    assert "expired" in response.json()["error"]["message"]


async def test_logout_revokes_the_token(http: httpx.AsyncClient, make_user: MakeUser) -> None:
    user = await make_user()
    token = (await login(http, user.username)).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    response = await http.post("/auth/logout", headers=headers)
    assert response.status_code == 204
    assert "sufler_session=" in response.headers["set-cookie"]
    assert_json_error(await http.get("/auth/me", headers=headers), 401, "not_authenticated")


async def test_malformed_login_bodies_get_a_json_400(http: httpx.AsyncClient) -> None:
    for body in (b"{", b"[]", b'{"username": "a"}', b'{"username": "a", "password": "b", "role": "admin"}'):
        response = await http.post("/auth/login", content=body, headers={"content-type": "application/json"})
        assert_json_error(response, 400, "bad_request")


async def test_protected_paths_need_a_login_and_unknown_paths_get_a_json_404(http: httpx.AsyncClient) -> None:
    assert_json_error(await http.get("/auth/me"), 401, "not_authenticated")
    assert_json_error(await http.post("/auth/logout"), 401, "not_authenticated")
    assert_json_error(await http.get("/does-not-exist"), 404, "not_found")


async def test_request_id_is_echoed_and_openapi_is_served(http: httpx.AsyncClient) -> None:
    response = await http.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    spec = (await http.get("/schema/openapi.json")).json()
    assert {"/health", "/auth/login", "/auth/logout", "/auth/me"} <= set(spec["paths"])


async def test_the_cockpit_language_is_remembered_per_user(http: httpx.AsyncClient, make_user: MakeUser) -> None:
    user = await make_user()
    token = (await http.post("/auth/login", json={"username": user.username, "password": PASSWORD})).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    http.cookies.clear()
    assert (await http.get("/auth/me", headers=headers)).json()["language"] == "pl"
    changed = await http.patch("/auth/me", json={"language": "en"}, headers=headers)
    assert changed.status_code == 200 and changed.json()["language"] == "en"
    again = (await http.post("/auth/login", json={"username": user.username, "password": PASSWORD})).json()
    assert again["user"]["language"] == "en"  # another device gets it at login
    bad = await http.patch("/auth/me", json={"language": "de"}, headers=headers)
    assert bad.status_code == 400
