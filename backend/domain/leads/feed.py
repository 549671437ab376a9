"""Leads from the bots, live in every cockpit: the outbox is published through PostgreSQL NOTIFY, so cockpits
connected to any backend process see each new lead; and exactly one salesperson can claim it.

Publishing takes undelivered outbox rows with ``FOR UPDATE SKIP LOCKED`` (one process per row), notifies and
marks them delivered in one transaction: a crash before the commit leaves them to be published again (at the
next poke, poll or start), and cockpits ignore a lead they already show (at least once, shown once).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import func, select, update

from backend import metrics
from backend.crypto import DataCipher
from backend.db import Database
from backend.db.models import ClientSession, Lead, LeadStatus, OutboxMessage
from backend.db.notifications import listen, notify
from backend.domain.audit import add_entry
from backend.domain.clients import ClientService
from backend.domain.integrations.webhooks import lead_event
from backend.domain.protocol import cockpit as p
from backend.errors import Conflict, NotFound

__all__ = ("LeadFeed", "lead_card")

log = structlog.get_logger(__name__)

CHANNEL = "sufler_leads"
POLL_SECONDS = 2.0  # a lead stored by a process that died before publishing is published by the next poll


def lead_card(lead: Lead, cipher: DataCipher) -> p.LeadCard:
    """What the inbox shows of a lead."""
    data = lead.data or {}
    said = [t["text"] for t in lead.transcript if t.get("from") == "customer" and t.get("kind") == "text"]
    return p.LeadCard(
        id=lead.id,
        channel=lead.channel,
        name=data.get("name") or "",
        contact=cipher.decrypt(data.get("contact")) or "",
        archetype=data.get("archetype") or "",
        reason=data.get("handover_reason") or "",
        last_message=said[-1] if said else "",
        status=lead.status.value,
        created_at=lead.created_at.isoformat() if lead.created_at else None,
    )


class LeadFeed:
    def __init__(
        self,
        db: Database,
        clients: ClientService,
        *,
        broadcast: Callable[[p.Event], None],
        customer_chat: Callable[[int, str, str, str], None],
    ) -> None:
        self.db = db
        self.clients = clients  # a claimed lead becomes a client file (its contact encrypted as every client's)
        self.broadcast = broadcast  # lead and lead_claimed events, to every cockpit of this process
        self.customer_chat = customer_chat  # (client_id, speaker, text, action): a line of a customer's chat
        self._poke = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(listen(self.db.url, CHANNEL, self._notified)),
            asyncio.create_task(self._publish_loop()),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def poke(self) -> None:
        """Something new is in the outbox: publish now rather than at the next poll."""
        self._poke.set()

    # ---- publishing ----------------------------------------------------------------------------------------

    async def _publish_loop(self) -> None:
        while True:
            try:
                await self.publish_pending()
            except Exception:  # the database may be restarting; the next round retries
                log.warning("lead_publish_failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), POLL_SECONDS)
            self._poke.clear()

    async def publish_pending(self) -> int:
        async with self.db.transaction() as session:
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.topic == "lead")
                    .order_by(OutboxMessage.id)
                    .limit(50)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                message = json.dumps({"event": "lead", **row.payload})
                await notify(session, CHANNEL, message)
                row.delivered_at = datetime.now(UTC)
        return len(rows)

    # ---- receiving (every process) -------------------------------------------------------------------------

    async def relay_chat(self, channel: str, external_id: str, lines: list[dict[str, str]]) -> None:
        """New lines of a bot conversation, to the live sessions of the client its lead became (any process)."""
        async with self.db.transaction() as session:
            client_id = await session.scalar(
                select(Lead.client_id).where(Lead.channel == channel, Lead.external_conversation_id == external_id)
            )
            if client_id is None:
                return  # not claimed yet: nobody to show it to
            for line in lines:  # one NOTIFY per line, its text clipped by bytes: PostgreSQL refuses 8,000 or more
                clipped = _clip(line["text"])
                message = json.dumps(
                    {"event": "chat", "client_id": client_id, **line, "text": clipped}, ensure_ascii=False
                )
                await notify(session, CHANNEL, message)

    def _notified(self, payload: str) -> None:
        message = json.loads(payload)
        if message.get("event") == "chat":
            action = message.get("action", "said")
            self.customer_chat(int(message["client_id"]), message["speaker"], message["text"], action)
        elif message.get("event") == "lead_claimed":
            self.broadcast(p.LeadClaimed(lead_id=message["lead_id"], by=message["by"]))
        else:
            asyncio.ensure_future(self._announce(int(message["lead_id"])))  # noqa: RUF006 - short-lived

    async def _announce(self, lead_id: int) -> None:
        async with self.db.sessions() as session:
            lead = await session.get(Lead, lead_id)
        if lead is not None and lead.status is LeadStatus.NEW:
            self.broadcast(p.LeadEvent(lead=lead_card(lead, self.clients.cipher)))

    async def conversation_of(self, client_id: int) -> tuple[str, str]:
        """(channel, external conversation id) of the lead this client file was made from."""
        async with self.db.sessions() as session:
            lead = await session.scalar(select(Lead).where(Lead.client_id == client_id))
        if lead is None:
            raise NotFound("This client did not come from a bot; there is no chat to reply to.")
        return lead.channel, lead.external_conversation_id

    # ---- the inbox -----------------------------------------------------------------------------------------

    async def open_leads(self) -> list[p.LeadCard]:
        async with self.db.sessions() as session:
            leads = (
                await session.scalars(
                    select(Lead).where(Lead.status == LeadStatus.NEW).order_by(Lead.id.desc()).limit(50)
                )
            ).all()
        return [lead_card(lead, self.clients.cipher) for lead in leads]

    async def claim(self, lead_id: int, user_id: int, username: str) -> int:
        """Claim a lead for this salesperson: exactly one claim wins. Returns the new session's id, which starts
        a client file seeded with what the bot learned (key facts, transcript as the summary)."""
        async with self.db.transaction() as session:
            lead = await session.scalar(
                update(Lead)
                .where(Lead.id == lead_id, Lead.status == LeadStatus.NEW)
                .values(status=LeadStatus.CLAIMED, assigned_user_id=user_id, claimed_at=func.now())
                .returning(Lead)
            )
            if lead is None:
                exists = await session.get(Lead, lead_id)
                raise Conflict("Another salesperson has already taken this lead.") if exists else NotFound()
            data = lead.data or {}
            client = self.clients.new(
                # not the conversation id: for the web widget, that is the customer's key to the chat
                data.get("name") or f"{lead.channel} lead #{lead.id}",
                self.clients.cipher.decrypt(data.get("contact")),
                user_id,
                data.get("archetype"),
            )
            session.add(client)
            await session.flush()
            lead.client_id = client.id
            facts = lead_facts(lead.channel, data)
            said = _SUMMARY["en" if data.get("language") == "en" else "pl"]["api" if data.get("external_id") else "bot"]
            transcript = " / ".join(f"{t['from']}: {t['text']}" for t in lead.transcript if t.get("kind") == "text")
            seeded = ClientSession(
                client_id=client.id, user_id=user_id, key_facts=facts, summary=f"{said}: {transcript}"[:2000]
            )
            session.add(seeded)
            await session.flush()
            add_entry(session, user_id, "lead_claimed", f"lead {lead_id}", client_id=client.id)
            metrics.LEADS_CLAIMED.labels(lead.channel).inc()
            waited = ((lead.claimed_at or datetime.now(UTC)) - lead.created_at).total_seconds()
            metrics.LEAD_CLAIM_SECONDS.labels(lead.channel).observe(max(0.0, waited))
            message = json.dumps({"event": "lead_claimed", "lead_id": lead_id, "by": username})
            await notify(session, CHANNEL, message)
            await self.announce(session, "lead.claimed", lead, claimed_by=username)
            await self.clients.announce(session, "client.created", client)
        self.clients.poke()
        return seeded.id

    async def announce(self, session: Any, event_type: str, lead: Lead, **more: Any) -> None:
        """A lead event for the CRM, in the caller's transaction (the sender is poked after the commit)."""
        webhooks = self.clients.webhooks
        if webhooks is not None:
            await webhooks.announce(session, event_type, *lead_event(lead, self.clients.cipher, **more))

    async def close_lead_of(self, client_id: int) -> None:
        """The salesperson ended the conversation with a client who came as a lead: the lead is closed."""
        async with self.db.transaction() as session:
            lead = await session.scalar(
                update(Lead)
                .where(Lead.client_id == client_id, Lead.status == LeadStatus.CLAIMED)
                .values(status=LeadStatus.CLOSED)
                .returning(Lead)
            )
            if lead is not None:
                await self.announce(session, "lead.closed", lead)
        self.clients.poke()


