"""Whatever lands in the environment, settings either load or fail with one readable SettingsError."""

from __future__ import annotations

import os
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from backend.settings import Settings, SettingsError, load_settings

env_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
NAMES = [
    "SUFLER_ENV",
    "SUFLER_SERVER_PORT",
    "SUFLER_DATABASE_URL",
    "SUFLER_DATABASE_POOL_SIZE",
    "SUFLER_AUTH_SESSION_TTL_HOURS",
    "SUFLER_AUTH_SECRET_KEY",
    "SUFLER_LOG_LEVEL",
    "SUFLER_LOG_FORMAT",
]


@given(st.dictionaries(st.sampled_from(NAMES), env_text, max_size=5))
def test_any_environment_loads_or_fails_with_a_settings_error(env: dict[str, str]) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SUFLER_")}
    with mock.patch.dict(os.environ, {**clean, **env}, clear=True):
        try:
            settings = load_settings()
        except SettingsError as exc:
            assert str(exc).startswith("Invalid configuration:")
        else:
            assert isinstance(settings, Settings)
