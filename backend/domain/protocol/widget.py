"""The web widget protocol (``/bots/web``), version 1. docs/widget-protocol.md describes it for people (a test
checks the page against these models).

Every frame is one JSON object with a ``type``; ``"v": 1`` is sent by the server and may be sent by the widget
(a widget that omits it speaks version 1). :func:`parse_frame` turns any text into a frame or a
:class:`FrameError` with a code — never anything else.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from backend.errors import InvalidInput
from backend.inputs import UnstorableInput, parse_json

__all__ = ("MAX_FRAME", "FrameError", "ServerFrame", "WidgetFrame", "encode", "parse_frame")

PROTOCOL_VERSION = 1
MAX_FRAME = 16_384
MAX_TEXT = 4000


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")

    v: Literal[1] = 1


# ---- widget → server ----------------------------------------------------------------------------------


class Hello(_Frame):
    """The first frame: continue ``conversation_id`` (kept by the widget) or start a new conversation."""

    type: Literal["hello"]
    conversation_id: str | None = None
    language: str = Field(default="", max_length=16)


class Message(_Frame):
    type: Literal["message"]
    id: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class Button(_Frame):
    type: Literal["button"]
    id: str = Field(min_length=1, max_length=100)
    data: str = Field(pattern="^(human|contact)$")


class Contact(_Frame):
    type: Literal["contact"]
    id: str = Field(min_length=1, max_length=100)
    name: str = Field(default="", max_length=200)
    phone: str = Field(min_length=3, max_length=64)
    consent: bool


WidgetFrame = Annotated[Hello | Message | Button | Contact, Field(discriminator="type")]
WIDGET_FRAME_TYPES = ("hello", "message", "button", "contact")
_widget_frames: TypeAdapter[WidgetFrame] = TypeAdapter(WidgetFrame)


# ---- server → widget ----------------------------------------------------------------------------------


class Said(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from")  # customer | bot | salesperson
    text: str


class ReplyButton(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    data: str


class Welcome(_Frame):
    type: Literal["welcome"] = "welcome"
    conversation_id: str
    transcript: list[Said]


class Ack(_Frame):
    type: Literal["ack"] = "ack"
    id: str
    duplicate: bool


class Typing(_Frame):
    type: Literal["typing"] = "typing"


class Reply(_Frame):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: Literal["reply"] = "reply"
    from_: Literal["bot", "salesperson"] = Field(alias="from")
    text: str
    buttons: list[ReplyButton]
    ask_contact: bool


class Error(_Frame):
    type: Literal["error"] = "error"
    code: str
    message: str
    id: str | None = None


ServerFrame = Annotated[Welcome | Ack | Typing | Reply | Error, Field(discriminator="type")]
_server_frames: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)


class FrameError(InvalidInput):
    """A frame that is not valid; ``code`` says how (too_large, invalid_json, unknown_type, invalid_frame...)."""

    def __init__(self, code: str, message: str, frame_id: str | None = None) -> None:
        super().__init__(message)
        self.code, self.frame_id = code, frame_id


def parse_frame(raw: str | bytes) -> WidgetFrame:
    if len(raw) > MAX_FRAME:
        raise FrameError("too_large", f"Frames are limited to {MAX_FRAME} bytes.")
    try:
        data = parse_json(raw)
    except UnstorableInput as exc:
        raise FrameError(exc.code, "The message cannot be stored: " + exc.message) from None
    except ValueError as exc:  # UnicodeDecodeError included
        raise FrameError("invalid_json", "The frame is not JSON.") from exc
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in WIDGET_FRAME_TYPES:
        raise FrameError("unknown_type", f"Unknown frame type {kind!r}; expected one of {sorted(WIDGET_FRAME_TYPES)}.")
    try:
        return _widget_frames.validate_python(data)
    except ValidationError as exc:
        frame_id = data.get("id") if isinstance(data.get("id"), str) else None
        if any(e["loc"][1:] == ("v",) for e in exc.errors()):
            message = f"This server speaks version {PROTOCOL_VERSION}."
            raise FrameError("unsupported_version", message, frame_id) from exc
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
        raise FrameError("invalid_frame", problems, frame_id) from exc


def encode(frame: _Frame) -> str:
    return frame.model_dump_json(by_alias=True)


def parse_server_frame(raw: str | bytes) -> ServerFrame:
    """For clients (tests): one server frame, validated."""
    return _server_frames.validate_json(raw)
