"""Failed logins slow down the account at the address they come from — one attacker behind the cockpit cannot lock
the team out — with growing waits, each throttled attempt audited; the cockpit's forwarded address is believed only
when signed."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from backend.db.models import Role
from backend.domain.accounts import throttle as throttle_module
from backend.domain.accounts.forwarding import ADDRESS_HEADER, SIGNATURE_HEADER, forwarding_key, sign
from backend.domain.accounts.throttle import LoginThrottle
from backend.errors import RateLimited
from backend.settings import Settings
from tests.integration.conftest import PASSWORD, MakeUser
from tests.integration.test_access import as_


def _from(settings: Settings, address: str) -> dict[str, str]:
    """Headers the cockpit adds for a browser at ``address``."""
    key = forwarding_key(settings.secret_key())
    return {ADDRESS_HEADER: address, SIGNATURE_HEADER: sign(key, address)}


async def test_an_attacker_behind_the_cockpit_does_not_lock_the_team_out(
    base_url: str, settings: Settings, make_user: MakeUser
) -> None:
    victim, colleague, admin = await make_user(), await make_user(), await make_user(Role.ADMIN)
    attacker = _from(settings, "203.0.113.66")
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as cockpit_server:
        for _ in range(60):  # any usernames, all through the cockpit's one address
            body = {"username": f"guess-{uuid.uuid4().hex[:6]}", "password": "wrong-password"}
            answer = await cockpit_server.post("/auth/login", json=body, headers=attacker)
            assert answer.status_code in (401, 429)
        for _ in range(6):
            body = {"username": victim.username, "password": "wrong-password"}
            await cockpit_server.post("/auth/login", json=body, headers=attacker)
        # The attacker's browser waits ...
        body = {"username": victim.username, "password": PASSWORD}
        throttled = await cockpit_server.post("/auth/login", json=body, headers=attacker)
        assert throttled.status_code == 429 and "try again in" in throttled.json()["error"]["message"]
        # ... everyone else behind the same cockpit logs in, the victim included, from their own browsers.
        for user, address in ((colleague, "198.51.100.7"), (victim, "198.51.100.8")):
            ok = await cockpit_server.post(
                "/auth/login", json={"username": user.username, "password": PASSWORD}, headers=_from(settings, address)
            )
            assert ok.status_code == 200, ok.text
        admin_token = (
            await cockpit_server.post(
                "/auth/login", json={"username": admin.username, "password": PASSWORD}, headers=_from(settings, "::1")
            )
        ).json()["token"]
    async with as_(base_url, admin_token) as http:
        entries = (await http.get("/audit", params={"action": "sign_in_throttled", "limit": 50})).json()
    assert any(e["target"] == victim.username for e in entries)


async def test_a_forged_forwarded_address_is_not_believed(base_url: str, make_user: MakeUser) -> None:
    user = await make_user()
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        for n in range(6):  # each try claims another address, unsigned: all count against the sender's own
            forged = {ADDRESS_HEADER: f"192.0.2.{n}", SIGNATURE_HEADER: "0" * 64}
            await http.post("/auth/login", json={"username": user.username, "password": "nope-nope"}, headers=forged)
        answer = await http.post("/auth/login", json={"username": user.username, "password": PASSWORD})
    assert answer.status_code == 429


def test_the_wait_grows_with_every_failure_and_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(throttle_module.time, "monotonic", lambda: clock[0])
    throttle = LoginThrottle(per_account=2, first_wait=10.0, longest_wait=40.0)
    waits = []
    for _ in range(5):
        throttle.failed("anna", "10.0.0.1")
        try:
            throttle.check("anna", "10.0.0.1")
            waits.append(0)
        except RateLimited as exc:
            match = re.search(r"try again in (\d+) s", exc.message)
            assert match is not None
            waits.append(int(match.group(1)))
    assert waits == [0, 10, 20, 40, 40]  # free, then doubling, capped
    clock[0] += 41
    throttle.check("anna", "10.0.0.1")  # the wait is over: a try is allowed
    throttle.check("anna", "10.0.0.2")  # another address never waited
