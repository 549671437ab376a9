"""The co-pilot's fast path: signals → archetype distribution → knowledge → indicators, in milliseconds.

No LLM here. The LLM path (assessment, next moves, advisor) refines this result when an LLM is reachable;
without one, :meth:`CopilotEngine.playbook_moves` gives the four moves from the archetype playbooks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from backend.adapters.embedder import Embedder, languages_of
from backend.domain.engine.archetypes import SEMANTIC_WEIGHT, ArchetypeBelief, ArchetypeClassifier, ArchetypeScore
from backend.domain.engine.knowledge_index import KnowledgeIndex, Retrieved
from backend.domain.engine.lemmas import Lemmas
from backend.domain.engine.matching import Hit, KeywordMatcher, normalize, read
from backend.domain.engine.rules import RuleContext, RuleStore, Scores
from backend.domain.pack.pack import MOVE_KINDS, DomainPack, Move

CUE_DECAY = 0.9  # share of a cue's evidence kept at each new observation (a rule gets points x min(1, evidence))
# Share of the similarity evidence kept for a note in a language the embedding model reads poorly (Polish with the
# default English model). None: bench/fast_path_eval.py measured that it only adds false neighbours there (see
# the README), and "bierze jednak BMW" must not make a loyalist by its likeness to "przyjechał BMW serii 5".
UNTRUSTED_SIMILARITY = 0.0
KNOWLEDGE_MEMORY = 3  # observations a module stays in play after it was last triggered

_POLISH_LETTERS = set("ąćęłńóśźż")
# Frequent short Polish words, with and without diacritics (a customer's "Ile kosztuje Model Y?" has none).
_POLISH_WORDS = frozenset(
    re.findall(
        r"\w+",
        "i w z na nie jest się sie o że ze do pyta klient klientka ma chce chcę ile czy jak jaki jaka jakie kiedy"
        " gdzie można mozna mam są sa tak dla od po co proszę prosze dzień dzien dobry kosztuje auto samochód"
        " samochod jeszcze już juz bo ale też tez bez kupuje płaci placi mówi mowi był byl jego jej mu go przy przez"
        " żeby zeby który ktory tylko bardzo jeździ jezdzi tym",
    )
)


# Spellings English hardly has: "bierze", "jednak" is not one but "raczej", "szuka", "nowych", "samochodem" are.
_POLISH_SPELLING = re.compile(r"rz|cz|sz|[^aeiou]j[^aeiou]|(ych|ymi|ami|owi|iej|emu|ego|em|ie)$")
_ENGLISH_WORDS = frozenset(
    re.findall(
        r"\w+",
        "the a an is are was i you he she it they we to of and in on at for with what how does do did can could"
        " my his her their wants asks about not no this that there if will would should just only very",
    )
)


def guess_language(text: str) -> str:
    """'pl' or 'en', from diacritics and frequent short words (good enough for short observations): Polish
    when it has Polish letters, else the language more of its words belong to ("I" and "do" are both)."""
    lowered = text.lower()
    if _POLISH_LETTERS & set(lowered):
        return "pl"
    words = re.findall(r"\w+", lowered)
    polish = sum(w in _POLISH_WORDS or bool(_POLISH_SPELLING.search(w)) for w in words)
    return "pl" if polish >= 1 and polish > sum(w in _ENGLISH_WORDS for w in words) else "en"


@dataclass
class Beliefs:
    """What the fast path has gathered about one client in one session: the archetype belief, cues seen, which
    knowledge came up when, and the leader — updated by :meth:`CopilotEngine.fast_result` per observation."""

    belief: ArchetypeBelief = field(default_factory=ArchetypeBelief)
    cues: dict[str, float] = field(default_factory=dict)  # slug -> evidence, decaying like archetype beliefs
    knowledge_seen: dict[str, int] = field(default_factory=dict)  # slug -> observation number last triggered
    observations: int = 0
    leader: str | None = None


@dataclass(frozen=True, slots=True)
class FastResult:
    archetypes: list[ArchetypeScore]
    knowledge: list[Retrieved]
    scores: Scores
    cues: list[str]
    leader: str | None  # None while no archetype stands out (top belief within 1.5x of an even split)
    leader_changed: bool
    language: str
    context: RuleContext  # what the rules saw; the LLM's assessment refines it
    rules_error: str | None  # a broken rule file (the last good rules are in force)


@dataclass(frozen=True, slots=True)
class SuggestedMove:
    kind: str
    text: str
    why: str
    source: str  # where it came from, e.g. "playbook:family-guardian"


# Where one fact ends and the next begins in a typed note: a sentence end before a capital (not "250 tys. zł"),
# semicolons, line breaks, and a comma or dash before a space ("budżet 200 tys., żona decyduje": two facts).
_CLAUSES = re.compile(r"(?<=[.!?])\s+(?=[A-ZĄĆĘŁŃÓŚŹŻ])|[;\n]+\s*|,\s+|\s+[-\u2013\u2014]\s+")
MAX_FACT_CHARS = 120


class CopilotEngine:
    def __init__(self, pack: DomainPack, embedder: Embedder, index: KnowledgeIndex, rules: RuleStore) -> None:
        self.pack = pack
        self.embedder = embedder
        self.index = index
        self.rules = rules
        self.classifier = ArchetypeClassifier(pack, embedder)
        self._model_languages = languages_of(embedder.model_name)
        self.untrusted_similarity = UNTRUSTED_SIMILARITY  # bench/fast_path_eval.py measures other shares
        archetype_keywords = {s: a.signals.keywords.all() for s, a in pack.archetypes.items()}
        knowledge_keywords = {s: m.keywords.all() for s, m in pack.knowledge.items()}
        cue_keywords = {s: c.keywords.all() for s, c in pack.cues.items()}
        self.lemmas = lemmas = pack_lemmas(pack)
        self._archetype_keywords = KeywordMatcher(archetype_keywords, lemmas)
        self._knowledge_keywords = KeywordMatcher(knowledge_keywords, lemmas)
        self._cue_keywords = KeywordMatcher(cue_keywords, lemmas)
        self._cue_requires = {s: c.requires for s, c in pack.cues.items() if c.requires is not None}
        self._fact_cues = {s: c.fact for s, c in pack.cues.items() if c.fact is not None}

    def fast_result(self, state: Beliefs, observation: str) -> FastResult:
        """One observation read into ``state`` (beliefs, cues, knowledge), and what the screen shows now."""
        text = normalize(observation)
        state.observations += 1
        language = guess_language(observation)
        trusted = language in self._model_languages
        # A note in a language the embedding model does not read is not embedded at all: its similarities only
        # added false neighbours (bench/fast_path_eval.py), and the embedding is most of the fast path's CPU.
        vector = self.embedder.embed([observation])[0] if trusted or self.untrusted_similarity > 0 else None

        words = read(text, self.lemmas)  # once for the three keyword sets
        cue_hits = self._cue_keywords.hits(words)
        cues = self._cues(cue_hits)
        archetype_hits = self._without_required_words(self._archetype_keywords.hits(words), cue_hits, cues)
        weight = SEMANTIC_WEIGHT * (1.0 if trusted else self.untrusted_similarity)
        self.classifier.update(state.belief, KeywordMatcher.found(archetype_hits), vector, weight)
        archetypes = state.belief.distribution(self.classifier.slugs)
        leader = archetypes[0].slug if archetypes[0].probability > 1.5 / len(archetypes) else None
        leader_changed = leader is not None and state.leader is not None and leader != state.leader
        if leader is not None:
            state.leader = leader

        for slug in state.cues:
            state.cues[slug] *= CUE_DECAY
        for slug in cues:
            state.cues[slug] = state.cues.get(slug, 0.0) + 1.0

        retrieved = self.index.retrieve(self._knowledge_keywords.hits(words), vector, similar_only=trusted)
        for item in retrieved:
            state.knowledge_seen[item.slug] = state.observations
        fresh = {r.slug for r in retrieved}
        # Modules triggered in the last few observations stay in play, ranked after this observation's.
        lingering = [
            Retrieved(slug, 0.0, ())
            for slug, seen in sorted(state.knowledge_seen.items(), key=lambda kv: -kv[1])
            if slug not in fresh and state.observations - seen < KNOWLEDGE_MEMORY
        ]
        knowledge = retrieved + lingering

        context = RuleContext(
            cues=dict(state.cues),
            archetypes={a.slug: a.probability for a in archetypes},
            knowledge=frozenset(r.slug for r in knowledge),
        )
        scores = self.rules.current().evaluate(context)
        rules_error = str(self.rules.error) if self.rules.error else None
        return FastResult(
            archetypes, knowledge, scores, sorted(cues), leader, leader_changed, language, context, rules_error
        )

    def cues_in(self, normalized_text: str) -> dict[str, list[str]]:
        """The cues a text shows (not negated), each with its keywords; a cue that ``requires`` another counts only
        when that one shows too ("bierze jednak" + a competitor's brand: the client chose the competitor)."""
        return self._cues(self._cue_keywords.hits(normalized_text))

    def _without_required_words(self, hits: list[Hit], cue_hits: list[Hit], cues: dict[str, list[str]]) -> list[Hit]:
        """Archetype hits, less those on the words of a cue another shown cue ``requires``: they are that cue's
        ("bierze jednak BMW": the brand he leaves for says nothing of loyalty)."""
        required = {self._cue_requires[slug] for slug in cues if slug in self._cue_requires}
        spans = [h for h in cue_hits if h.label in required and not h.negated]
        return [h for h in hits if not any(s.start < h.end and h.start < s.end for s in spans)]

    def _cues(self, hits: list[Hit]) -> dict[str, list[str]]:
        found = KeywordMatcher.found(hits)
        return {slug: kws for slug, kws in found.items() if self._cue_requires.get(slug, slug) in found}

    def key_facts(self, observation: str, language: str) -> list[str]:
        """The key facts an observation states, without an LLM: each sentence (or clause) that shows a cue with a
        ``fact`` name, as "<name>: <the salesperson's own words>" — quoted, never rephrased, so never invented."""
        facts = []
        for clause in _CLAUSES.split(observation):
            clause = clause.strip(" -\u2013\u2014\t").rstrip(".!?")  # dashes: en, em
            if len(clause) < 3:
                continue
            found = self.cues_in(normalize(clause))
            names = [self._fact_cues[slug].get(language) for slug in found if slug in self._fact_cues]
            if names:  # one clause, one fact, however many things it tells ("Rodzina, Zakup firmowy: ...")
                said = clause if len(clause) <= MAX_FACT_CHARS else clause[: MAX_FACT_CHARS - 1].rstrip() + "…"
                facts.append(f"{', '.join(names)}: {said}")
        return facts

    def refine(self, fast: FastResult, assessment: Mapping[str, str]) -> Scores:
        """The indicators again, now with the LLM's assessment labels for the rules that use them."""
        return self.rules.current().evaluate(replace(fast.context, assessment=dict(assessment)))

    def playbook_moves(
        self, archetypes: list[ArchetypeScore], language: str, exclude: frozenset[str] = frozenset()
    ) -> list[SuggestedMove]:
        """Four moves, one of each kind, from the leading archetypes' playbooks (degraded mode).

        ``exclude`` holds texts already shown, so that "generate others" gives new ones while there are any.
        """
        moves: list[SuggestedMove] = []
        for kind in MOVE_KINDS:
            candidates = [
                (a.slug, m) for a in archetypes[:3] for m in self.pack.archetypes[a.slug].playbook if m.kind == kind
            ]
            fresh = [(slug, m) for slug, m in candidates if m.text.get(language) not in exclude]
            slug, move = (fresh or candidates)[0]
            moves.append(_suggested(move, language, f"playbook:{slug}"))
        return moves


def pack_lemmas(pack: DomainPack) -> Lemmas:
    """The inflected forms of every whole word in the pack's keywords (a stem's last word is a prefix, not a
    word)."""
    keyword_sets = [
        *(a.signals.keywords for a in pack.archetypes.values()),
        *(m.keywords for m in pack.knowledge.values()),
        *(c.keywords for c in pack.cues.values()),
    ]
    words, stems = [], []
    for keyword in (k for ks in keyword_sets for k in ks.all()):
        parts = re.findall(r"\w+", keyword.lstrip("!").lower())
        if keyword.endswith("*") and parts:
            stems.append(parts.pop())
        words += parts
    return Lemmas.for_words(words, stems, normalize)


def _suggested(move: Move, language: str, source: str) -> SuggestedMove:
    return SuggestedMove(move.kind, move.text.get(language), move.why.get(language), source)
