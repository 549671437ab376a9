"""Keyword matching that forgives what fast typing on a phone does: case, Polish diacritics, inflection.

A keyword is a word or phrase matched on word boundaries, or a stem ending in ``*`` matching any word that
starts with it (``dziec*`` → dziecko, dzieci, dzieckiem).
"""

from __future__ import annotations

import re
import unicodedata
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


class KeywordMatcher:
    """Finds which labelled keyword sets occur in a text, and through which keywords."""

    def __init__(self, keywords: Mapping[str, Iterable[str]]) -> None:
        self._patterns = {label: [(kw, _pattern(kw)) for kw in dict.fromkeys(kws)] for label, kws in keywords.items()}

    def find(self, normalized_text: str) -> dict[str, list[str]]:
        """``{label: [keywords found]}`` for every label with at least one hit (text from :func:`normalize`)."""
        hits: dict[str, list[str]] = {}
        for label, patterns in self._patterns.items():
            found = [kw for kw, pattern in patterns if pattern.search(normalized_text)]
            if found:
                hits[label] = found
        return hits
