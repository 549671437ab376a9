"""Archetype classification: evidence from each observation accumulates into a probability distribution.

Evidence is additive in log space (keyword hits, similarity to the archetype's example observations).
Older evidence decays a little with each observation that names some archetype's words, so a strong new signal
can overturn the leader while one stray word cannot, and neutral notes leave the belief as it was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from backend.adapters.embedder import Embedder, Vectors
from backend.domain.pack.pack import DomainPack

KEYWORD_WEIGHT = 1.6  # first keyword of an archetype in one observation
EXTRA_KEYWORD_WEIGHT = 0.6  # each further distinct keyword in the same observation
PHRASE_WEIGHT = 0.4  # each word past the first of the longest keyword found: "nie czai" says more than "ładowanie"
SEMANTIC_WEIGHT = 6.0  # per unit of cosine similarity above the median archetype
DECAY = 0.85  # share of the accumulated evidence kept at each new observation
MAX_REASONS = 4
CARRIED = 0.5  # share of a previous visit's evidence a returning client's new session starts with


@dataclass(frozen=True, slots=True)
class ArchetypeScore:
    slug: str
    probability: float
    reasons: tuple[str, ...]


@dataclass
class ArchetypeBelief:
    """One session's accumulated evidence (log-odds against a uniform prior), with the reasons behind it."""

    evidence: dict[str, float] = field(default_factory=dict)
    reasons: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def carried(cls, probabilities: dict[str, float], share: float = CARRIED) -> ArchetypeBelief:
        """A new session's start from where the client's last visit ended: that visit's log-odds, scaled by
        ``share`` (the leader stays the leader, less surely; a few observations can overturn it)."""
        logs = {slug: math.log(max(p, 1e-6)) for slug, p in probabilities.items()}
        mean = sum(logs.values()) / len(logs)
        reason = "earlier visit"
        return cls(
            evidence={slug: share * (v - mean) for slug, v in logs.items()},
            reasons={slug: [reason] for slug in logs},
        )

    def distribution(self, slugs: list[str]) -> list[ArchetypeScore]:
        logits = [self.evidence.get(s, 0.0) for s in slugs]
        top = max(logits)
        weights = [math.exp(v - top) for v in logits]
        total = sum(weights)
        scores = [
            ArchetypeScore(s, w / total, tuple(self.reasons.get(s, [])[-MAX_REASONS:]))
            for s, w in zip(slugs, weights, strict=True)
        ]
        return sorted(scores, key=lambda a: (-a.probability, a.slug))


class ArchetypeClassifier:
    def __init__(self, pack: DomainPack, embedder: Embedder) -> None:
        self.slugs = sorted(pack.archetypes)
        self._examples: dict[str, tuple[list[str], Vectors]] = {}
        for slug in self.slugs:
            examples = pack.archetypes[slug].signals.examples
            texts = [*examples.pl, *examples.en]
            self._examples[slug] = (texts, embedder.embed(texts))

    def update(
        self,
        belief: ArchetypeBelief,
        keyword_hits: dict[str, list[str]],
        vector: Vectors | None,
        similarity_weight: float = SEMANTIC_WEIGHT,
    ) -> dict[str, float]:
        """Fold one observation's evidence into ``belief``; returns this observation's evidence per archetype.

        ``similarity_weight``: evidence per unit of similarity above the median archetype (lower where the model
        reads the note's language poorly)."""
        new: dict[str, float] = {}
        notes: dict[str, list[str]] = {}
        for slug, keywords in keyword_hits.items():
            longest = max(len(k.lstrip("!").rstrip("*").split()) for k in keywords)
            new[slug] = KEYWORD_WEIGHT + EXTRA_KEYWORD_WEIGHT * (len(keywords) - 1) + PHRASE_WEIGHT * (longest - 1)
            notes.setdefault(slug, []).append("keywords: " + ", ".join(k.rstrip("*") for k in keywords))
        if vector is not None:
            best = {slug: self._closest(slug, vector) for slug in self.slugs}
            median = float(np.median([sim for sim, _ in best.values()]))
            for slug, (sim, example) in best.items():
                lift = sim - median
                if lift > 0.05 and similarity_weight > 0:
                    new[slug] = new.get(slug, 0.0) + similarity_weight * lift
                    notes.setdefault(slug, []).append(f"similar to: “{example}” ({sim:.2f})")
        # A note that names no archetype's words (a budget, a date) says nothing about who the client is: it
        # must not wear the belief down, or the confidence of a stable leader drifts with every neutral note.
        decay = DECAY if keyword_hits else 1.0
        for slug in self.slugs:
            belief.evidence[slug] = decay * belief.evidence.get(slug, 0.0) + new.get(slug, 0.0)
        for slug, lines in notes.items():
            kept = belief.reasons.setdefault(slug, [])
            kept.extend(lines)
            del kept[:-MAX_REASONS]  # only the latest are shown; a long session must not grow without bound
        return new

    def _closest(self, slug: str, vector: Vectors) -> tuple[float, str]:
        texts, vectors = self._examples[slug]
        sims = vectors @ vector
        i = int(np.argmax(sims))
        return float(sims[i]), texts[i]
