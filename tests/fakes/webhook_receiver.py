"""A CRM's webhook receiver: verifies each POST with the Standard Webhooks reference library, remembers every
attempt, and keeps each event once (by ``webhook-id``), in the order they arrived; ``down`` answers 503."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.fakes.asgi import json_response, lifespan, read_body

Scope = dict[str, Any]


@dataclass
class WebhookReceiver:
    secret: str = ""
    down: bool = False
    retry_after: int | None = None  # while down: the Retry-After header of the 503
    attempts: list[str] = field(default_factory=list)  # webhook-id of every POST that reached us
    events: list[dict[str, Any]] = field(default_factory=list)  # verified, each once: {id, type, data, at}
    redeliveries: list[str] = field(default_factory=list)  # ids that came again after we had them
    refused: int = 0  # POSTs whose signature did not verify
    url: str = ""

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == event_type]

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        body = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.attempts.append(headers.get("webhook-id", ""))
        if self.down:
            extra = [(b"retry-after", str(self.retry_after).encode())] if self.retry_after is not None else []
            await send({"type": "http.response.start", "status": 503, "headers": extra})
            await send({"type": "http.response.body", "body": b"down for maintenance"})
            return
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            self.refused += 1
            await json_response(send, 401, {"error": "bad signature"})
            return
        event_id = headers["webhook-id"]
        if any(e["id"] == event_id for e in self.events):
            self.redeliveries.append(event_id)
        else:
            self.events.append({"id": event_id, "type": payload["type"], "data": payload["data"], "at": time.time()})
        await json_response(send, 200, {"ok": True})
