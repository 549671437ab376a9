"""Signatures over whatever bytes arrive: Sufler's outgoing Standard Webhooks signature verifies with the reference
library for any body, and a Meta body verifies only byte for byte (emoji, Polish, escapes, anything)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from backend.adapters.graph_api import GraphApiClient
from backend.domain.bots.channels.meta import WhatsAppChannel
from backend.domain.integrations.webhooks import new_secret, sign
from backend.settings import WhatsAppSettings

SECRET = new_secret()


def channel() -> WhatsAppChannel:
    config = WhatsAppSettings(
        verify_token=SecretStr("v"),
        app_secret=SecretStr("app-secret"),
        access_token=SecretStr("t"),
        phone_number_id="1",
    )
    return WhatsAppChannel(config, GraphApiClient("http://127.0.0.1:9", "v21.0", "t"))


META = channel()


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=2000), event_id=st.from_regex(r"evt_[0-9a-f]{24}", fullmatch=True))
def test_sufler_s_signature_verifies_with_the_reference_library(body: bytes, event_id: str) -> None:
    stamp = int(datetime.now(UTC).timestamp())
    headers = {
        "webhook-id": event_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(SECRET, event_id, stamp, body),
    }
    Webhook(SECRET).verify(body, headers, json_parse=False)
    with pytest.raises(WebhookVerificationError):  # under another secret: never
        Webhook(new_secret()).verify(body, headers, json_parse=False)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=500), flip=st.integers(min_value=0))
def test_a_meta_body_verifies_only_byte_for_byte(text: str, flip: int) -> None:
    body: dict[str, Any] = {"object": "whatsapp_business_account", "entry": [{"text": text}]}
    for raw in (json.dumps(body).encode(), json.dumps(body, ensure_ascii=False).encode()):
        header = "sha256=" + hmac.new(b"app-secret", raw, hashlib.sha256).hexdigest()
        assert META.signed(raw, header)
        changed = bytearray(raw)
        changed[flip % len(raw)] ^= 0x01
        assert not META.signed(bytes(changed), header)
        assert not META.signed(raw, header.replace("sha256=", "sha1="))
