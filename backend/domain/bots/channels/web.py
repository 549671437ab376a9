"""The web chat widget: one ``<script>`` tag on a company site opens a WebSocket at ``/bots/web``.

The conversation id is made here (random, so nobody can guess another customer's chat) and kept by the widget
in localStorage; reconnecting with it brings the transcript back. Each customer message carries the widget's own
id and is stored before its ``ack`` (event ``<conversation>:<id>``), so a message sent twice — a double click, a
resend after a reconnect — is stored and answered once. Frames (JSON, ``type`` first):

    widget -> server   hello {conversation_id?, language?} | message {id, text} | button {id, data}
                       | contact {id, name, phone, consent: true}
    server -> widget   welcome {conversation_id, transcript} | ack {id, duplicate} | typing
                       | reply {from: bot|salesperson, text, buttons, ask_contact} | error {code, message, id?}
"""

from __future__ import annotations

import json
import re
import secrets
import time
from functools import cache
from pathlib import Path
from typing import Any

import structlog
from litestar import Request, Response, WebSocket, get, websocket
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backend.domain.bots.dialog import BotReply
from backend.domain.bots.service import MAX_TEXT, BotService, CustomerEvent
from backend.domain.sockets import POLICY_VIOLATION, SocketOutbox, frames
from backend.errors import InvalidInput, NotFound
from backend.services import ServicesDep
from backend.settings import WidgetSettings

__all__ = ("WebChannel", "web_socket", "widget_demo", "widget_script")

log = structlog.get_logger(__name__)

CHANNEL = "web"
ASSETS = Path(__file__).parents[1] / "widget"
CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")
MAX_FRAME = 16_384
BURST, PER_SECOND = 20, 2.0  # messages a widget may send at once, and on average


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Hello(_Frame):
    type: str = Field(pattern="^hello$")
    conversation_id: str | None = None
    language: str = Field(default="", max_length=16)


class Message(_Frame):
    type: str = Field(pattern="^message$")
    id: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class Button(_Frame):
    type: str = Field(pattern="^button$")
    id: str = Field(min_length=1, max_length=100)
    data: str = Field(pattern="^(human|contact)$")


class Contact(_Frame):
    type: str = Field(pattern="^contact$")
    id: str = Field(min_length=1, max_length=100)
    name: str = Field(default="", max_length=200)
    phone: str = Field(min_length=3, max_length=64)
    consent: bool


FRAMES: dict[str, type[_Frame]] = {"hello": Hello, "message": Message, "button": Button, "contact": Contact}


class FrameError(InvalidInput):
    def __init__(self, code: str, message: str, frame_id: str | None = None) -> None:
        super().__init__(message)
        self.code, self.frame_id = code, frame_id


def parse_frame(raw: str | bytes) -> _Frame:
    if len(raw) > MAX_FRAME:
        raise FrameError("too_large", f"Frames are limited to {MAX_FRAME} bytes.")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FrameError("invalid_json", "The frame is not JSON.") from exc
    kind = data.get("type") if isinstance(data, dict) else None
    model = FRAMES.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise FrameError("unknown_type", f"Unknown frame type {kind!r}; expected one of {sorted(FRAMES)}.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        frame_id = data.get("id") if isinstance(data.get("id"), str) else None
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise FrameError("invalid_frame", problems, frame_id) from exc


def frame(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields}, ensure_ascii=False)


class WebChannel:
    """Delivers to the widgets connected to this process; what is not delivered is in the transcript they get
    when they reconnect."""

    name = CHANNEL

    def __init__(self) -> None:
        self.sockets: dict[str, set[SocketOutbox]] = {}

    def read(self, payload: dict[str, Any]) -> CustomerEvent:
        return CustomerEvent(
            conversation=payload.get("conversation"),
            kind=str(payload.get("kind", "other")),
            text=str(payload.get("text", "")),
            phone=str(payload.get("phone", "")),
            name=str(payload.get("name", "")),
            language=str(payload.get("language", "")),
        )

    async def send(self, conversation: str, replies: list[BotReply], sender: str = "bot") -> None:
        for outbox in self.sockets.get(conversation, ()):
            for reply in replies:
                buttons = [{"label": label, "data": data} for label, data in reply.buttons]
                outbox.deliver(
                    frame("reply", **{"from": sender}, text=reply.text, buttons=buttons, ask_contact=reply.ask_contact)
                )

    async def typing(self, conversation: str) -> None:
        for outbox in self.sockets.get(conversation, ()):
            outbox.deliver(frame("typing"))

    def attach(self, conversation: str, outbox: SocketOutbox) -> None:
        self.sockets.setdefault(conversation, set()).add(outbox)

    def detach(self, conversation: str, outbox: SocketOutbox) -> None:
        watchers = self.sockets.get(conversation)
        if watchers is not None:
            watchers.discard(outbox)
            if not watchers:
                del self.sockets[conversation]

    async def close(self) -> None:
        self.sockets.clear()


