"""The indexed keyword matcher finds exactly what trying every pattern would find."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.engine.matching import KeywordMatcher, _pattern, normalize

words = st.sampled_from(["dziec", "dzieci", "fotelik", "isofix", "0-100", "vat", "łódź", "zasięg", "ab", "a"])
keywords = st.builds(
    lambda ws, stem: " ".join(ws) + ("*" if stem else ""), st.lists(words, min_size=1, max_size=2), st.booleans()
)
texts = st.lists(
    st.sampled_from(["dzieckiem", "Fotelik", "isofix,", "0-100", "VAT-26", "Łodzi", "zasięgu", "ab", "x"]), max_size=8
)


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(["l1", "l2", "l3"]), st.lists(keywords, min_size=1, max_size=4)), texts)
def test_index_agrees_with_trying_every_pattern(labelled: dict[str, list[str]], tokens: list[str]) -> None:
    text = normalize(" ".join(tokens))
    naive = {label: [kw for kw in dict.fromkeys(kws) if _pattern(kw).search(text)] for label, kws in labelled.items()}
    expected = {label: found for label, found in naive.items() if found}
    assert KeywordMatcher(labelled).find(text) == expected  # same keywords, in declaration order
