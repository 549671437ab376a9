"""Persistence of cockpit sessions: the session row, every interaction (stored before it is acknowledged), the
AI's responses, memory (summary, key facts) and feedback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert

from backend.db import Database
from backend.db.models import BotConversation, Client, ClientSession, Feedback, Interaction, Lead
from backend.domain.bots.window import window_closed
from backend.domain.protocol import cockpit as p
from backend.errors import NotFound

EARLIER_SESSIONS = 3  # how many of a returning client's previous sessions feed the prompt
EARLIER_FALLBACK_CHARS = 600  # a previous session without a summary is represented by its observations
CHAT_LINES = 100  # the end of a long customer chat is what the salesperson needs


@dataclass(frozen=True, slots=True)
class StoredSession:
    session: ClientSession
    client: Client
    interactions: Sequence[Interaction]
    earlier: list[str]  # summaries of the client's previous sessions, oldest first (for the prompts)
    visits: list[p.EarlierVisit]  # the same sessions as the cockpit shows them, newest first
    prior: dict[str, float]  # the archetype distribution the latest earlier session ended with ({} if none)
    customer_chat: p.CustomerChat | None  # the client came from a bot: its channel and the chat so far


# What a visit ended with, picked out of its latest observation's stored response by PostgreSQL.
_RESPONSE = Interaction.ai_response
_ENDED_WITH = (
    _RESPONSE[("fast_result", "archetypes")].label("archetypes"),
    func.coalesce(_RESPONSE[("assessment", "indicators")], _RESPONSE[("fast_result", "indicators")]).label("shown"),
)


def _visit(row: ClientSession, summary: str, ended: Any) -> tuple[p.EarlierVisit, dict[str, float]]:
    archetypes = list(ended.archetypes or []) if ended is not None else []
    shown = dict(ended.shown or {}) if ended is not None else {}
    visit = p.EarlierVisit(
        session_id=row.id,
        started_at=row.started_at.isoformat(),
        summary=summary,
        key_facts=[str(f) for f in row.key_facts],
        archetype=archetypes[0]["slug"] if archetypes else None,
        archetype_names={},  # named from the pack by the live session (the pack is not the store's)
        indicators={name: int(item["value"]) for name, item in shown.items()},
    )
    return visit, {a["slug"]: float(a["probability"]) for a in archetypes}


def chat_line(speaker: str, text: str) -> dict[str, str]:
    """One line of a customer's chat as the cockpit shows it (:class:`~backend.domain.protocol.cockpit.ChatLine`);
    speaker: customer | bot | salesperson."""
    return {"speaker": speaker, "text": text}


@dataclass(frozen=True, slots=True)
class Recorded:
    interaction_id: int
    duplicate: bool


class SessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def start(self, client_id: int, user_id: int) -> int:
        """A new session of the client; the key facts of its latest session carry over (the salesperson may
        correct them here without changing what that visit recorded)."""
        async with self.db.transaction() as session:
            if await session.get(Client, client_id) is None:
                raise NotFound(f"Client {client_id} does not exist.")
            carried = await session.scalar(
                select(ClientSession.key_facts)
                .where(ClientSession.client_id == client_id)
                .order_by(ClientSession.id.desc())
                .limit(1)
            )
            row = ClientSession(client_id=client_id, user_id=user_id, key_facts=list(carried or []))
            session.add(row)
            await session.flush()
            return row.id

    async def load(self, session_id: int) -> StoredSession:
        async with self.db.sessions() as session:
            row = await session.get(ClientSession, session_id)
            if row is None:
                raise NotFound(f"Session {session_id} does not exist.")
            client = await session.get(Client, row.client_id)
            assert client is not None
            interactions = (
                await session.scalars(
                    select(Interaction).where(Interaction.session_id == session_id).order_by(Interaction.id)
                )
            ).all()
            said_something = select(Interaction.id).where(Interaction.session_id == ClientSession.id).exists()
            earlier_rows = (
                await session.scalars(
                    select(ClientSession)
                    .where(ClientSession.client_id == row.client_id, ClientSession.id < session_id)
                    .where(said_something | (ClientSession.summary != ""))  # not the files only opened
                    .order_by(ClientSession.id.desc())
                    .limit(EARLIER_SESSIONS)
                )
            ).all()
            latest = (
                select(func.max(Interaction.id))
                .where(Interaction.session_id.in_([r.id for r in earlier_rows]), Interaction.kind == "observation")
                .group_by(Interaction.session_id)
            )
            ended = {
                r.session_id: r
                for r in (
                    await session.execute(
                        select(Interaction.session_id, *_ENDED_WITH).where(Interaction.id.in_(latest))
                    )
                ).all()
            }
            visits, priors = [], []
            for previous in earlier_rows:  # newest first
                summary = previous.summary or await self._observations_digest(session, previous.id)
                visit, prior = _visit(previous, summary, ended.get(previous.id))
                visits.append(visit)
                priors.append(prior)
            chat = await self._customer_chat(session, client.id)
        earlier = [v.summary for v in reversed(visits) if v.summary]
        prior = next((found for found in priors if found), {})
        return StoredSession(row, client, interactions, earlier, visits, prior, chat)

    @staticmethod
    async def _customer_chat(session: Any, client_id: int) -> p.CustomerChat | None:
        found = (
            await session.execute(
                select(
                    Lead.channel, BotConversation.transcript, BotConversation.human_active, BotConversation.collected
                )
                .join(
                    BotConversation,
                    (BotConversation.channel == Lead.channel)
                    & (BotConversation.external_id == Lead.external_conversation_id),
                )
                .where(Lead.client_id == client_id)
            )
        ).first()
        if found is None:
            return None
        channel, transcript, human_active, collected = found
        lines = [
            p.ChatLine(speaker=t["from"], text=t["text"])
            for t in transcript
            if t.get("kind") in ("text", "contact", "location")
        ]
        window = "closed" if window_closed(channel, collected.get("customer_at")) else "open"
        return p.CustomerChat(channel=channel, human_active=human_active, lines=lines[-CHAT_LINES:], window=window)

    @staticmethod
    async def _observations_digest(session: Any, session_id: int) -> str:
        texts = (
            await session.scalars(
                select(Interaction.user_input)
                .where(Interaction.session_id == session_id, Interaction.kind == "observation")
                .order_by(Interaction.id)
            )
        ).all()
        return " / ".join(texts)[:EARLIER_FALLBACK_CHARS]

    async def record(self, session_id: int, kind: str, text: str, client_message_id: str) -> Recorded:
        """Store one interaction (committed when this returns); a repeated client_message_id is not stored twice."""
        # One statement: insert, or find the row an earlier send of the same message stored.
        new = (
            insert(Interaction)
            .values(session_id=session_id, kind=kind, user_input=text, client_message_id=client_message_id)
            .on_conflict_do_nothing(index_elements=["session_id", "client_message_id"])
            .returning(Interaction.id, literal(False).label("duplicate"))
            .cte("new")
        )
        existing = select(Interaction.id, literal(True).label("duplicate")).where(
            Interaction.session_id == session_id, Interaction.client_message_id == client_message_id
        )
        query = select(new.c.id, new.c.duplicate).union_all(existing).limit(1)
        row = (await self.db.statement(query)).one()
        return Recorded(row.id, duplicate=row.duplicate)

    async def save_response(self, interaction_id: int, response: p.StoredResponse) -> None:
        """Merge the parts set in ``response`` into the interaction's ai_response (merging twice changes nothing)."""
        parts = literal(response.as_json(), Interaction.ai_response.type)  # sealed like the column
        merged = func.coalesce(Interaction.ai_response, func.jsonb_build_object()).op("||")(parts)
        await self.db.statement(update(Interaction).where(Interaction.id == interaction_id).values(ai_response=merged))

    async def save_key_facts(self, session_id: int, key_facts: list[str]) -> None:
        await self.db.statement(update(ClientSession).where(ClientSession.id == session_id).values(key_facts=key_facts))

    async def save_memory(self, session_id: int, summary: str, key_facts: list[str]) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(ClientSession).where(ClientSession.id == session_id).values(summary=summary, key_facts=key_facts)
            )

    async def end(self, session_id: int) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(ClientSession)
                .where(ClientSession.id == session_id, ClientSession.ended_at.is_(None))
                .values(ended_at=func.now())
            )

    async def feedback(self, session_id: int, suggestion_id: str, rating: int, user_id: int) -> None:
        """Thumbs up/down on a suggestion of this session; rating again replaces the earlier vote, 0 takes it back."""
        interaction_id = int(suggestion_id.split(":", 1)[0])
        async with self.db.transaction() as session:
            owner = await session.scalar(select(Interaction.session_id).where(Interaction.id == interaction_id))
            if owner != session_id:
                raise NotFound(f"Suggestion {suggestion_id} is not part of this session.")
            if rating == 0:
                await session.execute(
                    delete(Feedback).where(
                        Feedback.interaction_id == interaction_id,
                        Feedback.suggestion_id == suggestion_id,
                        Feedback.user_id == user_id,
                    )
                )
                return
            await session.execute(
                insert(Feedback)
                .values(interaction_id=interaction_id, suggestion_id=suggestion_id, rating=rating, user_id=user_id)
                .on_conflict_do_update(
                    index_elements=["interaction_id", "suggestion_id", "user_id"], set_={"rating": rating}
                )
            )
