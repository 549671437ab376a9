"""Streaming JSON: every prefix yields only members that are really in the final object, with their values."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from backend.domain.copilot.partial_json import completed_members

scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
objects = st.dictionaries(st.text(max_size=6), values, max_size=5)


@given(objects, st.booleans())
def test_every_prefix_gives_a_subset_and_the_whole_gives_all(obj: dict[str, Any], pretty: bool) -> None:
    text = json.dumps(obj, indent=2 if pretty else None, ensure_ascii=False)
    previous: dict[str, Any] = {}
    for end in range(len(text) + 1):
        members = completed_members(text[:end])
        assert all(k in obj and obj[k] == v for k, v in members.items())
        assert previous.keys() <= members.keys()  # a member never disappears once complete
        previous = members
    assert completed_members(text) == obj


@given(st.text(max_size=40))
def test_garbage_never_crashes(text: str) -> None:
    assert isinstance(completed_members(text), dict)


def test_moves_appear_one_by_one() -> None:
    text = '{"question": {"text": "Ile km dziennie?", "why": "zasięg"}, "argument": {"text": "Tańsza jaz'
    assert completed_members(text) == {"question": {"text": "Ile km dziennie?", "why": "zasięg"}}
