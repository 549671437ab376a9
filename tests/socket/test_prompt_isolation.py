"""What reaches the LLM: one salesperson's prompts never carry another salesperson's clients, and the knowledge
retrieved into prompts holds no personal data."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from backend.db.models import Role
from backend.domain.accounts import AccountService
from backend.redaction import EMAIL, PHONE
from backend.settings import Settings
from tests.cockpit_client import cockpit
from tests.socket.conftest import PASSWORD, Backend

ROOT = Path(__file__).resolve().parents[2]


async def test_a_salespersons_prompts_never_carry_another_salespersons_client(
    backend: Backend, settings: Settings
) -> None:
    other = f"sp-{uuid.uuid4().hex[:8]}"
    accounts = AccountService.from_settings(backend.db, settings)
    await accounts.create_user(other, PASSWORD, Role.SALESPERSON)
    other_token = (await accounts.login(other, PASSWORD)).token
    secret = ("Zenon Wiśniewski", "zenon.w@example.com", "601 222 333", "budżet 777 tysięcy")
    async with cockpit(backend.url, other_token) as c:
        await c.open_new_client(secret[0], secret[1])
        await c.observe(f"{secret[0]} podał numer {secret[2]}, {secret[3]}, pyta o leasing")
        await c.next("moves")
        await c.send({"v": 1, "type": "strategy"})
        await c.next("strategy")
    seen_before = len(backend.fake.requests)
    assert "777" in json.dumps(backend.fake.requests, ensure_ascii=False)  # it did reach that salesperson's prompts

    async with backend.cockpit() as c:  # another salesperson, a client of their own, every kind of LLM call
        await c.open_new_client("Adam Nowak")
        await c.observe("Pyta o leasing na firmę")
        await c.next("moves")
        await c.send({"v": 1, "type": "advisor", "client_message_id": "adv-1", "text": "Co dalej?"})
        await c.next("advisor_done")
        await c.send({"v": 1, "type": "strategy"})
        await c.next("strategy")
    prompts = json.dumps(backend.fake.requests[seen_before:], ensure_ascii=False)
    assert "Pyta o leasing na firmę" in prompts and "Co dalej?" in prompts  # these are the right prompts
    for value in (*secret, "Zenon", "777"):
        assert value not in prompts


def test_the_knowledge_retrieved_into_prompts_holds_no_personal_data() -> None:
    for path in sorted((ROOT / "knowledge").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        assert not EMAIL.search(text), path.name
        assert not PHONE.search(text), path.name
