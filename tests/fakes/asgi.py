"""What the fake servers share: the ASGI lifespan handshake, reading a body, answering JSON."""

from __future__ import annotations

import json
from typing import Any


async def lifespan(receive: Any, send: Any) -> None:
    while True:
        event = (await receive())["type"].rsplit(".", 1)[-1]  # startup | shutdown
        await send({"type": f"lifespan.{event}.complete"})
        if event == "shutdown":
            return


async def read_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def json_response(send: Any, status: int, data: dict[str, Any]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(data).encode()})
