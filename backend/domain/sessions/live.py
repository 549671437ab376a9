"""Live cockpit sessions: one :class:`LiveSession` per open client session in this process, the only holder of
that session's state while it is in memory.

A live session numbers its events (:class:`EventLog`), fans them out to every socket watching it, and runs the
LLM work for the latest observation as one task that a newer observation cancels (supersedes). Every piece of
LLM work gets its own snapshot of the conversation, taken under the session's lock, so it can neither see nor
label anything with a newer observation. The database is the source of truth: a session that is not live
(after a restart, or after it sat idle and left memory) is rebuilt from its stored interactions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

import structlog
from pydantic import BaseModel

from backend import metrics
from backend.domain.clients import ClientService
from backend.domain.clients.schemas import ClientIn
from backend.domain.copilot import views
from backend.domain.copilot.conversation import RECENT_TURNS_KEPT, Conversation, Turn
from backend.domain.copilot.copilot import Copilot, Emit
from backend.domain.engine.archetypes import ArchetypeBelief
from backend.domain.engine.engine import guess_language
from backend.domain.protocol import cockpit as p
from backend.domain.sessions.events import EventLog
from backend.domain.sessions.relay import SessionRelay
from backend.domain.sessions.store import SessionStore, StoredSession
from backend.errors import Conflict, InvalidInput

__all__ = ("LiveSession", "SessionHub", "Subscriber")

log = structlog.get_logger(__name__)

Work = Callable[[Emit], Coroutine[Any, Any, None]]
PartT = TypeVar("PartT", bound=BaseModel)


CHAT_LABEL = {"pl": "Klient w czacie z botem", "en": "The customer in the bot chat"}


class Subscriber(Protocol):
    def deliver(self, text: str) -> None: ...


class Relay(Protocol):
    """Carries a session's events to the other backend processes that have it live (see relay.py)."""

    def publish(self, session_id: int, event: p.Event) -> None: ...

    def announce(self, session_id: int) -> None: ...

    def withdraw(self, session_id: int) -> None: ...


def rebuild(copilot: Copilot, stored: StoredSession) -> Conversation:
    """The conversation as it was: fast-path state replayed from the stored observations, memory from the row.
    Runs on an engine thread."""
    conv = Conversation(earlier_sessions=stored.earlier)
    if stored.prior:  # a returning client: where the last visit's beliefs stood, decayed, not a uniform start
        conv.state.belief = ArchetypeBelief.carried(stored.prior)
        conv.state.leader = max(stored.prior, key=lambda slug: stored.prior[slug])
    conv.add_key_facts([str(f) for f in stored.session.key_facts])  # this visit's (carried over at its start)
    for interaction in stored.interactions:
        if interaction.kind == "observation":
            copilot.fast_path(conv, interaction.user_input, interaction.id)
        elif interaction.kind == "advisor":
            conv.turns.append(Turn("advisor", interaction.user_input))
    conv.summary = stored.session.summary
    if conv.summary:
        conv.turns = conv.turns[-RECENT_TURNS_KEPT:]  # the rest is in the summary
    return conv


