"""The cockpit WebSocket protocol (``/ws/cockpit``), version 1. docs/protocol.md describes it for people.

Every message is a JSON object with ``"v": 1`` and a ``"type"``; both directions are pydantic models in
discriminated unions. :func:`parse_client_message` turns any text into a message or a :class:`ProtocolError`
with a code — never anything else.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

__all__ = (
    "MAX_MESSAGE_BYTES",
    "PROTOCOL_VERSION",
    "ClientMessage",
    "ProtocolError",
    "ServerEvent",
    "parse_client_message",
    "parse_server_event",
)

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 16 * 1024  # larger messages get a "message_too_large" error (the socket stays open)
MAX_TEXT = 4000

MessageId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1


# ---- client → server ----------------------------------------------------------------------------------


class NewClient(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    contact_info: str | None = Field(default=None, max_length=2000)


class OpenSession(_Message):
    """Start a new session for a client (existing ``client_id`` or ``new_client``), or continue ``session_id``."""

    type: Literal["open_session"]
    client_id: int | None = None
    new_client: NewClient | None = None
    session_id: int | None = None


class Observation(_Message):
    type: Literal["observation"]
    client_message_id: MessageId
    text: Text


class Regenerate(_Message):
    """Four other moves for the latest observation."""

    type: Literal["regenerate"]


class Feedback(_Message):
    type: Literal["feedback"]
    suggestion_id: Annotated[str, StringConstraints(pattern=r"^\d+:\d+:[a-z_]+$", max_length=64)]
    rating: Literal[-1, 1]


class AdvisorMessage(_Message):
    type: Literal["advisor"]
    client_message_id: MessageId
    text: Text


class StrategyRequest(_Message):
    type: Literal["strategy"]


class Resume(_Message):
    """After a reconnect: the events of ``session_id`` after ``last_seq``."""

    type: Literal["resume"]
    session_id: int
    last_seq: int = Field(ge=0)


class EndSession(_Message):
    type: Literal["end_session"]


class Ping(_Message):
    type: Literal["ping"]


class ClaimLead(_Message):
    """Take a lead from the inbox: exactly one salesperson wins; the winner gets its new session."""

    type: Literal["claim_lead"]
    lead_id: int


class CustomerReply(_Message):
    """In a session taken from a bot's lead: a message to the customer through the bot's channel (the bot goes
    silent in that conversation); ``hand_back`` lets the bot answer again."""

    type: Literal["customer_reply"]
    text: Text


class HandBack(_Message):
    type: Literal["hand_back"]


ClientMessage = Annotated[
    OpenSession
    | Observation
    | Regenerate
    | Feedback
    | AdvisorMessage
    | StrategyRequest
    | Resume
    | EndSession
    | Ping
    | ClaimLead
    | CustomerReply
    | HandBack,
    Field(discriminator="type"),
]
CLIENT_MESSAGE_TYPES = (
    "open_session",
    "observation",
    "regenerate",
    "feedback",
    "advisor",
    "strategy",
    "resume",
    "end_session",
    "ping",
    "claim_lead",
    "customer_reply",
    "hand_back",
)
_client_messages: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []


def parse_client_message(raw: str | bytes) -> Any:
    """One client message, or :class:`ProtocolError` (message_too_large, malformed_json, unsupported_version,
    unknown_type, invalid_message)."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError("message_too_large", f"Messages are limited to {MAX_MESSAGE_BYTES} bytes ({size} sent).")
    try:
        return _client_messages.validate_json(raw)
    except ValidationError as exc:
        raise _protocol_error(exc) from None


def _protocol_error(exc: ValidationError) -> ProtocolError:
    errors = exc.errors()
    first = errors[0]
    if first["type"] == "json_invalid":
        return ProtocolError("malformed_json", "The message is not valid JSON.")
    if first["type"] in ("model_attributes_type", "model_type") and not first["loc"]:
        return ProtocolError("invalid_message", "A message is a JSON object with a 'type'.")
    if first["type"] == "union_tag_not_found":
        return ProtocolError("invalid_message", "The message has no 'type'.")
    if first["type"] == "union_tag_invalid":
        known = ", ".join(CLIENT_MESSAGE_TYPES)
        return ProtocolError("unknown_type", f"Unknown message type; known types: {known}.")
    if any(e["loc"][1:] == ("v",) for e in errors):
        return ProtocolError("unsupported_version", f"This server speaks protocol version {PROTOCOL_VERSION}.")
    details = [f"{'.'.join(str(p) for p in e['loc'][1:]) or 'message'}: {e['msg']}" for e in errors]
    return ProtocolError("invalid_message", "The message is not valid: " + "; ".join(details), details)


