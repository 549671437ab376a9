"""The matcher on the shipped pack's keywords: negation flips a cue, inflected forms match, whole words only."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.engine.engine import pack_lemmas
from backend.domain.engine.lemmas import TYPO_MIN_CHARS, Lemmas
from backend.domain.engine.matching import DOUBT, NEGATORS, KeywordMatcher, normalize
from backend.domain.pack.pack import load_pack

ROOT = Path(__file__).resolve().parents[2]
PACK = load_pack(ROOT)
LEMMAS: Lemmas = pack_lemmas(PACK)
CUES = KeywordMatcher({slug: cue.keywords.all() for slug, cue in PACK.cues.items()}, LEMMAS)
# Cue keywords that are whole words and phrases with no negation of their own ("nie stać" is one) and no word of
# doubt (a negated "think", "wie" keeps its topic by design: "doesn't trust the battery" is about the battery)
PLAIN = sorted(
    {
        (slug, kw)
        for slug, cue in PACK.cues.items()
        if cue.requires is None
        for kw in cue.keywords.all()
        if not kw.startswith("!")
        and not kw.endswith("*")
        and not set(normalize(kw).split()) & (NEGATORS | DOUBT)
        and "'" not in kw
    }
)
LEADS = st.sampled_from(["klient", "client", "pani", "he", "she", "pyta o", "asks about"])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PLAIN), LEADS, st.sampled_from(["nie", "not", "bez", "without", "no"]))
def test_negation_flips_a_cue(cue_keyword: tuple[str, str], lead: str, negator: str) -> None:
    slug, keyword = cue_keyword
    assert slug in CUES.find(normalize(f"{lead} {keyword}"))
    negated = CUES.find(normalize(f"{lead} {negator} {keyword}"))
    assert keyword not in negated.get(slug, [])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PLAIN), st.sampled_from([", ale", ", but", "; ", ". "]))
def test_negation_ends_with_its_clause(cue_keyword: tuple[str, str], boundary: str) -> None:
    slug, keyword = cue_keyword
    assert slug in CUES.find(normalize(f"nie teraz{boundary} {keyword}"))


def _inflected_pairs() -> list[tuple[str, str]]:
    """(keyword word, another form of its lemma) for one-word Polish keywords the dictionaries know."""
    pairs = []
    for cue in PACK.cues.values():
        for kw in cue.keywords.pl:
            word = normalize(kw)
            if kw.endswith("*") or " " in word:
                continue
            lemmas = set(LEMMAS.of_keyword_word(word)) - {word}
            forms = [form for form, of in LEMMAS._table.items() if set(of) & lemmas and form != word]
            pairs += [(kw, form) for form in sorted(forms)[:5]]
    return pairs


INFLECTED = _inflected_pairs()


def test_the_pack_has_inflected_forms_to_check() -> None:
    assert len(INFLECTED) > 50


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(INFLECTED))
def test_inflected_forms_match(pair: tuple[str, str]) -> None:
    keyword, form = pair
    assert KeywordMatcher({"k": [keyword]}, LEMMAS).find(f"klient {form} dzis") == {"k": [keyword]}


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([kw for _, kw in PLAIN if " " not in kw and normalize(kw).isalpha()]),
    st.text("qxzjv", min_size=2, max_size=3),
    st.text("qxzjv", min_size=2, max_size=3),
)
def test_whole_words_only(keyword: str, before: str, after: str) -> None:
    matcher = KeywordMatcher({"k": [keyword]}, LEMMAS)
    word = normalize(keyword)
    assert matcher.find(f"{word}") == {"k": [keyword]}
    assert matcher.find(f"{before}{word}{after}") == {}
    assert matcher.find(f"{before}{word}") == {}
    if len(word) + 2 >= TYPO_MIN_CHARS:  # two letters more is two typos, never one
        assert matcher.find(f"{word}{after}") == {}


@pytest.mark.parametrize("seed", range(3))
@settings(max_examples=100, deadline=None)
@given(st.sampled_from([kw for _, kw in PLAIN if len(normalize(kw)) >= TYPO_MIN_CHARS and normalize(kw).isalpha()]))
def test_one_typo_in_a_long_word_still_matches(seed: int, keyword: str) -> None:
    word = normalize(keyword)
    i = 3 + seed % (len(word) - 4)  # typos are forgiven after three right letters
    for typo in (word[:i] + word[i + 1 :], word[:i] + word[i + 1] + word[i] + word[i + 2 :]):
        if not LEMMAS.is_real_word(typo):
            assert KeywordMatcher({"k": [keyword]}, LEMMAS).find(f"klient {typo}") == {"k": [keyword]}
