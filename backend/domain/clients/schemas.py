from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    contact_info: str | None = Field(default=None, max_length=2000)


class ClientPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    contact_info: str | None = Field(default=None, max_length=2000)
    archived: bool | None = None


class ClientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    contact_info: str | None
    owner_id: int
    archived: bool
    archetype: str | None
    archetype_name: str | None = None  # the archetype's name in the user's language (lists show it, not the slug)
    created_at: datetime
    updated_at: datetime


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: int
    user_id: int
    started_at: datetime
    ended_at: datetime | None
    summary: str
    key_facts: list[Any]


class InteractionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    session_id: int
    created_at: datetime
    kind: str
    user_input: str
    ai_response: dict[str, Any] | None
    client_message_id: str | None
