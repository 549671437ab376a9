"""ASVS: people change their own password (the current one required; their other logins end), an admin resets
one (audited; the user must set their own before anything else), and logged-in answers are never cached."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from backend.db.models import Role
from backend.domain.accounts import AccountService
from backend.runtime import ensure_first_admin
from backend.settings import Settings
from tests.integration.conftest import PASSWORD, MakeUser
from tests.integration.test_access import as_

NEW = "a-new-long-passphrase"


async def _token(base_url: str, username: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        answer = await http.post("/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


async def test_a_user_changes_their_own_password_and_their_other_logins_end(base_url: str, make_user: MakeUser) -> None:
    user = await make_user()
    here, elsewhere = await _token(base_url, user.username, PASSWORD), await _token(base_url, user.username, PASSWORD)
    async with as_(base_url, here) as http:
        wrong = await http.post("/auth/password", json={"current_password": "guess-guess", "new_password": NEW})
        assert wrong.status_code == 403
        short = await http.post("/auth/password", json={"current_password": PASSWORD, "new_password": "short"})
        assert short.status_code == 422
        changed = await http.post("/auth/password", json={"current_password": PASSWORD, "new_password": NEW})
        assert changed.status_code == 204
        assert (await http.get("/auth/me")).status_code == 200  # this login goes on
    async with as_(base_url, elsewhere) as http:
        assert (await http.get("/auth/me")).status_code == 401  # the others ended
    await _token(base_url, user.username, NEW)
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        old = await http.post("/auth/login", json={"username": user.username, "password": PASSWORD})
    assert old.status_code == 401


async def test_an_admin_reset_is_audited_and_must_be_changed_before_anything_else(
    base_url: str, make_user: MakeUser, accounts: AccountService
) -> None:
    admin, user = await make_user(Role.ADMIN), await make_user()
    before = await _token(base_url, user.username, PASSWORD)
    admin_token = await _token(base_url, admin.username, PASSWORD)
    async with as_(base_url, admin_token) as http:
        reset = await http.post(f"/users/{user.id}/password", json={"password": "temporary-1234"})
        assert reset.status_code == 200 and reset.json()["must_change_password"] is True
        entries = (await http.get("/audit", params={"limit": 50})).json()
    assert any(e["action"] == "password_reset" and e["target"] == user.username for e in entries)
    async with as_(base_url, before) as http:
        assert (await http.get("/auth/me")).status_code == 401  # the reset ended their logins
    after = await _token(base_url, user.username, "temporary-1234")
    async with as_(base_url, after) as http:
        assert (await http.get("/auth/me")).json()["must_change_password"] is True
        blocked = await http.get("/clients/")
        assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "password_change_required"
        url = base_url.replace("http://", "ws://") + "/ws/cockpit"
        async with connect(url, additional_headers={"Authorization": f"Bearer {after}"}) as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()  # no hello: closed as not authenticated
        changed = await http.post("/auth/password", json={"current_password": "temporary-1234", "new_password": NEW})
        assert changed.status_code == 204
        assert (await http.get("/clients/")).status_code == 200


async def test_logged_in_answers_are_not_cached_and_the_docs_page_has_a_policy(
    base_url: str, make_user: MakeUser
) -> None:
    user = await make_user()
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        login = await http.post("/auth/login", json={"username": user.username, "password": PASSWORD})
        docs = await http.get("/schema/swagger")
        health = await http.get("/health")
        # Its viewer comes from the backend itself, not a CDN: every script and style the page names is ours.
        assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
        served = [await http.get(asset) for asset in assets]
    assert login.headers["cache-control"] == "no-store"  # it carries the token
    async with as_(base_url, login.json()["token"]) as http:
        assert (await http.get("/auth/me")).headers["cache-control"] == "no-store"
        assert (await http.get("/clients/")).headers["cache-control"] == "no-store"
    assert "cache-control" not in health.headers
    assert docs.status_code == 200 and docs.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
    assert len(assets) == 3 and all(asset.startswith("/schema/viewer/") for asset in assets), assets
    assert all(r.status_code == 200 and len(r.content) > 1000 for r in served)
    assert "http" not in docs.headers["content-security-policy"]  # no other site may serve the page anything


async def test_a_burst_of_logins_does_not_stall_the_sockets(base_url: str, make_user: MakeUser) -> None:
    user = await make_user()
    token = await _token(base_url, user.username, PASSWORD)
    url = base_url.replace("http://", "ws://") + "/ws/cockpit"
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        await ws.recv()  # hello
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            body = {"username": user.username, "password": PASSWORD}
            logins = [asyncio.create_task(http.post("/auth/login", json=body)) for _ in range(16)]
            pings: list[float] = []
            while not all(task.done() for task in logins):
                started = time.perf_counter()
                await ws.send('{"v": 1, "type": "ping"}')
                while '"pong"' not in str(await ws.recv()):
                    pass
                pings.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)
            assert all(task.result().status_code == 200 for task in logins)
    assert max(pings) < 0.3, pings  # it was 1.2-1.3 s with hashing on the event loop


async def test_the_generated_first_password_is_shown_until_the_admin_sets_their_own(
    settings: Settings, migrated_db_url: str, accounts: AccountService, tmp_path: Path
) -> None:
    auth = settings.auth.model_copy(update={"admin_username": f"admin-{uuid.uuid4().hex[:8]}"})
    mine = settings.model_copy(update={"auth": auth, "data_dir": tmp_path})
    first = await ensure_first_admin(mine, migrated_db_url)
    assert first.password and (tmp_path / "first-login.txt").exists()
    assert (await ensure_first_admin(mine, migrated_db_url)).password == first.password  # unchanged: still shown
    issued = await accounts.login(first.username, first.password)
    await accounts.change_password(issued.user.id, first.password, NEW, issued.token)
    assert (await ensure_first_admin(mine, migrated_db_url)).password is None
    assert not (tmp_path / "first-login.txt").exists()
