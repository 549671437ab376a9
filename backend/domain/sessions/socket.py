"""``/ws/cockpit``: the cockpit's socket. One receive loop per socket; everything it sends goes through a
per-socket outbox so a slow client never holds up a session's other sockets."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import structlog
from litestar import WebSocket, websocket

from backend import metrics
from backend.db.models import User
from backend.domain.accounts.auth import foreign_origin, token_from
from backend.domain.accounts.open_sockets import REVALIDATE_SECONDS, OpenSockets
from backend.domain.bots.service import BotService
from backend.domain.clients.schemas import ClientIn
from backend.domain.leads.feed import LeadFeed
from backend.domain.protocol import cockpit as p
from backend.domain.sessions.live import LiveSession, SessionHub
from backend.domain.sockets import POLICY_VIOLATION, TRY_AGAIN_LATER, RateBucket, RatesByKey, SocketOutbox, frames
from backend.errors import (
    InvalidInput,
    NotAuthenticated,
    OutsideWindow,
    RateLimited,
    ServiceUnavailable,
    SuflerError,
    describe,
)
from backend.services import ServicesDep
from backend.tracing import tracer

__all__ = ("cockpit_socket",)

log = structlog.get_logger(__name__)

# Messages that cost work (the fast path, an LLM call): a burst fit for fast typing, then a steady rate — per
# socket, and per user over all their sockets in this process (SessionSettings). Beyond it: a typed rate_limited
# error, nothing stored; the cockpit keeps the message and sends it again shortly.
COSTLY = (p.Observation, p.AdvisorMessage, p.Regenerate, p.StrategyRequest)


def error_event(code: str, message: str, **extra: Any) -> str:
    return p.encode(p.Error(code=code, message=message, **extra))


@websocket("/ws/cockpit")
async def cockpit_socket(socket: WebSocket[Any, Any, Any], services: ServicesDep) -> None:
    if foreign_origin(socket):
        # Cross-site WebSocket hijacking: a page on another site would open the socket with the browser's
        # cookie. Closing before accepting answers the handshake 403; nothing is read or done.
        await socket.close(code=POLICY_VIOLATION, reason="foreign origin")
        return
    await socket.accept()
    try:
        user = await _authenticate(socket, services)
    except ServiceUnavailable as exc:  # overloaded or no database: "try again later", which the cockpit does
        await socket.close(code=TRY_AGAIN_LATER, reason=exc.code)
        return
    if user is None:
        await socket.close(code=POLICY_VIOLATION, reason="not authenticated")
        return
    hub: SessionHub = services.hub
    inbox = await _inbox(services)
    outbox = SocketOutbox(socket)
    limits = services.settings.sessions
    rate = RateBucket(limits.message_burst, limits.messages_per_second)
    conn = Connection(hub, user, outbox, services.leads, services.bots, rate, services.user_rates)
    hello = p.Hello(
        user=p.UserCard(id=user.id, username=user.username, role=user.role.value),
        status=hub.status(),
        max_message_bytes=p.MAX_MESSAGE_BYTES,
        inbox=inbox,
    )
    outbox.deliver(p.encode(hello))
    hub.peers.add(outbox)  # broadcasts (status, leads) only after hello: it is always the first frame
    token = token_from(socket) or ""

    async def close(reason: str) -> None:
        await outbox.close()  # what was queued before is dropped: the login is over
        with contextlib.suppress(Exception):
            await socket.close(code=POLICY_VIOLATION, reason=reason)

    open_sockets: OpenSockets = services.open_sockets
    open_sockets.add(user.id, token, close)
    watch = asyncio.create_task(_revalidate(services, token, close))
    metrics.SOCKETS_OPEN.labels("cockpit").inc()
    try:
        async for raw in frames(socket):
            await conn.handle(raw)
    finally:
        metrics.SOCKETS_OPEN.labels("cockpit").dec()
        watch.cancel()
        open_sockets.discard(close)
        hub.peers.discard(outbox)
        conn.leave()
        await outbox.close()


async def _revalidate(services: ServicesDep, token: str, close: Any) -> None:
    """Close the socket when its login expires, or was revoked while this process missed the announcement.

    Each socket at its own moment (random within ±25 %): sockets opened together would otherwise all ask the
    database at once every REVALIDATE_SECONDS — 200 of them filled both connection pools for ~1.5 s, the fast
    path's p95 went from ~10 to ~180 ms and observations were refused as busy (bench/socket_bench.py)."""
    while True:
        await asyncio.sleep(REVALIDATE_SECONDS * random.uniform(0.75, 1.25))
        try:
            await services.accounts.authenticate(token)
        except NotAuthenticated as exc:
            await close(exc.message)
            return
        except Exception:  # the database is away: keep the socket, check again later
            continue


async def _inbox(services: ServicesDep) -> list[p.LeadCard]:
    try:
        leads: list[p.LeadCard] = await services.leads.open_leads()
    except Exception:  # an unreachable database must not refuse the socket; the inbox fills later
        return []
    return leads


async def _authenticate(socket: WebSocket[Any, Any, Any], services: ServicesDep) -> User | None:
    token = token_from(socket)
    if token is None:
        return None
    try:
        user: User = await services.accounts.authenticate(token)
    except Exception as exc:
        error = describe(exc)
        if isinstance(error, ServiceUnavailable):
            raise error from exc
        if type(error) is SuflerError:  # not a refusal: a fault, logged as one
            raise
        return None
    return None if user.must_change_password else user  # a reset password is changed first