# ---- server → client ----------------------------------------------------------------------------------
# Session events carry the session id and a per-session sequence number (seq); socket-level events (hello,
# status, error, pong) carry neither.


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    v: Literal[1] = 1
    seq: int | None = None
    session_id: int | None = None


class Hello(_Event):
    type: Literal["hello"]
    user: dict[str, Any]
    status: dict[str, Any]
    max_message_bytes: int
    inbox: list[dict[str, Any]] = Field(default_factory=list)  # open leads from the bots


class LeadEvent(_Event):
    """A new lead from a bot, for every connected cockpit (no seq: not part of a session)."""

    type: Literal["lead"]
    lead: dict[str, Any]


class CustomerChannel(_Event):
    """What happened in the customer's chat with a bot (for a client who came from one): someone said something
    (``said``: the customer or the bot), a salesperson's reply was sent (``replied``), or the bot took over again
    (``handed_back``)."""

    type: Literal["customer_channel"]
    action: Literal["said", "replied", "handed_back"]
    speaker: Literal["customer", "bot", "salesperson", ""] = ""
    text: str = ""


class LeadClaimed(_Event):
    type: Literal["lead_claimed"]
    lead_id: int
    by: str


class Status(_Event):
    type: Literal["status"]
    llm: Literal["up", "degraded", "off"]
    model: str | None
    detail: str
    rules_error: str | None = None


class Error(_Event):
    type: Literal["error"]
    code: str
    message: str
    client_message_id: str | None = None
    details: list[str] = Field(default_factory=list)


class Pong(_Event):
    type: Literal["pong"]


class SessionOpened(_Event):
    """Sent on open/continue, and on resume when the missed events are no longer kept: the whole state."""

    type: Literal["session"]
    client: dict[str, Any]
    summary: str
    key_facts: list[str]
    earlier_sessions: int
    history: list[dict[str, Any]]
    latest: dict[str, Any] | None  # the latest fast result, assessment and moves, if any
    ended: bool
    # for a client who came from a bot: {"channel", "human_active", "lines": [{"speaker", "text"}]}
    customer_chat: dict[str, Any] | None = None


class Ack(_Event):
    type: Literal["ack"]
    client_message_id: str
    interaction_id: int
    duplicate: bool


class FastResultEvent(_Event):
    type: Literal["fast_result"]
    interaction_id: int
    language: str
    archetypes: list[dict[str, Any]]
    leader_changed: bool
    knowledge: list[dict[str, Any]]
    cues: list[str]
    indicators: dict[str, dict[str, Any]]
    rules_error: str | None


class AssessmentEvent(_Event):
    type: Literal["assessment"]
    interaction_id: int
    model: str
    assessment: dict[str, Any]
    indicators: dict[str, dict[str, Any]]


class MoveEvent(_Event):
    type: Literal["move"]
    interaction_id: int
    batch: int
    id: str
    kind: str
    text: str
    why: str
    source: str


class MovesEvent(_Event):
    type: Literal["moves"]
    interaction_id: int
    batch: int
    mode: Literal["llm", "degraded"]
    model: str | None
    reason: str | None
    moves: list[dict[str, Any]] = Field(min_length=4, max_length=4)


class AdvisorDelta(_Event):
    type: Literal["advisor_delta"]
    interaction_id: int
    delta: str


class AdvisorDone(_Event):
    type: Literal["advisor_done"]
    interaction_id: int
    mode: Literal["llm", "degraded"]
    model: str | None
    text: str
    reason: str | None


class StrategyEvent(_Event):
    type: Literal["strategy"]
    mode: Literal["llm", "degraded"]
    model: str | None
    reason: str | None
    version: int
    sections: dict[str, list[str]]


class MemoryEvent(_Event):
    type: Literal["memory"]
    summary: str
    key_facts: list[str]


class FeedbackSaved(_Event):
    type: Literal["feedback_saved"]
    suggestion_id: str
    rating: int


class SessionEnded(_Event):
    type: Literal["session_ended"]


ServerEvent = Annotated[
    Hello
    | Status
    | Error
    | Pong
    | SessionOpened
    | Ack
    | FastResultEvent
    | AssessmentEvent
    | MoveEvent
    | MovesEvent
    | AdvisorDelta
    | AdvisorDone
    | StrategyEvent
    | MemoryEvent
    | FeedbackSaved
    | SessionEnded
    | LeadEvent
    | LeadClaimed
    | CustomerChannel,
    Field(discriminator="type"),
]
_server_events: TypeAdapter[ServerEvent] = TypeAdapter(ServerEvent)


def parse_server_event(raw: str | bytes) -> Any:
    """For clients (the cockpit, tests): one server event, validated."""
    return _server_events.validate_json(raw)
