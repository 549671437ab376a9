"""JSON views of engine results, shared by the cockpit socket, the replay command and the stored interactions."""

from __future__ import annotations

from typing import Any

from backend.domain.engine.engine import FastResult, SuggestedMove
from backend.domain.engine.rules import Scores
from backend.domain.pack.pack import DomainPack


def explanations(scores: Scores, language: str) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [{"rule": c.rule_id, "points": c.points, "reason": c.reason.get(language)} for c in items]
        for name, items in scores.explanations.items()
    }


def indicators(scores: Scores, language: str) -> dict[str, dict[str, Any]]:
    """Each indicator with the rules that moved it: ``{name: {"value": int, "because": [...]}}``."""
    why = explanations(scores, language)
    return {name: {"value": value, "because": why[name]} for name, value in scores.values.items()}


def fast_result(fast: FastResult, pack: DomainPack) -> dict[str, Any]:
    lang = fast.language
    return {
        "language": lang,
        "archetypes": [
            {
                "slug": a.slug,
                "name": pack.archetypes[a.slug].name.get(lang),
                "probability": round(a.probability, 4),
                "reasons": list(a.reasons),
            }
            for a in fast.archetypes
        ],
        "leader_changed": fast.leader_changed,
        "knowledge": [
            {
                "slug": r.slug,
                "title": pack.knowledge[r.slug].title.get(lang),
                "summary": pack.knowledge[r.slug].summary.get(lang),
                "score": round(r.score, 3),
                "triggers": list(r.keywords),
            }
            for r in fast.knowledge
        ],
        "cues": fast.cues,
        "indicators": indicators(fast.scores, lang),
        "rules_error": fast.rules_error,
    }


def move(m: SuggestedMove, move_id: str) -> dict[str, Any]:
    return {"id": move_id, "kind": m.kind, "text": m.text, "why": m.why, "source": m.source}
