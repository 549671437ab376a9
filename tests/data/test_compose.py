"""compose.yaml is configured through real settings and every long-running service has a healthcheck."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic_settings import BaseSettings

from backend.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def setting_names(model: type[BaseSettings] = Settings) -> set[str]:
    """Every environment variable the settings read: SUFLER_<FIELD> and SUFLER_<AREA>_<FIELD>."""
    prefix = str(model.model_config.get("env_prefix", ""))
    names = set()
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseSettings):
            names |= setting_names(kind)
        else:
            names.add(f"{prefix}{name}".upper())
    return names


def test_setting_names_cover_the_documented_ones() -> None:
    names = setting_names()
    assert {"SUFLER_ENV", "SUFLER_DATABASE_URL", "SUFLER_AUTH_SECRET_KEY", "SUFLER_SERVER_PORT"} <= names


def test_every_sufler_variable_in_compose_is_a_real_setting() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    known = setting_names()
    used = set()
    for name, service in compose["services"].items():
        env = service.get("environment", {})
        assert isinstance(env, dict), f"{name}: use the mapping form for environment"
        for key in env:
            if key.startswith("SUFLER_"):
                assert key in known, f"service {name} sets {key}, which is not a setting"
                used.add(key)
    assert "SUFLER_DATABASE_URL" in used and "SUFLER_AUTH_SECRET_KEY" in used


def test_services_and_healthchecks() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert {"postgres", "qdrant", "ollama", "backend", "cockpit"} <= set(services)
    for name, service in services.items():
        if service.get("restart") != "no":  # one-shot jobs (migrate) need no healthcheck
            assert "healthcheck" in service, f"{name} has no healthcheck"


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in setting_names() if f"`{name}`" not in readme)
    assert not missing, f"README's configuration table lacks {missing}"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in readme and "scripts/test" in ci
