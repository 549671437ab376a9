"""The Telegram channel: the webhook stores each Update before acknowledging it (the bot service handles it in
the background); replies go out through the Bot API, with "typing..." while the bot thinks."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, post
from litestar.params import JSONBody

from backend.adapters.telegram import TelegramClient, TelegramError
from backend.domain.bots.dialog import BotReply
from backend.domain.bots.service import MAX_TEXT, BotService, ChannelError, CustomerEvent
from backend.errors import NotFound, PermissionDenied
from backend.services import ServicesDep
from backend.settings import TelegramSettings

__all__ = ("TelegramChannel", "telegram_webhook")

CHANNEL = "telegram"


class TelegramChannel:
    name = CHANNEL

    def __init__(self, client: TelegramClient, secret: str) -> None:
        self.client = client
        self.secret = secret

    @classmethod
    def from_settings(cls, settings: TelegramSettings) -> TelegramChannel | None:
        if settings.bot_token is None or settings.webhook_secret is None:
            return None
        client = TelegramClient(settings.api_base, settings.bot_token.get_secret_value())
        return cls(client, settings.webhook_secret.get_secret_value())

    def secret_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.secret.encode())

    def read(self, update: dict[str, Any]) -> CustomerEvent:
        """What happened, from a Bot API Update."""
        if "callback_query" in update:
            query = update["callback_query"]
            chat = (query.get("message") or {}).get("chat") or {}
            return _event(chat, query.get("from") or {}, kind="callback", text=str(query.get("data", "")))
        message = update.get("message")
        if not isinstance(message, dict):
            edited = update.get("edited_message") or update.get("edited_channel_post") or {}
            return _event(edited.get("chat") or {}, {}, kind="ignored")  # edits and other kinds: nothing to answer
        chat, sender = message.get("chat") or {}, message.get("from") or {}
        if "contact" in message:
            contact = message["contact"]
            name = " ".join(filter(None, [contact.get("first_name"), contact.get("last_name")]))
            return _event(chat, sender, kind="contact", phone=str(contact.get("phone_number") or ""), name=name)
        text = message.get("text")
        if isinstance(text, str) and text.strip():
            text = text.strip()[:MAX_TEXT]
            if text.startswith("/"):
                return _event(chat, sender, kind="start" if text.startswith("/start") else "help", text=text)
            return _event(chat, sender, kind="text", text=text)
        return _event(chat, sender, kind="other")  # voice, stickers, photos...

    async def send(self, conversation: str, replies: list[BotReply], sender: str = "bot") -> None:
        try:
            for reply in replies:
                await self.client.send_message(int(conversation), reply.text, _markup(reply))
        except TelegramError as exc:
            raise ChannelError(str(exc), permanent=exc.permanent, retry_after=exc.retry_after) from exc

    async def typing(self, conversation: str) -> None:
        try:
            await self.client.send_chat_action(int(conversation))
        except TelegramError as exc:
            raise ChannelError(str(exc)) from exc

    async def close(self) -> None:
        await self.client.close()


def _event(chat: dict[str, Any], sender: dict[str, Any], **what: Any) -> CustomerEvent:
    chat_id = chat.get("id")
    return CustomerEvent(
        conversation=str(chat_id) if isinstance(chat_id, int) else None,
        sender_name=" ".join(filter(None, [sender.get("first_name"), sender.get("last_name")])),
        language=str(sender.get("language_code") or ""),
        **what,
    )


def _markup(reply: BotReply) -> dict[str, Any] | None:
    if reply.buttons:
        return {"inline_keyboard": [[{"text": label, "callback_data": data}] for label, data in reply.buttons]}
    if reply.ask_contact:
        keyboard = [[{"text": "📱", "request_contact": True}]]
        return {"keyboard": keyboard, "one_time_keyboard": True, "resize_keyboard": True}
    return None


@post("/bots/telegram/webhook", status_code=200, summary="Telegram Bot API webhook", tags=["bots"])
async def telegram_webhook(
    request: Request[Any, Any, Any], services: ServicesDep, data: JSONBody[dict[str, Any]]
) -> dict[str, bool]:
    bots: BotService = services.bots
    channel = bots.channels.get(CHANNEL)
    if not isinstance(channel, TelegramChannel):
        raise NotFound("The Telegram bot is not configured.")
    if not channel.secret_matches(request.headers.get("x-telegram-bot-api-secret-token")):
        raise PermissionDenied("Wrong or missing webhook secret.")
    update_id = data.get("update_id")
    if isinstance(update_id, int):
        await bots.receive(CHANNEL, str(update_id), data)
    return {"ok": True}
