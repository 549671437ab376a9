"""The cockpit WebSocket protocol (``/ws/cockpit``), version 1. docs/protocol.md describes it for people.

Every message is a JSON object with ``"v": 1`` and a ``"type"``; both directions are pydantic models in
discriminated unions. :func:`parse_client_message` turns any text into a message or a :class:`ProtocolError`
with a code — never anything else.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, model_validator

from backend.domain.clients.schemas import ClientOut
from backend.errors import ProtocolError
from backend.inputs import MAX_DEPTH, UnstorableInput, check, too_deep

__all__ = (
    "MAX_MESSAGE_BYTES",
    "PROTOCOL_VERSION",
    "ClientMessage",
    "Event",
    "ProtocolError",
    "ServerEvent",
    "StoredResponse",
    "encode",
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
    rating: Literal[-1, 0, 1]  # 0: the vote taken back


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


class KeyFacts(_Message):
    """The salesperson's correction of the session's key facts: the whole list as it should be (a fact deleted,
    changed or added); carried into the client's next visit."""

    type: Literal["key_facts"]
    key_facts: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]] = Field(
        max_length=40
    )


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
    | HandBack
    | KeyFacts,
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
    "key_facts",
)
_client_messages: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


def parse_client_message(raw: str | bytes) -> Any:
    """One client message, or :class:`ProtocolError` (message_too_large, malformed_json, unsupported_version,
    unknown_type, invalid_message, bad_request: a value the database cannot store)."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError("message_too_large", f"Messages are limited to {MAX_MESSAGE_BYTES} bytes ({size} sent).")
    try:
        if too_deep(raw):
            raise UnstorableInput("message", f"nested deeper than {MAX_DEPTH} levels")
        message = _client_messages.validate_json(raw)
        check(message.model_dump(), "")
    except ValidationError as exc:
        error = _protocol_error(exc)
    except UnstorableInput as exc:
        error = ProtocolError(exc.code, "The message cannot be stored: " + exc.message, exc.details)
    else:
        return message
    # Name the message in the error, so the cockpit stops waiting for its acknowledgement (nothing was stored).
    error.client_message_id = _client_message_id(raw)
    raise error


def _client_message_id(raw: str | bytes) -> str | None:
    try:
        value = json.loads(raw) if not too_deep(raw) else None
    except ValueError:
        return None
    cmid = value.get("client_message_id") if isinstance(value, dict) else None
    return cmid if isinstance(cmid, str) and len(cmid) <= 64 else None


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
# status, error, pong, lead, lead_claimed) carry neither. The parts below are shared by the events, the
# session snapshot and the stored AI response (:class:`StoredResponse`).


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Because(_Part):
    """One named rule that moved an indicator, and by how much."""

    rule: str
    points: int
    reason: str


class Indicator(_Part):
    value: int
    because: list[Because]
    # What the rules' points are added to: value = base + the points of every rule in `because`, kept in 0..100.
    # Absent in responses stored before it was sent.
    base: int | None = None


class ArchetypeScore(_Part):
    slug: str
    name: str
    probability: float
    reasons: list[str]


class KnowledgeCard(_Part):
    slug: str
    title: str
    summary: str
    score: float
    triggers: list[str]


class Move(_Part):
    id: str  # "<interaction_id>:<batch>:<kind>", what feedback refers to
    kind: str
    text: str
    why: str
    source: str  # "llm" or "playbook:<archetype>"


class FastResult(_Part):
    """The fast path's answer to one observation (no LLM)."""

    language: str
    archetypes: list[ArchetypeScore]
    leader: str | None  # the first archetype's slug once it stands out; None: no leader yet
    leader_changed: bool
    knowledge: list[KnowledgeCard]
    cues: list[str]
    indicators: dict[str, Indicator]
    rules_error: str | None

    @model_validator(mode="before")
    @classmethod
    def _stored_before_leaders(cls, data: Any) -> Any:
        # A response stored before the leader was sent: its screen showed the first archetype as the leader.
        if isinstance(data, dict) and "leader" not in data:
            first = next(iter(data.get("archetypes") or []), None)
            return {**data, "leader": first.get("slug") if isinstance(first, dict) else None}
        return data


