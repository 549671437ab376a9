"""Engine results as protocol parts, shared by the cockpit socket, the replay command and the stored responses."""

from __future__ import annotations

from backend.domain.engine.engine import FastResult, SuggestedMove
from backend.domain.engine.rules import Scores
from backend.domain.pack.pack import DomainPack
from backend.domain.protocol import cockpit as p


def indicators(scores: Scores, language: str) -> dict[str, p.Indicator]:
    """Each indicator with the rules that moved it."""
    return {
        name: p.Indicator(
            value=value,
            base=scores.base.get(name),
            because=[
                p.Because(rule=c.rule_id, points=c.points, reason=c.reason.get(language))
                for c in scores.explanations[name]
            ],
        )
        for name, value in scores.values.items()
    }


def fast_result(fast: FastResult, pack: DomainPack) -> p.FastResult:
    lang = fast.language
    return p.FastResult(
        language=lang,
        archetypes=[
            p.ArchetypeScore(
                slug=a.slug,
                name=pack.archetypes[a.slug].name.get(lang),
                probability=round(a.probability, 4),
                reasons=list(a.reasons),
            )
            for a in fast.archetypes
        ],
        leader=fast.leader,
        leader_changed=fast.leader_changed,
        knowledge=[
            p.KnowledgeCard(
                slug=r.slug,
                title=pack.knowledge[r.slug].title.get(lang),
                summary=pack.knowledge[r.slug].summary.get(lang),
                score=round(r.score, 3),
                triggers=list(r.keywords),
            )
            for r in fast.knowledge
        ],
        cues=fast.cues,
        indicators=indicators(fast.scores, lang),
        rules_error=fast.rules_error,
    )


def move(m: SuggestedMove, move_id: str) -> p.Move:
    return p.Move(id=move_id, kind=m.kind, text=m.text, why=m.why, source=m.source)
