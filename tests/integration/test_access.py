"""Who may do what, enforced in the backend: the whole matrix of roles x endpoints and socket messages; logins
that end close their sockets; CSRF for cookie writes; login rate limit; security headers; the audit log."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from backend.db.models import Role, User
from backend.domain.accounts import AccountService
from tests.cockpit_client import cockpit
from tests.integration.conftest import PASSWORD, MakeUser


@dataclass
class Team:
    tokens: dict[str, str]  # "owner" (a salesperson), "other" (another salesperson), "lead", "admin"
    users: dict[str, User]
    client_id: int
    session_id: int


@pytest.fixture
async def team(base_url: str, make_user: MakeUser, accounts: AccountService) -> Team:
    roles = {"owner": Role.SALESPERSON, "other": Role.SALESPERSON, "lead": Role.LEAD, "admin": Role.ADMIN}
    users = {name: await make_user(role) for name, role in roles.items()}
    tokens = {name: (await accounts.login(u.username, PASSWORD)).token for name, u in users.items()}
    async with cockpit(base_url, tokens["owner"]) as owner:
        await owner.send({"v": 1, "type": "open_session", "new_client": {"name": f"Klient {uuid.uuid4().hex[:6]}"}})
        session = await owner.next("session")
    return Team(tokens, users, session["client"]["id"], session["session_id"])


def as_(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


OWN = {"owner": 200, "other": 404, "lead": 200, "admin": 200}  # a client file: its owner and the team's leads
ADMINS = {"owner": 403, "other": 403, "lead": 403, "admin": 200}
LEADS = {"owner": 403, "other": 403, "lead": 200, "admin": 200}
ANYONE = {"owner": 200, "other": 200, "lead": 200, "admin": 200}

MATRIX = [
    ("GET", "/clients/{client}", None, OWN),
    ("PATCH", "/clients/{client}", {"contact_info": "x"}, OWN),
    ("GET", "/clients/{client}/sessions", None, OWN),
    ("GET", "/sessions/{session}/interactions", None, OWN),
    ("POST", "/clients/{client}/archive", None, OWN),
    ("GET", "/clients/", None, ANYONE),
    ("POST", "/clients/", {"name": "Nowy"}, {k: 201 for k in ANYONE}),
    ("GET", "/auth/me", None, ANYONE),
    ("PATCH", "/auth/me", {"language": "en"}, ANYONE),
    ("GET", "/knowledge/battery-durability-winter", None, ANYONE),
    ("GET", "/users/", None, ADMINS),
    (
        "POST",
        "/users/",
        {"username": "new-{uid}", "password": PASSWORD, "role": "salesperson"},
        {**ADMINS, "admin": 201},
    ),
    ("PATCH", "/users/{other_user}", {"role": "salesperson"}, ADMINS),
    ("GET", "/audit", None, LEADS),
    ("GET", "/review/clients", None, LEADS),
    ("GET", "/review/sessions/{session}/timeline", None, LEADS),
    ("GET", "/review/feedback", None, LEADS),
    ("GET", "/review/proposals", None, LEADS),
    ("GET", "/review/export", None, LEADS),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, *_ in MATRIX])
async def test_the_role_matrix_over_http(
    base_url: str, team: Team, method: str, path: str, body: dict[str, object] | None, expected: dict[str, int]
) -> None:
    url = path.format(client=team.client_id, session=team.session_id, other_user=team.users["other"].id)
    for who, status in expected.items():
        payload = {k: v.format(uid=uuid.uuid4().hex[:8]) if isinstance(v, str) else v for k, v in (body or {}).items()}
        async with as_(base_url, team.tokens[who]) as http:
            response = await http.request(method, url, json=payload if body is not None else None)
        assert response.status_code == status, (who, method, url, response.text)
    async with httpx.AsyncClient(base_url=base_url) as anonymous:
        assert (await anonymous.request(method, url, json=body)).status_code == 401


async def test_client_lists_show_a_salesperson_only_their_own(base_url: str, team: Team) -> None:
    for who, sees in {"owner": True, "other": False, "lead": True, "admin": True}.items():
        async with as_(base_url, team.tokens[who]) as http:
            listed = [c["id"] for c in (await http.get("/clients/", params={"limit": 200})).json()]
        assert (team.client_id in listed) is sees, who


@pytest.mark.parametrize(
    "message",
    [
        {"type": "open_session", "client_id": "{client}"},
        {"type": "open_session", "session_id": "{session}"},
        {"type": "resume", "session_id": "{session}", "last_seq": 1_000_000},  # unknown seq: a snapshot
    ],
    ids=["open client", "open session", "resume"],
)
async def test_the_role_matrix_over_the_socket(base_url: str, team: Team, message: dict[str, object]) -> None:
    filled = {
        k: int(str(v).format(client=team.client_id, session=team.session_id)) if "{" in str(v) else v
        for k, v in message.items()
    }
    for who in ("owner", "other", "lead", "admin"):
        async with cockpit(base_url, team.tokens[who]) as ws:
            await ws.send({"v": 1, **filled})
            got = await ws.next_of("session", "error")
            if who == "other":
                assert got["type"] == "error" and got["code"] == "not_found", got
            else:
                assert got["type"] == "session" and got["client"]["id"] == team.client_id, (who, got)
            if got["type"] == "session":
                await ws.observe("Pyta o zasięg")  # and may work in it
                await ws.next("ack")


async def closed_within(ws: object, seconds: float = 5.0) -> int:
    async with asyncio.timeout(seconds):
        while True:
            try:
                await ws.ws.recv()  # type: ignore[attr-defined]
            except ConnectionClosed as closed:
                assert closed.rcvd is not None
                return closed.rcvd.code


async def test_logging_out_closes_that_logins_sockets(
    base_url: str, make_user: MakeUser, accounts: AccountService
) -> None:
    user = await make_user()
    first = (await accounts.login(user.username, PASSWORD)).token
    second = (await accounts.login(user.username, PASSWORD)).token
    async with cockpit(base_url, first) as mine, cockpit(base_url, second) as other_device:
        async with as_(base_url, first) as http:
            assert (await http.post("/auth/logout")).status_code == 204
        assert await closed_within(mine) == 1008
        await other_device.send({"v": 1, "type": "ping"})  # another login of the same user stays
        await other_device.next("pong")


async def test_deactivating_a_user_closes_their_sockets_and_logins(
    base_url: str, make_user: MakeUser, accounts: AccountService
) -> None:
    admin, user = await make_user(Role.ADMIN), await make_user()
    admin_token = (await accounts.login(admin.username, PASSWORD)).token
    token = (await accounts.login(user.username, PASSWORD)).token
    async with cockpit(base_url, token) as ws:
        async with as_(base_url, admin_token) as http:
            changed = await http.patch(f"/users/{user.id}", json={"active": False})
            assert changed.status_code == 200 and changed.json()["active"] is False
            assert (await http.patch(f"/users/{admin.id}", json={"active": False})).status_code == 422  # not oneself
        assert await closed_within(ws) == 1008
    async with as_(base_url, token) as http:
        assert (await http.get("/auth/me")).status_code == 401
    async with httpx.AsyncClient(base_url=base_url) as http:
        assert (
            await http.post("/auth/login", json={"username": user.username, "password": PASSWORD})
        ).status_code == 401


async def test_cookie_writes_need_the_csrf_token(base_url: str, make_user: MakeUser) -> None:
    user = await make_user()
    async with httpx.AsyncClient(base_url=base_url) as browser:
        login = await browser.post("/auth/login", json={"username": user.username, "password": PASSWORD})
        assert "httponly" in login.headers.get_list("set-cookie")[0].lower()
        assert (await browser.get("/auth/me")).status_code == 200  # reads need no token
        refused = await browser.post("/clients/", json={"name": "Bez tokenu"})
        assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
        wrong = await browser.post("/clients/", json={"name": "Zły"}, headers={"X-CSRF-Token": "guess"})
        assert wrong.status_code == 403
        token = browser.cookies["sufler_csrf"]
        assert (
            await browser.post("/clients/", json={"name": "Z tokenem"}, headers={"X-CSRF-Token": token})
        ).status_code == 201


async def test_failed_logins_are_rate_limited(base_url: str, make_user: MakeUser) -> None:
    user = await make_user()
    async with httpx.AsyncClient(base_url=base_url) as http:
        for _ in range(5):
            wrong = await http.post("/auth/login", json={"username": user.username, "password": "wrong password"})
            assert wrong.status_code == 401
        limited = await http.post("/auth/login", json={"username": user.username, "password": PASSWORD})
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"


async def test_html_gets_security_headers(http: httpx.AsyncClient) -> None:
    page = await http.get("/bots/web/demo")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    assert (await http.get("/health")).headers["x-content-type-options"] == "nosniff"


async def test_the_audit_log_records_sign_ins_and_role_changes(
    base_url: str, make_user: MakeUser, accounts: AccountService
) -> None:
    admin, user = await make_user(Role.ADMIN), await make_user()
    async with httpx.AsyncClient(base_url=base_url) as http:
        token = (await http.post("/auth/login", json={"username": admin.username, "password": PASSWORD})).json()[
            "token"
        ]
    async with as_(base_url, token) as http:
        assert (await http.patch(f"/users/{user.id}", json={"role": "lead"})).status_code == 200
        entries = (await http.get("/audit", params={"limit": 50})).json()
    changed = next(e for e in entries if e["action"] == "role_changed" and e["target"] == user.username)
    assert changed["actor"] == admin.username and changed["details"] == {"old": "salesperson", "new": "lead"}
    assert any(e["action"] == "sign_in" and e["target"] == admin.username for e in entries)
