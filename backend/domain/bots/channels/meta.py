"""Meta's three customer channels — WhatsApp Business (Cloud API), Messenger and Instagram — through one webhook
machinery: the verification handshake, the ``X-Hub-Signature-256`` check over the raw body, batched bodies read
into one stored event per message (dedup by Meta's message id: Meta retries), and replies via the Graph API.

A POST is verified before anything is read, each message in it is stored (one transaction) before the 200, and
the bot service handles each once, in order per conversation. Status callbacks (sent, delivered, read), echoes
of our own replies and reactions are acknowledged and dropped. The 24-hour customer-service window: a reply more
than 24 hours after the customer last wrote may only be an approved template (WhatsApp, when one is configured);
otherwise it is refused before it is sent (:class:`OutsideWindow`), and the Graph API's own refusal says the same.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar

from litestar import Request, Response, get, post
from litestar.status_codes import HTTP_200_OK

from backend.adapters.graph_api import GraphApiClient, GraphApiError
from backend.domain.bots.dialog import BotReply, say
from backend.domain.bots.service import MAX_TEXT, BotService, CustomerEvent
from backend.domain.engine.engine import guess_language
from backend.errors import InvalidInput, NotAuthenticated, NotFound, OutsideWindow, PermissionDenied
from backend.redaction import PHONE
from backend.services import ServicesDep
from backend.settings import GraphApiSettings, Settings, _MetaChannelSettings

__all__ = (
    "InstagramChannel",
    "MessengerChannel",
    "MetaChannel",
    "WhatsAppChannel",
    "meta_channels",
    "meta_verification",
    "meta_webhook",
)

BUTTON_TITLE = 20  # characters Meta shows of a reply button's / quick reply's title
SHARE_PHONE = "share_phone"  # the WhatsApp button that shares the number the customer writes from
MEDIA = frozenset({"image", "audio", "video", "document", "sticker", "voice", "file"})


class MetaChannel(ABC):
    """What the three share; a subclass says how its messages look and how a reply is sent."""

    name: str
    object_type: ClassVar[str]  # the webhook body's "object"
    template: str | None = None  # name:language of an approved template for outside the window (WhatsApp only)

    def __init__(self, settings: _MetaChannelSettings, client: GraphApiClient) -> None:
        assert settings.verify_token and settings.app_secret  # configured() was checked by meta_channels()
        self._verify_token = settings.verify_token.get_secret_value().encode()
        self._app_secret = settings.app_secret.get_secret_value().encode()
        self.client = client

    # ---- the webhook ---------------------------------------------------------------------------------------

    def challenge(self, mode: str | None, token: str | None, challenge: str | None) -> str | None:
        """Meta's verification GET: the challenge to echo, or None (then 403)."""
        if mode != "subscribe" or token is None or challenge is None:
            return None
        return challenge if hmac.compare_digest(token.encode(), self._verify_token) else None

    def signed(self, body: bytes, header: str) -> bool:
        """Whether ``header`` (``sha256=<hex>``) is the HMAC-SHA256 of the raw body under the app secret."""
        expected = "sha256=" + hmac.new(self._app_secret, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(header.strip().lower().encode(), expected.encode())

    def events(self, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """(event id, payload) of every customer message in a (batched) webhook body; the rest is dropped."""
        if body.get("object") != self.object_type:
            raise InvalidInput(f"This webhook takes object {self.object_type!r} bodies.")
        return [(_event_id(event_id), payload) for event_id, payload in self._messages(body)]

    @abstractmethod
    def _messages(self, body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        """(message id, what is stored of it) for every customer message in the body."""

    # ---- the Channel protocol ------------------------------------------------------------------------------

    @abstractmethod
    def read(self, payload: dict[str, Any]) -> CustomerEvent:
        """What the customer did, from a stored message."""

    async def send(self, conversation: str, replies: list[BotReply], sender: str = "bot") -> None:
        try:
            for reply in replies:
                await self._send(conversation, reply)
        except GraphApiError as exc:
            if exc.outside_window:
                raise OutsideWindow(str(exc)) from exc
            raise

    @abstractmethod
    async def _send(self, conversation: str, reply: BotReply) -> None:
        """One reply, in the channel's Graph API shape."""

    async def typing(self, conversation: str) -> None:
        return None  # WhatsApp has no typing indicator without a message id; see the subclasses

    async def close(self) -> None:
        await self.client.close()


class WhatsAppChannel(MetaChannel):
    name = "whatsapp"
    object_type = "whatsapp_business_account"

    def __init__(self, settings: Any, client: GraphApiClient) -> None:
        super().__init__(settings, client)
        self.phone_number_id: str = settings.phone_number_id
        self.template = settings.template

    def _messages(self, body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        for entry in _list(body.get("entry")):
            for change in _list(entry.get("changes")):
                value = change.get("value") or {}
                if change.get("field") != "messages" or not isinstance(value, dict):
                    continue
                names = {c.get("wa_id"): (c.get("profile") or {}).get("name") for c in _list(value.get("contacts"))}
                for message in _list(value.get("messages")):  # value["statuses"]: sent/delivered/read, dropped
                    if message.get("type") == "reaction" or not message.get("id") or not message.get("from"):
                        continue
                    yield str(message["id"]), {"message": message, "name": names.get(message["from"]) or ""}

    def read(self, payload: dict[str, Any]) -> CustomerEvent:
        message = payload.get("message") or {}
        kind = message.get("type")
        base: dict[str, Any] = {
            "conversation": str(message.get("from") or "") or None,
            "sender_name": str(payload.get("name") or ""),
            "at": _seconds(message.get("timestamp")),
        }
        if kind == "text":
            return _text_event(str((message.get("text") or {}).get("body") or ""), **base)
        if kind == "interactive":
            interactive = message.get("interactive") or {}
            chosen = interactive.get("button_reply") or interactive.get("list_reply") or {}
            if chosen.get("id") == SHARE_PHONE:  # the customer shares the number they write from
                return CustomerEvent(kind="contact", phone="+" + str(message["from"]), **base)
            return CustomerEvent(kind="callback", text=str(chosen.get("id") or ""), **base)
        if kind == "button":  # a quick-reply button of a template
            button = message.get("button") or {}
            return _text_event(str(button.get("text") or button.get("payload") or ""), **base)
        if kind == "contacts":
            card = next(iter(_list(message.get("contacts"))), {})
            phone = next((p.get("phone") for p in _list(card.get("phones")) if p.get("phone")), "")
            name = str((card.get("name") or {}).get("formatted_name") or "")
            return CustomerEvent(kind="contact", phone=str(phone), name=name, **base)
        if kind == "location":
            where = message.get("location") or {}
            said = ", ".join(str(where[k]) for k in ("name", "address") if where.get(k))
            coordinates = f"{where.get('latitude')}, {where.get('longitude')}"
            return CustomerEvent(kind="location", text=said or coordinates, **base)
        return CustomerEvent(kind="other", **base)  # media, unsupported: a polite text-only answer

    async def _send(self, conversation: str, reply: BotReply) -> None:
        if reply.template:
            await self.send_template(conversation)
            return
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": conversation}
        buttons = list(reply.buttons)
        if reply.ask_contact:
            buttons.append((say("contact_button", guess_language(reply.text)), SHARE_PHONE))
        if buttons:
            body["type"] = "interactive"
            body["interactive"] = {
                "type": "button",
                "body": {"text": reply.text[:1024]},
                "action": {  # WhatsApp shows at most three reply buttons
                    "buttons": [
                        {"type": "reply", "reply": {"id": data, "title": _title(label)}} for label, data in buttons[:3]
                    ]
                },
            }
        else:
            body["type"] = "text"
            body["text"] = {"body": reply.text[:4096], "preview_url": False}
        await self.client.post(f"{self.phone_number_id}/messages", body)

    async def send_template(self, conversation: str) -> None:
        """The approved template that may open a chat outside the 24-hour window."""
        assert self.template is not None
        name, _, language = self.template.partition(":")
        body = {
            "messaging_product": "whatsapp",
            "to": conversation,
            "type": "template",
            "template": {"name": name, "language": {"code": language or "pl"}},
        }
        await self.client.post(f"{self.phone_number_id}/messages", body)


class MessengerChannel(MetaChannel):
    """Facebook Messenger (a Page's inbox); Instagram's messaging has the same shape."""

    name = "messenger"
    object_type = "page"

    def _messages(self, body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        for entry in _list(body.get("entry")):
            for item in _list(entry.get("messaging")):
                message, postback = item.get("message"), item.get("postback")
                sender = (item.get("sender") or {}).get("id")
                if not sender:
                    continue
                if isinstance(message, dict) and not message.get("is_echo") and message.get("mid"):
                    yield str(message["mid"]), item
                elif isinstance(postback, dict):  # a button tap; its mid is there in newer versions
                    yield str(postback.get("mid") or f"postback:{sender}:{item.get('timestamp')}"), item
                # delivery, read, reaction, echo of our own reply: acknowledged, not stored

    def read(self, payload: dict[str, Any]) -> CustomerEvent:
        sender = str((payload.get("sender") or {}).get("id") or "") or None
        base: dict[str, Any] = {"conversation": sender, "at": _seconds(payload.get("timestamp"), 1000)}
        if isinstance(payload.get("postback"), dict):
            return CustomerEvent(kind="callback", text=str(payload["postback"].get("payload") or ""), **base)
        message = payload.get("message") or {}
        chosen = str((message.get("quick_reply") or {}).get("payload") or "")
        if chosen and PHONE.fullmatch(chosen):  # the user_phone_number quick reply: the customer shared it
            return CustomerEvent(kind="contact", phone=chosen, **base)
        if chosen in ("human", "contact"):
            return CustomerEvent(kind="callback", text=chosen, **base)
        text = message.get("text")
        if isinstance(text, str) and text.strip():
            return _text_event(text, **base)
        return CustomerEvent(kind="other", **base)  # attachments: images, audio, stickers, files

    async def _send(self, conversation: str, reply: BotReply) -> None:
        message: dict[str, Any] = {"text": reply.text[:2000]}
        quick = [{"content_type": "text", "title": _title(label), "payload": data} for label, data in reply.buttons]
        if reply.ask_contact:
            quick.append({"content_type": "user_phone_number"})
        if quick:
            message["quick_replies"] = quick[:13]
        body = {"recipient": {"id": conversation}, "messaging_type": "RESPONSE", "message": message}
        await self.client.post("me/messages", body)

    async def typing(self, conversation: str) -> None:
        body = {"recipient": {"id": conversation}, "sender_action": "typing_on"}
        await self.client.post("me/messages", body)


class InstagramChannel(MessengerChannel):
    """Instagram direct messages: Messenger's webhook and send API, but no phone quick reply — the customer is
    asked to type the number (a typed number is a shared contact)."""

    name = "instagram"
    object_type = "instagram"

    async def _send(self, conversation: str, reply: BotReply) -> None:
        if reply.ask_contact:
            reply = BotReply(say("ask_contact_typed", guess_language(reply.text)), reply.buttons)
        await super()._send(conversation, reply)


def meta_channels(settings: Settings) -> list[MetaChannel]:
    """The Meta channels whose settings are complete."""
    kinds: list[tuple[type[MetaChannel], _MetaChannelSettings]] = [
        (WhatsAppChannel, settings.whatsapp),
        (MessengerChannel, settings.messenger),
        (InstagramChannel, settings.instagram),
    ]
    return [kind(config, _client(settings.graph_api, config)) for kind, config in kinds if config.configured()]


def _client(graph: GraphApiSettings, config: _MetaChannelSettings) -> GraphApiClient:
    assert config.access_token is not None
    return GraphApiClient(graph.base, graph.version, config.access_token.get_secret_value())


def _text_event(text: str, **base: Any) -> CustomerEvent:
    text = text.strip()[:MAX_TEXT]
    if PHONE.fullmatch(text):  # a number typed on its own, after the bot asked for one: a shared contact
        return CustomerEvent(kind="contact", phone=text, **base)
    return CustomerEvent(kind="text" if text else "other", text=text, **base)


def _title(label: str) -> str:
    return label if len(label) <= BUTTON_TITLE else label[: BUTTON_TITLE - 1] + "…"


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _seconds(value: Any, per_second: int = 1) -> float | None:
    try:
        return float(value) / per_second
    except (TypeError, ValueError):
        return None


def _event_id(event_id: str) -> str:
    # bot_updates.event_id holds 200 characters; Meta's ids are ~60, a longer one is kept by its digest
    return event_id if len(event_id) <= 200 else "sha256:" + hashlib.sha256(event_id.encode()).hexdigest()


def _channel(services: ServicesDep, request: Request[Any, Any, Any]) -> MetaChannel:
    name = request.url.path.split("/")[2]  # /bots/<channel>/webhook
    channel = services.bots.channels.get(name)
    if not isinstance(channel, MetaChannel):
        raise NotFound(f"The {name} channel is not configured.")
    return channel


PATHS = [f"/bots/{kind.name}/webhook" for kind in (WhatsAppChannel, MessengerChannel, InstagramChannel)]


@get(PATHS, summary="Meta webhook verification (WhatsApp, Messenger, Instagram)", tags=["bots"])
async def meta_verification(request: Request[Any, Any, Any], services: ServicesDep) -> Response[str]:
    meta = _channel(services, request)
    query = request.query_params
    answer = meta.challenge(query.get("hub.mode"), query.get("hub.verify_token"), query.get("hub.challenge"))
    if answer is None:
        raise PermissionDenied("Wrong verify token or mode.")
    return Response(answer, media_type="text/plain", status_code=HTTP_200_OK)


@post(PATHS, status_code=200, summary="Meta webhook (WhatsApp, Messenger, Instagram)", tags=["bots"])
async def meta_webhook(request: Request[Any, Any, Any], services: ServicesDep) -> dict[str, int]:
    """Verified over the raw bytes, then every message stored (one transaction) before the 200."""
    meta = _channel(services, request)
    signature = request.headers.get("x-hub-signature-256")
    if not signature:
        raise NotAuthenticated("X-Hub-Signature-256 is missing.")
    body = await request.body()
    if not meta.signed(body, signature):
        raise PermissionDenied("X-Hub-Signature-256 does not match the body.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("The body is not JSON.") from exc
    if not isinstance(data, dict):
        raise InvalidInput("The body is not a JSON object.")
    bots: BotService = services.bots
    stored = await bots.receive_many(meta.name, meta.events(data))
    return {"stored": stored}
