"""A sales lead edits a scoring-rule file in the cockpit and restores the earlier version (on a copy of the pack)."""

from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from backend.db.models import Role
from backend.domain.accounts import AccountService
from backend.settings import Settings
from tests.conftest import ROOT
from tests.e2e.conftest import SHOTS, SIZES, cockpit_ui
from tests.e2e.test_cockpit_browser import log_in
from tests.socket.conftest import PASSWORD, StartBackend


@pytest.mark.parametrize("pg_server_url", ["embedded"], indirect=True)
async def test_a_lead_edits_a_rule_file_and_restores_it(
    pg_server_url: str, start_backend: StartBackend, settings: Settings, browser: Browser, tmp_path: Path
) -> None:
    pack = tmp_path / "pack"
    for folder in ("archetypes", "knowledge", "scoring_rules"):
        shutil.copytree(ROOT / folder, pack / folder)
    with cockpit_ui(settings, tmp_path / "ui") as ui:
        async with start_backend(port=ui.backend_port, pack_dir=pack) as backend:
            await asyncio.to_thread(ui.process.wait_ready)
            lead = f"lead-{uuid.uuid4().hex[:6]}"
            await AccountService.from_settings(backend.db, settings).create_user(lead, PASSWORD, Role.LEAD)
            page = await browser.new_page(viewport=SIZES["phone"])  # type: ignore[arg-type]
            await log_in(page, ui.url, lead)
            await page.get_by_role("button", name=re.compile("^(Przegląd|Review)$")).click()
            await page.get_by_role("tab", name=re.compile("Archetypy|Archetypes")).click()
            editor = page.get_by_label("pack file text")
            await expect(editor).not_to_be_empty(timeout=10_000)
            name = await page.get_by_role("tabpanel").get_by_role("combobox").inner_text()
            on_disk = pack / "scoring_rules" / name.strip()
            original = on_disk.read_text(encoding="utf-8")
            assert await editor.input_value() == original

            await editor.fill(original + "\n# Checked with the team on Monday.\n")
            save = page.get_by_role("button", name=re.compile("Sprawdź i zapisz|Check and save"))
            await save.click()
            # Cue words feed the keyword index built at start; rules files apply at once.
            await expect(page.get_by_text(re.compile("^(Zapisano|Saved)"))).to_be_visible(timeout=10_000)
            assert on_disk.read_text(encoding="utf-8").endswith("# Checked with the team on Monday.\n")
            versions = page.locator(".pack-version")
            await expect(versions).to_have_count(1)
            await page.screenshot(path=str(SHOTS / "pack-editor-phone.png"))

            await versions.first.get_by_role("button", name=re.compile("Wczytaj|Load")).click()
            await expect(editor).to_have_value(original, timeout=10_000)
            await save.click()  # restoring is saving the earlier text: checked and audited like any save
            await expect(versions).to_have_count(2, timeout=10_000)
            assert on_disk.read_text(encoding="utf-8") == original
