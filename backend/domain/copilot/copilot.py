"""The co-pilot loop: the fast path, then the LLM path (assessment → refined indicators → four moves), the
advisor, the full strategy and the session memory — with degraded answers whenever the LLM cannot help.

Results go out through ``emit(event)`` (protocol events) as they form, so the socket streams them and the replay
command prints them. Every payload that carries suggestions says which mode produced it ("llm"/"degraded").
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel

from backend import metrics
from backend.adapters.llm import LLM, Answer, LLMError, LLMUnavailable
from backend.domain.copilot import views
from backend.domain.copilot.conversation import RECENT_TURNS_KEPT, Conversation, Turn
from backend.domain.copilot.grounding import Grounds, pack_text
from backend.domain.copilot.llm_outputs import Assessment, KeyFacts, NextMoves, Strategy, Summary
from backend.domain.copilot.partial_json import completed_members
from backend.domain.copilot.prompts import Prompts
from backend.domain.engine.engine import CopilotEngine, FastResult, SuggestedMove
from backend.domain.pack.pack import MOVE_KINDS
from backend.domain.protocol import cockpit as p
from backend.tracing import tracer

__all__ = ("Copilot", "Emit", "Memory")

log = structlog.get_logger(__name__)

Emit = Callable[[p.Event], None]
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

ENGINE_THREADS = 2

ADVISOR_UNAVAILABLE = {
    "pl": "Doradca AI jest teraz niedostępny (tryb awaryjny). Sugestie ruchów nadal działają z podręcznika archetypu.",
    "en": "The AI advisor is unavailable right now (degraded mode). Move suggestions still come from the playbook.",
}


ADVISOR_WITHHELD = {
    "pl": "Odpowiedź doradcy AI podawała liczby lub obietnice, których baza wiedzy nie potwierdza, więc jej nie "
    "pokazuję. Zapytaj inaczej albo sprawdź warunki w salonie.",
    "en": "The AI advisor's answer gave numbers or promises the knowledge base does not support, so it is not "
    "shown. Ask differently, or check the terms with the showroom.",
}


class Copilot:
    def __init__(self, engine: CopilotEngine, llm: LLM, prompts: Prompts, memory_token_budget: int) -> None:
        self.engine = engine
        self.llm = llm
        self.prompts = prompts
        self.memory_token_budget = memory_token_budget
        # The fast path runs off the event loop so sockets stay responsive. Two threads: ONNX releases the GIL,
        # so two observations embed in parallel on the two cores. Per-session state is never shared between
        # them (a session handles one observation at a time); the model and the index are read-only here.
        self._sayable_for: object = None  # the pack whose words _sayable holds (the pack can be reloaded)
        self._sayable: dict[str, Grounds] = {}
        self._engine_threads = ThreadPoolExecutor(max_workers=ENGINE_THREADS, thread_name_prefix="engine")

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run fast-path work on the engine thread."""
        # In the caller's context, so the fast path's span is a child of the socket message's.
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._engine_threads, context.run, work, *args)

    # ---- fast path -------------------------------------------------------------------------------------

    def fast_path(self, conv: Conversation, observation: str, interaction_id: int | None = None) -> FastResult:
        """The fast path (milliseconds, no LLM); the conversation now points at this observation."""
        started = time.perf_counter()
        with tracer().start_as_current_span("fast_path") as span:
            fast = self.engine.fast_result(conv.state, observation)
            span.set_attributes(
                {
                    "sufler.language": fast.language,
                    "sufler.knowledge_found": len(fast.knowledge),
                    "sufler.leader": fast.archetypes[0].slug,
                }
            )
        metrics.FAST_PATH_SECONDS.labels(fast.language).observe(time.perf_counter() - started)
        metrics.OBSERVATIONS.labels(fast.language).inc()
        conv.version += 1
        conv.observation = observation
        conv.interaction_id = interaction_id
        conv.fast = fast
        conv.language = fast.language
        conv.assessment = None
        conv.shown_moves = []
        conv.turns.append(Turn("observation", observation))
        return fast

    async def _ask(
        self,
        conv: Conversation,
        template: str,
        schema: type[M],
        on_text: Callable[[str], None] | None = None,
        **extra: Any,
    ) -> Answer[M]:
        if not self.llm.available():  # degraded: do not even build the prompt
            raise LLMUnavailable(self.llm.status.detail or "LLM unavailable")
        messages = self.prompts.messages(template, conv, **extra)
        return await self.llm.structured(template, messages, schema, on_text=on_text)

    # ---- LLM path --------------------------------------------------------------------------------------
    # Each method gets a conversation it may change (a snapshot, in the live session) and returns its result;
    # the caller decides what of it the session keeps.

    async def think(self, conv: Conversation, emit: Emit) -> p.StoredResponse:
        """Assessment, refined indicators and four moves for the latest observation; returns what to store."""
        assert conv.fast is not None and conv.interaction_id is not None
        stored = p.StoredResponse()
        try:
            answer = await self._ask(conv, "assessment", Assessment)
        except LLMError as exc:
            log.debug("assessment_unavailable", reason=str(exc))
        else:
            conv.assessment = answer.value
            conv.add_key_facts(answer.value.new_key_facts)
            scores = self.engine.refine(conv.fast, answer.value.labels())
            stored.assessment = p.AssessmentResult(
                model=answer.model,
                assessment=answer.value.model_dump(),
                indicators=views.indicators(scores, conv.language),
            )
            emit(p.AssessmentEvent(interaction_id=conv.interaction_id, **dict(stored.assessment)))
        stored.moves = await self.moves(conv, emit)
        return stored

    async def moves(self, conv: Conversation, emit: Emit, batch: int = 0) -> p.MovesResult:
        """Four moves (one per kind), streamed one by one; batch > 0 asks for ones unlike those shown."""
        assert conv.fast is not None and conv.interaction_id is not None
        iid = conv.interaction_id
        prefix = f"{iid}:{batch}"
        shown = list(conv.shown_moves) if batch else []
        sent: set[str] = set()

        def on_text(text: str) -> None:
            for kind, value in completed_members(text).items():
                if kind in MOVE_KINDS and kind not in sent and _is_move(value):
                    sent.add(kind)
                    suggested = SuggestedMove(kind, value["text"], value["why"], "llm")
                    if not self._unsupported(suggested, conv.language):
                        emit(
                            p.MoveEvent(
                                interaction_id=iid, batch=batch, **dict(views.move(suggested, f"{prefix}:{kind}"))
                            )
                        )

        mode: p.Mode
        model: str | None
        reason: str | None
        try:
            answer = await self._ask(conv, "moves", NextMoves, on_text=on_text, shown_moves=shown)
        except LLMError as exc:
            suggested = self.engine.playbook_moves(conv.fast.archetypes, conv.language, frozenset(conv.shown_moves))
            mode, model, reason = "degraded", None, str(exc)
        else:
            suggested = [
                SuggestedMove(kind, getattr(answer.value, kind).text, getattr(answer.value, kind).why, "llm")
                for kind in MOVE_KINDS
            ]
            playbook: list[SuggestedMove] = []
            for index, move in enumerate(suggested):
                if claims := self._unsupported(move, conv.language):  # never streamed either (on_text)
                    log.warning("move_dropped_unsupported", kind=move.kind, claims=claims)
                    seen = frozenset(conv.shown_moves)
                    playbook = playbook or self.engine.playbook_moves(conv.fast.archetypes, conv.language, seen)
                    suggested[index] = playbook[index]  # both in MOVE_KINDS order
            mode, model, reason = "llm", answer.model, None
        conv.shown_moves.extend(m.text for m in suggested)
        result = p.MovesResult(
            interaction_id=iid,
            batch=batch,
            mode=mode,
            model=model,
            reason=reason,
            moves=[views.move(m, f"{prefix}:{m.kind}") for m in suggested],
        )
        emit(p.MovesEvent(**dict(result)))
        return result

    async def advise(self, conv: Conversation, question: str, interaction_id: int, emit: Emit) -> p.AdvisorAnswer:
        """The advisor's answer, streamed as deltas (``conv`` already ends with the question's turn)."""
        parts: list[str] = []
        model: str | None = None
        try:
            if not self.llm.available():
                raise LLMUnavailable(self.llm.status.detail or "LLM unavailable")
            messages = self.prompts.messages("advisor", conv, question=question)
            async for answering, delta in self.llm.stream_text("advisor", messages):
                model = answering
                parts.append(delta)
                if not self._claims("".join(parts), conv.language):  # from the first unsupported claim on: silent
                    emit(p.AdvisorDelta(interaction_id=interaction_id, delta=delta))
        except LLMError as exc:
            if not parts:
                text = ADVISOR_UNAVAILABLE.get(conv.language, ADVISOR_UNAVAILABLE["en"])
                answer = p.AdvisorAnswer(mode="degraded", model=None, text=text, reason=str(exc))
                emit(p.AdvisorDone(interaction_id=interaction_id, **dict(answer)))
                return answer
            parts.append(" …")  # the model broke off mid-answer: keep what came, mark it cut
        text, reason = "".join(parts), None
        if claims := self._claims(text, conv.language):
            log.warning("advisor_answer_withheld_unsupported", claims=claims)
            text = ADVISOR_WITHHELD.get(conv.language, ADVISOR_WITHHELD["en"])  # not the claims: they are the attack
            reason = "unsupported_claim"
        answer = p.AdvisorAnswer(mode="llm", model=model, text=text, reason=reason)
        emit(p.AdvisorDone(interaction_id=interaction_id, **dict(answer)))
        return answer

    async def strategy(self, conv: Conversation) -> p.StrategyResult:
        """The five-section strategy for the conversation as it is now (``version``: the observation count)."""
        try:
            answer = await self._ask(conv, "strategy", Strategy)
        except LLMError as exc:
            return p.StrategyResult(
                mode="degraded",
                model=None,
                reason=str(exc),
                version=conv.version,
                sections=self._playbook_strategy(conv),
            )
        sections: dict[str, list[str]] = answer.value.model_dump()
        for name, items in sections.items():
            kept = [item for item in items if not self._claims(item, conv.language)]
            if len(kept) < len(items):
                log.warning("strategy_items_dropped_unsupported", section=name, dropped=len(items) - len(kept))
            sections[name] = kept
        return p.StrategyResult(mode="llm", model=answer.model, reason=None, version=conv.version, sections=sections)

    def _playbook_strategy(self, conv: Conversation) -> dict[str, list[str]]:
        lang = conv.language
        slug = conv.state.leader or (
            conv.fast.archetypes[0].slug if conv.fast else next(iter(self.engine.pack.archetypes))
        )
        a = self.engine.pack.archetypes[slug]
        return {
            "summary_and_motivations": [a.description.get(lang), *a.motivations.get(lang)],
            "phrases_and_style": [a.way_of_speaking.get(lang), *a.key_phrases.get(lang)],
            "script_and_next_steps": a.conversation_script.get(lang),
            "objection_handling": [f"{o.objection.get(lang)} → {o.response.get(lang)}" for o in a.objections],
            "qualifying_questions": a.qualifying_questions.get(lang),
        }

    async def remember(self, conv: Conversation) -> Memory | None:
        """Once the history passes the budget: older turns folded into a summary, key facts consolidated."""
        if conv.history_tokens() <= self.memory_token_budget or len(conv.turns) <= RECENT_TURNS_KEPT:
            return None
        folded = len(conv.turns) - RECENT_TURNS_KEPT
        old = [{"kind": t.kind, "text": t.text} for t in conv.turns[:folded]]
        try:
            summary = await self._ask(conv, "summary", Summary, old_turns=old)
            facts = await self._ask(conv, "key_facts", KeyFacts, old_turns=old)
        except LLMError as exc:
            log.info("memory_not_compacted", reason=str(exc))  # tried again after the next observation
            return None
        return Memory(summary.value.summary, list(facts.value.key_facts), folded)

    def _unsupported(self, move: SuggestedMove, language: str) -> list[str]:
        """What a move claims that the pack does not say: such a move is not shown; a playbook move of its kind
        takes its place."""
        return self._claims(f"{move.text} {move.why}", language)

    def _claims(self, text: str, language: str) -> list[str]:
        """What ``text`` claims that the pack does not say (a number, an offer, a commitment); see grounding."""
        pack = self.engine.pack
        if self._sayable_for is not pack:
            self._sayable_for, self._sayable = pack, {}
        if language not in self._sayable:
            self._sayable[language] = Grounds(pack_text(pack, language))
        return self._sayable[language].unsupported(text)


@dataclass(frozen=True, slots=True)
class Memory:
    """A compacted memory: the summary and key facts that replace the first ``folded`` turns."""

    summary: str
    key_facts: list[str]
    folded: int

    def apply(self, conv: Conversation) -> None:
        conv.summary = self.summary
        conv.key_facts = list(self.key_facts)
        del conv.turns[: self.folded]  # turns added since the snapshot stay


def _is_move(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(k), str) and value[k].strip() for k in ("text", "why"))
