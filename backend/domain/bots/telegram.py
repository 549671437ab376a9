"""The Telegram bot: the webhook stores each Update before acknowledging it, then handles it in the background.

Handling is idempotent per update (bot_updates.processed_at) and per conversation (a row lock), so a redelivered
update gets no second reply, and updates left unprocessed by a crash are handled at the next start.
A hand-over stores the lead and an outbox record in one transaction (delivery to cockpits: at least once).
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import structlog
from litestar import Request, post
from litestar.params import JSONBody
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from backend.adapters.telegram import TelegramClient, TelegramError
from backend.db import Database
from backend.db.models import BotConversation, BotUpdate, Lead, OutboxMessage
from backend.domain.bots.dialog import Dialog, Turn
from backend.domain.copilot.engine import guess_language
from backend.errors import NotFound, PermissionDenied, ServiceUnavailable
from backend.settings import TelegramSettings

__all__ = ("TelegramBot", "telegram_webhook")

log = structlog.get_logger(__name__)
CHANNEL = "telegram"


class TelegramBot:
    def __init__(self, db: Database, dialog: Dialog, client: TelegramClient, secret: str) -> None:
        self.db = db
        self.dialog = dialog
        self.client = client
        self.secret = secret
        self.on_lead: Callable[[], None] = lambda: None  # a lead is in the outbox: publish it now
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def from_settings(cls, db: Database, dialog: Dialog, settings: TelegramSettings) -> TelegramBot | None:
        if settings.bot_token is None or settings.webhook_secret is None:
            return None
        client = TelegramClient(settings.api_base, settings.bot_token.get_secret_value())
        return cls(db, dialog, client, settings.webhook_secret.get_secret_value())

    def secret_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.secret.encode())

    async def receive(self, update: dict[str, Any]) -> bool:
        """Store the update (committed); False when it was delivered before."""
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            return False
        async with self.db.transaction() as session:
            stored = await session.scalar(
                insert(BotUpdate)
                .values(channel=CHANNEL, update_id=update_id, payload=update)
                .on_conflict_do_nothing()
                .returning(BotUpdate.update_id)
            )
        return stored is not None

    def schedule(self, update_id: int) -> None:
        self._spawn(self.process(update_id))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def resume_unprocessed(self) -> int:
        """Handle the updates a crash left stored but unprocessed (called at start-up)."""
        async with self.db.sessions() as session:
            ids = (
                await session.scalars(
                    select(BotUpdate.update_id)
                    .where(BotUpdate.channel == CHANNEL, BotUpdate.processed_at.is_(None))
                    .order_by(BotUpdate.update_id)
                )
            ).all()
        for update_id in ids:
            self.schedule(update_id)
        return len(ids)

    async def idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.idle()
        await self.client.close()

    # ---- handling one update ------------------------------------------------------------------------------

    async def process(self, update_id: int) -> None:
        try:
            await self._process(update_id)
        except Exception:
            log.exception("telegram_update_failed", update_id=update_id)  # stays unprocessed: retried at start

    async def _process(self, update_id: int) -> None:
        async with self.db.transaction() as session:
            row = await session.get(BotUpdate, (CHANNEL, update_id), with_for_update=True)
            if row is None or row.processed_at is not None:
                return
            update = row.payload
            chat_id, customer, event = _read(update)
            if chat_id is None:
                row.processed_at = datetime.now(UTC)
                return
            convo = await self._conversation(session, str(chat_id))
            turn = await self._decide(convo, customer, event)
            handed_over = turn is not None and turn.handover is not None
            if handed_over:
                await self._hand_over(session, convo, turn)  # type: ignore[arg-type]
            row.processed_at = datetime.now(UTC)
        if handed_over:
            self.on_lead()
        # Replies go out after the commit: a crash before this point leaves the update to be processed again.
        if turn is not None:
            await self._send(chat_id, turn)

    async def _conversation(self, session: Any, external_id: str) -> BotConversation:
        await session.execute(
            insert(BotConversation).values(channel=CHANNEL, external_id=external_id).on_conflict_do_nothing()
        )
        convo: BotConversation = await session.scalar(
            select(BotConversation)
            .where(BotConversation.channel == CHANNEL, BotConversation.external_id == external_id)
            .with_for_update()
        )
        return convo

    async def _decide(self, convo: BotConversation, customer: dict[str, Any], event: dict[str, Any]) -> Turn | None:
        collected = dict(convo.collected)
        language = collected.get("language") or _language(customer, event)
        collected["language"] = language
        if customer.get("first_name") and "name" not in collected:
            collected["name"] = " ".join(filter(None, [customer.get("first_name"), customer.get("last_name")]))
        kind = event["kind"]
        transcript = list(convo.transcript)
        if kind in ("text", "command", "contact", "callback"):
            said = event.get("text") or event.get("phone") or kind
            transcript.append({"from": "customer", "kind": kind, "text": said, "at": _now()})
        turn: Turn | None
        if convo.human_active:
            turn = None  # a salesperson has taken over: the bot stays silent
        elif kind == "command" and event["text"].startswith("/start"):
            turn = self.dialog.greet(language)
        elif kind == "command":
            turn = self.dialog.help(language)
        elif kind == "contact":
            collected.update(contact=event["phone"], consent=True, name=event.get("name") or collected.get("name"))
            turn = self.dialog.contact_shared(language, collected.get("name") or "")
        elif kind == "callback" and event["text"] == "human":
            turn = self.dialog.handover(language, "asked_for_human", bool(collected.get("contact")))
        elif kind == "callback":  # "contact": ask Telegram to offer the share-contact button
            turn = self.dialog.handover(language, "asked_for_contact", bool(collected.get("contact")))
            turn.handover = None
        elif kind == "text":
            customer_texts = [t["text"] for t in transcript if t.get("kind") == "text"]
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

    async def _hand_over(self, session: Any, convo: BotConversation, turn: Turn) -> None:
        """The lead and its outbox record in one transaction; a second hand-over updates the same lead."""
        data = {**convo.collected, "handover_reason": turn.handover}
        lead_id = await session.scalar(
            insert(Lead)
            .values(channel=CHANNEL, external_conversation_id=convo.external_id, transcript=convo.transcript, data=data)
            .on_conflict_do_update(
                index_elements=["channel", "external_conversation_id"],
                set_={"transcript": convo.transcript, "data": data},
            )
            .returning(Lead.id)
        )
        if convo.lead_id is None:
            convo.lead_id = lead_id
            session.add(OutboxMessage(topic="lead", payload={"lead_id": lead_id, "channel": CHANNEL}))

    async def _send(self, chat_id: int, turn: Turn) -> None:
        try:
            for reply in turn.replies:
                markup: dict[str, Any] | None = None
                if reply.buttons:
                    markup = {
                        "inline_keyboard": [[{"text": label, "callback_data": data}] for label, data in reply.buttons]
                    }
                elif reply.ask_contact:
                    markup = {
                        "keyboard": [[{"text": "📱", "request_contact": True}]],
                        "one_time_keyboard": True,
                        "resize_keyboard": True,
                    }
                await self.client.send_message(chat_id, reply.text, markup)
        except TelegramError as exc:
            log.warning("telegram_reply_failed", chat_id=chat_id, reason=str(exc))

    async def set_human_active(self, external_id: str, active: bool) -> None:
        """A salesperson takes the conversation over (the bot goes silent) or hands it back."""
        async with self.db.transaction() as session:
            changed = await session.execute(
                update(BotConversation)
                .where(BotConversation.channel == CHANNEL, BotConversation.external_id == external_id)
                .values(human_active=active)
            )
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound(f"No Telegram conversation {external_id}.")

    async def reply_as_human(self, external_id: str, text: str) -> None:
        """A salesperson's message to the customer: the bot stays silent from now on (until handed back)."""
        async with self.db.transaction() as session:
            convo = await self._conversation(session, external_id)
            convo.human_active = True
            convo.transcript = [*convo.transcript, {"from": "salesperson", "kind": "text", "text": text, "at": _now()}]
        try:
            await self.client.send_message(int(external_id), text)
        except TelegramError as exc:
            raise ServiceUnavailable(f"Telegram did not take the message: {exc}") from exc


