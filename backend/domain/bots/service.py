"""The customer bots, whatever the channel: each customer event is stored before it is acknowledged, then handled
in the background, once.

Handling is idempotent per event (bot_updates.processed_at) and ordered per conversation (a row lock, and an
in-process queue so two messages typed fast are answered in the order they came), so a redelivered event gets no
second reply and events left unprocessed by a crash are handled at the next start. A hand-over stores the lead and
an outbox record in one transaction (delivery to cockpits: at least once). A channel (Telegram, the web widget)
only reads its payloads into a :class:`CustomerEvent` and delivers replies.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from backend.crypto import DataCipher
from backend.db import Database
from backend.db.models import BotConversation, BotUpdate, Lead, OutboxMessage
from backend.domain.bots.dialog import BotReply, BotTurn, Dialog
from backend.domain.engine.engine import guess_language
from backend.domain.sessions.store import chat_line
from backend.errors import ChannelError, InvalidInput, NotFound, ServiceUnavailable

__all__ = ("BotService", "Channel", "ChannelError", "CustomerEvent")

log = structlog.get_logger(__name__)

MAX_TEXT = 4000
CONTACT_SHARED = "📱 [contact shared]"
CHAT_KINDS = ("text", "contact")  # what of a transcript a salesperson reads (not /start, not button codes)


@dataclass(frozen=True)
class CustomerEvent:
    """What a customer did, read from a channel's payload."""

    conversation: str | None  # the channel's conversation id; None: nothing to answer
    kind: str  # start | help | text | contact | callback | other (voice, stickers...) | ignored (edits...)
    text: str = ""
    phone: str = ""
    name: str = ""  # the name given with a shared contact
    sender_name: str = ""  # the name the channel knows the customer by
    language: str = ""  # the customer's language when the channel knows it


class Channel(Protocol):
    name: str

    def read(self, payload: dict[str, Any]) -> CustomerEvent: ...

    async def send(self, conversation: str, replies: list[BotReply], sender: str = "bot") -> None:
        """Deliver replies; ``sender`` is "bot" or "salesperson". Raises :class:`ChannelError`."""

    async def typing(self, conversation: str) -> None: ...

    async def close(self) -> None: ...


