"""The cockpit protocol parser: any input becomes a message or a typed ProtocolError, never anything else."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from backend.domain.protocol.cockpit import (
    CLIENT_MESSAGE_TYPES,
    MAX_MESSAGE_BYTES,
    ProtocolError,
    parse_client_message,
)

CODES = {
    "message_too_large",
    "malformed_json",
    "unsupported_version",
    "unknown_type",
    "invalid_message",
    "bad_request",  # a value the database cannot store (NUL, a number past bigint)
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
messages = st.fixed_dictionaries(
    {"type": st.sampled_from([*CLIENT_MESSAGE_TYPES, "nope"])},
    optional={
        "v": st.sampled_from([1, 2, "1", None]),
        "text": st.text(max_size=30),
        "client_message_id": st.text(max_size=70),
        "session_id": st.integers(),
        "last_seq": st.integers(),
        "rating": st.integers(-2, 2),
        "suggestion_id": st.text(max_size=20),
        "extra": json_values,
    },
)


def check(raw: str | bytes) -> None:
    try:
        message = parse_client_message(raw)
    except ProtocolError as exc:
        assert exc.code in CODES and exc.message
    else:
        assert message.type in CLIENT_MESSAGE_TYPES and message.v == 1


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_garbage_is_a_typed_error(raw: str | bytes) -> None:
    check(raw)


@given(json_values)
def test_any_json_value_is_a_message_or_a_typed_error(value: Any) -> None:
    check(json.dumps(value))


@given(messages)
def test_message_shaped_objects_are_a_message_or_a_typed_error(value: dict[str, Any]) -> None:
    check(json.dumps(value))


@given(st.text(max_size=20), st.text(max_size=20))
def test_an_unstorable_text_is_a_bad_request_naming_the_field(before: str, after: str) -> None:
    value = {"type": "observation", "v": 1, "client_message_id": "m-1", "text": f"{before}\x00{after}"}
    try:
        parse_client_message(json.dumps(value))
    except ProtocolError as exc:
        assert exc.code == "bad_request" and exc.message.startswith("The message cannot be stored: text:")
        assert exc.client_message_id == "m-1"
    else:
        raise AssertionError("accepted a NUL")


def test_oversized_is_refused_before_parsing() -> None:
    try:
        parse_client_message("x" * (MAX_MESSAGE_BYTES + 1))
    except ProtocolError as exc:
        assert exc.code == "message_too_large"
    else:
        raise AssertionError("accepted an oversized message")
