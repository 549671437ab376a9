"""Archetype updating: always a proper distribution over all archetypes; repeated evidence takes the lead."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.engine.archetypes import MAX_REASONS, ArchetypeBelief, ArchetypeClassifier
from backend.domain.pack.pack import load_pack

PACK = load_pack(Path(__file__).resolve().parents[2])
SLUGS = sorted(PACK.archetypes)


class HashEmbedder:
    """Deterministic unit vectors from the text (the classifier's arithmetic is under test, not the model)."""

    model_name = "hash"
    dim = 16

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = [np.random.default_rng(zlib.crc32(t.encode())).normal(size=self.dim) for t in texts]
        return np.array([r / np.linalg.norm(r) for r in rows], dtype=np.float32)


CLASSIFIER = ArchetypeClassifier(PACK, HashEmbedder())
hits = st.dictionaries(st.sampled_from(SLUGS), st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=3))
observations = st.lists(st.tuples(hits, st.booleans(), st.text(max_size=10)), max_size=12)


@settings(max_examples=150, deadline=None)
@given(observations)
def test_always_a_distribution_over_every_archetype(steps: list[tuple[dict[str, list[str]], bool, str]]) -> None:
    belief = ArchetypeBelief()
    for keyword_hits, with_vector, text in steps:
        vector = HashEmbedder().embed([text])[0] if with_vector else None
        CLASSIFIER.update(belief, keyword_hits, vector)
        scores = belief.distribution(CLASSIFIER.slugs)
        assert sorted(s.slug for s in scores) == SLUGS
        assert abs(sum(s.probability for s in scores) - 1) < 1e-9
        assert all(0 <= s.probability <= 1 for s in scores)
        assert [s.probability for s in scores] == sorted((s.probability for s in scores), reverse=True)
        assert all(len(s.reasons) <= MAX_REASONS for s in scores)


@settings(max_examples=60, deadline=None)
@given(observations, st.sampled_from(SLUGS))
def test_a_repeated_strong_signal_takes_the_lead(
    history: list[tuple[dict[str, list[str]], bool, str]], slug: str
) -> None:
    belief = ArchetypeBelief()
    for keyword_hits, _, _ in history:
        CLASSIFIER.update(belief, keyword_hits, None)
    for _ in range(8):
        CLASSIFIER.update(belief, {slug: ["a", "b", "c"]}, None)
    assert belief.distribution(CLASSIFIER.slugs)[0].slug == slug