class _Bucket:
    """A token bucket: a burst of BURST messages, then PER_SECOND on average."""

    def __init__(self) -> None:
        self.tokens, self.at = float(BURST), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(BURST, self.tokens + (now - self.at) * PER_SECOND)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@websocket("/bots/web")
async def web_socket(socket: WebSocket[Any, Any, Any], services: ServicesDep) -> None:
    widget: WidgetSettings = services.settings.widget
    bots: BotService = services.bots
    channel = bots.channels.get(CHANNEL)
    await socket.accept()
    if not isinstance(channel, WebChannel) or not widget.allows(socket.headers.get("origin")):
        await socket.close(code=POLICY_VIOLATION, reason="this site may not open the chat")
        return
    outbox = SocketOutbox(socket)
    conversation: str | None = None
    bucket = _Bucket()
    try:
        async for raw in frames(socket):
            try:
                message = parse_frame(raw)
                if isinstance(message, Hello):
                    if conversation is not None:
                        raise FrameError("already_open", "hello comes once per socket.")
                    conversation = await _open(bots, channel, outbox, message)
                elif conversation is None:
                    raise FrameError("hello_first", "Send hello first.")
                elif not bucket.take():
                    raise FrameError("rate_limited", "Too many messages; wait a moment.", getattr(message, "id", None))
                else:
                    await _customer_event(bots, conversation, message, outbox)
            except FrameError as exc:
                extra = {"id": exc.frame_id} if exc.frame_id else {}
                outbox.deliver(frame("error", code=exc.code, message=exc.message, **extra))
            except Exception:
                log.exception("web_widget_frame_failed")
                outbox.deliver(frame("error", code="unavailable", message="Please try again in a moment."))
    finally:
        if conversation is not None:
            channel.detach(conversation, outbox)
        await outbox.close()


async def _open(bots: BotService, channel: WebChannel, outbox: SocketOutbox, hello: Hello) -> str:
    """Continue the widget's conversation when it is one of ours, else start a new one with the greeting."""
    given = hello.conversation_id
    if given is not None and CONVERSATION_ID.match(given) and await bots.exists(CHANNEL, given):
        conversation, new = given, False
    else:
        conversation, new = secrets.token_urlsafe(24), True
        await bots.start_conversation(CHANNEL, conversation)
    channel.attach(conversation, outbox)
    said = await bots.transcript(CHANNEL, conversation)
    # What the customer saw: not the /start nor the buttons' codes (the buttons' answers follow them).
    transcript = [{"from": t["from"], "text": t["text"]} for t in said if t.get("kind") not in ("start", "callback")]
    outbox.deliver(frame("welcome", conversation_id=conversation, transcript=transcript))
    if new:
        payload = {"conversation": conversation, "kind": "start", "language": hello.language}
        await bots.receive(CHANNEL, f"{conversation}:start", payload)
    return conversation


async def _customer_event(bots: BotService, conversation: str, message: _Frame, outbox: SocketOutbox) -> None:
    payload: dict[str, Any] = {"conversation": conversation}
    match message:
        case Message(id=frame_id, text=text):
            payload.update(kind="text", text=text.strip()[:MAX_TEXT])
        case Button(id=frame_id, data=data):
            payload.update(kind="callback", text=data)
        case Contact(id=frame_id, name=name, phone=phone, consent=consent):
            if not consent:
                raise FrameError("consent_required", "We keep a contact only with the customer's consent.", frame_id)
            payload.update(kind="contact", phone=phone.strip(), name=name.strip())
    stored = await bots.receive(CHANNEL, f"{conversation}:{frame_id}", payload)
    outbox.deliver(frame("ack", id=frame_id, duplicate=not stored))


@cache
def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def _enabled(services: ServicesDep) -> None:
    if not services.settings.widget.enabled:
        raise NotFound("The web widget is switched off.")


@get("/bots/web/widget.js", summary="The embeddable chat widget", tags=["bots"], include_in_schema=True)
async def widget_script(request: Request[Any, Any, Any], services: ServicesDep) -> Response[str]:
    _enabled(services)
    return Response(
        _asset("widget.js"),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@get("/bots/web/demo", summary="A demo page with the widget on it", tags=["bots"])
async def widget_demo(request: Request[Any, Any, Any], services: ServicesDep) -> Response[str]:
    _enabled(services)
    return Response(_asset("demo.html"), media_type="text/html; charset=utf-8")
