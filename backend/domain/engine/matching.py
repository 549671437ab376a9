"""Keyword matching that reads a note the way a salesperson types it: any case, with or without Polish
diacritics, in any inflected form, with a typo in a longer word — and not when the note says the opposite.

A keyword is a word or phrase matched on whole words, or a stem ending in ``*`` matching any word that starts
with it (``dziec*`` → dziecko, dzieci, dzieckiem). Each word of a keyword also matches the other forms of its
lemma (:mod:`lemmas`: "sąsiedzi" for "sąsiadów"), and a word of 7 letters or more also matches with one typo
(a letter missing, added, changed or two swapped). A keyword that starts with ``!`` is an exception: the set's
other keywords do not count inside it ("!range rover" keeps "range" from firing on the car).

Negation: a word such as "nie", "bez", "ani", "not", "no", "without", "instead of" negates the next few words of
its clause ("nobody asks about price or financing": neither price nor financing is a cue); the scope ends at a
comma or other clause mark, at "but"/"ale"/"tylko", and at a question word ("nie wie, jak się ładuje" and
"doesn't know how charging works" are about charging). A keyword that itself holds the negation ("nie stać",
"no rush") matches as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from backend.domain.engine.lemmas import TYPO_MIN_CHARS, Lemmas, deletes, within_one_edit

_FOLD = str.maketrans({"ł": "l", "Ł": "l"})  # ł has no combining form, so NFKD alone keeps it


def normalize(text: str) -> str:
    """Lowercase, without diacritics, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD).lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


_WORD = re.compile(r"\w+")
_CLAUSE_MARK = re.compile(r"[,;.!?:()\[\]\u2013\u2014]|\s-\s")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NEGATORS = _words(
    # Polish: nie, ani (nor), bez (without), nikt/nic/żaden (nobody, nothing, none), nigdy, zamiast (instead of)
    "nie ani bez nikt nic zaden zadna zadne zadnej zadnego nigdy zamiast "
    # English; "doesn't" is tokenized "doesn", "t"
    "not no never nobody nothing none without neither nor instead "
    "don doesn didn isn aren wasn weren won wouldn hasn haven cant cannot dont doesnt didnt isnt wont"
)
# Words that carry a running negation over a list: "not price or financing", "ani ekologia, ani zasięg".
_CARRY = _words("or nor and ani lub albo i")
# Words that end a negation's scope: a contrast, or a question word opening what the negated verb is about.
_SCOPE_END = _words(
    "ale lecz tylko jednak but only just though "
    "jak czy gdzie kiedy ile co ze dlaczego czym jaki jaka jakie "
    "how whether if where when what why which that"
)
# Doubt is not denial: "doesn't trust the battery", "nie wierzy w zasięg" are about the battery and the range.
DOUBT = _words(
    "trust believe know understand get sure convinced buy think "
    "wierzy ufa wie rozumie czai ogarnia ogarnie pewien pewna przekonany przekonana"
)
NEGATION_REACH = 4  # words after a negator (or a carrying "or") that it negates
# "Instead of" negates what it names, not the verb after it: "zamiast u nas zamawia Skodę" orders the Skoda;
# "doesn't" reaches one word further, as its "t" is a word of its own.
_REACH = {"zamiast": 2, "instead": 2} | {w: NEGATION_REACH + 1 for w in ["don", "doesn", "didn", "isn", "aren", "wasn"]}
_REACH |= {w: NEGATION_REACH + 1 for w in ["weren", "won", "wouldn", "hasn", "haven"]}


@dataclass(frozen=True, slots=True)
class Token:
    word: str  # folded
    clause: int  # clause number within the text
    negated: bool


def tokenize(normalized_text: str) -> list[Token]:
    """The words of a normalized text, each with its clause and whether a negation covers it."""
    tokens: list[Token] = []
    clause = 0
    reach = 0  # words the running negation still covers
    after_negator = False
    last_end = 0
    for match in _WORD.finditer(normalized_text):
        if _CLAUSE_MARK.search(normalized_text, last_end, match.start()):
            clause += 1
            reach = 0
        last_end = match.end()
        word = match.group()
        # "not just a drive", "nie tylko jazda": right after the negator, "just" is part of what is negated
        if (word in _SCOPE_END and not after_negator) or (word in DOUBT and reach > 0):
            reach = 0
        negated = reach > 0
        if word in NEGATORS:
            reach = _REACH.get(word, NEGATION_REACH) + 1
        elif word in _CARRY and reach > 0:
            reach = NEGATION_REACH + 1
        after_negator = word in NEGATORS or (after_negator and word == "t")
        reach = max(0, reach - 1)
        tokens.append(Token(word, clause, negated))
    return tokens


@dataclass(frozen=True, slots=True)
class Words:
    """A note's words and the forms each stands for: read once, matched by every keyword set."""

    tokens: list[Token]
    forms: list[frozenset[str]]


def read(normalized_text: str, lemmas: Lemmas) -> Words:
    tokens = tokenize(normalized_text)
    return Words(tokens, [frozenset(lemmas.forms(t.word)) for t in tokens])


@dataclass(frozen=True, slots=True)
class _Part:
    words: frozenset[str]  # the keyword word and its lemmas (empty for a stem)
    stem: str | None  # a prefix, for the last word of a keyword ending in *
    typo: str | None  # the word, when long enough to be matched with a typo


@dataclass(frozen=True, slots=True)
class _Keyword:
    order: int
    label: str
    keyword: str
    parts: tuple[_Part, ...]
    exception: bool


