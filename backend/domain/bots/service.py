"""The customer bots, whatever the channel: each customer event is stored before it is acknowledged, then handled
in the background, once.

Handling is idempotent per event (bot_updates.processed_at) and ordered per conversation (a row lock, and an
in-process queue so two messages typed fast are answered in the order they came), so a redelivered event gets no
second reply, and events left unprocessed by a crash are handled again — at the next start, and by a sweep that
picks up what another (crashed) process left. A hand-over stores the lead and an outbox record in one transaction
(delivery to cockpits: at least once). Every reply is an outbox row written in the same transaction as the event's
``processed_at``; a delivery loop sends due replies oldest first (a conversation's in order), retries with backoff
(honouring the channel's ``retry_after``), marks each one sent once, and when it gives up the salesperson's cockpit
shows the reply as undelivered. A channel (Telegram, the web widget) only reads its payloads into a
:class:`CustomerEvent` and delivers replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from backend import metrics
from backend.crypto import DataCipher
from backend.db import Database
from backend.db.models import BotConversation, BotUpdate, Lead, OutboxMessage
from backend.domain.bots.dialog import BotReply, BotTurn, Dialog
from backend.domain.bots.window import window_closed
from backend.domain.engine.engine import guess_language
from backend.domain.integrations.webhooks import Webhooks, lead_event
from backend.domain.sessions.store import chat_line
from backend.errors import ChannelError, InvalidInput, NotFound, OutsideWindow

__all__ = ("BotService", "Channel", "ChannelError", "CustomerEvent")

log = structlog.get_logger(__name__)

MAX_TEXT = 4000
REPLY = "bot_reply"  # the outbox topic of replies to customers
RETRY_DELAYS = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)  # seconds before try 2, 3, ...; then given up
SWEEP_SECONDS = 30.0  # how often stored events nobody is handling are looked for
STALE_SECONDS = 60.0  # an event unprocessed this long is not being handled (its process is gone)
CONTACT_SHARED = "📱 [contact shared]"
CHAT_KINDS = ("text", "contact", "location")  # what of a transcript a salesperson reads (not /start, not button codes)


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
    at: float | None = None  # when the customer sent it (Unix seconds), when the channel says


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
        webhooks: Webhooks | None = None,
    ) -> None:
        self.db = db
        self.webhooks = webhooks  # lead events for a CRM (None: nobody listens)
        self.cipher = cipher  # contacts are kept encrypted (collected data, leads) and masked in transcripts
        self.dialog = dialog
        self.channels = {channel.name: channel for channel in channels}
        self.on_lead = on_lead  # a lead is in the outbox: publish it now
        # (channel, conversation, new lines) of a conversation that became a lead: for the salesperson's cockpit
        self.on_chat = on_chat
        self._tasks: set[asyncio.Task[None]] = set()
        self._order: dict[tuple[str, str], asyncio.Lock] = {}
        self._replies_due = asyncio.Event()
        self._next_retry: datetime | None = None  # the earliest retry that waits (None: nothing waits)
        self._delivering = False
        self._loops: list[asyncio.Task[None]] = []

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
        metrics.BOT_UPDATES.labels(channel, "stored" if stored is not None else "duplicate").inc()
        if stored is not None:
            self.schedule(channel, event_id, payload)
        return stored is not None

    async def receive_many(self, channel: str, events: list[tuple[str, dict[str, Any]]]) -> int:
        """Store a batch of events (one webhook body) in one transaction and schedule the new ones; returns how
        many were new (Meta redelivers a body whose 200 it did not see)."""
        unique = dict(events)  # a body naming one message twice: stored and handled once
        if not unique:
            return 0
        async with self.db.transaction() as session:
            stored = set(
                await session.scalars(
                    insert(BotUpdate)
                    .values(
                        [{"channel": channel, "event_id": event_id, "payload": p} for event_id, p in unique.items()]
                    )
                    .on_conflict_do_nothing()
                    .returning(BotUpdate.event_id)
                )
            )
        metrics.BOT_UPDATES.labels(channel, "stored").inc(len(stored))
        metrics.BOT_UPDATES.labels(channel, "duplicate").inc(len(events) - len(stored))
        for event_id, payload in unique.items():
            if event_id in stored:
                self.schedule(channel, event_id, payload)
        return len(stored)

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

    async def start(self) -> int:
        """Resume what a crash left (events, replies) and run the delivery and sweep loops; returns the events
        resumed."""
        resumed = await self.resume_unprocessed()
        self._replies_due.set()
        self._loops = [asyncio.create_task(self._deliver_loop()), asyncio.create_task(self._sweep_loop())]
        return resumed

    async def resume_unprocessed(self, older_than: float = 0.0) -> int:
        """Handle the events stored but unprocessed (at start-up: all; by the sweep: those left this long)."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        async with self.db.sessions() as session:
            rows = (
                await session.execute(
                    select(BotUpdate.channel, BotUpdate.event_id, BotUpdate.payload)
                    .where(
                        BotUpdate.processed_at.is_(None),
                        BotUpdate.channel.in_(list(self.channels)),
                        BotUpdate.received_at <= cutoff,
                    )
                    .order_by(BotUpdate.received_at)
                )
            ).all()
        for channel, event_id, payload in rows:
            self.schedule(channel, event_id, payload)
        return len(rows)

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            with contextlib.suppress(Exception):  # the database may be away: the next sweep tries again
                await self.resume_unprocessed(older_than=STALE_SECONDS)
            self._replies_due.set()  # and replies another process committed but never sent

    async def idle(self) -> None:
        """Wait until every event in hand is handled and every due reply is sent (or waits for a retry)."""
        while self._tasks or (self._loops and (self._replies_due.is_set() or self._delivering)):
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        """A graceful stop: the loops end, the events in hand are finished and their replies sent (what cannot be
        sent now stays in the outbox for the next start)."""
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        started, self._loops, self._replies_due = bool(self._loops), [], asyncio.Event()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if started:
            with contextlib.suppress(Exception):  # a slow or unreachable channel must not hold up the stop
                await asyncio.wait_for(self.deliver_replies(), timeout=5)
        for channel in self.channels.values():
            await channel.close()
        if self.dialog.cache is not None:
            await self.dialog.cache.close()

    # ---- replies: the outbox ---------------------------------------------------------------------------------

    @staticmethod
    def _queue(session: Any, channel: str, conversation: str, replies: list[BotReply], sender: str) -> None:
        """Replies as outbox rows, in the caller's transaction: committed with what they answer, or not at all."""
        for reply in replies:
            payload = {
                "channel": channel,
                "conversation": conversation,
                "sender": sender,
                "text": reply.text,
                "buttons": [list(button) for button in reply.buttons],
                "ask_contact": reply.ask_contact,
                "template": reply.template,
            }
            session.add(OutboxMessage(topic=REPLY, payload=payload))

    async def _deliver_loop(self) -> None:
        while True:
            # Woken by a new reply, else at the earliest retry: no database round trip while nothing is due.
            until_retry = None
            if self._next_retry is not None:
                until_retry = max(0.0, (self._next_retry - datetime.now(UTC)).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._replies_due.wait(), timeout=until_retry)
            self._replies_due.clear()
            self._delivering = True
            try:
                await self.deliver_replies()
            except Exception:  # the database may be away: replies stay in the outbox for the next pass
                log.warning("bot_replies_not_delivered", exc_info=True)
                self._next_retry = datetime.now(UTC) + timedelta(seconds=RETRY_DELAYS[0])
            finally:
                self._delivering = False

    async def deliver_replies(self) -> int:
        """Send the replies that are due, oldest first; returns how many were sent.

        A conversation whose earlier reply waits for a retry gets nothing newer before it (order holds). Rows are
        locked (SKIP LOCKED) so two processes never send the same reply.
        """
        sent = 0
        given_up: list[dict[str, Any]] = []
        pending = (
            OutboxMessage.topic == REPLY,
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            # A channel this process does not have is left to one that does (as unprocessed events are), not given
            # up: during a rolling change of settings one process may have WhatsApp while another has not yet.
            OutboxMessage.payload["channel"].astext.in_(list(self.channels)),
        )
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            # The chats whose reply waits for a retry, first and apart: a backlog of waiting replies must not fill
            # the batch below and keep every newer chat's reply from being sent.
            chat = (OutboxMessage.payload["channel"].astext, OutboxMessage.payload["conversation"].astext)
            later = (
                await session.execute(
                    select(*chat, func.min(OutboxMessage.next_attempt_at))
                    .where(*pending, OutboxMessage.next_attempt_at > now)
                    .group_by(*chat)
                )
            ).all()
            waiting: set[tuple[str, str]] = {(channel, conversation) for channel, conversation, _ in later}
            retries: list[datetime] = [due for _, _, due in later]
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(*pending, or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
                    .order_by(OutboxMessage.id)
                    .limit(500)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                payload = row.payload
                key = (payload["channel"], payload["conversation"])
                if key in waiting:  # an earlier reply of this chat waits: the order holds
                    continue
                buttons = tuple((b[0], b[1]) for b in payload["buttons"])
                reply = BotReply(payload["text"], buttons, payload["ask_contact"], payload.get("template", False))
                try:
                    await self.channel(key[0]).send(key[1], [reply], sender=payload["sender"])
                except (ChannelError, InvalidInput) as exc:
                    row.attempts += 1
                    row.last_error = str(exc)[:500]
                    permanent = not isinstance(exc, ChannelError) or exc.permanent
                    if permanent or row.attempts >= len(RETRY_DELAYS):
                        row.failed_at = now
                        given_up.append(payload)
                        log.warning("bot_reply_given_up", channel=key[0], attempts=row.attempts, reason=str(exc))
                    else:
                        delay = exc.retry_after or RETRY_DELAYS[row.attempts - 1]  # type: ignore[union-attr]
                        # From the refusal, not from the batch's start: a retry_after counted from before the
                        # send would try again too early (and be refused again).
                        row.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
                        retries.append(row.next_attempt_at)
                        log.info("bot_reply_retry", channel=key[0], attempts=row.attempts, delay=delay)
                    waiting.add(key)
                else:
                    row.delivered_at = now
                    sent += 1
        self._next_retry = min(retries, default=None)
        for payload in given_up:  # the salesperson sees it (when the chat became a client of theirs)
            line = {**chat_line(payload["sender"], payload["text"]), "action": "undelivered"}
            self._spawn(self.on_chat(payload["channel"], payload["conversation"], [line]))
        return sent

    # ---- handling one event -------------------------------------------------------------------------------

    async def process(self, channel: str, event_id: str) -> None:
        try:
            await self._process(self.channel(channel), event_id)
        except Exception:
            log.exception("bot_event_failed", channel=channel, event_id=event_id)  # unprocessed: retried at start

    async def _process(self, channel: Channel, event_id: str) -> None:
        started = time.monotonic()
        async with self.db.transaction() as session:
            row = await session.get(BotUpdate, (channel.name, event_id), with_for_update=True)
            if row is None or row.processed_at is not None:
                return
            event = channel.read(row.payload)
            # Handled, the raw update goes (it holds the sender's names, phone, words); the row stays for dedup.
            row.payload = {}
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
            new_lead = convo.lead_id is None  # a second hand-over of the chat updates its lead
            if handed_over:
                await self._hand_over(session, convo, turn)  # type: ignore[arg-type]
            row.processed_at = datetime.now(UTC)
            if turn is not None:
                self._queue(session, channel.name, event.conversation, turn.replies, "bot")
        if handed_over and new_lead:
            metrics.LEADS_CREATED.labels(channel.name).inc()
        if handed_over:
            self.on_lead()
            if self.webhooks is not None:
                self.webhooks.poke()
        if relay:
            self._spawn(self.on_chat(channel.name, event.conversation, new_lines))
        if turn is not None:
            self._replies_due.set()  # committed with processed_at above: sent by the delivery loop, retried there
            metrics.BOT_ANSWER_SECONDS.labels(channel.name).observe(time.monotonic() - started)

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
        if kind in ("text", "start", "help", "contact", "callback", "location"):
            said = {"contact": CONTACT_SHARED, "location": f"📍 {event.text}"}.get(kind, event.text)
            transcript.append({"from": "customer", "kind": kind, "text": said, "at": _now()})
        if kind != "ignored":  # the customer wrote: a windowed channel (Meta's 24 hours) may answer until then
            collected["customer_at"] = event.at if event.at is not None else time.time()
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
            turn = self.dialog.offer_contact(language, bool(collected.get("contact")))
        elif kind == "text":
            customer_texts = [t["text"] for t in transcript if t.get("kind") == "text" and t["from"] == "customer"]
            turn = await self.dialog.answer(customer_texts, collected)
            if turn.archetype:
                collected["archetype"] = turn.archetype
        elif kind == "location":
            collected["location"] = self.cipher.encrypt(event.text)  # where a customer is, as a contact is kept
            turn = self.dialog.location_noted(language)
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
        lead: Lead = await session.scalar(
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
            .returning(Lead)
        )
        if convo.lead_id is None:
            convo.lead_id = lead.id
            session.add(OutboxMessage(topic="lead", payload={"lead_id": lead.id, "channel": convo.channel}))
            await self._announce(session, "lead.created", lead)

    async def _announce(self, session: Any, event_type: str, lead: Lead) -> None:
        if self.webhooks is not None:
            await self.webhooks.announce(session, event_type, *lead_event(lead, self.cipher))

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

    async def reply_as_human(self, channel: str, external_id: str, text: str) -> bool:
        """A salesperson's message to the customer: the bot stays silent from now on (until handed back).

        Past a windowed channel's window the text cannot be sent: its approved template goes instead (True is
        returned), or, with none, :class:`OutsideWindow` is raised, nothing is queued and the lead is marked to be
        answered by phone or e-mail."""
        # Past Meta's 24-hour window (backend/domain/bots/window.py) only the channel's template may go.
        template = getattr(self.channel(channel), "template", None)  # InvalidInput: the channel is not configured
        async with self.db.transaction() as session:
            convo = await self._conversation(session, channel, external_id)
            outside = window_closed(channel, convo.collected.get("customer_at"))
            refused = outside and template is None
            if refused:
                reply_by = func.jsonb_build_object("reply_by", "phone_or_email")
                await session.execute(
                    update(Lead)
                    .where(Lead.channel == channel, Lead.external_conversation_id == external_id)
                    .values(data=Lead.data.op("||")(reply_by))
                )
            else:
                convo.human_active = True
                line = {"from": "salesperson", "kind": "text", "text": text, "at": _now()}
                convo.transcript = [*convo.transcript, line]
                self._queue(session, channel, external_id, [BotReply(text, template=outside)], "salesperson")
                lead = await session.get(Lead, convo.lead_id) if convo.lead_id is not None else None
                if lead is not None:
                    await self._announce(session, "lead.replied", lead)
        if refused:
            raise OutsideWindow()
        self._replies_due.set()
        if self.webhooks is not None:
            self.webhooks.poke()
        return outside

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
