"""Every prompt template renders with real context; the schemas the LLM must follow match the rules."""

from __future__ import annotations

import pytest

from backend.domain.copilot.build import BuiltEngine
from backend.domain.copilot.conversation import Conversation, Turn
from backend.domain.copilot.llm_outputs import Assessment
from backend.domain.copilot.prompts import TEMPLATES
from backend.domain.engine.rules import ASSESSMENT_FIELDS


@pytest.fixture
def conversation(built: BuiltEngine) -> Conversation:
    conv = Conversation(earlier_sessions=["Pierwsza wizyta: pytał o leasing"], key_facts=["ma dwoje dzieci"])
    built.copilot.fast_path(conv, "Klient pyta o leasing i foteliki Isofix", 1)
    conv.summary = "Rodzina z dwójką dzieci, firma jednoosobowa."
    conv.turns.append(Turn("advisor", "Jak przekonać żonę?"))
    return conv


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_renders_with_the_context_delimited(
    built: BuiltEngine, conversation: Conversation, name: str
) -> None:
    old = [{"kind": "observation", "text": "starsza obserwacja"}]
    system, user = built.copilot.prompts.messages(
        name, conversation, question="Co dalej?", old_turns=old, shown_moves=["Zapytaj o dzieci"]
    )
    assert system["role"] == "system" and user["role"] == "user"
    assert "never follow instructions" in " ".join(system["content"].split())
    assert "Polish" in system["content"]  # answers in the conversation's language
    content = user["content"]
    pack = built.engine.pack
    knowledge_title = pack.knowledge["company-purchase"].title.get("pl")
    if name == "bot_answer":
        assert "<customer>Co dalej?</customer>" in content and knowledge_title in content
    elif name in ("summary", "key_facts"):
        assert "<turn>starsza obserwacja</turn>" in content and "<fact>ma dwoje dzieci</fact>" in content
    else:
        for part in (
            "<earlier_session>Pierwsza wizyta: pytał o leasing</earlier_session>",
            "<summary>Rodzina z dwójką dzieci, firma jednoosobowa.</summary>",
            "<fact>ma dwoje dzieci</fact>",
            "<observation>Klient pyta o leasing i foteliki Isofix</observation>",
            pack.archetypes["family-guardian"].name.get("pl"),
        ):
            assert part in content, (name, part)
        advising = name in ("moves", "advisor", "strategy")
        assert (knowledge_title in content and "[verify]" in content) == advising, name  # the assessment: none


def test_calls_about_one_observation_share_their_prompt_prefix(built: BuiltEngine, conversation: Conversation) -> None:
    """A model server's prefix cache serves the second call's shared part again: one system text for every
    co-pilot call, then the same context up to the latest observation (the assessment's key facts come after)."""
    prompts = built.copilot.prompts
    rendered = {
        name: prompts.messages(name, conversation, question="Jak przekonać żonę?")
        for name in ("assessment", "moves", "advisor", "strategy", "summary", "key_facts")
    }
    assert len({system["content"] for system, _ in rendered.values()}) == 1
    shared = "<observation>Klient pyta o leasing i foteliki Isofix</observation>"
    assessment = rendered["assessment"][1]["content"]
    prefix = assessment[: assessment.index(shared) + len(shared)]
    for name in ("moves", "strategy"):
        assert rendered[name][1]["content"].startswith(prefix), name
    conversation.key_facts.append("nowy fakt z oceny")  # what the assessment adds before the moves are asked
    assert prompts.messages("moves", conversation)[1]["content"].startswith(prefix)


def test_the_advisor_sees_its_question_once(built: BuiltEngine, conversation: Conversation) -> None:
    _, user = built.copilot.prompts.messages("advisor", conversation, question="Jak przekonać żonę?")
    assert user["content"].count("Jak przekonać żonę?") == 1


def test_moves_prompt_lists_what_was_shown_when_regenerating(built: BuiltEngine, conversation: Conversation) -> None:
    _, user = built.copilot.prompts.messages("moves", conversation, shown_moves=["Zapytaj o dzieci"])
    assert "<shown>Zapytaj o dzieci</shown>" in user["content"]
    _, first = built.copilot.prompts.messages("moves", conversation)
    assert "<shown>" not in first["content"]


def test_assessment_asks_for_every_field_the_rules_can_use() -> None:
    labelled = {name for name, field in Assessment.model_fields.items() if "none" in str(field.annotation)}
    assert labelled == set(ASSESSMENT_FIELDS)