@dataclass(frozen=True, slots=True)
class Hit:
    label: str
    keyword: str
    start: int  # token index
    end: int  # token index after the last word
    negated: bool


class KeywordMatcher:
    """Finds which labelled keyword sets occur in a text, and through which keywords.

    Thousands of keywords would be slow to try one by one on every observation, so each is indexed by its first
    word (its forms, its stem, or for typos its one-letter deletions); only keywords whose first word is in the
    text are tried.
    """

    def __init__(self, keywords: Mapping[str, Iterable[str]], lemmas: Lemmas | None = None) -> None:
        self._lemmas = lemmas or Lemmas.none()
        self._by_word: dict[str, list[_Keyword]] = defaultdict(list)
        self._by_stem: dict[str, list[_Keyword]] = defaultdict(list)
        self._by_delete: dict[str, list[_Keyword]] = defaultdict(list)
        order = 0
        for label, kws in keywords.items():
            for raw in dict.fromkeys(kws):
                parts = self._parts(raw)
                if not parts:
                    continue
                order += 1
                kw = _Keyword(order, label, raw, parts, raw.startswith("!"))
                first = parts[0]
                if first.stem is not None:
                    self._by_stem[first.stem].append(kw)
                for word in first.words:
                    self._by_word[word].append(kw)
                if first.typo is not None:
                    for variant in deletes(first.typo) | {first.typo}:
                        self._by_delete[variant].append(kw)
        self._stem_lengths = sorted({len(stem) for stem in self._by_stem})

    def _parts(self, keyword: str) -> tuple[_Part, ...]:
        stem = keyword.endswith("*")
        words = _WORD.findall(normalize(keyword.lstrip("!").rstrip("*")))
        parts = []
        for i, word in enumerate(words):
            if stem and i == len(words) - 1:
                parts.append(_Part(frozenset(), word, None))
            else:
                forms = frozenset(self._lemmas.of_keyword_word(word))
                parts.append(_Part(forms, None, word if len(word) >= TYPO_MIN_CHARS and word.isalpha() else None))
        return tuple(parts)

    def hits(self, text: str | Words) -> list[Hit]:
        """Every keyword occurrence (text from :func:`normalize`, or already :func:`read` with this matcher's
        lemmas), exceptions applied, negated ones marked."""
        words = text if isinstance(text, Words) else read(text, self._lemmas)
        tokens, forms = words.tokens, words.forms
        found: dict[tuple[int, int], Hit] = {}  # (keyword order, start) -> hit
        exceptions: list[Hit] = []
        for i, token in enumerate(tokens):
            for kw in self._candidates(token.word, forms[i]):
                end = self._match_at(kw.parts, tokens, forms, i)
                if end is None:
                    continue
                hit = Hit(kw.label, kw.keyword, i, end, tokens[i].negated)
                if kw.exception:
                    exceptions.append(hit)
                else:
                    found[(kw.order, i)] = hit
        kept = [
            hit
            for _, hit in sorted(found.items())
            if not any(e.label == hit.label and e.start <= hit.start and hit.end <= e.end for e in exceptions)
        ]
        return kept

    def find(self, normalized_text: str) -> dict[str, list[str]]:
        """``{label: [keywords found]}`` for every label with a hit that is not negated, keywords in declaration
        order."""
        return self.found(self.hits(normalized_text))

    @staticmethod
    def found(hits: list[Hit]) -> dict[str, list[str]]:
        """:meth:`find`'s answer from hits already taken (and perhaps filtered)."""
        result: dict[str, list[str]] = {}
        for hit in hits:
            if not hit.negated and hit.keyword not in result.get(hit.label, []):
                result.setdefault(hit.label, []).append(hit.keyword)
        return result

    def _candidates(self, word: str, forms: frozenset[str]) -> list[_Keyword]:
        candidates: dict[int, _Keyword] = {}
        for form in forms:
            for kw in self._by_word.get(form, ()):
                candidates[kw.order] = kw
        for form in forms:  # the word and its lemmas: "sąsiedzi" is a form of "sąsiad", which "sąsiad*" starts
            for length in self._stem_lengths:
                if length > len(form):
                    break
                for kw in self._by_stem.get(form[:length], ()):
                    candidates[kw.order] = kw
        if len(word) >= TYPO_MIN_CHARS - 1 and word.isalpha() and not self._lemmas.is_real_word(word):
            for variant in deletes(word) | {word}:
                for kw in self._by_delete.get(variant, ()):
                    candidates[kw.order] = kw
        return list(candidates.values())

    def _typo_of(self, part: _Part, word: str) -> bool:
        return (
            part.typo is not None
            and len(word) >= TYPO_MIN_CHARS - 1
            and word[:3] == part.typo[:3]
            and not self._lemmas.is_real_word(word)
            and within_one_edit(part.typo, word)
        )

    def _match_at(
        self, parts: tuple[_Part, ...], tokens: list[Token], forms: list[frozenset[str]], start: int
    ) -> int | None:
        """The token index after the keyword when it matches from ``start`` (one clause), else None."""
        if start + len(parts) > len(tokens):
            return None
        for offset, part in enumerate(parts):
            i = start + offset
            token = tokens[i]
            if token.clause != tokens[start].clause:
                return None
            if part.stem is not None:
                if not token.word.startswith(part.stem) and not any(f.startswith(part.stem) for f in forms[i]):
                    return None
            elif not (part.words & forms[i]) and not self._typo_of(part, token.word):
                return None
        return start + len(parts)
