"""What the LLM must answer: pydantic models sent to Ollama as the ``format`` JSON schema and validated after.

Labels, not numbers: the scoring rules (scoring_rules/*.toml) turn the assessment into indicators.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from backend.domain.engine.rules import ASSESSMENT_FIELDS

Label = Literal["none", "low", "medium", "high"]
Stage = Literal["discovery", "interest", "evaluation", "negotiation", "closing"]
# Every answer is bounded (lengths, items): schema-constrained decoding then bounds what a model may write, and
# the token limits per call (settings.MAX_TOKENS) sit above these bounds, so a valid answer is never cut short.
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Phrases = Annotated[list[Phrase], Field(max_length=4)]


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Assessment(_Out):
    """The qualitative assessment of the client after the latest observation."""

    emotions: Phrases
    concerns: Phrases
    needs: Phrases
    hidden_motivations: Phrases
    stage: Stage
    # One field per name in rules.ASSESSMENT_FIELDS (a test keeps them equal).
    purchase_intent: Label
    buying_signals: Label
    risk_signals: Label
    price_sensitivity: Label
    urgency: Label
    engagement: Label
    test_drive_only: Label
    decision_authority: Label
    budget_fit: Label
    archetype_fit: Label
    new_key_facts: Annotated[list[Short], Field(max_length=4)] = Field(
        description="Facts about the client stated in the latest observation (family, car, budget, dates)."
    )
    rationale: Annotated[str, StringConstraints(strip_whitespace=True, max_length=250)]

    def labels(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in ASSESSMENT_FIELDS}


class MoveText(_Out):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=240)]
    why: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=160)]


class NextMoves(_Out):
    """Exactly four moves, one of each kind, in this order (the order they stream in)."""

    question: MoveText
    argument: MoveText
    objection_response: MoveText
    action: MoveText


StrategySection = Annotated[list[Short], Field(min_length=1, max_length=5)]


class Strategy(_Out):
    """The five tabs of the full strategy panel."""

    summary_and_motivations: StrategySection
    phrases_and_style: StrategySection
    script_and_next_steps: StrategySection
    objection_handling: StrategySection
    qualifying_questions: StrategySection


class Summary(_Out):
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class KeyFacts(_Out):
    key_facts: Annotated[list[Short], Field(max_length=12)]
