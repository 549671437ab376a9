"""Live cockpit sessions: one :class:`LiveSession` per open client session in this process.

A live session numbers its events (seq), keeps the last ones for sockets that reconnect and resume, fans them
out to every socket watching it, and runs the LLM work for the latest observation as one task that a newer
observation cancels (supersedes). The database is the source of truth: a session that is not live (after a
restart) is rebuilt from its stored interactions.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Coroutine
from typing import Any, Protocol

import structlog

from backend.domain.clients import ClientService
from backend.domain.clients.schemas import ClientIn
from backend.domain.copilot import views
from backend.domain.copilot.conversation import RECENT_TURNS_KEPT, Conversation, Turn
from backend.domain.copilot.copilot import Copilot
from backend.domain.protocol.cockpit import PROTOCOL_VERSION
from backend.domain.sessions.store import SessionStore, StoredSession, chat_line
from backend.errors import Conflict, InvalidInput

__all__ = ("LiveSession", "SessionHub", "Subscriber")

log = structlog.get_logger(__name__)

EVENT_LOG = 2000  # events kept per session for resuming; older gaps get a full snapshot instead


class Subscriber(Protocol):
    def deliver(self, text: str) -> None: ...


def encode(event_type: str, payload: dict[str, Any], **envelope: Any) -> str:
    return json.dumps({"v": PROTOCOL_VERSION, "type": event_type, **envelope, **payload}, ensure_ascii=False)


class LiveSession:
    def __init__(
        self, stored: StoredSession, conv: Conversation, copilot: Copilot, store: SessionStore, clients: ClientService
    ) -> None:
        self.id = stored.session.id
        self.client_id = stored.client.id
        self.client = clients.out(stored.client).model_dump(mode="json")
        self.ended = stored.session.ended_at is not None
        self.earlier_sessions = len(stored.earlier)
        self.customer_chat = stored.customer_chat
        self.conv = conv
        self.copilot = copilot
        self.store = store
        self.clients = clients
        self.seq = 0
        self.log: deque[tuple[int, str]] = deque(maxlen=EVENT_LOG)
        self.subscribers: set[Subscriber] = set()
        self.lock = asyncio.Lock()  # one observation at a time per session, in arrival order
        self.history: list[dict[str, Any]] = [_history_item(i.id, i.kind, i.user_input) for i in stored.interactions]
        self.latest: dict[str, Any] | None = None
        self.batch = 0
        self._thinking: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    # ---- events ----------------------------------------------------------------------------------------

    def emit(self, event_type: str, payload: dict[str, Any]) -> None:
        self.seq += 1
        text = encode(event_type, payload, seq=self.seq, session_id=self.id)
        self.log.append((self.seq, text))
        for subscriber in list(self.subscribers):
            subscriber.deliver(text)
        # A snapshot (after a long disconnect) shows the newest assessment and moves of the latest observation.
        latest = self.latest
        if (
            event_type in ("assessment", "moves")
            and latest
            and payload.get("interaction_id") == latest["interaction_id"]
        ):
            latest[event_type] = payload

    def missed(self, last_seq: int) -> list[str] | None:
        """The events after ``last_seq``, or None when some of them are no longer kept (send a snapshot)."""
        if last_seq > self.seq:
            return None  # numbered by an earlier process (the backend restarted): start over from a snapshot
        if last_seq == self.seq:
            return []
        if not self.log or self.log[0][0] > last_seq + 1:
            return None
        return [text for seq, text in self.log if seq > last_seq]

    def chat_line(self, speaker: str, text: str, action: str = "said") -> None:
        """The customer's chat moved on: someone said something (action "said", "replied") or the bot took over
        again ("handed_back")."""
        if self.customer_chat is not None:
            if action == "handed_back":
                self.customer_chat["human_active"] = False
            else:
                self.customer_chat["lines"].append(chat_line(speaker, text))
            if action == "replied":
                self.customer_chat["human_active"] = True
        self.emit("customer_channel", {"action": action, "speaker": speaker, "text": text})

    def snapshot(self) -> str:
        return encode(
            "session",
            {
                "client": self.client,
                "summary": self.conv.summary,
                "key_facts": self.conv.key_facts,
                "earlier_sessions": self.earlier_sessions,
                "history": self.history,
                "latest": self.latest,
                "ended": self.ended,
                "customer_chat": self.customer_chat,
            },
            seq=self.seq,
            session_id=self.id,
        )

    # ---- work ------------------------------------------------------------------------------------------

    async def observe(self, text: str, client_message_id: str) -> None:
        """Store, acknowledge, fast path; then the LLM path in the background (superseding older LLM work)."""
        self._check_open()
        async with self.lock:
            recorded = await self.store.record(self.id, "observation", text, client_message_id)
            self.emit(
                "ack",
                {
                    "client_message_id": client_message_id,
                    "interaction_id": recorded.interaction_id,
                    "duplicate": recorded.duplicate,
                },
            )
            if recorded.duplicate:
                return
            iid = recorded.interaction_id
            fast = await self.copilot.run(self.copilot.observe, self.conv, text, iid)
            fast_json = views.fast_result(fast, self.copilot.engine.pack)
            self.emit("fast_result", {"interaction_id": iid, **fast_json})
            self.history.append(_history_item(iid, "observation", text))
            self.latest = {"interaction_id": iid, "fast_result": fast_json, "assessment": None, "moves": None}
            self.batch = 0
            leader = self.conv.state.leader
            new_leader = (
                leader if leader is not None and (fast.leader_changed or not self.client["archetype"]) else None
            )
            self._supersede(self._think(iid, {"fast_result": fast_json}, new_leader))

    async def _think(self, iid: int, fast_record: dict[str, Any], new_leader: str | None) -> None:
        record: dict[str, Any] = {}
        try:
            record = await self.copilot.think(self.conv, self.emit)
        finally:
            # One write for the whole response, also when a newer observation superseded the LLM work.
            await self.store.save_response(iid, {**fast_record, **record})
            if new_leader is not None:
                self.client["archetype"] = new_leader
                await self.clients.set_archetype(self.client_id, new_leader)
        if await self.copilot.remember(self.conv):
            await self.store.save_memory(self.id, self.conv.summary, self.conv.key_facts)
            self.emit("memory", {"summary": self.conv.summary, "key_facts": self.conv.key_facts})

    async def regenerate(self) -> None:
        self._check_open()
        if self.conv.fast is None or self.conv.interaction_id is None:
            raise InvalidInput("There is no observation yet to suggest moves for.")
        self.batch += 1
        iid, batch = self.conv.interaction_id, self.batch

        async def work() -> None:
            result = await self.copilot.moves(self.conv, self.emit, batch)
            await self.store.save_response(iid, {f"moves_{batch}": result})

        self._supersede(work())

    async def advise(self, text: str, client_message_id: str) -> None:
        self._check_open()
        recorded = await self.store.record(self.id, "advisor", text, client_message_id)
        payload = {"client_message_id": client_message_id, "interaction_id": recorded.interaction_id}
        self.emit("ack", {**payload, "duplicate": recorded.duplicate})
        if recorded.duplicate:
            return
        self.history.append(_history_item(recorded.interaction_id, "advisor", text))

        async def work() -> None:
            result = await self.copilot.advise(self.conv, text, recorded.interaction_id, self.emit)
            await self.store.save_response(recorded.interaction_id, {"advisor": result})

        self._spawn(work())

    async def strategy(self) -> None:
        async def work() -> None:
            self.emit("strategy", await self.copilot.strategy(self.conv))

        self._spawn(work())

    async def feedback(self, suggestion_id: str, rating: int, user_id: int) -> None:
        await self.store.feedback(self.id, suggestion_id, rating, user_id)
        self.emit("feedback_saved", {"suggestion_id": suggestion_id, "rating": rating})

    async def end(self) -> None:
        await self.store.end(self.id)
        self.ended = True
        self._supersede(None)
        self.emit("session_ended", {})

    def _check_open(self) -> None:
        if self.ended:
            raise Conflict("This session has ended; open the client again to start a new one.")

    def _supersede(self, work: Coroutine[Any, Any, None] | None) -> None:
        if self._thinking is not None and not self._thinking.done():
            self._thinking.cancel()
        self._thinking = None if work is None else self._spawn(work)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(_logged(work, self.id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def idle(self) -> None:
        """Wait for the background work (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self.idle()


async def _logged(work: Coroutine[Any, Any, None], session_id: int) -> None:
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        # The observation itself is already stored; a failed save of an AI response is logged, not fatal.
        log.exception("session_work_failed", session_id=session_id)


def _history_item(interaction_id: int, kind: str, text: str) -> dict[str, Any]:
    return {"interaction_id": interaction_id, "kind": kind, "text": text}


class SessionHub:
    """The live sessions of this process and every connected socket (for status broadcasts)."""

    def __init__(self, copilot: Copilot, store: SessionStore, clients: ClientService) -> None:
        self.copilot = copilot
        self.store = store
        self.clients = clients
        self.sessions: dict[int, LiveSession] = {}
        self.peers: set[Subscriber] = set()
        self._loading: dict[int, asyncio.Lock] = {}
        copilot.llm.listeners.append(lambda _status: self.broadcast(self.status_event()))

    def status(self) -> dict[str, Any]:
        """LLM up/degraded/off and the model in use, and a broken rule file, if any."""
        error = self.copilot.engine.rules.error
        return {**self.copilot.llm.status.as_json(), "rules_error": str(error) if error else None}

    def status_event(self) -> str:
        return encode("status", self.status())

    def customer_chat(self, client_id: int, speaker: str, text: str) -> None:
        """A line of a bot conversation whose lead became this client: into every live session of the client."""
        for live in list(self.sessions.values()):
            if live.client_id == client_id:
                live.chat_line(speaker, text)

    def broadcast(self, text: str) -> None:
        for peer in list(self.peers):
            peer.deliver(text)

    async def open(self, *, user_id: int, client_id: int | None, new_client: ClientIn | None) -> LiveSession:
        if new_client is not None:
            client_id = (await self.clients.create(new_client, user_id)).id
        assert client_id is not None
        session_id = await self.store.start(client_id, user_id)
        return await self.get(session_id)

    async def get(self, session_id: int) -> LiveSession:
        live = self.sessions.get(session_id)
        if live is not None:
            return live
        async with self._loading.setdefault(session_id, asyncio.Lock()):
            live = self.sessions.get(session_id)
            if live is None:
                stored = await self.store.load(session_id)
                conv = await self.copilot.run(self._rebuild, stored)
                live = LiveSession(stored, conv, self.copilot, self.store, self.clients)
                latest = [i for i in stored.interactions if i.kind == "observation"][-1:]
                if latest and latest[0].ai_response:
                    response = latest[0].ai_response
                    live.latest = {
                        "interaction_id": latest[0].id,
                        "fast_result": response.get("fast_result"),
                        "assessment": response.get("assessment"),
                        "moves": response.get("moves"),
                    }
                self.sessions[session_id] = live
        return live

    def _rebuild(self, stored: StoredSession) -> Conversation:
        """The conversation as it was: fast-path state replayed from the stored observations, memory from the row."""
        conv = Conversation(earlier_sessions=stored.earlier)
        conv.add_key_facts(stored.earlier_key_facts)
        conv.add_key_facts([str(f) for f in stored.session.key_facts])
        for interaction in stored.interactions:
            if interaction.kind == "observation":
                self.copilot.observe(conv, interaction.user_input, interaction.id)
            elif interaction.kind == "advisor":
                conv.turns.append(Turn("advisor", interaction.user_input))
        conv.summary = stored.session.summary
        if conv.summary:
            conv.turns = conv.turns[-RECENT_TURNS_KEPT:]  # the rest is in the summary
        return conv

    async def close(self) -> None:
        for live in self.sessions.values():
            await live.close()
