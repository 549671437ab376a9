"""The web chat widget: one ``<script>`` tag on a company site opens a WebSocket at ``/bots/web``.

The conversation id is made here (random, so nobody can guess another customer's chat) and kept by the widget
in localStorage; reconnecting with it brings the transcript back. Each customer message carries the widget's own
id and is stored before its ``ack`` (event ``<conversation>:<id>``), so a message sent twice — a double click, a
resend after a reconnect — is stored and answered once. The frames are the models of
backend/domain/protocol/widget.py, described in docs/widget-protocol.md.
"""

from __future__ import annotations

import re
import secrets
from functools import cache
from pathlib import Path
from typing import Any

import structlog
from litestar import Request, Response, WebSocket, get, websocket

from backend import metrics
from backend.domain.bots.dialog import BotReply
from backend.domain.bots.service import MAX_TEXT, BotService, CustomerEvent
from backend.domain.protocol import widget as w
from backend.domain.sockets import POLICY_VIOLATION, TRY_AGAIN_LATER, RateBucket, RatesByKey, SocketOutbox, frames
from backend.errors import NotFound
from backend.services import ServicesDep
from backend.settings import WidgetSettings
from backend.tracing import tracer

__all__ = ("WebChannel", "web_socket", "widget_demo", "widget_script")

log = structlog.get_logger(__name__)

CHANNEL = "web"
ASSETS = Path(__file__).parents[1] / "widget"
CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")
BURST, PER_SECOND = 20, 2.0  # messages a widget may send at once, and on average (per socket, per conversation)
# A socket that keeps sending after this many refusals in a row is no customer typing: it is closed (1008), so a
# flood stops costing even the refusals (12 such sockets sent 1,100 frames/s; refusing each one still doubled a
# salesperson's fast-path p95, bench/bot_bench.py). A person never gets here; the widget reconnects when asked.
REFUSALS_BEFORE_CLOSING = 20
# Anyone may open the widget: per address, a few new chats at once then one a minute, and a bounded number of
# messages over all its chats (WidgetSettings) — several sockets on one conversation, or many conversations, do
# not multiply what one visitor can make the backend analyse.


class WebChannel:
    """Delivers to the widgets connected to this process; what is not delivered is in the transcript they get
    when they reconnect."""

    name = CHANNEL

    def __init__(self, settings: WidgetSettings) -> None:
        self.sockets: dict[str, set[SocketOutbox]] = {}
        self.conversation_rates = RatesByKey(BURST, PER_SECOND)
        self.address_rates = RatesByKey(settings.messages_per_address, settings.messages_per_address / 10)
        self.new_conversation_rates = RatesByKey(settings.new_chats_per_address, 1 / 60)
        # Sockets opened per address, reconnects included (WidgetSettings.connections_per_address, then one every
        # 2 s): a flooder the backend closed came back 40 times a second, a handshake and a welcome each.
        self.openings = RatesByKey(settings.connections_per_address, 0.5)

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
                buttons = [w.ReplyButton(label=label, data=data) for label, data in reply.buttons]
                shown = w.Reply.model_validate(
                    {"from": sender, "text": reply.text, "buttons": buttons, "ask_contact": reply.ask_contact}
                )
                outbox.deliver(w.encode(shown))

    async def typing(self, conversation: str) -> None:
        for outbox in self.sockets.get(conversation, ()):
            outbox.deliver(w.encode(w.Typing()))

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


