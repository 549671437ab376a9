"""A fake Meta Graph API: answers ``POST /<version>/<phone id>/messages`` (WhatsApp Cloud API) and
``POST /<version>/me/messages`` (Messenger, Instagram) as Meta does, checks the bearer token, records every call;
and real-shaped webhook bodies, signed as Meta signs them (over the raw bytes it sends)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.asgi import json_response, lifespan, read_body

Scope = dict[str, Any]

VERSION = "v21.0"
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "meta-verify-token"


@dataclass
class FakeGraphApi:
    tokens: set[str] = field(default_factory=lambda: {"wa-token", "page-token", "ig-token"})
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (path after the version, body)
    refusals: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # for the next sends
    refused: list[float] = field(default_factory=list)
    url: str = ""
    _id: int = 0

    def refuse(self, status: int, code: int, times: int = 1, message: str = "Refused") -> None:
        """Answer the next ``times`` sends with a Graph API error."""
        body = {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC"}}
        self.refusals.extend([(status, body)] * times)

    def to(self, recipient: str) -> list[dict[str, Any]]:
        """What was sent to a WhatsApp number or a Messenger/Instagram id (typing indicators left out)."""
        sent = []
        for _, body in self.calls:
            to = body.get("to") or (body.get("recipient") or {}).get("id")
            if to == recipient and "sender_action" not in body:
                sent.append(body)
        return sent

    def texts(self, recipient: str) -> list[str]:
        return [_text_of(body) for body in self.to(recipient)]

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        body = await read_body(receive)
        headers = dict(scope["headers"])
        token = headers.get(b"authorization", b"").decode().removeprefix("Bearer ")
        if token not in self.tokens:
            error = {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}
            await json_response(send, 401, {"error": error})
            return
        version, _, path = scope["path"].lstrip("/").partition("/")
        if version != VERSION or not path.endswith("/messages"):
            await json_response(send, 400, {"error": {"message": "Unknown path", "code": 100}})
            return
        data = json.loads(body)
        if "sender_action" not in data and self.refusals:
            status, refusal = self.refusals.pop(0)
            self.refused.append(time.monotonic())
            await json_response(send, status, refusal)
            return
        self.calls.append((path, data))
        self._id += 1
        if path.startswith("me/"):
            await json_response(send, 200, {"recipient_id": data["recipient"]["id"], "message_id": f"m_{self._id}"})
        else:
            answer = {"messaging_product": "whatsapp", "contacts": [{"input": data["to"], "wa_id": data["to"]}]}
            await json_response(send, 200, {**answer, "messages": [{"id": f"wamid.OUT{self._id}"}]})


def _text_of(body: dict[str, Any]) -> str:
    if body.get("type") == "text":
        return str(body["text"]["body"])
    if body.get("type") == "interactive":
        return str(body["interactive"]["body"]["text"])
    if body.get("type") == "template":
        return f"[template {body['template']['name']}]"
    return str((body.get("message") or {}).get("text", ""))


def signed(body: dict[str, Any], secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    """The bytes Meta would send (it escapes non-ASCII as \\uXXXX) and their X-Hub-Signature-256."""
    raw = json.dumps(body).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def whatsapp_body(*messages: dict[str, Any], statuses: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A WhatsApp Cloud API webhook body: one entry, one change, these messages (and status callbacks)."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "48221234567", "phone_number_id": PHONE_NUMBER_ID},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Jan Kowalski"}, "wa_id": m["from"]} for m in messages]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


def whatsapp_text(message_id: str, sender: str, text: str, at: float | None = None) -> dict[str, Any]:
    stamp = str(int(at if at is not None else time.time()))
    return {"from": sender, "id": message_id, "timestamp": stamp, "type": "text", "text": {"body": text}}


def whatsapp_status(message_id: str, recipient: str, status: str = "delivered") -> dict[str, Any]:
    return {"id": message_id, "status": status, "timestamp": str(int(time.time())), "recipient_id": recipient}


def messaging_body(kind: str, *items: dict[str, Any]) -> dict[str, Any]:
    """A Messenger (``page``) or Instagram (``instagram``) webhook body, one entry with these messaging items."""
    return {"object": kind, "entry": [{"id": "1234567890", "time": int(time.time() * 1000), "messaging": list(items)}]}


def messaging_text(mid: str, sender: str, text: str, at: float | None = None, **message: Any) -> dict[str, Any]:
    return {
        "sender": {"id": sender},
        "recipient": {"id": "1234567890"},
        "timestamp": int((at if at is not None else time.time()) * 1000),
        "message": {"mid": mid, "text": text, **message},
    }