class AssessmentResult(_Part):
    """The LLM's qualitative assessment and the indicators the rules make of it."""

    model: str
    assessment: dict[str, Any]  # backend.domain.copilot.llm_outputs.Assessment, as the LLM wrote it
    indicators: dict[str, Indicator]


Mode = Literal["llm", "degraded"]


class MovesResult(_Part):
    """Four moves for an observation; batch 0 first, then one batch per "generate others"."""

    interaction_id: int
    batch: int
    mode: Mode
    model: str | None
    reason: str | None
    moves: list[Move] = Field(min_length=4, max_length=4)


class AdvisorAnswer(_Part):
    mode: Mode
    model: str | None
    text: str
    reason: str | None


class StrategyResult(_Part):
    mode: Mode
    model: str | None
    reason: str | None
    version: int
    sections: dict[str, list[str]]


class LatestObservation(_Part):
    interaction_id: int
    fast_result: FastResult | None
    assessment: AssessmentResult | None
    moves: MovesResult | None


class HistoryItem(_Part):
    interaction_id: int
    kind: Literal["observation", "advisor"]
    text: str


class ChatLine(_Part):
    speaker: Literal["customer", "bot", "salesperson"]
    text: str


class EarlierVisit(_Part):
    """One of the client's previous sessions: when, what was said (the summary, else the observations), the key
    facts, and the archetype and indicators it ended with."""

    session_id: int
    started_at: str
    summary: str
    key_facts: list[str]
    archetype: str | None
    archetype_names: dict[str, str]  # its name by language ("pl", "en"): the screen says it in the user's
    indicators: dict[str, int]


class CustomerChat(_Part):
    """For a client who came from a bot: its channel, whether a salesperson has taken over, the chat so far."""

    channel: str
    human_active: bool
    lines: list[ChatLine]
    # WhatsApp, Messenger, Instagram: "closed" when more than 24 hours have passed since the customer last wrote —
    # a reply here is not sent as typed (at most WhatsApp's approved template goes); answer by phone or e-mail
    window: Literal["open", "closed"] = "open"


class UserCard(_Part):
    id: int
    username: str
    role: str


class LeadCard(_Part):
    id: int
    channel: str
    name: str
    contact: str
    archetype: str
    reason: str
    last_message: str
    status: str
    created_at: str | None


class LLMStatus(_Part):
    llm: Literal["up", "degraded", "off"]
    model: str | None
    detail: str
    rules_error: str | None = None


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    v: Literal[1] = 1
    seq: int | None = None
    session_id: int | None = None


class Hello(_Event):
    type: Literal["hello"] = "hello"
    user: UserCard
    status: LLMStatus
    max_message_bytes: int
    inbox: list[LeadCard] = Field(default_factory=list)  # open leads from the bots


class LeadEvent(_Event):
    """A new lead from a bot, for every connected cockpit (no seq: not part of a session)."""

    type: Literal["lead"] = "lead"
    lead: LeadCard


class CustomerChannel(_Event):
    """What happened in the customer's chat with a bot (for a client who came from one): someone said something
    (``said``: the customer or the bot), a salesperson's reply was sent (``replied``), or the bot took over again
    (``handed_back``), or a reply to the customer could not be delivered after every retry (``undelivered``); past
    a channel's 24-hour window a reply went out as the approved template (``template_sent``) or, with none, was not
    sent — answer by phone or e-mail (``outside_window``)."""

    type: Literal["customer_channel"] = "customer_channel"
    action: Literal["said", "replied", "handed_back", "undelivered", "template_sent", "outside_window"]
    speaker: Literal["customer", "bot", "salesperson", ""] = ""
    text: str = ""


class LeadClaimed(_Event):
    type: Literal["lead_claimed"] = "lead_claimed"
    lead_id: int
    by: str


class Status(_Event, LLMStatus):
    type: Literal["status"] = "status"


class Error(_Event):
    type: Literal["error"] = "error"
    code: str
    message: str
    client_message_id: str | None = None
    details: list[str] = Field(default_factory=list)


class Pong(_Event):
    type: Literal["pong"] = "pong"


