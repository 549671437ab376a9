"""Contact data encrypted at rest: AES-256-GCM (authenticated) under the current data key, with older keys kept
for reading, so keys can be rotated; and a keyed hash (HMAC-SHA256) of the normalised value for exact lookups,
so a client can still be found by phone number or e-mail without decrypting every row.

Stored form: ``enc:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``. A value without that prefix is legacy
plaintext (written before encryption): it is read as is and encrypted by ``sufler rotate-data-key``.

Rotation: put a new key first in SUFLER_DATA_KEYS (``newid:newkey,oldid:oldkey``), restart, run
``sufler rotate-data-key`` (re-encrypts every value under the new key), then drop the old key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.errors import ConfigurationError

__all__ = ("PREFIX", "DataCipher", "DataKeyError", "new_key")

PREFIX = "enc:"
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class DataKeyError(ConfigurationError, ValueError):
    """A data key is malformed, or a value was encrypted under a key we do not have."""


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def _decode_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise DataKeyError("A data key must be 32 bytes in URL-safe base64.") from exc
    if len(raw) != 32:
        raise DataKeyError("A data key must be 32 bytes in URL-safe base64.")
    return raw


def normalise(value: str) -> str:
    """What makes two spellings of one contact the same: case, spaces, dashes, dots and brackets of phones."""
    value = value.strip().lower()
    if "@" in value:
        return value
    return re.sub(r"[\s\-.()/]", "", value)


class DataCipher:
    def __init__(self, keys: list[tuple[str, str]], lookup_secret: str) -> None:
        """``keys``: (id, base64 key), the current one first; ``lookup_secret`` keys the lookup hash."""
        if not keys:
            raise DataKeyError("At least one data key is needed.")
        for key_id, _ in keys:
            if not KEY_ID.match(key_id):
                raise DataKeyError(f"Data key id {key_id!r}: 1-16 letters, digits, _ or -.")
        self.current = keys[0][0]
        self._keys = {key_id: AESGCM(_decode_key(key)) for key_id, key in keys}
        self._lookup = hashlib.sha256(b"sufler-lookup:" + lookup_secret.encode()).digest()

    def encrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        nonce = os.urandom(12)
        sealed = self._keys[self.current].encrypt(nonce, value.encode(), self.current.encode())
        return f"{PREFIX}{self.current}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str | None) -> str | None:
        if stored is None or not stored.startswith(PREFIX):
            return stored  # legacy plaintext
        _, key_id, body = stored.split(":", 2)
        cipher = self._keys.get(key_id)
        if cipher is None:
            raise DataKeyError(f"This value was encrypted under data key {key_id!r}, which is not configured.")
        raw = base64.urlsafe_b64decode(body)
        try:
            return cipher.decrypt(raw[:12], raw[12:], key_id.encode()).decode()
        except InvalidTag as exc:
            raise DataKeyError(f"A value under data key {key_id!r} does not authenticate (wrong key?).") from exc

    def is_current(self, stored: str | None) -> bool:
        return stored is None or stored.startswith(f"{PREFIX}{self.current}:")

    def lookup_hash(self, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return hmac.new(self._lookup, normalise(value).encode(), hashlib.sha256).hexdigest()