class BotService:
    def __init__(
        self,
        db: Database,
        dialog: Dialog,
        channels: list[Channel],
        cipher: DataCipher,
        *,
        on_lead: Callable[[], None],
        on_chat: Callable[[str, str, list[dict[str, str]]], Coroutine[Any, Any, None]],
    ) -> None:
        self.db = db
        self.cipher = cipher  # contacts are kept encrypted (collected data, leads) and masked in transcripts
        self.dialog = dialog
        self.channels = {channel.name: channel for channel in channels}
        self.on_lead = on_lead  # a lead is in the outbox: publish it now
        # (channel, conversation, new lines) of a conversation that became a lead: for the salesperson's cockpit
        self.on_chat = on_chat
        self._tasks: set[asyncio.Task[None]] = set()
        self._order: dict[tuple[str, str], asyncio.Lock] = {}

    def channel(self, name: str) -> Channel:
        channel = self.channels.get(name)
        if channel is None:
            raise InvalidInput(f"The {name} channel is not configured.")
        return channel

    async def receive(self, channel: str, event_id: str, payload: dict[str, Any]) -> bool:
        """Store the event (committed) and schedule its handling; False when it was delivered before."""
        async with self.db.transaction() as session:
            stored = await session.scalar(
                insert(BotUpdate)
                .values(channel=channel, event_id=event_id, payload=payload)
                .on_conflict_do_nothing()
                .returning(BotUpdate.event_id)
            )
        if stored is not None:
            self.schedule(channel, event_id, payload)
        return stored is not None

    def schedule(self, channel: str, event_id: str, payload: dict[str, Any]) -> None:
        key = (channel, self.channel(channel).read(payload).conversation or "")
        lock = self._order.setdefault(key, asyncio.Lock())
        self._spawn(self._in_order(key, lock, self.process(channel, event_id)))

    async def _in_order(self, key: tuple[str, str], lock: asyncio.Lock, work: Coroutine[Any, Any, None]) -> None:
        # Tasks start in the order they were created and asyncio.Lock is first come, first served.
        async with lock:
            await work
        if not lock.locked() and self._order.get(key) is lock:
            del self._order[key]

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def resume_unprocessed(self) -> int:
        """Handle the events a crash left stored but unprocessed (called at start-up)."""
        async with self.db.sessions() as session:
            rows = (
                await session.execute(
                    select(BotUpdate.channel, BotUpdate.event_id, BotUpdate.payload)
                    .where(BotUpdate.processed_at.is_(None), BotUpdate.channel.in_(list(self.channels)))
                    .order_by(BotUpdate.received_at)
                )
            ).all()
        for channel, event_id, payload in rows:
            self.schedule(channel, event_id, payload)
        return len(rows)

    async def idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.idle()
        for channel in self.channels.values():
            await channel.close()

    # ---- handling one event -------------------------------------------------------------------------------

    async def process(self, channel: str, event_id: str) -> None:
        try:
            await self._process(self.channel(channel), event_id)
        except Exception:
            log.exception("bot_event_failed", channel=channel, event_id=event_id)  # unprocessed: retried at start

    async def _process(self, channel: Channel, event_id: str) -> None:
        async with self.db.transaction() as session:
            row = await session.get(BotUpdate, (channel.name, event_id), with_for_update=True)
            if row is None or row.processed_at is not None:
                return
            event = channel.read(row.payload)
            if event.conversation is None:
                row.processed_at = datetime.now(UTC)
                return
            convo = await self._conversation(session, channel.name, event.conversation)
            if event.kind == "text" and not convo.human_active:
                self._spawn(_quietly(channel.typing(event.conversation)))  # "typing..." while it thinks
            said_before = len(convo.transcript)
            turn = await self._decide(convo, event)
            new_lines = [
                chat_line(t["from"], t["text"]) for t in convo.transcript[said_before:] if t["kind"] in CHAT_KINDS
            ]
            relay = convo.lead_id is not None and new_lines
            handed_over = turn is not None and turn.handover is not None
            if handed_over:
                await self._hand_over(session, convo, turn)  # type: ignore[arg-type]
            row.processed_at = datetime.now(UTC)
            if event.kind == "contact":  # the phone number lives on encrypted in the collected data only
                row.payload = {"contact_removed": True}
        if handed_over:
            self.on_lead()
        if relay:
            self._spawn(self.on_chat(channel.name, event.conversation, new_lines))
        # Replies go out after the commit: a crash before this point leaves the event to be processed again.
        if turn is not None:
            try:
                await channel.send(event.conversation, turn.replies)
            except ChannelError as exc:
                log.warning("bot_reply_failed", channel=channel.name, reason=str(exc))

    async def _conversation(self, session: Any, channel: str, external_id: str) -> BotConversation:
        await session.execute(
            insert(BotConversation).values(channel=channel, external_id=external_id).on_conflict_do_nothing()
        )
        convo: BotConversation = await session.scalar(
            select(BotConversation)
            .where(BotConversation.channel == channel, BotConversation.external_id == external_id)
            .with_for_update()
        )
        return convo

    async def _decide(self, convo: BotConversation, event: CustomerEvent) -> BotTurn | None:
        collected = dict(convo.collected)
        language = collected.get("language") or _language(event)
        collected["language"] = language
        if event.sender_name and "name" not in collected:
            collected["name"] = event.sender_name
        kind = event.kind
        transcript = list(convo.transcript)
        if kind in ("text", "start", "help", "contact", "callback"):
            said = CONTACT_SHARED if kind == "contact" else event.text
            transcript.append({"from": "customer", "kind": kind, "text": said, "at": _now()})
        turn: BotTurn | None
        if convo.human_active:
            turn = None  # a salesperson has taken over: the bot stays silent
        elif kind == "start":
            turn = self.dialog.greet(language)
        elif kind == "help":
            turn = self.dialog.help(language)
        elif kind == "contact":
            contact = self.cipher.encrypt(event.phone)
            collected.update(contact=contact, consent=True, name=event.name or collected.get("name"))
            turn = self.dialog.contact_shared(language, collected.get("name") or "")
        elif kind == "callback" and event.text == "human":
            turn = self.dialog.handover(language, "asked_for_human", bool(collected.get("contact")))
        elif kind == "callback":  # "contact": offer the share-contact button
            turn = self.dialog.handover(language, "asked_for_contact", bool(collected.get("contact")))
            turn.handover = None
        elif kind == "text":
            customer_texts = [t["text"] for t in transcript if t.get("kind") == "text" and t["from"] == "customer"]
            turn = await self.dialog.answer(customer_texts, collected)
            if turn.archetype:
                collected["archetype"] = turn.archetype
        elif kind == "ignored":
            turn = None
        else:
            turn = self.dialog.text_only(language)
        if turn is not None:
            transcript.extend({"from": "bot", "kind": "text", "text": r.text, "at": _now()} for r in turn.replies)
        convo.transcript = transcript
        convo.collected = collected
        return turn

    async def _hand_over(self, session: Any, convo: BotConversation, turn: BotTurn) -> None:
        """The lead and its outbox record in one transaction; a second hand-over updates the same lead."""
        data = {**convo.collected, "handover_reason": turn.handover}
        lead_id = await session.scalar(
            insert(Lead)
            .values(
                channel=convo.channel,
                external_conversation_id=convo.external_id,
                transcript=convo.transcript,
                data=data,
            )
            .on_conflict_do_update(
                index_elements=["channel", "external_conversation_id"],
                set_={"transcript": convo.transcript, "data": data},
            )
            .returning(Lead.id)
        )
        if convo.lead_id is None:
            convo.lead_id = lead_id
            session.add(OutboxMessage(topic="lead", payload={"lead_id": lead_id, "channel": convo.channel}))

    # ---- a salesperson in the conversation ------------------------------------------------------------------

    async def set_human_active(self, channel: str, external_id: str, active: bool) -> None:
        """A salesperson takes the conversation over (the bot goes silent) or hands it back."""
        async with self.db.transaction() as session:
            changed = await session.execute(
                update(BotConversation)
                .where(BotConversation.channel == channel, BotConversation.external_id == external_id)
                .values(human_active=active)
            )
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound(f"No {channel} conversation {external_id}.")

    async def reply_as_human(self, channel: str, external_id: str, text: str) -> None:
        """A salesperson's message to the customer: the bot stays silent from now on (until handed back)."""
        target = self.channel(channel)
        async with self.db.transaction() as session:
            convo = await self._conversation(session, channel, external_id)
            convo.human_active = True
            convo.transcript = [*convo.transcript, {"from": "salesperson", "kind": "text", "text": text, "at": _now()}]
        try:
            await target.send(external_id, [BotReply(text)], sender="salesperson")
        except ChannelError as exc:
            raise ServiceUnavailable(f"The {channel} channel did not take the message: {exc}") from exc

    async def start_conversation(self, channel: str, external_id: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                insert(BotConversation).values(channel=channel, external_id=external_id).on_conflict_do_nothing()
            )

    async def exists(self, channel: str, external_id: str) -> bool:
        return await self._find(channel, external_id) is not None

    async def transcript(self, channel: str, external_id: str) -> list[dict[str, Any]]:
        convo = await self._find(channel, external_id)
        return list(convo.transcript) if convo is not None else []

    async def _find(self, channel: str, external_id: str) -> BotConversation | None:
        async with self.db.sessions() as session:
            convo: BotConversation | None = await session.scalar(
                select(BotConversation).where(
                    BotConversation.channel == channel, BotConversation.external_id == external_id
                )
            )
        return convo


async def _quietly(work: Coroutine[Any, Any, None]) -> None:
    with contextlib.suppress(ChannelError):  # "typing..." is a courtesy
        await work


def _language(event: CustomerEvent) -> str:
    """The customer's language when it is one we speak, else a guess from the text."""
    code = event.language[:2]
    if code in ("pl", "en"):
        return code
    return guess_language(event.text) if event.kind == "text" and event.text else "pl"


def _now() -> str:
    return datetime.now(UTC).isoformat()