class SessionOpened(_Event):
    """Sent on open/continue, and on resume when the missed events are no longer kept: the whole state."""

    type: Literal["session"] = "session"
    client: ClientOut  # the client file, as GET /clients/{id} returns it
    summary: str
    key_facts: list[str]
    earlier_sessions: int
    earlier: list[EarlierVisit] = Field(default_factory=list)  # newest first, up to three
    history: list[HistoryItem]
    latest: LatestObservation | None  # the latest fast result, assessment and moves, if any
    ended: bool
    customer_chat: CustomerChat | None = None


class Ack(_Event):
    type: Literal["ack"] = "ack"
    client_message_id: str
    interaction_id: int
    duplicate: bool


class FastResultEvent(_Event, FastResult):
    type: Literal["fast_result"] = "fast_result"
    interaction_id: int


class AssessmentEvent(_Event, AssessmentResult):
    type: Literal["assessment"] = "assessment"
    interaction_id: int


class MoveEvent(_Event, Move):
    """One move as soon as the LLM has written it (the ``moves`` event that follows has all four)."""

    type: Literal["move"] = "move"
    interaction_id: int
    batch: int


class MovesEvent(_Event, MovesResult):
    type: Literal["moves"] = "moves"


class AdvisorDelta(_Event):
    type: Literal["advisor_delta"] = "advisor_delta"
    interaction_id: int
    delta: str


class AdvisorDone(_Event, AdvisorAnswer):
    type: Literal["advisor_done"] = "advisor_done"
    interaction_id: int


class StrategyEvent(_Event, StrategyResult):
    type: Literal["strategy"] = "strategy"


class MemoryEvent(_Event):
    type: Literal["memory"] = "memory"
    summary: str
    key_facts: list[str]


class FeedbackSaved(_Event):
    type: Literal["feedback_saved"] = "feedback_saved"
    suggestion_id: str
    rating: int


class SessionEnded(_Event):
    type: Literal["session_ended"] = "session_ended"


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
Event = _Event  # what a server event is, for type annotations
_server_events: TypeAdapter[ServerEvent] = TypeAdapter(ServerEvent)


def encode(event: _Event) -> str:
    """One server event as the text frame that goes on the wire."""
    return event.model_dump_json()


def parse_server_event(raw: str | bytes) -> ServerEvent:
    """For clients (the cockpit, tests): one server event, validated."""
    return _server_events.validate_json(raw)


class StoredResponse(_Part):
    """What is stored with an observation or advisor question (``interactions.ai_response``, JSONB): every part
    of the AI's answer as it was sent. Regenerated moves are kept as ``moves_1``, ``moves_2``... beside
    ``moves`` (the review's SQL reads these paths; see backend/domain/review/team.py)."""

    model_config = ConfigDict(extra="allow")

    fast_result: FastResult | None = None
    assessment: AssessmentResult | None = None
    moves: MovesResult | None = None
    advisor: AdvisorAnswer | None = None

    @staticmethod
    def moves_key(batch: int) -> str:
        return "moves" if batch == 0 else f"moves_{batch}"

    def batches(self) -> list[MovesResult]:
        """Every batch of moves shown, first batch first."""
        extra = self.model_extra or {}
        keys = sorted((k for k in extra if k.startswith("moves_")), key=lambda k: int(k.removeprefix("moves_")))
        found = [self.moves] if self.moves is not None else []
        return found + [MovesResult.model_validate(extra[k]) for k in keys]

    def shown_indicators(self) -> dict[str, int]:
        """The indicator values the salesperson saw last: refined by the assessment, else the fast path's."""
        shown = self.assessment or self.fast_result
        return {name: item.value for name, item in shown.indicators.items()} if shown is not None else {}

    def leader(self) -> str:
        """The archetype leading after the observation ("" when there was no fast result)."""
        archetypes = self.fast_result.archetypes if self.fast_result is not None else []
        return archetypes[0].slug if archetypes else ""

    def as_json(self) -> dict[str, Any]:
        """The parts that are set, for merging into the stored JSON."""
        return self.model_dump(mode="json", exclude_unset=True)
