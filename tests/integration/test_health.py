"""/health tells the truth about the database, including when it dies and comes back."""

from __future__ import annotations

from pathlib import Path

import httpx

from backend.asgi import create_app
from backend.db.embedded import EmbeddedPostgres
from backend.db.migrate import upgrade_to_head
from backend.domain.copilot.build import BuiltEngine
from backend.settings import Settings
from tests.helpers import serving


async def test_health_ok(http: httpx.AsyncClient) -> None:
    response = await http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_health_is_down_while_the_database_is_stopped_and_recovers(
    tmp_path: Path, settings: Settings, built: BuiltEngine
) -> None:
    # A server of its own: stopping it must not disturb the other tests.
    server = EmbeddedPostgres(tmp_path / "pgdata")
    url = server.start()
    try:
        await upgrade_to_head(url)
        async with (
            serving(create_app(settings, database_url=url, copilot=built.copilot)) as base,
            httpx.AsyncClient(base_url=base) as http,
        ):
            assert (await http.get("/health")).json()["status"] == "ok"

            server.stop()
            response = await http.get("/health")
            assert response.status_code == 503
            assert response.json() == {"status": "down", "checks": {"database": "down"}}
            # Other requests fail with a typed error rather than a crash.
            login = await http.post("/auth/login", json={"username": "a", "password": "b"})
            assert login.status_code == 503
            assert login.json()["error"]["code"] == "database_unavailable"

            server.restart()
            response = await http.get("/health")
            assert response.status_code == 200
            assert response.json()["status"] == "ok"
    finally:
        server.close()