class LiveSession:
    def __init__(
        self,
        stored: StoredSession,
        conv: Conversation,
        *,
        copilot: Copilot,
        store: SessionStore,
        clients: ClientService,
        relay: Relay | None = None,
    ) -> None:
        self.id = stored.session.id
        self.copilot = copilot
        self.store = store
        self.clients = clients
        self.relay = relay
        self.events = EventLog(self.id)
        self.subscribers: set[Subscriber] = set()
        self.remote_peers: set[str] = set()  # other backend processes that have this session live
        self.idle_since: float | None = time.monotonic()
        self.stale = False  # another process changed it: reload from the database before the next use
        # Guards self.conv: the fast path changes it on an engine thread, everything else reads it (or takes a
        # snapshot of it) only while holding the lock. One observation at a time, in arrival order.
        self.lock = asyncio.Lock()
        self._superseding: asyncio.Task[None] | None = None
        self._current: object = object()  # the newest superseding work; older work may not emit
        self._background: set[asyncio.Task[None]] = set()
        self._strategy: p.StrategyResult | None = None  # cached until the next observation
        self._load(stored, conv)

    def _load(self, stored: StoredSession, conv: Conversation) -> None:
        self.client = self.clients.out(stored.client)
        self.ended = stored.session.ended_at is not None
        self.earlier_sessions = len(stored.earlier)
        pack = self.copilot.engine.pack
        self.visits = [
            v.model_copy(
                update={"archetype_names": {lang: pack.archetypes[v.archetype].name.get(lang) for lang in ("pl", "en")}}
            )
            if v.archetype in pack.archetypes
            else v
            for v in stored.visits
        ]
        self._saved_facts = [str(f) for f in stored.session.key_facts]
        self.customer_chat = stored.customer_chat
        self.conv = conv
        self.history = [
            p.HistoryItem.model_validate({"interaction_id": i.id, "kind": i.kind, "text": i.user_input})
            for i in stored.interactions
        ]
        self.latest: p.LatestObservation | None = None
        self.batch = 0
        observations = [i for i in stored.interactions if i.kind == "observation"]
        if observations:
            response = p.StoredResponse.model_validate(observations[-1].ai_response or {})
            self.latest = p.LatestObservation(
                interaction_id=observations[-1].id,
                fast_result=response.fast_result,
                assessment=response.assessment,
                moves=response.moves,
            )
            self.batch = len(response.batches()) - 1 if response.moves else 0

    async def reload(self) -> None:
        """Take what another process changed from the database (the observations are stored before any ack)."""
        stored = await self.store.load(self.id)
        conv = await self.copilot.run(rebuild, self.copilot, stored)
        latest = self.latest
        self._load(stored, conv)
        if latest is not None and (self.latest is None or latest.interaction_id >= self.latest.interaction_id):
            self.latest = latest  # the events seen are newer than what has been saved so far
        self.stale = False

    # ---- events ----------------------------------------------------------------------------------------

    def emit(self, event: p.Event) -> None:
        if isinstance(event, p.MovesEvent) and event.interaction_id == self.conv.interaction_id:
            # "Generate others" must know what is on screen the moment it is. Safe without the lock: only the
            # current work emits moves, and an observation supersedes it before its fast path touches conv.
            self.conv.shown_moves.extend(m.text for m in event.moves)
        self._publish(event)
        if self.relay is not None and self.remote_peers:
            self.relay.publish(self.id, event)

    def receive_remote(self, event: p.Event) -> None:
        """An event of this session from another backend process: shown here too; its state is reloaded lazily."""
        if isinstance(event, p.Ack | p.SessionEnded | p.MemoryEvent):
            self.stale = True
        if isinstance(event, p.FastResultEvent):
            self.latest = p.LatestObservation(
                interaction_id=event.interaction_id, fast_result=_part(p.FastResult, event), assessment=None, moves=None
            )
        self._publish(event)

    def _publish(self, event: p.Event) -> None:
        self._keep_latest(event)
        text = self.events.add(event)
        for subscriber in list(self.subscribers):
            subscriber.deliver(text)

    def _keep_latest(self, event: p.Event) -> None:
        """A snapshot (after a long disconnect) shows the newest assessment and moves of the latest observation."""
        latest = self.latest
        if latest is None or getattr(event, "interaction_id", None) != latest.interaction_id:
            return
        if isinstance(event, p.AssessmentEvent):
            latest.assessment = _part(p.AssessmentResult, event)
        elif isinstance(event, p.MovesEvent):
            latest.moves = _part(p.MovesResult, event)

    def chat_line(self, speaker: str, text: str, action: str = "said") -> None:
        """The customer's chat moved on: someone said something (action "said", "replied") or the bot took over
        again ("handed_back")."""
        if self.customer_chat is not None:
            if action == "handed_back":
                self.customer_chat.human_active = False
            elif action not in ("undelivered", "outside_window"):  # undelivered: already there, as sent
                self.customer_chat.lines.append(p.ChatLine.model_validate({"speaker": speaker, "text": text}))
            if action == "outside_window":
                self.customer_chat.window = "closed"
            elif action == "said" and speaker == "customer":
                self.customer_chat.window = "open"
            if action in ("replied", "template_sent"):
                self.customer_chat.human_active = True
        self._publish(p.CustomerChannel.model_validate({"action": action, "speaker": speaker, "text": text}))

    def snapshot(self) -> str:
        return p.encode(
            p.SessionOpened(
                seq=self.events.seq,
                session_id=self.id,
                client=self.client,
                summary=self.conv.summary,
                key_facts=self.conv.key_facts,
                earlier_sessions=self.earlier_sessions,
                earlier=self.visits,
                history=self.history,
                latest=self.latest,
                ended=self.ended,
                customer_chat=self.customer_chat,
            )
        )

    # ---- work ------------------------------------------------------------------------------------------

    async def observe(self, text: str, client_message_id: str) -> None:
        """Store, acknowledge, fast path; then the LLM path in the background (superseding older LLM work)."""
        self._check_open()
        async with self.lock:
            if self.stale:
                await self.reload()
            recorded = await self.store.record(self.id, "observation", text, client_message_id)
            iid = recorded.interaction_id
            self.emit(p.Ack(client_message_id=client_message_id, interaction_id=iid, duplicate=recorded.duplicate))
            if recorded.duplicate:
                return
            self._supersede(None)  # older LLM work stops before this observation changes anything
            fast = await self.copilot.run(self.copilot.fast_path, self.conv, text, iid)
            shown = views.fast_result(fast, self.copilot.engine.pack)
            # Facts the observation states, in the salesperson's words: memory without an LLM. Not in the fast
            # path itself, which also replays stored observations: a fact the salesperson deleted stays deleted.
            self.conv.add_key_facts(self.copilot.engine.key_facts(text, fast.language))
            self.history.append(p.HistoryItem(interaction_id=iid, kind="observation", text=text))
            self.latest = p.LatestObservation(interaction_id=iid, fast_result=shown, assessment=None, moves=None)
            self.emit(p.FastResultEvent(interaction_id=iid, **dict(shown)))
            self.batch = 0
            leader = self.conv.state.leader
            new_leader = leader if leader is not None and (fast.leader_changed or not self.client.archetype) else None
            conv = self.conv.snapshot()

        async def think(emit: Emit) -> None:
            await self._think(conv, shown, new_leader, emit)

        self._supersede(think)

    async def read_customer_chat(self) -> None:
        """A lead just taken from a bot: the customer's messages run through the co-pilot as the session's first
        observation (archetype, indicators, knowledge, moves before the salesperson types anything). Stored like
        any observation, under a label saying whose words they are; once per session."""
        chat = self.customer_chat
        said = [line.text for line in chat.lines if line.speaker == "customer"] if chat is not None else []
        if not said or self.history:
            return
        label = CHAT_LABEL[guess_language(" ".join(said))]
        text = f"{label}: " + " / ".join(said)
        if len(text) > p.MAX_TEXT:  # the newest words matter most
            text = f"{label}: …" + text[-(p.MAX_TEXT - len(label) - 3) :]
        await self.observe(text, "lead-chat")

    async def answer_unanswered(self) -> None:
        """The last observation stored and acknowledged, but a crash cut off its analysis (its response is written
        only when the analysis ends): analysed now, as it would have been, fast result first, then the LLM's work.
        The fast path already ran on it when the session was rebuilt from the stored observations."""
        async with self.lock:
            latest, fast = self.latest, self.conv.fast
            if latest is None or latest.fast_result is not None or fast is None:
                return
            if self.conv.interaction_id != latest.interaction_id:
                return
            shown = views.fast_result(fast, self.copilot.engine.pack)
            self.latest = latest.model_copy(update={"fast_result": shown})
            self.emit(p.FastResultEvent(interaction_id=latest.interaction_id, **dict(shown)))
            conv = self.conv.snapshot()
        log.info("unanswered_observation_analysed", session_id=self.id, interaction_id=latest.interaction_id)

        async def think(emit: Emit) -> None:
            await self._think(conv, shown, None, emit)

        self._supersede(think)

    async def _think(self, conv: Conversation, shown: p.FastResult, new_leader: str | None, emit: Emit) -> None:
        assert conv.interaction_id is not None
        token = self._current
        stored = p.StoredResponse(fast_result=shown)
        known = set(conv.key_facts)  # what the snapshot began with: only the assessment's new facts go back
        try:
            answer = await self.copilot.think(conv, emit)
            stored.assessment, stored.moves = answer.assessment, answer.moves
        finally:
            # One write for the whole response, also when a newer observation superseded the LLM work.
            await self.store.save_response(conv.interaction_id, stored)
            if new_leader is not None:
                self.client.archetype = new_leader
                await self.clients.set_archetype(self.client.id, new_leader)
            async with self.lock:
                # Facts stay facts, even when superseded; one the salesperson deleted meanwhile stays deleted.
                self.conv.add_key_facts([f for f in conv.key_facts if f not in known])
                if token is self._current:
                    self.conv.assessment = conv.assessment
            await self._save_key_facts()
        memory = await self.copilot.remember(conv)
        if memory is not None:
            async with self.lock:
                memory.apply(self.conv)
                summary, key_facts = self.conv.summary, list(self.conv.key_facts)
            await self.store.save_memory(self.id, summary, key_facts)
            self._saved_facts = key_facts
            self.emit(p.MemoryEvent(summary=summary, key_facts=key_facts))

    async def _save_key_facts(self) -> None:
        """Store and show the key facts when they changed (new ones from the observation or the assessment)."""
        async with self.lock:
            summary, key_facts = self.conv.summary, list(self.conv.key_facts)
        if key_facts != self._saved_facts:
            await self.store.save_key_facts(self.id, key_facts)
            self._saved_facts = key_facts
            self.emit(p.MemoryEvent(summary=summary, key_facts=key_facts))

    async def set_key_facts(self, key_facts: list[str]) -> None:
        """The salesperson's corrected list replaces the session's key facts."""
        self._check_open()
        async with self.lock:
            self.conv.key_facts = []
            self.conv.add_key_facts(key_facts)  # without repeats
        await self._save_key_facts()

    async def regenerate(self) -> None:
        self._check_open()
        async with self.lock:
            if self.conv.fast is None or self.conv.interaction_id is None:
                raise InvalidInput("There is no observation yet to suggest moves for.")
            self.batch += 1
            iid, batch, conv = self.conv.interaction_id, self.batch, self.conv.snapshot()

        async def work(emit: Emit) -> None:
            result = await self.copilot.moves(conv, emit, batch)
            await self.store.save_response(iid, p.StoredResponse(**{p.StoredResponse.moves_key(batch): result}))

        self._supersede(work)

    async def advise(self, text: str, client_message_id: str) -> None:
        self._check_open()
        recorded = await self.store.record(self.id, "advisor", text, client_message_id)
        iid = recorded.interaction_id
        self.emit(p.Ack(client_message_id=client_message_id, interaction_id=iid, duplicate=recorded.duplicate))
        if recorded.duplicate:
            return
        self.history.append(p.HistoryItem(interaction_id=iid, kind="advisor", text=text))
        async with self.lock:
            self.conv.turns.append(Turn("advisor", text))
            conv = self.conv.snapshot()

        async def work() -> None:
            answer = await self.copilot.advise(conv, text, iid, self.emit)
            await self.store.save_response(iid, p.StoredResponse(advisor=answer))
            if answer.mode == "llm":
                async with self.lock:
                    self.conv.turns.append(Turn("advisor_answer", answer.text))

        self._spawn(work())

    async def strategy(self) -> None:
        async with self.lock:
            conv = self.conv.snapshot()

        async def work() -> None:
            cached = self._strategy
            if cached is None or cached.version != conv.version:
                cached = await self.copilot.strategy(conv)
                self._strategy = cached  # valid until the next observation
            self.emit(p.StrategyEvent(**dict(cached)))

        self._spawn(work())

    async def feedback(self, suggestion_id: str, rating: int, user_id: int) -> None:
        await self.store.feedback(self.id, suggestion_id, rating, user_id)
        self.emit(p.FeedbackSaved(suggestion_id=suggestion_id, rating=rating))

    async def end(self) -> None:
        await self.store.end(self.id)
        self.ended = True
        self._supersede(None)
        self.emit(p.SessionEnded())

    def _check_open(self) -> None:
        if self.ended:
            raise Conflict("This session has ended; open the client again to start a new one.")

    def _supersede(self, work: Work | None) -> None:
        """Cancel the current superseding work; start ``work`` as the new one, with an emit that goes quiet the
        moment newer work supersedes it."""
        if self._superseding is not None and not self._superseding.done():
            self._superseding.cancel()
            metrics.LLM_SUPERSEDED.inc()
        token = self._current = object()

        def emit(event: p.Event) -> None:
            if token is self._current:
                self.emit(event)

        self._superseding = None if work is None else self._spawn(work(emit))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(_logged(work, self.id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    @property
    def busy(self) -> bool:
        return bool(self._background) or self.lock.locked()

    async def idle(self) -> None:
        """Wait for the background work (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self.idle()


def _part(part: type[PartT], event: p.Event) -> PartT:
    """The part of an event that the snapshot and the store keep (the event without its envelope)."""
    return part.model_validate({name: getattr(event, name) for name in part.model_fields})


async def _logged(work: Coroutine[Any, Any, None], session_id: int) -> None:
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        # The observation itself is already stored; a failed save of an AI response is logged, not fatal.
        log.exception("session_work_failed", session_id=session_id)


class SessionHub:
    """The live sessions of this process and every connected socket (for status broadcasts).

    A session nobody watches leaves memory ``idle_seconds`` after its last socket left and its work ended.
    With a relay, a session live in several backend processes (two devices behind a load balancer) gets every
    event in all of them: each process announces the sessions it has live, and relays their events to the others
    that have them too.
    """

    def __init__(
        self,
        copilot: Copilot,
        store: SessionStore,
        clients: ClientService,
        *,
        idle_seconds: float = 300.0,
        database_url: str | None = None,
    ) -> None:
        """``database_url``: relay events to the other backend processes on that database (None: this one only)."""
        self.copilot = copilot
        self.store = store
        self.clients = clients
        self.idle_seconds = idle_seconds
        self.relay = SessionRelay(database_url, self) if database_url is not None else None
        self.sessions: dict[int, LiveSession] = {}
        self.peers: set[Subscriber] = set()
        self._loading: dict[int, asyncio.Lock] = {}
        self._changed_while_loading: set[int] = set()
        self._sweeper: asyncio.Task[None] | None = None
        copilot.llm.listeners.append(lambda _status: self.broadcast(self.status_event()))

    def status(self) -> p.LLMStatus:
        """LLM up/degraded/off and the model in use, and a broken rule file, if any."""
        error = self.copilot.engine.rules.error
        return p.LLMStatus(**self.copilot.llm.status.as_json(), rules_error=str(error) if error else None)

    def status_event(self) -> str:
        return p.encode(p.Status(**dict(self.status())))

    def customer_chat(self, client_id: int, speaker: str, text: str, action: str = "said") -> None:
        """A line of a bot conversation whose lead became this client: into every live session of the client."""
        for live in list(self.sessions.values()):
            if live.client.id == client_id:
                live.chat_line(speaker, text, action)

    def broadcast(self, text: str) -> None:
        for peer in list(self.peers):
            peer.deliver(text)

    # ---- opening, watching, leaving memory ---------------------------------------------------------------

    async def open(self, *, user_id: int, client_id: int | None, new_client: ClientIn | None) -> LiveSession:
        if new_client is not None:
            client_id = (await self.clients.create(new_client, user_id)).id
        assert client_id is not None
        session_id = await self.store.start(client_id, user_id)
        return await self.get(session_id)

    async def get(self, session_id: int) -> LiveSession:
        live = self.sessions.get(session_id)
        if live is None:
            async with self._loading.setdefault(session_id, asyncio.Lock()):
                live = self.sessions.get(session_id)
                if live is None:
                    live = await self._load(session_id)
            self._loading.pop(session_id, None)
        if live.stale:
            async with live.lock:
                if live.stale:
                    await live.reload()
        return live

    async def _load(self, session_id: int) -> LiveSession:
        if self.relay is not None:
            self.relay.announce(session_id)  # before loading: what others emit from now on marks it stale
        stored = await self.store.load(session_id)
        conv = await self.copilot.run(rebuild, self.copilot, stored)
        live = LiveSession(stored, conv, copilot=self.copilot, store=self.store, clients=self.clients, relay=self.relay)
        if session_id in self._changed_while_loading:
            self._changed_while_loading.discard(session_id)
            live.stale = True
        self.sessions[session_id] = live
        await live.answer_unanswered()
        return live

    def watch(self, live: LiveSession, subscriber: Subscriber) -> None:
        live.subscribers.add(subscriber)
        live.idle_since = None

    def leave(self, live: LiveSession, subscriber: Subscriber) -> None:
        live.subscribers.discard(subscriber)
        if not live.subscribers:
            live.idle_since = time.monotonic()
            if self.idle_seconds == 0:
                self.evict_idle()

    def evict_idle(self, now: float | None = None) -> int:
        """Drop the sessions nobody has watched for ``idle_seconds`` and that have no work running."""
        now = time.monotonic() if now is None else now
        gone = [
            sid
            for sid, live in self.sessions.items()
            if not live.subscribers
            and not live.busy
            and live.idle_since is not None
            and now - live.idle_since >= self.idle_seconds
        ]
        for sid in gone:
            del self.sessions[sid]
            if self.relay is not None:
                self.relay.withdraw(sid)
        return len(gone)

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep())
        if self.relay is not None:
            self.relay.start()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(max(1.0, min(60.0, self.idle_seconds / 2)))
            self.evict_idle()

    # ---- other processes (see relay.py) ------------------------------------------------------------------

    def remote_watch(self, session_id: int, origin: str, watching: bool) -> bool:
        """Another process has ``session_id`` live (or no longer); True when it is live here too."""
        live = self.sessions.get(session_id)
        if live is None:
            return False
        if watching:
            live.remote_peers.add(origin)
        else:
            live.remote_peers.discard(origin)
        return True

    def remote_event(self, session_id: int, event: p.Event | None) -> None:
        """An event of a session from another process (None: one too large to relay; reload instead)."""
        if session_id in self._loading:
            self._changed_while_loading.add(session_id)
        live = self.sessions.get(session_id)
        if live is None:
            return
        if event is None:
            live.stale = True
        else:
            live.receive_remote(event)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        for live in self.sessions.values():
            await live.close()
        if self.relay is not None:
            await self.relay.close()
