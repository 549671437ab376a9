"""The log redactor: any e-mail address or phone number in any text is gone; ordinary text and ids stay."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import DataError

from backend.redaction import Redactor

redactor = Redactor()

separators = st.sampled_from([" ", "-", ".", ""])
country = st.sampled_from(["", "+48 ", "+48", "+1 ", "0048 ", "(+48) "])


@st.composite
def phones(draw: st.DrawFn) -> str:
    """Phone numbers as people type them: 9 digits in groups, with or without a country code."""
    digits = draw(st.text("0123456789", min_size=9, max_size=9))
    if draw(st.booleans()):
        sep = draw(separators)
        grouped = sep.join([digits[:3], digits[3:6], digits[6:]])
    else:
        grouped = f"({digits[:2]}) {digits[2:5]} {digits[5:7]} {digits[7:]}"  # a landline with its area code
    return draw(country) + grouped


@given(st.text(), st.emails(), st.text())
def test_an_email_address_anywhere_is_gone(before: str, email: str, after: str) -> None:
    assert email not in redactor.text(before + email + after)


@given(st.text(), phones(), st.text())
def test_a_phone_number_anywhere_in_text_is_gone(before: str, phone: str, after: str) -> None:
    redacted = redactor.text(f"{before} {phone}, {after}")
    assert phone not in redacted
    assert "[phone]" in redacted


keys = st.sampled_from(["name", "contact_info", "phone", "email", "username", "Last-Name", "note", "event"])
personal = st.one_of(st.emails(), phones())
values = st.recursive(
    st.none() | st.integers() | personal.map(lambda p: f"kontakt: {p}"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)


def leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in leaves(v)]
    if isinstance(value, list):
        return [s for v in value for s in leaves(v)]
    return [value] if isinstance(value, str) else []


@given(st.dictionaries(keys, values, max_size=4), st.emails())
def test_nested_events_keep_their_shape_and_lose_the_data(event: dict[str, Any], email: str) -> None:
    event = {**event, "event": f"login failed for {email}"}
    redacted = redactor(None, "info", event)
    assert redacted.keys() == event.keys()
    for original in leaves(event):
        address_or_number = original.removeprefix("kontakt: ").removeprefix("login failed for ")
        assert all(address_or_number not in text for text in leaves(redacted))


@given(st.text(st.characters(exclude_characters="@", exclude_categories=["Nd"])))
def test_text_without_addresses_or_digits_is_untouched(text: str) -> None:
    assert redactor.text(text) == text


@given(st.uuids(), st.integers(min_value=0, max_value=99_999_999), st.floats(allow_nan=False))
def test_ids_statuses_and_measurements_are_untouched(request_id: Any, number: int, duration: float) -> None:
    event = {"request_id": request_id.hex, "status": 200, "count": number, "path": f"/clients/{number}"}
    event["duration_ms"] = duration
    assert redactor(None, "info", event) == event


def test_remembered_names_are_redacted_in_any_case_and_spacing() -> None:
    names = Redactor(("Jan Kowalski", "Jo"))  # too short to tell from ordinary words: not remembered
    redacted = names.text("Spotkanie z JAN   kowalski, Jo i Janem Kowalskim.")
    assert redacted == "Spotkanie z [name], Jo i Janem Kowalskim."  # other forms of a name are not recognised


@given(st.text(min_size=1))
def test_a_database_errors_parameters_are_gone(value: str) -> None:
    error = DataError("INSERT INTO clients (name) VALUES ($1)", (value,), Exception("invalid byte sequence"))
    assert f"[parameters: ({value!r},)]" in str(error)  # what SQLAlchemy puts in every such message
    lines = redactor.text(str(error)).splitlines()
    assert [line for line in lines if line.startswith("[parameters:")] == ["[parameters: [redacted]]"]
