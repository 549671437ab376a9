"""The browser tests drive the same backend fixture as the socket tests, in Debian's Chromium via Playwright."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from backend.runtime import CockpitProcess, cockpit
from backend.settings import CockpitSettings, ServerSettings, Settings
from tests.helpers import restartable_port
from tests.socket.conftest import start_backend

__all__ = ("SHOTS", "SIZES", "CockpitUI", "browser", "cockpit_ui", "start_backend")

SHOTS = Path(__file__).parent / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1440, "height": 900}}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        await launched.close()


@dataclass(frozen=True)
class CockpitUI:
    process: CockpitProcess
    url: str  # the page
    backend_port: int  # where the cockpit expects the backend: start it there, then wait for process.wait_ready


@contextmanager
def cockpit_ui(settings: Settings, data_dir: Path) -> Iterator[CockpitUI]:
    """The production-built cockpit on its own port, pointed at a backend port the test starts (and restarts)."""
    backend_port, cockpit_port = restartable_port(), restartable_port()
    ui_settings = settings.model_copy(
        update={
            "cockpit": CockpitSettings(port=cockpit_port),
            "server": ServerSettings(host="127.0.0.1", port=backend_port),
            "data_dir": data_dir,
        }
    )
    with cockpit(ui_settings, f"http://127.0.0.1:{backend_port}") as process:
        assert process is not None
        yield CockpitUI(process, f"http://127.0.0.1:{cockpit_port}/", backend_port)
