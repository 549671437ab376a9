"""The cockpit logs every salesperson in from its own server; for the login throttle to see who is really trying,
it forwards the browser's address in a header, signed with a key derived from the server secret. The backend
believes the header only when the signature holds — anyone else sending it is judged by their own address.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from litestar.connection import ASGIConnection

__all__ = ("ADDRESS_HEADER", "KEY_VARIABLE", "SIGNATURE_HEADER", "client_address", "forwarding_key", "sign")

ADDRESS_HEADER, SIGNATURE_HEADER = "x-sufler-client-address", "x-sufler-client-signature"
KEY_VARIABLE = "SUFLER_COCKPIT_FORWARDING_KEY"  # how `sufler up` hands the key to the cockpit process


def forwarding_key(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"sufler cockpit client address", hashlib.sha256).hexdigest()


def sign(key: str, address: str) -> str:
    return hmac.new(key.encode(), address.encode(), hashlib.sha256).hexdigest()


def client_address(connection: ASGIConnection[Any, Any, Any, Any], key: str) -> str:
    """The browser's address the cockpit vouches for, else the peer's own."""
    peer = connection.client.host if connection.client else "?"
    forwarded = connection.headers.get(ADDRESS_HEADER)
    signature = connection.headers.get(SIGNATURE_HEADER, "")
    if forwarded and hmac.compare_digest(sign(key, forwarded), signature):
        return forwarded
    return peer