def _language(customer: dict[str, Any], event: dict[str, Any]) -> str:
    """The customer's Telegram language when it is one we speak, else a guess from the text."""
    code = str(customer.get("language_code") or "")[:2]
    if code in ("pl", "en"):
        return code
    return guess_language(event["text"]) if event.get("text") and not event["text"].startswith("/") else "pl"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _read(update: dict[str, Any]) -> tuple[int | None, dict[str, Any], dict[str, Any]]:
    """(chat id, the sender, what happened) from a Bot API Update."""
    if "callback_query" in update:
        query = update["callback_query"]
        chat = (query.get("message") or {}).get("chat") or {}
        return chat.get("id"), query.get("from") or {}, {"kind": "callback", "text": str(query.get("data", ""))}
    message = update.get("message")
    if not isinstance(message, dict):
        edited = update.get("edited_message") or update.get("edited_channel_post")
        chat = (edited or {}).get("chat") or {}
        return chat.get("id"), {}, {"kind": "ignored"}  # edits and other kinds: nothing to answer
    chat_id = (message.get("chat") or {}).get("id")
    sender = message.get("from") or {}
    if "contact" in message:
        contact = message["contact"]
        name = " ".join(filter(None, [contact.get("first_name"), contact.get("last_name")]))
        return chat_id, sender, {"kind": "contact", "phone": contact.get("phone_number"), "name": name}
    text = message.get("text")
    if isinstance(text, str) and text.strip():
        kind = "command" if text.startswith("/") else "text"
        return chat_id, sender, {"kind": kind, "text": text.strip()[:4000]}
    return chat_id, sender, {"kind": "other"}  # voice, stickers, photos...


@post("/bots/telegram/webhook", status_code=200, summary="Telegram Bot API webhook", tags=["bots"])
async def telegram_webhook(request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]) -> dict[str, bool]:
    bot: TelegramBot | None = request.app.state.telegram
    if bot is None:
        raise NotFound("The Telegram bot is not configured.")
    if not bot.secret_matches(request.headers.get("x-telegram-bot-api-secret-token")):
        raise PermissionDenied("Wrong or missing webhook secret.")
    if await bot.receive(data):
        bot.schedule(int(data["update_id"]))
    return {"ok": True}
