"""An admin connects a CRM in the cockpit: adds the receiver (its signing secret shown once), sees the delivery log
fill as client files are made, and sends a delivery again; at a phone's and a laptop's size, in Polish, axe clean."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from backend.db.models import Role
from backend.domain.accounts import AccountService
from backend.settings import Settings
from tests.e2e.accessibility import check_accessible
from tests.e2e.conftest import SHOTS, SIZES, cockpit_ui
from tests.e2e.test_cockpit_browser import log_in, no_horizontal_scroll
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.helpers import serving
from tests.socket.conftest import PASSWORD, StartBackend


async def until(condition: object, within: float = 15.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # type: ignore[operator]  # noqa: ASYNC110 - polling the receiver
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("pg_server_url", ["embedded"], indirect=True)
@pytest.mark.parametrize("size", ["phone", "laptop"])
async def test_an_admin_connects_a_crm_and_replays_a_delivery(
    pg_server_url: str, start_backend: StartBackend, settings: Settings, browser: Browser, tmp_path: Path, size: str
) -> None:
    receiver = WebhookReceiver()
    async with serving(receiver) as receiver_url:
        receiver.url = receiver_url + "/hooks/sufler"
        with cockpit_ui(settings, tmp_path / "ui") as ui:
            async with start_backend(port=ui.backend_port) as backend:
                await asyncio.to_thread(ui.process.wait_ready)
                admin = f"admin-{uuid.uuid4().hex[:6]}"
                await AccountService.from_settings(backend.db, settings).create_user(admin, PASSWORD, Role.ADMIN)
                page = await browser.new_page(viewport=SIZES[size])  # type: ignore[arg-type]
                await log_in(page, ui.url, admin)
                await page.get_by_role("button", name=re.compile("^(Przegląd|Review)$")).click()
                tab = page.get_by_role("tab", name="Integracje")
                await tab.click()
                await page.get_by_label("Adres CRM (URL)").fill(receiver.url)
                await page.get_by_role("combobox", name="Events").click()
                await page.get_by_role("option", name="tylko kartoteki klientów").click()
                await page.get_by_role("combobox", name="Personal data (name, contact, chat text)").click()
                await page.get_by_role("option", name="z danymi osobowymi").click()
                await page.get_by_role("button", name="Dodaj odbiorcę").click()
                secret = page.locator("code").filter(has_text="whsec_")
                await expect(secret).to_be_in_viewport(timeout=10_000)
                receiver.secret = (await secret.inner_text()).strip()
                endpoint = page.locator(".webhook-endpoint").filter(has_text=receiver.url)  # the DB holds earlier ones
                await expect(endpoint).to_contain_text("z danymi osobowymi")
                await expect(endpoint).to_contain_text("klient: nowa kartoteka, klient: zmiana, klient: w archiwum")

                async with backend.http() as http:  # a salesperson makes a client file: client.created
                    made = await http.post(
                        "/clients/", json={"name": "Ola Zielińska", "contact_info": "+48 600 111 222"}
                    )
                    assert made.status_code == 201
                await until(lambda: len(receiver.events) == 1)
                assert receiver.events[0]["data"]["name"] == "Ola Zielińska"  # personal data: enabled here

                await endpoint.get_by_role("button", name="Pokaż dziennik").click()
                row = page.locator(".webhook-delivery").first
                await expect(row).to_contain_text("klient: nowa kartoteka", timeout=10_000)
                await expect(row).to_contain_text("doręczono")
                replay = row.get_by_role("button", name="Wyślij ponownie")
                await replay.scroll_into_view_if_needed()
                await expect(replay).to_be_in_viewport()
                await replay.click()
                await expect(page.get_by_text("Wysyłka ponowiona")).to_be_visible(timeout=10_000)
                await until(lambda: receiver.redeliveries == [receiver.events[0]["id"]])  # the same id again
                assert await page.evaluate("document.documentElement.lang") == "pl"
                await no_horizontal_scroll(page)
                await check_accessible(page, f"integrations-{size}")
                await page.screenshot(path=str(SHOTS / f"integrations-{size}.png"), full_page=True)
                await page.close()
