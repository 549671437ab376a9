"""The web chat widget on its demo page in a real browser: a customer asks, gets an answer, asks for a human,
shares a contact with consent, and a reload brings the conversation back."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.accessibility import check_accessible
from tests.e2e.conftest import SHOTS, SIZES
from tests.socket.conftest import StartBackend


@pytest.mark.parametrize("pg_server_url", ["embedded"], indirect=True)
@pytest.mark.parametrize("size", list(SIZES))
async def test_a_customer_chats_on_the_demo_page(start_backend: StartBackend, browser: Browser, size: str) -> None:
    async with start_backend() as backend, backend.cockpit() as cockpit:
        page = await browser.new_page(viewport=SIZES[size])  # type: ignore[arg-type]
        await page.goto(backend.url + "/bots/web/demo")
        await expect(page.get_by_role("button", name="Czat z salonem")).to_be_visible()
        await check_accessible(page, "widget closed")
        await page.get_by_role("button", name="Czat z salonem").click()
        chat = page.get_by_role("dialog", name="Asystent salonu")
        await expect(chat.get_by_text("Dzień dobry! Jestem asystentem salonu.", exact=False)).to_be_visible()
        box = chat.get_by_role("textbox", name="Napisz wiadomość…")
        await expect(box).to_be_focused()
        await check_accessible(page, "widget open")
        await box.fill("Jaki jest zasięg zimą?")
        await box.press("Enter")
        await expect(chat.get_by_text("Advice about", exact=False)).to_be_visible()
        await chat.get_by_role("button", name="Rozmowa z doradcą").last.click()
        await expect(chat.get_by_text("Przekazuję rozmowę doradcy", exact=False).first).to_be_visible()
        lead = await cockpit.next("lead", wait=10)
        assert lead["lead"]["channel"] == "web"

        await expect(chat.get_by_role("textbox", name="Telefon")).to_be_visible()
        await check_accessible(page, "widget contact form")
        await chat.get_by_role("textbox", name="Telefon").fill("+48 600 100 200")
        await chat.get_by_role("textbox", name="Imię").fill("Ola")
        await chat.get_by_role("button", name="Udostępnij kontakt").click()
        await expect(chat.get_by_text("Zaznacz zgodę", exact=False)).to_be_visible()  # no consent, no contact
        await chat.get_by_role("checkbox").check()
        await chat.get_by_role("button", name="Udostępnij kontakt").click()
        await expect(chat.get_by_text("Dziękuję, Ola!", exact=False)).to_be_visible()
        assert await page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"] + 1
        SHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=SHOTS / f"widget-{size}.png")

        await page.reload()  # the conversation comes back, the panel stays open
        chat = page.get_by_role("dialog", name="Asystent salonu")
        await expect(chat.get_by_text("Jaki jest zasięg zimą?", exact=True)).to_be_visible()
        await expect(chat.get_by_text("Dziękuję, Ola!", exact=False)).to_be_visible()
        await page.close()
