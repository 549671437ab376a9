"""New passwords: long enough, not one of the most common ones (in any case, with a number or ! after it), and not
the username (ASVS 2.1)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from backend.domain.accounts.passwords import COMMON, MIN_PASSWORD_LENGTH, password_problem

common = st.sampled_from(sorted(p for p in COMMON if len(p) >= MIN_PASSWORD_LENGTH))


@given(common, st.sampled_from(["", "1", "123", "!", "2024!"]), st.booleans())
def test_common_passwords_are_refused_however_dressed(password: str, suffix: str, capitalised: bool) -> None:
    typed = (password.capitalize() if capitalised else password) + suffix
    assert password_problem(typed, "anna.nowak") is not None


@given(st.sampled_from(["jan.kowalski", "admin", "Anna"]), st.sampled_from(["", "1", "!2024", "-sufler"]))
def test_the_username_is_not_a_password(username: str, suffix: str) -> None:
    assert password_problem(username + suffix + "x" * MIN_PASSWORD_LENGTH, username) is not None


def test_a_long_uncommon_passphrase_is_fine() -> None:
    assert password_problem("correct horse battery", "jan.kowalski") is None
    assert password_problem("temporary-1234", "a") is None  # a one-letter username blocks nothing
    assert password_problem("short", "jan") is not None
