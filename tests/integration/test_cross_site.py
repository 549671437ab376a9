"""A page on another site cannot act with a logged-in salesperson's browser: not on the cockpit socket (cross-site
WebSocket hijacking), not by logging the browser in (login CSRF), not by a cookie write."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.integration.conftest import PASSWORD, MakeUser

OURS = "http://localhost:3000"  # the embedded default's cockpit
FOREIGN = ["http://evil.example", "null", "http://localhost:3000.evil.example", "https://localhost:3000"]


@asynccontextmanager
async def _browser_login(base_url: str, username: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser logged in on our page: it holds the session and CSRF cookies."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as browser:
        login = await browser.post("/auth/login", json={"username": username, "password": PASSWORD})
        assert login.status_code == 200
        yield browser


def _cookie_header(browser: httpx.AsyncClient) -> str:
    return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


@pytest.mark.parametrize("origin", FOREIGN)
async def test_a_foreign_page_cannot_open_the_cockpit_socket_with_the_cookie(
    base_url: str, make_user: MakeUser, origin: str
) -> None:
    user = await make_user()
    async with _browser_login(base_url, user.username) as browser:
        url = base_url.replace("http://", "ws://") + "/ws/cockpit"
        with pytest.raises(InvalidStatus) as refused:
            await connect(url, additional_headers={"Cookie": _cookie_header(browser), "Origin": origin})
        assert refused.value.response.status_code == 403


async def test_the_cockpits_own_page_opens_the_socket_with_the_cookie(base_url: str, make_user: MakeUser) -> None:
    user = await make_user()
    async with _browser_login(base_url, user.username) as browser:
        url = base_url.replace("http://", "ws://") + "/ws/cockpit"
        async with connect(url, additional_headers={"Cookie": _cookie_header(browser), "Origin": OURS}) as ws:
            assert '"type":"hello"' in str(await ws.recv())


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": "text/plain"}, 415),  # what a foreign <form enctype="text/plain"> can send
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"Content-Type": "application/json", "Origin": "http://evil.example"}, 403),
    ],
)
async def test_login_takes_json_from_our_pages_only(
    base_url: str, make_user: MakeUser, headers: dict[str, str], status: int
) -> None:
    user = await make_user()
    body = f'{{"username": "{user.username}", "password": "{PASSWORD}"}}'
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        refused = await http.post("/auth/login", content=body, headers=headers)
    assert refused.status_code == status
    assert "set-cookie" not in refused.headers  # nobody was logged in
    assert refused.json()["error"]["code"] in {"unsupported_media_type", "permission_denied"}


async def test_a_cookie_write_from_a_foreign_page_is_refused_even_with_the_csrf_token(
    base_url: str, make_user: MakeUser
) -> None:
    user = await make_user()
    async with _browser_login(base_url, user.username) as browser:
        csrf = {"X-CSRF-Token": browser.cookies["sufler_csrf"]}
        foreign = await browser.post("/clients/", json={"name": "Obcy"}, headers={**csrf, "Origin": "null"})
        assert foreign.status_code == 403
        ours = await browser.post("/clients/", json={"name": "Nasz"}, headers={**csrf, "Origin": OURS})
        assert ours.status_code == 201
