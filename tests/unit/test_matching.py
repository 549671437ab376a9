from __future__ import annotations

from backend.domain.engine.matching import KeywordMatcher, normalize


def test_normalize_folds_case_diacritics_and_spaces() -> None:
    assert normalize("  ŻÓŁTA   Łódź  ") == "zolta lodz"


def test_words_phrases_and_stems() -> None:
    matcher = KeywordMatcher({"family": ["dziec*", "fotelik"], "company": ["na firmę", "vat"]})
    hits = matcher.find(normalize("Z DZIECKIEM, kupuje na firme i pyta o VAT; fotelikowy"))
    assert hits == {"family": ["dziec*"], "company": ["na firmę", "vat"]}


def test_whole_words_only_unless_stem() -> None:
    matcher = KeywordMatcher({"tax": ["vat"], "kids": ["dzieci"]})
    assert matcher.find(normalize("privately elevated dziecinny")) == {}
