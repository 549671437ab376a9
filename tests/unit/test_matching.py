from __future__ import annotations

from pathlib import Path

from backend.domain.engine.engine import pack_lemmas
from backend.domain.engine.lemmas import Lemmas
from backend.domain.engine.matching import KeywordMatcher, normalize, tokenize
from backend.domain.pack.pack import load_pack

LEMMAS = pack_lemmas(load_pack(Path(__file__).resolve().parents[2]))


def test_normalize_folds_case_diacritics_and_spaces() -> None:
    assert normalize("  ŻÓŁTA   Łódź  ") == "zolta lodz"


def test_words_phrases_and_stems() -> None:
    matcher = KeywordMatcher({"family": ["dziec*", "fotelik"], "company": ["na firmę", "vat"]}, Lemmas.none())
    hits = matcher.find(normalize("Z DZIECKIEM, kupuje na firme i pyta o VAT; fotelikowy"))
    assert hits == {"family": ["dziec*"], "company": ["na firmę", "vat"]}


def test_whole_words_only_unless_stem() -> None:
    matcher = KeywordMatcher({"tax": ["vat"], "kids": ["dzieci"]}, Lemmas.none())
    assert matcher.find(normalize("privately elevated dziecinny")) == {}


def test_stem_changes_of_polish_inflection_match_without_diacritics() -> None:
    matcher = KeywordMatcher({"neighbours": ["sąsiad*"], "husband": ["mąż"]}, LEMMAS)
    assert matcher.find(normalize("Sasiedzi juz maja, przyszla z mezem")) == {
        "neighbours": ["sąsiad*"],
        "husband": ["mąż"],
    }


def test_negation_and_its_scope() -> None:
    matcher = KeywordMatcher({"financing": ["finansowanie", "financing"], "price": ["cena", "price"]}, LEMMAS)
    assert matcher.find(normalize("Nikt nie pyta o cenę ani o finansowanie")) == {}
    assert matcher.find(normalize("Nobody asks about price or financing")) == {}
    assert matcher.find(normalize("Nie teraz, ale pyta o finansowanie")) == {"financing": ["finansowanie"]}
    assert [t.negated for t in tokenize("nie chce jazdy, nie wie jak sie laduje")] == [False, True, True] + [False] * 5


def test_doubt_is_not_denial() -> None:
    matcher = KeywordMatcher({"battery": ["battery", "bateria"]}, LEMMAS)
    assert matcher.find(normalize("Doesn't trust the battery")) == {"battery": ["battery"]}
    assert matcher.find(normalize("Nie wierzy w baterię")) == {"battery": ["bateria"]}


def test_an_exception_hides_the_sets_words_inside_it() -> None:
    matcher = KeywordMatcher({"range": ["range", "!range rover*"], "car": ["rover*"]}, LEMMAS)
    assert matcher.find(normalize("Przesiada się z Range Rovera")) == {"car": ["rover*"]}
    assert matcher.find(normalize("real range in winter")) == {"range": ["range"]}


def test_a_typo_in_a_long_word_but_not_another_real_word() -> None:
    matcher = KeywordMatcher({"accel": ["przyspieszenie"], "commute": ["commute"], "fin": ["financing"]}, LEMMAS)
    assert matcher.find(normalize("pyta o przyspiesznie")) == {"accel": ["przyspieszenie"]}
    assert matcher.find(normalize("asks about finacning")) == {"fin": ["financing"]}
    assert matcher.find(normalize("how much compute it has")) == {}


def test_similarity_is_trusted_in_the_languages_the_model_reads() -> None:
    from backend.adapters.embedder import OFFLINE_MODEL, languages_of

    assert languages_of(OFFLINE_MODEL) == {"en"}
    assert languages_of("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2") == {"pl", "en"}
    assert languages_of("intfloat/multilingual-e5-large") == {"pl", "en"}
