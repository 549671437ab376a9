"""Contacts typed into free text: sealed at rest, read back exactly as typed, whatever surrounds them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.crypto import DataCipher, new_key
from backend.db import sealed
from backend.redaction import EMAIL, PHONE

phones = st.from_regex(r"\+?48 ?[5-8]\d{2}[ -]?\d{3}[ -]?\d{3}", fullmatch=True)
emails = st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8})?@[a-z]{2,8}\.(pl|com)", fullmatch=True)
words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
texts = st.lists(st.one_of(words, phones, emails), max_size=6).map(" ".join)


@pytest.fixture(autouse=True, scope="module")
def cipher() -> Iterator[None]:
    was = sealed._cipher
    sealed.use_cipher(DataCipher([("k1", new_key())], "lookup-secret"))
    yield
    sealed.use_cipher(was)  # type: ignore[arg-type]


@given(texts)
def test_sealed_text_reads_back_as_typed(text: str) -> None:
    assert sealed.unseal(sealed.seal(text)) == text


@given(texts)
def test_nothing_that_looks_like_a_contact_is_left_in_sealed_text(text: str) -> None:
    stored = sealed.seal(text)
    outside = sealed.SEALED.sub("\x00", stored)  # no separator: digits either side cannot join up
    assert not EMAIL.search(outside) and not PHONE.search(outside)
    assert sealed.seal(stored) == stored  # sealing twice changes nothing


@given(st.lists(st.fixed_dictionaries({"from": st.just("customer"), "text": texts, "at": st.just("2026-12-04")})))
def test_only_the_named_keys_of_a_json_value_are_sealed(lines: list[dict[str, str]]) -> None:
    column = sealed.SealedJSON(("text",))
    stored = column.process_bind_param(lines, None)  # type: ignore[arg-type]
    assert [(line["from"], line["at"]) for line in stored] == [(line["from"], line["at"]) for line in lines]
    assert column.process_result_value(stored, None) == lines  # type: ignore[arg-type]
