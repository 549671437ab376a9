"""A fake Telegram Bot API: answers ``POST /bot<token>/<method>`` as Telegram does and records every call."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.asgi import json_response, lifespan, read_body

Scope = dict[str, Any]


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-token"
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    url: str = ""
    refusals: list[dict[str, Any]] = field(default_factory=list)  # error bodies for the next sendMessage calls
    refused: list[tuple[float, dict[str, Any]]] = field(default_factory=list)  # (monotonic time, params) refused
    _message_id: int = 0

    def refuse(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next ``times`` sendMessage calls with an error, as the Bot API does."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": f"Error {status}"}
        if retry_after is not None:
            body["description"] = f"Too Many Requests: retry after {retry_after}"
            body["parameters"] = {"retry_after": retry_after}
        self.refusals.extend([body] * times)

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        body = await read_body(receive)
        prefix, _, method = scope["path"].lstrip("/").partition("/")
        if prefix != f"bot{self.token}":
            await json_response(send, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        params = json.loads(body or b"{}")
        if method == "sendMessage" and self.refusals:
            refusal = self.refusals.pop(0)
            self.refused.append((time.monotonic(), params))
            await json_response(send, refusal["error_code"], refusal)
            return
        self.calls.append((method, params))
        if method == "sendMessage":
            self._message_id += 1
            result: Any = {"message_id": self._message_id, "chat": {"id": params["chat_id"]}, "text": params["text"]}
        else:
            result = True
        await json_response(send, 200, {"ok": True, "result": result})


def text_update(update_id: int, chat_id: int, text: str, language: str = "pl") -> dict[str, Any]:
    """A real-shaped Bot API Update with a text message."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Jan", "last_name": "Kowalski", "language_code": language}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": user,
            "chat": {"id": chat_id, "first_name": "Jan", "type": "private"},
            "date": 1763700000,
            "text": text,
        },
    }