# The seeded session's summary: where the words came from (a bot chat, or a CRM / web form through the API).
_SUMMARY = {
    "pl": {"bot": "Czat z botem", "api": "Zgłoszenie przez API"},
    "en": {"bot": "Chat with the bot", "api": "Sent in through the API"},
}

# What the bot's hand-over says, as key facts in the customer's language (the salesperson may correct them).
_LEAD_FACTS = {
    "pl": {
        "source": "Źródło: {channel}, rozmowa z botem",
        "source_api": "Źródło: {channel}, zgłoszenie przez API (CRM lub formularz)",
        "source_web": "Źródło: widżet na stronie, rozmowa z botem",
        "contact": "Kontakt: podany (w karcie klienta)",
        "asked_for_human": "Powód przekazania: prosi o rozmowę z doradcą",
        "asked_for_contact": "Powód przekazania: prosi o kontakt",
        "contact_shared": "Powód przekazania: zostawił kontakt",
        "high_intent": "Powód przekazania: wygląda na gotowego do zakupu",
        "cannot_help": "Powód przekazania: bot nie znał odpowiedzi",
        "unsupported_claim": "Powód przekazania: pytanie, na które baza wiedzy nie odpowiada",
    },
    "en": {
        "source": "Source: {channel}, chat with the bot",
        "source_api": "Source: {channel}, sent in through the API (a CRM or a form)",
        "source_web": "Source: the website widget, chat with the bot",
        "contact": "Contact: shared (in the client file)",
        "asked_for_human": "Handed over because: asks for a salesperson",
        "asked_for_contact": "Handed over because: asks to be contacted",
        "contact_shared": "Handed over because: left a contact",
        "high_intent": "Handed over because: looks ready to buy",
        "cannot_help": "Handed over because: the bot did not know the answer",
        "unsupported_claim": "Handed over because: a question the knowledge base does not answer",
    },
}


def lead_facts(channel: str, data: dict[str, Any]) -> list[str]:
    """The key facts a claimed lead starts with: where it came from, why, and that there is a contact (not the
    contact itself: it is in the client file, encrypted). In the customer's language."""
    words = _LEAD_FACTS["en" if data.get("language") == "en" else "pl"]
    source = words["source_api"] if data.get("external_id") else words.get(f"source_{channel}", words["source"])
    facts = [source.format(channel=channel.capitalize())]
    if data.get("contact"):
        facts.append(words["contact"])
    if data.get("handover_reason") in words:
        facts.append(words[data["handover_reason"]])
    return facts


NOTIFY_TEXT_BYTES = 6000  # of a NOTIFY payload's 7,999 bytes, what a chat line's text may take (UTF-8)


def _clip(text: str) -> str:
    """The text, or as much of it as fits in NOTIFY_TEXT_BYTES with "…" after it (never half a character)."""
    data = text.encode()
    if len(data) <= NOTIFY_TEXT_BYTES:
        return text
    return data[: NOTIFY_TEXT_BYTES - 3].decode("utf-8", "ignore") + "…"
