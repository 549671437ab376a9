"""The sales lead's review: the team's client files with filters, a session's whole timeline, thumbs up/down
statistics, and rated suggestions exported as a fine-tuning data set with personal data removed.

What a session showed is read back from what was stored with each observation (``interactions.ai_response``:
the fast result, the assessment with its refined indicators, the moves of each batch) and the ratings.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, literal_column, select, true

from backend.crypto import DataCipher
from backend.db import Database
from backend.db.models import Client, ClientSession, Feedback, Interaction, KnowledgeProposal, User
from backend.db.sealed import unseal_json
from backend.domain.audit import add_entry
from backend.domain.protocol import cockpit as p
from backend.errors import Conflict, NotFound
from backend.redaction import Redactor

__all__ = ("TeamReview",)

MAX_ROWS = 500
MAX_RATED = 50_000  # the newest ratings read for the statistics, proposals and the export
PROPOSAL_MIN_UP = 1  # a suggestion some salesperson found helpful, and nobody more often not
EXPORT_SYSTEM = (
    "You are Sufler, a co-pilot for a salesperson of electric cars in a live conversation. From the salesperson's "
    "observation and the analysis, suggest the next move of the requested kind, with a short reason."
)


def indicator_values(indicators: dict[str, Any] | None) -> dict[str, int]:
    return {name: int(item["value"]) for name, item in (indicators or {}).items()}


# What the statistics, proposals and export need of a rated observation's ai_response, picked out by PostgreSQL:
# the stored responses are tens of kB each, and reading thousands of them whole into Python took seconds.
_RESPONSE = Interaction.ai_response
_SHOWN_INDICATORS = func.coalesce(_RESPONSE[("assessment", "indicators")], _RESPONSE[("fast_result", "indicators")])
_FIRED_RULES = func.jsonb_path_query_array(_RESPONSE, literal_column("'$.fast_result.indicators.*.because[*].rule'"))
# The rated move itself, from whichever batch ("moves", "moves_1", ...) showed it.
_RATED_MOVE = func.jsonb_path_query_first(
    _RESPONSE, literal_column("'$.*.moves[*] ? (@.id == $id)'"), func.jsonb_build_object("id", Feedback.suggestion_id)
)


class Rated(NamedTuple):
    suggestion_id: str
    rating: int
    at: datetime
    observation: str
    archetype: str | None
    rules: list[str] | None = None  # asked for by the statistics
    move: dict[str, Any] | None = None  # these four by the proposals and the export
    indicators: dict[str, Any] | None = None
    language: str | None = None
    module: str | None = None


# Each JSON path makes PostgreSQL unpack the whole stored response again: a query asks only for the group it uses.
_RATED = (
    Feedback.suggestion_id,
    Feedback.rating,
    Feedback.created_at.label("at"),
    Interaction.user_input.label("observation"),
    _RESPONSE[("fast_result", "archetypes", 0, "slug")].astext.label("archetype"),
)
_FOR_STATISTICS = (_FIRED_RULES.label("rules"),)
_FOR_EXAMPLES = (
    _RATED_MOVE.label("move"),
    _SHOWN_INDICATORS.label("indicators"),
    _RESPONSE[("fast_result", "language")].astext.label("language"),
    _RESPONSE[("fast_result", "knowledge", 0, "slug")].astext.label("module"),
)


class TeamReview:
    def __init__(self, db: Database, cipher: DataCipher) -> None:
        self.db = db
        self.cipher = cipher

    async def clients(
        self,
        *,
        owner_id: int | None = None,
        archetype: str | None = None,
        indicator: str | None = None,
        minimum: int = 0,
        maximum: int = 100,
        since: datetime | None = None,
        until: datetime | None = None,
        archived: bool | None = None,
    ) -> list[dict[str, Any]]:
        """The team's client files, latest activity first, each with its owner and latest indicators."""
        query = select(Client, User.username).join(User, User.id == Client.owner_id)
        if owner_id is not None:
            query = query.where(Client.owner_id == owner_id)
        if archetype:
            query = query.where(Client.archetype == archetype)
        if archived is not None:
            query = query.where(Client.archived == archived)
        if since is not None:
            query = query.where(Client.updated_at >= since)
        if until is not None:
            query = query.where(Client.updated_at < until)
        async with self.db.sessions() as session:
            rows = (await session.execute(query.order_by(Client.updated_at.desc()).limit(MAX_ROWS))).all()
            # Each listed client's latest observation, found by id first so that only those responses are read.
            newest = (
                select(func.max(Interaction.id))
                .join(ClientSession, Interaction.session_id == ClientSession.id)
                .where(Interaction.kind == "observation", ClientSession.client_id.in_([c.id for c, _ in rows]))
                .group_by(ClientSession.client_id)
            )
            latest = (
                select(ClientSession.client_id, ClientSession.id, _SHOWN_INDICATORS)
                .join(Interaction, Interaction.session_id == ClientSession.id)
                .where(Interaction.id.in_(newest))
            )
            last = {cid: (sid, indicator_values(shown)) for cid, sid, shown in (await session.execute(latest)).all()}
        files = []
        for client, owner in rows:
            session_id, values = last.get(client.id, (None, {}))
            if indicator and not (values.get(indicator) is not None and minimum <= values[indicator] <= maximum):
                continue
            files.append(
                {
                    "id": client.id,
                    "name": client.name,
                    "contact_info": self.cipher.decrypt(client.contact_info),
                    "owner": owner,
                    "owner_id": client.owner_id,
                    "archetype": client.archetype,
                    "archived": client.archived,
                    "updated_at": client.updated_at.isoformat(),
                    "indicators": values,
                    "latest_session_id": session_id,  # the session of those indicators, for its timeline
                }
            )
        return files

    async def timeline(self, session_id: int) -> dict[str, Any]:
        """Everything of one session in order: observations, the indicators as they moved, the suggestions shown
        and how they were rated."""
        async with self.db.sessions() as session:
            row = await session.get(ClientSession, session_id)
            if row is None:
                raise NotFound(f"Session {session_id} does not exist.")
            steps = (
                await session.scalars(
                    select(Interaction).where(Interaction.session_id == session_id).order_by(Interaction.id)
                )
            ).all()
            votes = (
                await session.execute(
                    select(Feedback.interaction_id, Feedback.suggestion_id, Feedback.rating).where(
                        Feedback.interaction_id.in_([s.id for s in steps])
                    )
                )
            ).all()
        ratings: dict[str, Counter[str]] = {}
        for _, suggestion_id, rating in votes:
            ratings.setdefault(suggestion_id, Counter())["up" if rating > 0 else "down"] += 1
        shown_steps = [(step, p.StoredResponse.model_validate(step.ai_response or {})) for step in steps]
        return {
            "session_id": row.id,
            "client_id": row.client_id,
            "user_id": row.user_id,
            "started_at": row.started_at.isoformat(),
            "ended_at": row.ended_at.isoformat() if row.ended_at else None,
            "summary": row.summary,
            "key_facts": row.key_facts,
            "steps": [
                {
                    "interaction_id": step.id,
                    "at": step.created_at.isoformat(),
                    "kind": step.kind,
                    "text": step.user_input,
                    "archetype": shown.leader(),
                    "indicators": shown.shown_indicators(),
                    "moves": [
                        {
                            "id": m.id,
                            "kind": m.kind,
                            "text": m.text,
                            "batch": batch.batch,
                            "up": ratings.get(m.id, Counter())["up"],
                            "down": ratings.get(m.id, Counter())["down"],
                        }
                        for batch in shown.batches()
                        for m in batch.moves
                    ],
                }
                for step, shown in shown_steps
            ],
        }

    async def _rated(
        self,
        extra: tuple[Any, ...],
        since: datetime | None = None,
        until: datetime | None = None,
        only: list[str] | None = None,
    ) -> list[Rated]:
        """The newest ratings with what was rated, plus the ``extra`` columns (see :class:`Rated`)."""
        query = select(*_RATED, *extra).join(Interaction, Interaction.id == Feedback.interaction_id)
        if since is not None:
            query = query.where(Feedback.created_at >= since)
        if until is not None:
            query = query.where(Feedback.created_at < until)
        if only is not None:
            query = query.where(Feedback.suggestion_id.in_(only))
        async with self.db.sessions() as session:
            rows = (await session.execute(query.order_by(Feedback.id.desc()).limit(MAX_RATED))).all()
        return [Rated(**row._mapping) for row in rows]

    async def feedback_stats(self, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
        """Thumbs up and down by the archetype leading at the time, by suggestion kind, by the rules that had
        fired, and by day."""
        groups: dict[str, dict[str, Counter[str]]] = {"archetype": {}, "kind": {}, "rule": {}, "day": {}}
        for r in await self._rated(_FOR_STATISTICS, since, until):
            vote = "up" if r.rating > 0 else "down"
            keys = {
                "archetype": [r.archetype or "unknown"],
                "kind": [r.suggestion_id.rsplit(":", 1)[-1]],
                "rule": sorted(set(r.rules or [])) or ["(none)"],
                "day": [r.at.date().isoformat()],
            }
            for group, values in keys.items():
                for value in values:
                    groups[group].setdefault(value, Counter())[vote] += 1
        return {
            f"by_{group}": [
                {"key": key, "up": c["up"], "down": c["down"]}
                for key, c in sorted(counts.items(), key=lambda kv: (-(kv[1]["up"] + kv[1]["down"]), kv[0]))
            ]
            for group, counts in groups.items()
        }

    async def fine_tuning_lines(self, *, positive_only: bool = True) -> list[str]:
        """Rated suggestions as chat-format JSONL (system, user: observation and analysis, assistant: the move),
        with phone numbers, e-mails and every client's name removed."""
        async with self.db.sessions() as session:
            names = tuple((await session.scalars(select(Client.name))).all())
        redactor = Redactor(names)
        lines = []
        for r in await self._rated(_FOR_EXAMPLES):
            move = unseal_json(r.move)
            if (positive_only and r.rating <= 0) or move is None:
                continue
            analysis = {"archetype": r.archetype or "", "indicators": indicator_values(r.indicators)}
            user = f"Observation: {r.observation}\nAnalysis: {json.dumps(analysis)}\nKind: {move['kind']}"
            answer = json.dumps({"text": move["text"], "why": move["why"]}, ensure_ascii=False)
            example = {
                "messages": [
                    {"role": "system", "content": EXPORT_SYSTEM},
                    {"role": "user", "content": redactor.text(user)},
                    {"role": "assistant", "content": redactor.text(answer)},
                ],
                "rating": r.rating,
            }
            lines.append(json.dumps(example, ensure_ascii=False))
        return lines

    async def proposals(self, limit: int = 20, suggestion_id: str | None = None) -> list[dict[str, Any]]:
        """Top-rated suggestions not decided yet, proposed as new knowledge: best net rating first, each with the
        knowledge module it arose with (where its strategy would go) and the observation (personal data
        removed)."""
        up = func.count().filter(Feedback.rating > 0)
        down = func.count().filter(Feedback.rating < 0)
        candidates = (
            select(Feedback.suggestion_id, up, down)
            .where(~Feedback.suggestion_id.in_(select(KnowledgeProposal.suggestion_id)))
            .group_by(Feedback.suggestion_id)
            .where(Feedback.suggestion_id == suggestion_id if suggestion_id is not None else true())
            .having(up >= PROPOSAL_MIN_UP, up > down)
            .order_by((up - down).desc(), Feedback.suggestion_id)
            .limit(limit)
        )
        async with self.db.sessions() as session:
            ranked = (await session.execute(candidates)).all()
            names = tuple((await session.scalars(select(Client.name))).all())
        rated = {r.suggestion_id: r for r in await self._rated(_FOR_EXAMPLES, only=[sid for sid, _, _ in ranked])}
        redactor = Redactor(names)
        found = []
        for sid, ups, downs in ranked:
            r = rated.get(sid)
            if r is None or r.move is None:
                continue
            move = unseal_json(r.move)
            found.append(
                {
                    "suggestion_id": sid,
                    "kind": move["kind"],
                    "text": redactor.text(move["text"]),
                    "why": redactor.text(move["why"]),
                    "observation": redactor.text(r.observation),
                    "language": r.language or "pl",
                    "archetype": r.archetype or "",
                    "module": r.module,
                    "up": ups,
                    "down": downs,
                }
            )
            if len(found) == limit:
                break
        return found

    async def decide(self, suggestion_id: str, approve: bool, actor_id: int) -> dict[str, Any]:
        """Record a lead's decision. Approving gives the entry to add to the module's strategies (TOML, both
        languages; the other language to be written by the lead), to save with the pack editor."""
        proposal = next(iter(await self.proposals(suggestion_id=suggestion_id)), None)
        if proposal is None:
            raise NotFound(f"No open proposal {suggestion_id} (decided already, or not rated helpful).")
        if approve:
            language = proposal["language"]
            other = "en" if language == "pl" else "pl"
            # JSON string escapes are valid in TOML basic strings.
            said, to_translate = (
                json.dumps(proposal["text"], ensure_ascii=False),
                json.dumps(proposal["text"] + " [translate]", ensure_ascii=False),
            )
            proposal["draft"] = f"[[strategies]]\n{language} = {said}\n{other} = {to_translate}\n"
        status = "approved" if approve else "rejected"
        async with self.db.transaction() as session:
            exists = await session.scalar(
                select(KnowledgeProposal.id).where(KnowledgeProposal.suggestion_id == suggestion_id)
            )
            if exists is not None:
                raise Conflict("Another lead has decided this proposal already.")
            session.add(
                KnowledgeProposal(suggestion_id=suggestion_id, status=status, proposal=proposal, decided_by=actor_id)
            )
            add_entry(session, actor_id, f"knowledge_proposal_{status}", suggestion_id, module=proposal["module"])
        return {"status": status, **proposal}