@websocket("/bots/web")
async def web_socket(socket: WebSocket[Any, Any, Any], services: ServicesDep) -> None:
    widget: WidgetSettings = services.settings.widget
    bots: BotService = services.bots
    channel = bots.channels.get(CHANNEL)
    if not isinstance(channel, WebChannel) or not widget.allows(socket.headers.get("origin")):
        await socket.close(code=POLICY_VIOLATION, reason="this site may not open the chat")  # before accept: 403
        return
    address = socket.client.host if socket.client else "?"
    if not channel.openings.take(address):
        await socket.close(code=TRY_AGAIN_LATER, reason="too many connections from here")  # before accept: 403
        return
    await socket.accept()
    outbox = SocketOutbox(socket)
    conversation: str | None = None
    bucket = RateBucket(BURST, PER_SECOND)
    refused = 0  # rate_limited answers in a row
    metrics.SOCKETS_OPEN.labels("widget").inc()
    try:
        async for raw in frames(socket):
            try:
                message = w.parse_frame(raw)
                if isinstance(message, w.Hello):
                    if conversation is not None:
                        raise w.FrameError("already_open", "hello comes once per socket.")
                    conversation = await _open(bots, channel, outbox, message, address)
                elif conversation is None:
                    raise w.FrameError("hello_first", "Send hello first.")
                elif not (
                    bucket.take()
                    and channel.conversation_rates.take(conversation)
                    and channel.address_rates.take(address)
                ):
                    refused += 1
                    if refused > REFUSALS_BEFORE_CLOSING:
                        await socket.close(code=POLICY_VIOLATION, reason="too many messages")
                        return
                    frame_id = getattr(message, "id", None)
                    raise w.FrameError("rate_limited", "Too many messages; wait a moment.", frame_id)
                else:
                    refused = 0
                    with tracer().start_as_current_span("widget message"):
                        await _customer_event(bots, conversation, message, outbox)
            except w.FrameError as exc:
                outbox.deliver(w.encode(w.Error(code=exc.code, message=exc.message, id=exc.frame_id)))
            except Exception:
                log.exception("web_widget_frame_failed")
                outbox.deliver(w.encode(w.Error(code="unavailable", message="Please try again in a moment.")))
    finally:
        metrics.SOCKETS_OPEN.labels("widget").dec()
        if conversation is not None:
            channel.detach(conversation, outbox)
        await outbox.close()


async def _open(bots: BotService, channel: WebChannel, outbox: SocketOutbox, hello: w.Hello, address: str) -> str:
    """Continue the widget's conversation when it is one of ours, else start a new one with the greeting."""
    given = hello.conversation_id
    if given is not None and CONVERSATION_ID.match(given) and await bots.exists(CHANNEL, given):
        conversation, new = given, False
    elif not channel.new_conversation_rates.take(address):
        raise w.FrameError("rate_limited", "Too many new chats from here; please try again in a minute.")
    else:
        conversation, new = secrets.token_urlsafe(24), True
        await bots.start_conversation(CHANNEL, conversation)
    channel.attach(conversation, outbox)
    said = await bots.transcript(CHANNEL, conversation)
    # What the customer saw: not the /start nor the buttons' codes (the buttons' answers follow them).
    transcript = [
        w.Said.model_validate({"from": t["from"], "text": t["text"]})
        for t in said
        if t.get("kind") not in ("start", "callback")
    ]
    outbox.deliver(w.encode(w.Welcome(conversation_id=conversation, transcript=transcript)))
    if new:
        payload = {"conversation": conversation, "kind": "start", "language": hello.language}
        await bots.receive(CHANNEL, f"{conversation}:start", payload)
    return conversation


async def _customer_event(bots: BotService, conversation: str, message: w.WidgetFrame, outbox: SocketOutbox) -> None:
    payload: dict[str, Any] = {"conversation": conversation}
    match message:
        case w.Message(id=frame_id, text=text):
            payload.update(kind="text", text=text.strip()[:MAX_TEXT])
        case w.Button(id=frame_id, data=data):
            payload.update(kind="callback", text=data)
        case w.Contact(id=frame_id, name=name, phone=phone, consent=consent):
            if not consent:
                raise w.FrameError("consent_required", "We keep a contact only with the customer's consent.", frame_id)
            payload.update(kind="contact", phone=phone.strip(), name=name.strip())
        case _:
            raise w.FrameError("already_open", "hello comes once per socket.")
    stored = await bots.receive(CHANNEL, f"{conversation}:{frame_id}", payload)
    outbox.deliver(w.encode(w.Ack(id=frame_id, duplicate=not stored)))


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
