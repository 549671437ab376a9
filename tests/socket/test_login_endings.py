"""A login ended in one backend process ends its sockets in every other process at once, not at their next
re-check (up to REVALIDATE_SECONDS later): logging out, and changing the password (other logins end)."""

from __future__ import annotations

import asyncio
import time

import pytest
from websockets.exceptions import ConnectionClosed

from backend.domain.accounts.open_sockets import REVALIDATE_SECONDS
from tests.cockpit_client import Cockpit
from tests.socket.conftest import PASSWORD, Backend, StartBackend


async def closed_within(cockpit: Cockpit, seconds: float) -> float:
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(seconds):
            while True:
                await cockpit.ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    return time.monotonic() - started


async def listening(*backends: Backend) -> None:
    await asyncio.sleep(0.5)  # each process's LISTEN connection is up (it starts with the app)


async def test_logging_out_in_one_process_closes_the_socket_in_another(start_backend: StartBackend) -> None:
    async with start_backend() as one, start_backend(username=one.username) as two:
        await listening(one, two)
        async with two.cockpit(token=one.token) as elsewhere, one.http() as http:
            assert (await http.post("/auth/logout")).status_code == 204
            took = await closed_within(elsewhere, 5)
    assert took < 2 < REVALIDATE_SECONDS


async def test_a_password_change_ends_the_other_logins_sockets_in_every_process(start_backend: StartBackend) -> None:
    async with start_backend() as one, start_backend(username=one.username) as two:
        await listening(one, two)
        async with one.http() as http:
            other = (await http.post("/auth/login", json={"username": one.username, "password": PASSWORD})).json()
        async with two.cockpit(token=other["token"]) as elsewhere, two.cockpit(token=one.token) as mine:
            async with one.http() as http:
                changed = await http.post(
                    "/auth/password", json={"current_password": PASSWORD, "new_password": "Zupełnie nowe hasło 2026"}
                )
                assert changed.status_code == 204, changed.text
            took = await closed_within(elsewhere, 5)
            await mine.send({"v": 1, "type": "ping"})
            assert (await mine.next("pong"))["type"] == "pong"  # the login that changed it stays
    assert took < 2
