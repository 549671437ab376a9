"""The glance: a ten-note Polish conversation at 390x844 and 1440x900, and after every Enter the leader, the five
indicators and the four moves' texts are inside the viewport (not under the pinned note field) without
scrolling — with an LLM answering (the fake model server) and without one (moves from the playbook)."""

from __future__ import annotations

import asyncio
import re
import statistics
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from backend.settings import Settings
from tests.e2e.accessibility import check_accessible
from tests.e2e.conftest import SHOTS, SIZES, cockpit_ui
from tests.e2e.glance import CONVERSATION, observe_and_glance
from tests.e2e.test_cockpit_browser import log_in, no_horizontal_scroll, username_of
from tests.socket.conftest import StartBackend


@pytest.mark.parametrize("pg_server_url", ["embedded"], indirect=True)  # one cockpit build is enough
async def test_after_every_enter_the_glance_is_in_view_at_both_sizes(
    pg_server_url: str, start_backend: StartBackend, settings: Settings, browser: Browser, tmp_path: Path
) -> None:
    with cockpit_ui(settings, tmp_path) as ui:
        for llm in ("fake model server", "no LLM"):
            options = {"llm_host": ""} if llm == "no LLM" else {}
            async with start_backend(port=ui.backend_port, **options) as backend:
                await asyncio.to_thread(ui.process.wait_ready)
                username = await username_of(backend)
                for size in ("phone", "laptop"):
                    page = await browser.new_page(viewport=SIZES[size])  # type: ignore[arg-type]
                    await log_in(page, ui.url, username)
                    await page.get_by_placeholder(re.compile("Imię|Name")).fill(f"Glance {size} {llm}")
                    await page.get_by_role("button", name=re.compile("Nowy klient|New client")).click()
                    await expect(page.locator("#observation")).to_be_focused(timeout=10_000)
                    try:
                        times = [await observe_and_glance(page, note) for note in CONVERSATION]
                    except Exception:
                        await page.screenshot(path=str(SHOTS / f"glance-failed-{size}.png"))  # what was in view
                        raise
                    assert await page.evaluate("window.scrollY") == 0  # nothing needed a scroll
                    assert await page.evaluate("document.documentElement.lang") == "pl"
                    await check_accessible(page, f"cockpit after ten notes, {llm}")
                    await no_horizontal_scroll(page)
                    print(
                        f"\n{size}, {llm}: Enter -> leader, indicators and moves in view: "
                        f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms"
                    )
                    await page.screenshot(path=str(SHOTS / f"glance-{size}{'-degraded' if options else ''}.png"))
                    await page.close()
