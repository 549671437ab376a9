"""People's text in a prompt is one data element, whatever it holds: no tag inside it survives, nothing is lost."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from backend.domain.copilot.prompts import data

TAGS = ("observation", "turn", "fact", "summary", "earlier_session", "customer", "shown", "assessment")
tag_soup = st.lists(
    st.one_of(st.text(max_size=20), st.sampled_from([f"<{t}>" for t in TAGS] + [f"</{t}>" for t in TAGS])),
    max_size=12,
).map("".join)


@given(text=st.one_of(st.text(), tag_soup), tag=st.sampled_from(TAGS))
def test_data_holds_no_tag_and_loses_nothing(text: str, tag: str) -> None:
    wrapped = data(text, tag)
    body = wrapped.removeprefix(f"<{tag}>").removesuffix(f"</{tag}>")
    assert "<" not in body and ">" not in body
    assert body.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text