class Connection:
    """One authenticated socket: which session it watches, and what each message type does."""

    def __init__(
        self,
        hub: SessionHub,
        user: User,
        outbox: SocketOutbox,
        leads: LeadFeed,
        bots: BotService,
        rate: RateBucket,
        user_rates: RatesByKey,
    ) -> None:
        self.hub = hub
        self.rate = rate
        self.user_rates = user_rates
        self.leads = leads
        self.bots = bots
        self.user = user
        self.outbox = outbox
        self.live: LiveSession | None = None

    async def handle(self, raw: str | bytes) -> None:
        client_message_id = None
        try:
            message = p.parse_client_message(raw)
            client_message_id = getattr(message, "client_message_id", None)
            if isinstance(message, COSTLY) and not (self.rate.take() and self.user_rates.take(self.user.id)):
                raise RateLimited("Too many messages at once; this one was not stored — it is sent again shortly.")
            with tracer().start_as_current_span(f"cockpit {message.type}"):  # the type only: never the text
                await self._dispatch(message)
        except p.ProtocolError as exc:
            self.outbox.deliver(
                error_event(exc.code, exc.message, details=exc.details, client_message_id=exc.client_message_id)
            )
        except Exception as exc:
            error = describe(exc)
            if error.status_code >= 500 and error.code != "database_unavailable":
                log.error("socket_message_failed", exc_info=exc)
            self.outbox.deliver(error_event(error.code, error.message, client_message_id=client_message_id))

    async def _dispatch(self, message: Any) -> None:
        match message:
            case p.Ping():
                self.outbox.deliver(p.encode(p.Pong()))
            case p.OpenSession():
                await self._open(message)
            case p.Resume(session_id=session_id, last_seq=last_seq):
                metrics.SOCKET_RESUMES.inc()
                await self.hub.clients.check_session(session_id, self.user)
                live = await self.hub.get(session_id)
                self._watch(live)
                missed = live.events.since(last_seq)
                for text in missed if missed is not None else [live.snapshot()]:
                    self.outbox.deliver(text)
            case p.Observation(text=text, client_message_id=cmid):
                await self._session().observe(text, cmid)
            case p.Regenerate():
                await self._session().regenerate()
            case p.AdvisorMessage(text=text, client_message_id=cmid):
                await self._session().advise(text, cmid)
            case p.StrategyRequest():
                await self._session().strategy()
            case p.Feedback(suggestion_id=suggestion_id, rating=rating):
                await self._session().feedback(suggestion_id, rating, self.user.id)
            case p.EndSession():
                live = self._session()
                await live.end()
                await self.leads.close_lead_of(live.client.id)  # a client who came as a lead: it is closed
            case p.CustomerReply(text=text):
                live = self._session()
                channel, chat = await self.leads.conversation_of(live.client.id)
                try:
                    as_template = await self.bots.reply_as_human(channel, chat, text)
                except OutsideWindow:  # not sent: the line says so, where it was typed
                    live.chat_line("salesperson", text, action="outside_window")
                else:
                    live.chat_line("salesperson", text, action="template_sent" if as_template else "replied")
            case p.HandBack():
                live = self._session()
                channel, chat = await self.leads.conversation_of(live.client.id)
                await self.bots.set_human_active(channel, chat, False)
                live.chat_line("", "", action="handed_back")
            case p.KeyFacts(key_facts=facts):
                await self._session().set_key_facts(list(facts))
            case p.ClaimLead(lead_id=lead_id):
                session_id = await self.leads.claim(lead_id, self.user.id, self.user.username)
                live = await self.hub.get(session_id)
                self._watch(live)
                await live.read_customer_chat()  # the snapshot then has it in the history, its moves follow
                self.outbox.deliver(live.snapshot())

    async def _open(self, message: p.OpenSession) -> None:
        given = [message.client_id is not None, message.new_client is not None, message.session_id is not None]
        if sum(given) != 1:
            raise InvalidInput("open_session needs exactly one of client_id, new_client or session_id.")
        if message.session_id is not None:
            await self.hub.clients.check_session(message.session_id, self.user)
            live = await self.hub.get(message.session_id)
        else:
            if message.client_id is not None:
                await self.hub.clients.get(message.client_id, self.user)  # NotFound unless the user may see it
            new_client = ClientIn(**message.new_client.model_dump()) if message.new_client else None
            live = await self.hub.open(user_id=self.user.id, client_id=message.client_id, new_client=new_client)
        self._watch(live)
        self.outbox.deliver(live.snapshot())

    def _watch(self, live: LiveSession) -> None:
        previous, self.live = self.live, live
        self.hub.watch(live, self.outbox)  # first, so that leaving the previous one cannot evict this one
        if previous is not None and previous is not live:
            self.hub.leave(previous, self.outbox)

    def _session(self) -> LiveSession:
        if self.live is None:
            raise InvalidInput("Open a session first (open_session or resume).")
        return self.live

    def leave(self) -> None:
        if self.live is not None:
            self.hub.leave(self.live, self.outbox)
            self.live = None
