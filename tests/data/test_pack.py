"""The shipped domain pack: every file validates, and the rules refer only to what exists."""

from __future__ import annotations

import re
from pathlib import Path

from backend.domain.engine.rules import INDICATORS, RuleSet
from backend.domain.pack.pack import MOVE_KINDS, load_pack

ROOT = Path(__file__).resolve().parents[2]
AMOUNT = re.compile(r"\d[\d\s.,]*\s*(zł|pln|eur|€)")

ARCHETYPES = {
    "status-seeker",
    "family-guardian",
    "pragmatic-analyst",
    "eco-enthusiast",
    "tech-pioneer",
    "technical-skeptic",
    "premium-loyalist",
    "bargain-hunter",
    "undecided-explorer",
    "performance-enthusiast",
}
KNOWLEDGE = {
    "company-purchase",
    "home-solar-charging",
    "family-safety",
    "range-charging",
    "total-cost-of-ownership",
    "trade-in",
    "performance-driving",
    "autopilot-technology",
    "battery-durability-winter",
    "service-warranty",
    "delivery-configuration",
    "subsidies-incentives",
    "environmental-impact",
    "premium-comfort-quality",
}


def test_the_pack_has_the_ten_archetypes_and_the_knowledge_modules() -> None:
    pack = load_pack(ROOT)
    assert set(pack.archetypes) == ARCHETYPES
    assert set(pack.knowledge) >= KNOWLEDGE
    for archetype in pack.archetypes.values():
        assert {m.kind for m in archetype.playbook} == set(MOVE_KINDS)
    for module in pack.knowledge.values():
        assert module.body, f"{module.slug} has no talk track"


def test_numbers_in_facts_are_marked_for_verification() -> None:
    """Never present invented prices or amounts as facts: any fact with a currency must be marked verify."""
    pack = load_pack(ROOT)
    for module in pack.knowledge.values():
        for fact in module.facts:
            if AMOUNT.search(fact.text.pl.lower()):
                assert fact.verify, f"{module.slug}: '{fact.text.en}' names an amount but is not marked verify"


def test_the_shipped_rules_load_and_cover_every_indicator() -> None:
    rules = RuleSet.load(ROOT / "scoring_rules", load_pack(ROOT))
    assert {r.indicator for r in rules.rules} == set(INDICATORS)
    assert all(r.reason.pl and r.reason.en for r in rules.rules)
