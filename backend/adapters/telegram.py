"""The Telegram Bot API over HTTP (sendMessage, sendChatAction, setWebhook) at a configurable base URL."""

from __future__ import annotations

from typing import Any

import httpx
import structlog

from backend.errors import ChannelError

__all__ = ("TelegramClient", "TelegramError")

log = structlog.get_logger(__name__)


class TelegramError(ChannelError):
    """The Bot API refused a call or could not be reached."""


class TelegramClient:
    def __init__(self, api_base: str, token: str, http: httpx.AsyncClient | None = None) -> None:
        self._base = f"{api_base.rstrip('/')}/bot{token}"
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))

    async def call(self, method: str, **params: Any) -> Any:
        try:
            response = await self._http.post(f"{self._base}/{method}", json=params)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise TelegramError(f"{method}: {type(exc).__name__}: {exc}") from exc
        if not body.get("ok"):
            code = body.get("error_code", response.status_code)
            retry_after = (body.get("parameters") or {}).get("retry_after")
            raise TelegramError(
                f"{method}: {body.get('description', response.status_code)}",
                # 400 (no such chat, bad request) and 403 (the user blocked the bot) will answer the same again
                permanent=code in (400, 403),
                retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
            )
        return body.get("result")

    async def send_message(self, chat_id: int | str, text: str, reply_markup: dict[str, Any] | None = None) -> None:
        params: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if reply_markup is not None:
            params["reply_markup"] = reply_markup
        await self.call("sendMessage", **params)

    async def send_chat_action(self, chat_id: int | str, action: str = "typing") -> None:
        await self.call("sendChatAction", chat_id=chat_id, action=action)

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.call("setWebhook", url=url, secret_token=secret, allowed_updates=["message", "callback_query"])

    async def close(self) -> None:
        await self._http.aclose()
