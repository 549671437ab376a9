"""The locks scripts/bootstrap installs (requirements/*.lock, hash-checked) pin every dependency pyproject.toml
declares, at a version it allows: a dependency added or narrowed without running scripts/lock fails here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


def pins(lock: Path) -> dict[str, str]:
    return {canonicalize_name(name): version for name, version in PIN.findall(lock.read_text(encoding="utf-8"))}


def declared(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return [Requirement(text) for text in names]


@pytest.mark.parametrize(("lock", "extra"), [("app.lock", None), ("test.lock", "test")])
def test_every_declared_dependency_is_pinned_at_an_allowed_version(lock: str, extra: str | None) -> None:
    pinned = pins(ROOT / "requirements" / lock)
    for requirement in declared(extra):
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra or ""}):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not in requirements/{lock}: run scripts/lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"requirements/{lock} pins {name}=={pinned[name]}, pyproject.toml wants {requirement}: run scripts/lock"
        )


def test_every_pin_carries_a_hash() -> None:
    for lock in (ROOT / "requirements").glob("*.lock"):
        entries = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text(encoding="utf-8"))
        missing = [e.split("==")[0] for e in entries if "==" in e and "--hash=sha256:" not in e]
        assert not missing, f"{lock.name}: no hash for {missing}"
