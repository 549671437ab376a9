"""Keyword matching that forgives what fast typing on a phone does: case, Polish diacritics, inflection.

A keyword is a word or phrase matched on word boundaries, or a stem ending in ``*`` matching any word that
starts with it (``dziec*`` → dziecko, dzieci, dzieckiem).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping

_FOLD = str.maketrans({"ł": "l", "Ł": "l"})  # ł has no combining form, so NFKD alone keeps it


def normalize(text: str) -> str:
    """Lowercase, without diacritics, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD).lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


def _pattern(keyword: str) -> re.Pattern[str]:
    stem = keyword.endswith("*")
    words = normalize(keyword.rstrip("*")).split()
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(r"(?<!\w)" + body + (r"\w*" if stem else r"(?!\w)"))


_WORD = re.compile(r"\w+")

Candidate = tuple[int, str, str, re.Pattern[str]]  # declaration order, label, keyword, pattern


class KeywordMatcher:
    """Finds which labelled keyword sets occur in a text, and through which keywords.

    Thousands of patterns would be slow to try one by one on every observation, so each keyword is indexed by
    its first word (or, for a one-word stem, by that stem as a prefix); only the keywords whose first word is
    in the text are tried.
    """

    def __init__(self, keywords: Mapping[str, Iterable[str]]) -> None:
        self._exact: dict[str, list[Candidate]] = defaultdict(list)
        self._prefix: dict[str, list[Candidate]] = defaultdict(list)
        self._always: list[Candidate] = []
        order = 0
        for label, kws in keywords.items():
            for kw in dict.fromkeys(kws):
                order += 1
                candidate = (order, label, kw, _pattern(kw))
                tokens = _WORD.findall(normalize(kw.rstrip("*")))
                if not tokens:
                    self._always.append(candidate)
                elif kw.endswith("*") and len(tokens) == 1:
                    self._prefix[tokens[0]].append(candidate)
                else:
                    self._exact[tokens[0]].append(candidate)
        self._prefix_lengths = sorted({len(stem) for stem in self._prefix})

    def find(self, normalized_text: str) -> dict[str, list[str]]:
        """``{label: [keywords found]}`` for every label with at least one hit (text from :func:`normalize`)."""
        candidates: set[Candidate] = set(self._always)
        for token in set(_WORD.findall(normalized_text)):
            candidates.update(self._exact.get(token, ()))
            for length in self._prefix_lengths:
                if length > len(token):
                    break
                candidates.update(self._prefix.get(token[:length], ()))
        hits: dict[str, list[str]] = {}
        for _, label, kw, pattern in sorted(candidates, key=lambda c: c[0]):  # keywords in declaration order
            if pattern.search(normalized_text):
                hits.setdefault(label, []).append(kw)
        return hits
