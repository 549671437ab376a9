"""The review's Operations tab reads the database: a salesperson's observations (LLM through the fake model
server), a Telegram lead claimed, and the LLM call log show up in today's row; on a quiet day of its own, seeded
rows give exactly the counts, medians and shares expected."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from backend.db.models import BotConversation, Client, ClientSession, Interaction, Lead, LeadStatus, LLMCall, User
from backend.domain.operations.daily import OperationsReport
from backend.settings import Settings, TelegramSettings
from tests.fakes.telegram import FakeTelegram
from tests.socket.conftest import StartBackend
from tests.socket.test_leads import claimed_telegram_lead
from tests.socket.test_review import lead_token
from tests.socket.test_telegram_bot import SECRET


async def test_today_shows_the_conversations_llm_calls_and_the_claimed_lead(
    start_backend: StartBackend, telegram: FakeTelegram, settings: Settings
) -> None:
    bot = TelegramSettings(bot_token=SecretStr(telegram.token), webhook_secret=SecretStr(SECRET), api_base=telegram.url)
    async with start_backend(telegram=bot) as backend:
        async with backend.http() as http:
            before = (await http.get("/review/operations")).status_code
        assert before == 403  # a salesperson does not see the team's operations
        token = await lead_token(backend, settings)
        async with httpx.AsyncClient(base_url=backend.url, headers={"Authorization": f"Bearer {token}"}) as lead:
            start = (await lead.get("/review/operations", params={"days": 1})).json()["total"]
            async with backend.cockpit() as cockpit:
                await cockpit.open_new_client("Anna Nowak")
                await cockpit.observe("Klient pyta o leasing na firmę")
                await cockpit.next("moves", interaction_id=(await cockpit.next("ack"))["interaction_id"])
                await claimed_telegram_lead(backend, cockpit)
            await backend.services.call_log.flush()
            report = (await lead.get("/review/operations", params={"days": 1})).json()
            assert (await lead.get("/review/operations", params={"days": 0})).status_code == 400
    assert [d["day"] for d in report["days"]] == [datetime.now(UTC).date().isoformat()]
    today, total = report["days"][0], report["total"]
    assert today == {"day": today["day"], **total}
    # Counted since the start (other tests share the database): at least what this test did.
    assert total["dialogs"]["cockpit"] >= start["dialogs"].get("cockpit", 0) + 2  # the file and the claimed lead
    assert total["dialogs"]["telegram"] >= start["dialogs"].get("telegram", 0) + 1
    assert total["llm"]["ok"] >= start["llm"]["ok"] + 2  # assessment and moves, from the fake model server
    assert total["llm"]["p50"] is not None and total["llm"]["first_token_p50"] is not None
    assert total["observations"] >= start["observations"] + 1 and total["with_moves"] >= 1
    assert total["leads"]["created"] >= start["leads"]["created"] + 1
    assert total["leads"]["claimed"] >= start["leads"]["claimed"] + 1 and total["leads"]["claim_p50"] is not None


async def test_a_quiet_day_counts_exactly_what_was_stored(start_backend: StartBackend) -> None:
    day = datetime(2001, 3, 14, 9, 0, tzinfo=UTC)  # a day no other test writes to
    async with start_backend() as backend:
        async with backend.db.transaction() as db:
            owner = await db.scalar(select(User.id).where(User.username == backend.username))
            assert owner is not None
            client = Client(name=f"Ops {uuid.uuid4().hex[:6]}", owner_id=owner)
            db.add(client)
            await db.flush()
            session = ClientSession(client_id=client.id, user_id=client.owner_id, started_at=day)
            db.add(session)
            await db.flush()
            for n, mode in enumerate(("llm", "degraded", "degraded", None)):
                response = {"moves": {"mode": mode}} if mode else {}
                db.add(
                    Interaction(
                        session_id=session.id,
                        kind="observation",
                        user_input=f"obserwacja {n}",
                        ai_response=response,
                        created_at=day + timedelta(minutes=n),
                    )
                )
            for channel in ("telegram", "web", "web"):
                db.add(BotConversation(channel=channel, external_id=uuid.uuid4().hex, created_at=day))
            for minutes in (2, 4, 30):  # claimed after 2, 4 and 30 minutes: median 4 min
                db.add(
                    Lead(
                        channel="web",
                        external_conversation_id=uuid.uuid4().hex,
                        status=LeadStatus.CLAIMED,
                        created_at=day,
                        claimed_at=day + timedelta(minutes=minutes),
                    )
                )
            for seconds, outcome in ((1.0, "ok"), (2.0, "ok"), (3.0, "fallback"), (9.0, "unavailable")):
                call = LLMCall(at=day, kind="moves", model="m", outcome=outcome, seconds=seconds)
                call.first_token_seconds, call.prompt_tokens, call.completion_tokens = 0.5, 100, 10
                db.add(call)
        report = await OperationsReport(backend.db).daily(days=3, now=day + timedelta(days=1))
    assert [d["day"] for d in report["days"]] == ["2001-03-15", "2001-03-14", "2001-03-13"]
    quiet = report["days"][0]
    assert quiet["dialogs"] == {} and quiet["llm"]["calls"] == 0 and quiet["degraded_share"] is None
    busy = report["days"][1]
    assert busy["dialogs"] == {"cockpit": 1, "telegram": 1, "web": 2}
    assert busy["llm"] == {
        "calls": 4, "ok": 2, "fallback": 1, "failed": 1, "cancelled": 0,
        "p50": 2.0, "p95": 2.9, "first_token_p50": 0.5, "prompt_tokens": 400, "completion_tokens": 40,
    }  # fmt: skip
    assert (busy["observations"], busy["with_moves"], busy["degraded"], busy["degraded_share"]) == (4, 3, 2, 0.667)
    assert busy["leads"] == {"created": 3, "claimed": 3, "claim_p50": 240.0, "claim_p95": 1644.0}
    assert report["total"] == {k: v for k, v in busy.items() if k != "day"}
