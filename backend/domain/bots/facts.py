"""The bot's answer without an LLM: the one fact that answers the question, short, and the next on request.

A module's first facts are rarely what a customer asked ("Ile kosztuje Model Y?" is not answered by the TCO
summary), so every fact of the modules the engine retrieved is ranked by the words it shares with the question
(inflected forms matched through the pack's lemmas, other words by their first five letters) and, where the
embedding model reads the language, by similarity. The best one is sent alone, cut at a sentence to stay short,
with its "to be confirmed" mark when the company must confirm it; "more" sends the next.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backend.adapters.embedder import languages_of
from backend.domain.engine.engine import CopilotEngine
from backend.domain.engine.lemmas import Lemmas
from backend.domain.engine.matching import normalize

MAX_ANSWER_CHARS = 300
SIMILARITY_WEIGHT = 4.0  # a fact's similarity to the question, against the shared words' rarity
TOPIC_WEIGHT = 1.5  # what the question asks about ("ile kosztuje": prices) counts more than a word it shares
PREFIX = 5  # words not in the lemma table are compared by their first letters ("kosztuje", "koszt")
MIN_WORD = 3
MORE = re.compile(
    r"^\W*(więcej|wiecej|jeszcze|coś więcej|cos wiecej|szczegół\w*|szczegol\w*|dalej|more|tell me more|details?|go on)"
    r"\b",
    re.IGNORECASE,
)
# Function words carry no topic; without them "czy" and "the" would pick facts.
_STOP = frozenset(
    re.findall(
        r"\w+",
        "czy jak jaki jaka jakie ile jest się sie dla przy oraz albo lub też tez tak nie the and for with what how"
        " does are can you your this that have has from about when which will"
        # the product itself is what every fact is about
        " model auto auta samochod samochodu car cars tesla",
    )
)
# What a question asks in words a fact does not use: "Ile kosztuje?" is answered by the fact about prices.
_TOPICS = {
    "#price": "cena ceny cene cen cennik kosztuje kosztowac kosztuja price prices pricing cost costs much",
    "#when": "kiedy termin terminy odbior dostawa dostawy when delivery pickup collect",
    "#charge": "ladowac ladowanie laduje ladowania ladowarka charge charging charger",
}
_TOPIC_OF = {word: topic for topic, words in _TOPICS.items() for word in words.split()}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZĄĆĘŁŃÓŚŹŻ])")  # not after "e.g." or "np."


@dataclass(frozen=True, slots=True)
class FactRef:
    slug: str
    index: int


def _keys(text: str, lemmas: Lemmas) -> set[str]:
    keys: set[str] = set()
    for word in re.findall(r"\w+", normalize(text)):
        if len(word) < MIN_WORD or word in _STOP:
            continue
        keys.update(lemmas.forms(word))
        keys.add(word[:PREFIX])
        if word in _TOPIC_OF:
            keys.add(_TOPIC_OF[word])
    return keys


def ranked_facts(engine: CopilotEngine, question: str, slugs: Sequence[str], language: str) -> list[FactRef]:
    """Every fact of these modules, the one that best answers the question first (ties: module order)."""
    lemmas = engine.lemmas
    asked = _keys(question, lemmas)
    refs = [FactRef(slug, i) for slug in slugs for i in range(len(engine.pack.knowledge[slug].facts))]
    texts = [engine.pack.knowledge[r.slug].facts[r.index].text.get(language) for r in refs]
    keys = [asked & _keys(text, lemmas) for text in texts]
    # A shared word counts by how rare it is among these facts: "model" is in many, a price in one.
    seen_in = Counter(key for shared in keys for key in shared)
    scores = [
        sum(math.log(1 + len(texts) / seen_in[k]) * (TOPIC_WEIGHT if k in _TOPICS else 1.0) for k in shared)
        for shared in keys
    ]
    if refs and language in languages_of(engine.embedder.model_name):
        vectors = engine.embedder.embed([question, *texts])
        sims = vectors[1:] @ vectors[0]
        scores = [s + SIMILARITY_WEIGHT * float(sim) for s, sim in zip(scores, np.asarray(sims), strict=True)]
    order = sorted(range(len(refs)), key=lambda i: (-scores[i], i))
    return [refs[i] for i in order]


def short(text: str, suffix: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """``text`` + ``suffix`` in at most ``limit`` characters, cut after a whole sentence where one fits."""
    room = limit - len(suffix) - 1
    if len(text) <= room:
        return f"{text} {suffix}".strip()
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        if len(kept) + len(sentence) + 1 > room:
            break
        kept = f"{kept} {sentence}".strip()
    if not kept:  # one long sentence: cut at a word
        kept = text[: room - 1].rsplit(" ", 1)[0] + "…"
    return f"{kept} {suffix}".strip()
