"""The co-pilot loop: the fast path, then the LLM path (assessment → refined indicators → four moves), the
advisor, the full strategy and the session memory — with degraded answers whenever the LLM cannot help.

Results go out through ``emit(event_type, payload)`` as they form, so the socket streams them and the replay
command prints them. Every payload that carries suggestions says which mode produced it ("llm"/"degraded").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel

from backend.adapters.llm import Answer, LLMError, LLMUnavailable, OllamaLLM
from backend.domain.copilot import views
from backend.domain.copilot.conversation import RECENT_TURNS_KEPT, Conversation, Turn
from backend.domain.copilot.llm_outputs import Assessment, KeyFacts, NextMoves, Strategy, Summary
from backend.domain.copilot.partial_json import completed_members
from backend.domain.copilot.prompts import Prompts
from backend.domain.engine.engine import CopilotEngine, FastResult, SuggestedMove
from backend.domain.pack.pack import MOVE_KINDS

__all__ = ("Copilot", "Emit")

log = structlog.get_logger(__name__)

Emit = Callable[[str, dict[str, Any]], None]
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

ENGINE_THREADS = 2

ADVISOR_UNAVAILABLE = {
    "pl": "Doradca AI jest teraz niedostępny (tryb awaryjny). Sugestie ruchów nadal działają z podręcznika archetypu.",
    "en": "The AI advisor is unavailable right now (degraded mode). Move suggestions still come from the playbook.",
}


class Copilot:
    def __init__(self, engine: CopilotEngine, llm: OllamaLLM, prompts: Prompts, memory_token_budget: int) -> None:
        self.engine = engine
        self.llm = llm
        self.prompts = prompts
        self.memory_token_budget = memory_token_budget
        # The fast path runs off the event loop so sockets stay responsive. Two threads: ONNX releases the GIL,
        # so two observations embed in parallel on the two cores. Per-session state is never shared between
        # them (a session handles one observation at a time); the model and the index are read-only here.
        self._engine_threads = ThreadPoolExecutor(max_workers=ENGINE_THREADS, thread_name_prefix="engine")

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run fast-path work on the engine thread."""
        return await asyncio.get_running_loop().run_in_executor(self._engine_threads, work, *args)

    # ---- fast path -------------------------------------------------------------------------------------

    def observe(self, conv: Conversation, observation: str, interaction_id: int | None = None) -> FastResult:
        """The fast path (milliseconds, no LLM); the conversation now points at this observation."""
        fast = self.engine.observe(conv.state, observation)
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
        return await self.llm.structured(self.prompts.messages(template, conv, **extra), schema, on_text=on_text)

    # ---- LLM path --------------------------------------------------------------------------------------

    async def think(self, conv: Conversation, emit: Emit) -> dict[str, Any]:
        """Assessment, refined indicators and four moves for the latest observation; returns what to store."""
        assert conv.fast is not None
        record: dict[str, Any] = {}
        try:
            answer = await self._ask(conv, "assessment", Assessment)
        except LLMError as exc:
            log.debug("assessment_unavailable", reason=str(exc))
        else:
            conv.assessment = answer.value
            conv.add_key_facts(answer.value.new_key_facts)
            scores = self.engine.refine(conv.fast, answer.value.labels())
            record["assessment"] = {
                "model": answer.model,
                "assessment": answer.value.model_dump(),
                "indicators": views.indicators(scores, conv.language),
            }
            emit("assessment", {"interaction_id": conv.interaction_id, **record["assessment"]})
        record["moves"] = await self.moves(conv, emit)
        return record

    async def moves(self, conv: Conversation, emit: Emit, batch: int = 0) -> dict[str, Any]:
        """Four moves (one per kind), streamed one by one; batch > 0 asks for ones unlike those shown."""
        assert conv.fast is not None
        prefix = f"{conv.interaction_id}:{batch}"
        shown = list(conv.shown_moves) if batch else []
        sent: set[str] = set()

        def on_text(text: str) -> None:
            for kind, value in completed_members(text).items():
                if kind in MOVE_KINDS and kind not in sent and _is_move(value):
                    sent.add(kind)
                    move = SuggestedMove(kind, value["text"], value["why"], "llm")
                    emit(
                        "move",
                        {"interaction_id": conv.interaction_id, "batch": batch, **views.move(move, f"{prefix}:{kind}")},
                    )

        try:
            answer = await self._ask(conv, "moves", NextMoves, on_text=on_text, shown_moves=shown)
        except LLMError as exc:
            suggested = self.engine.playbook_moves(conv.fast.archetypes, conv.language, frozenset(conv.shown_moves))
            result: dict[str, Any] = {"mode": "degraded", "model": None, "reason": str(exc)}
        else:
            suggested = [
                SuggestedMove(kind, getattr(answer.value, kind).text, getattr(answer.value, kind).why, "llm")
                for kind in MOVE_KINDS
            ]
            result = {"mode": "llm", "model": answer.model, "reason": None}
        conv.shown_moves.extend(m.text for m in suggested)
        result["moves"] = [views.move(m, f"{prefix}:{m.kind}") for m in suggested]
        result = {"interaction_id": conv.interaction_id, "batch": batch, **result}  # stored as sent
        emit("moves", result)
        return result

    async def advise(self, conv: Conversation, question: str, interaction_id: int, emit: Emit) -> dict[str, Any]:
        """The advisor's answer, streamed as deltas; returns what to store."""
        conv.turns.append(Turn("advisor", question))
        parts: list[str] = []
        model = None
        try:
            if not self.llm.available():
                raise LLMUnavailable(self.llm.status.detail or "LLM unavailable")
            async for answering, delta in self.llm.stream_text(
                self.prompts.messages("advisor", conv, question=question)
            ):
                model = answering
                parts.append(delta)
                emit("advisor_delta", {"interaction_id": interaction_id, "delta": delta})
        except LLMError as exc:
            if not parts:
                text = ADVISOR_UNAVAILABLE.get(conv.language, ADVISOR_UNAVAILABLE["en"])
                result = {"mode": "degraded", "model": None, "text": text, "reason": str(exc)}
                emit("advisor_done", {"interaction_id": interaction_id, **result})
                return result
            parts.append(" …")  # the model broke off mid-answer: keep what came, mark it cut
        text = "".join(parts)
        conv.turns.append(Turn("advisor_answer", text))
        result = {"mode": "llm", "model": model, "text": text, "reason": None}
        emit("advisor_done", {"interaction_id": interaction_id, **result})
        return result

    async def strategy(self, conv: Conversation) -> dict[str, Any]:
        """The five-section strategy, cached until the next observation."""
        if conv.strategy is not None and conv.strategy[0] == conv.version:
            return conv.strategy[1]
        try:
            answer = await self._ask(conv, "strategy", Strategy)
        except LLMError as exc:
            result = {"mode": "degraded", "model": None, "reason": str(exc), "sections": self._playbook_strategy(conv)}
        else:
            result = {"mode": "llm", "model": answer.model, "reason": None, "sections": answer.value.model_dump()}
        result["version"] = conv.version
        conv.strategy = (conv.version, result)
        return result

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

    async def remember(self, conv: Conversation) -> bool:
        """Fold older turns into the summary and consolidate key facts once the history passes the budget."""
        if conv.history_tokens() <= self.memory_token_budget or len(conv.turns) <= RECENT_TURNS_KEPT:
            return False
        old = [{"kind": t.kind, "text": t.text} for t in conv.turns[:-RECENT_TURNS_KEPT]]
        try:
            summary = await self._ask(conv, "summary", Summary, old_turns=old)
            facts = await self._ask(conv, "key_facts", KeyFacts, old_turns=old)
        except LLMError as exc:
            log.info("memory_not_compacted", reason=str(exc))  # tried again after the next observation
            return False
        conv.summary = summary.value.summary
        conv.key_facts = list(facts.value.key_facts)
        conv.turns = conv.turns[-RECENT_TURNS_KEPT:]
        return True


def _is_move(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(k), str) and value[k].strip() for k in ("text", "why"))
