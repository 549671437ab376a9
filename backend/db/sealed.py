"""Contacts typed into free text are sealed at rest: a phone number or e-mail address in an observation, a key
fact, a session summary or a customer's chat line is encrypted in place with the data keys (backend/crypto.py),
the words around it stay as they were. Column types do it on every write and undo it on every read, so no query
path can forget to; structured contacts (a client's contact field, a lead's shared phone) are encrypted whole
by their services as before.

Stored form of one sealed contact: ``⟦enc:<key id>:<base64url>⟧`` inside the text. The process's cipher is set
once at start (:func:`use_cipher`); text with a contact and no cipher is refused, never stored in plaintext.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from backend.crypto import DataCipher, DataKeyError
from backend.redaction import EMAIL, PHONE

__all__ = ("SEALED", "SealedJSON", "SealedText", "contacts_in", "seal", "unseal", "unseal_json", "use_cipher")

SEALED = re.compile(r"\u27e6(enc:[A-Za-z0-9_-]{1,16}:[A-Za-z0-9_=-]+)\u27e7")
# Already sealed spans first, so sealing twice changes nothing (base64 may hold digit runs that look like phones).
_SPANS = re.compile(f"(?P<sealed>{SEALED.pattern})|(?P<contact>{EMAIL.pattern}|{PHONE.pattern})")

_cipher: DataCipher | None = None


def use_cipher(cipher: DataCipher) -> None:
    """The data keys this process seals and unseals with (the app's start, the CLI commands that touch data)."""
    global _cipher
    _cipher = cipher


def _current() -> DataCipher:
    if _cipher is None:
        raise DataKeyError("Contact data in free text needs the data keys, and none are loaded in this process.")
    return _cipher


def contacts_in(text: str) -> bool:
    """Whether ``text`` holds a contact that is not sealed yet."""
    return any(m.group("contact") for m in _SPANS.finditer(text))


def seal(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        return match.group() if match.group("sealed") else f"\u27e6{_current().encrypt(match.group())}\u27e7"

    return _SPANS.sub(one, text)


def unseal(text: str) -> str:
    if "\u27e6enc:" not in text:
        return text
    cipher = _current()
    return SEALED.sub(lambda m: cipher.decrypt(m.group(1)) or "", text)


class SealedText(TypeDecorator[str]):
    """TEXT whose contacts are sealed."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else unseal(value)


def _walk(value: Any, change: Callable[[str], str], keys: tuple[str, ...] | None) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [_walk(item, change, keys) for item in value]
    if isinstance(value, dict):
        return {k: _walk(v, change, keys) if keys is None or k in keys else v for k, v in value.items()}
    return value


def unseal_json(value: Any) -> Any:
    """A JSON value PostgreSQL picked out of a sealed column (a JSON path), opened."""
    return _walk(value, unseal, None)


class SealedJSON(TypeDecorator[Any]):
    """JSONB whose free text is sealed: every string in it (``keys`` None), or in objects only the values under
    ``keys`` (a chat line's "text", not its "from" or "at"). Only what looks like a phone or an e-mail changes,
    so slugs, ids and modes stay readable to JSON paths."""

    impl = JSONB
    cache_ok = True

    def __init__(self, keys: tuple[str, ...] | None = None) -> None:
        super().__init__()
        self.keys = keys

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return _walk(value, seal, self.keys)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return _walk(value, unseal, self.keys)
