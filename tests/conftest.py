"""Real PostgreSQL for the tests: the embedded server always, plus SUFLER_TEST_DATABASE_URL when set."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from backend.asgi import create_app
from backend.db.embedded import EmbeddedPostgres
from backend.db.migrate import upgrade_to_head
from backend.domain.copilot.build import BuiltEngine, build_engine
from backend.settings import DataSettings, LLMSettings, PackSettings, Settings
from tests.helpers import fresh_database, serving
from tests.llama import LlamaServer, llama_server

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL_URL = os.environ.get("SUFLER_TEST_DATABASE_URL")
SERVERS = ["embedded"] + (["external"] if EXTERNAL_URL else [])
# One contact-data key for every backend the tests run on the shared test databases (in-process or not): a value
# one of them encrypted must decrypt in the others, as in a real deployment with one SUFLER_DATA_KEYS.
TEST_DATA_KEYS = "k1:dGVzdHMtb25seS1rZXktMzItYnl0ZXMtbG9uZy0wMDA="


@pytest.fixture(scope="session")
def embedded_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "pgdata")
    url = server.start()
    yield url
    server.close()


@pytest.fixture(scope="session", params=SERVERS)
def pg_server_url(request: pytest.FixtureRequest) -> str:
    """The URL of a PostgreSQL server's maintenance database; every DB test runs once per server."""
    if request.param == "external":
        assert EXTERNAL_URL is not None
        return EXTERNAL_URL
    url: str = request.getfixturevalue("embedded_server_url")
    return url


@pytest.fixture(scope="session")
async def migrated_db_url(pg_server_url: str) -> AsyncIterator[str]:
    """One database per server with all migrations applied; tests use unique names instead of truncating."""
    async with fresh_database(pg_server_url) as url:
        await upgrade_to_head(url)
        yield url


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltEngine]:
    """The co-pilot engine with the shipped pack (built once: embedding the pack takes seconds)."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("engine"), pack=PackSettings(dir=ROOT), llm=LLMSettings(host="")
    )
    built = build_engine(settings, in_memory=True)
    yield built
    built.close()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("data")
    return Settings(
        data_dir=data_dir, pack=PackSettings(dir=ROOT), llm=LLMSettings(host=""), data=DataSettings(keys=TEST_DATA_KEYS)
    )


@pytest.fixture(scope="session")
async def base_url(settings: Settings, migrated_db_url: str, built: BuiltEngine) -> AsyncIterator[str]:
    async with serving(create_app(settings, database_url=migrated_db_url, copilot=built.copilot)) as url:
        yield url


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """One real llama-server (Gemma 3 270M) for the real-model tests; built on first use on a new machine."""
    with llama_server(log=tmp_path_factory.mktemp("llama") / "server.log") as server:
        yield server
