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
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "vector_store": "ok"}}  # no LLM set


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
            assert response.json() == {"status": "down", "checks": {"database": "down", "vector_store": "ok"}}
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


async def test_health_reports_the_llm_and_the_vector_store_as_degraded_not_down(
    settings: Settings, built: BuiltEngine, migrated_db_url: str
) -> None:
    from backend.adapters.llm import LLM
    from backend.domain.copilot.copilot import Copilot
    from backend.runtime import bind_socket
    from backend.settings import LLMSettings

    sock = bind_socket("127.0.0.1", 0)  # a port nobody answers on once closed: the LLM is configured but away
    host = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    llm = LLM(LLMSettings(host=host, retry_after=0))
    copilot = Copilot(built.engine, llm, built.copilot.prompts, 1500)
    async with (
        serving(create_app(settings, database_url=migrated_db_url, copilot=copilot)) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        await llm.probe()
        response = await http.get("/health")
    await llm.close()
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "vector_store": "ok", "llm": "degraded"},
    }
