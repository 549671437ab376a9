"""What the co-pilot remembers about one client session, in memory (the session service persists it)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from backend.domain.copilot.llm_outputs import Assessment
from backend.domain.engine.engine import Beliefs, FastResult

RECENT_TURNS_KEPT = 4  # turns never summarised away: the prompt always sees them verbatim


@dataclass(frozen=True, slots=True)
class Turn:
    kind: str  # "observation" | "advisor" | "advisor_answer"
    text: str


@dataclass
class Conversation:
    state: Beliefs = field(default_factory=Beliefs)
    language: str = "pl"
    summary: str = ""
    key_facts: list[str] = field(default_factory=list)
    earlier_sessions: list[str] = field(default_factory=list)  # summaries of the client's previous sessions
    turns: list[Turn] = field(default_factory=list)  # not yet folded into the summary
    observation: str = ""
    interaction_id: int | None = None  # of the latest observation
    fast: FastResult | None = None
    assessment: Assessment | None = None
    shown_moves: list[str] = field(default_factory=list)  # texts shown for the latest observation
    version: int = 0  # bumped by every observation

    def snapshot(self) -> Conversation:
        """A copy for one piece of LLM work, taken on the event loop: the work reads and changes only its copy, so
        a newer observation (its fast path runs on an engine thread) can never change what older work sees. The
        copy's fast-path state holds only the leader (all the prompts use); it is never observed."""
        return dataclasses.replace(
            self,
            state=Beliefs(leader=self.state.leader, observations=self.state.observations),
            key_facts=list(self.key_facts),
            earlier_sessions=list(self.earlier_sessions),
            turns=list(self.turns),
            shown_moves=list(self.shown_moves),
        )

    def history_tokens(self) -> int:
        """A rough token count (4 characters a token) of what the prompt would carry verbatim."""
        return sum(len(t.text) for t in self.turns) // 4 + len(self.summary) // 4

    def add_key_facts(self, facts: list[str]) -> None:
        known = {f.casefold() for f in self.key_facts}
        for fact in facts:
            if fact.casefold() not in known:
                self.key_facts.append(fact)
                known.add(fact.casefold())
