"""Configuration: embedded-mode defaults, and clear refusals for settings that cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.crypto import new_key
from backend.settings import Settings, SettingsError, load_settings

GOOD_SECRET = "s" * 40
PG = "postgresql+asyncpg://sufler@db:5432/sufler"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("SUFLER_"):
            monkeypatch.delenv(name)


def test_defaults_serve_the_embedded_mode() -> None:
    settings = load_settings()
    assert settings.database.url is None  # start an embedded PostgreSQL
    assert settings.server.host == "127.0.0.1"
    assert not settings.production


def test_environment_variables_are_read_per_concern(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUFLER_DATABASE_URL", PG)
    monkeypatch.setenv("SUFLER_SERVER_PORT", "9100")
    monkeypatch.setenv("SUFLER_AUTH_SESSION_TTL_HOURS", "2")
    settings = load_settings()
    assert settings.database.url == PG
    assert settings.server.port == 9100
    assert settings.auth.session_ttl_hours == 2


def test_production_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUFLER_ENV", "production")
    monkeypatch.setenv("SUFLER_DATABASE_URL", PG)
    with pytest.raises(SettingsError, match="SUFLER_AUTH_SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("SUFLER_AUTH_SECRET_KEY", "too-short")
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings()
    monkeypatch.setenv("SUFLER_AUTH_SECRET_KEY", GOOD_SECRET)
    with pytest.raises(SettingsError, match="SUFLER_DATA_KEYS must be set in production"):
        load_settings()
    monkeypatch.setenv("SUFLER_DATA_KEYS", f"k1:{new_key()}")
    with pytest.raises(SettingsError, match="SUFLER_METRICS_TOKEN must be set in production"):
        load_settings()
    monkeypatch.setenv("SUFLER_METRICS_TOKEN", "scrape-token")
    assert load_settings().production


def test_production_needs_a_real_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUFLER_ENV", "production")
    monkeypatch.setenv("SUFLER_AUTH_SECRET_KEY", GOOD_SECRET)
    with pytest.raises(SettingsError, match="SUFLER_DATABASE_URL"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SUFLER_DATABASE_URL", "postgresql://x@y/z", "postgresql\\+asyncpg"),
        ("SUFLER_SERVER_PORT", "eighty", "port"),
        ("SUFLER_SERVER_PORT", "70000", "port"),
        ("SUFLER_ENV", "staging", "env"),
        ("SUFLER_LOG_LEVEL", "LOUD", "level"),
    ],
)
def test_invalid_values_name_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = settings.secret_key()
    assert len(first) >= 32
    assert Settings(data_dir=tmp_path / "data").secret_key() == first
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0
