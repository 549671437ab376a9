"""The numbers a sales lead or an admin asks for, per day (UTC) and for the whole period, read from the database
(so they are the same whichever backend process answers, and survive restarts — unlike the metrics):

- dialogs: bot conversations begun, by channel, and conversations in the cockpit (sessions begun);
- LLM: calls by outcome, answer time (median, 95th percentile) and time to the first token, tokens;
- degraded share: of the observations that got moves, how many got them from the playbook (no LLM answered);
- leads: handed over by a bot, claimed, and the time from hand-over to claim (median, 95th percentile).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, null, select

from backend.db import Database
from backend.db.models import BotConversation, ClientSession, Interaction, Lead, LLMCall

__all__ = ("IN_PERSON", "MAX_DAYS", "OperationsReport")

MAX_DAYS = 92
IN_PERSON = "cockpit"  # the "channel" of a conversation the salesperson has in person, through the cockpit
ANSWERED = ("ok", "fallback")
FAILED = ("invalid", "unavailable")


def _day(column: Any) -> ColumnElement[str]:
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")


def _percentile(share: float, column: Any, where: ColumnElement[bool] | None = None) -> ColumnElement[Any]:
    found = func.percentile_cont(share).within_group(column)
    return found.filter(where) if where is not None else found


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


class OperationsReport:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def daily(self, days: int = 14, now: datetime | None = None) -> dict[str, Any]:
        """The last ``days`` days (today included), newest first, and their total."""
        days = max(1, min(days, MAX_DAYS))
        today = (now or datetime.now(UTC)).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        since, until = today - timedelta(days=days - 1), today + timedelta(days=1)
        async with self.db.sessions() as session:
            # One snapshot for every query below: the days and their total must agree while sessions write.
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})

            async def both(query: Select[*tuple[Any, ...]], day: ColumnElement[str]) -> list[Any]:
                """The query's aggregates per day, then once more for the whole period (day None)."""
                per_day = (await session.execute(query.add_columns(day.label("day")).group_by(day))).all()
                whole = (await session.execute(query.add_columns(null().label("day")))).all()
                return [*per_day, *whole]

            begun = _day(BotConversation.created_at)
            conversations = (
                await session.execute(
                    select(begun, BotConversation.channel, func.count())
                    .where(BotConversation.created_at >= since, BotConversation.created_at < until)
                    .group_by(begun, BotConversation.channel)
                )
            ).all()
            started = _day(ClientSession.started_at)
            sessions = (
                await session.execute(
                    select(started, func.count())
                    .where(ClientSession.started_at >= since, ClientSession.started_at < until)
                    .group_by(started)
                )
            ).all()
            answered = LLMCall.outcome.in_(ANSWERED)
            llm = await both(
                select(
                    func.count().label("calls"),
                    func.count().filter(LLMCall.outcome == "ok").label("ok"),
                    func.count().filter(LLMCall.outcome == "fallback").label("fallback"),
                    func.count().filter(LLMCall.outcome.in_(FAILED)).label("failed"),
                    func.count().filter(LLMCall.outcome == "cancelled").label("cancelled"),
                    _percentile(0.5, LLMCall.seconds, answered).label("p50"),
                    _percentile(0.95, LLMCall.seconds, answered).label("p95"),
                    _percentile(0.5, LLMCall.first_token_seconds, answered).label("first_token_p50"),
                    func.coalesce(func.sum(LLMCall.prompt_tokens), 0).label("prompt_tokens"),
                    func.coalesce(func.sum(LLMCall.completion_tokens), 0).label("completion_tokens"),
                ).where(LLMCall.at >= since, LLMCall.at < until),
                _day(LLMCall.at),
            )
            mode = Interaction.ai_response[("moves", "mode")].astext
            observations = await both(
                select(
                    func.count().label("observations"),
                    func.count().filter(mode.is_not(None)).label("with_moves"),
                    func.count().filter(mode == "degraded").label("degraded"),
                ).where(
                    Interaction.kind == "observation",
                    Interaction.created_at >= since,
                    Interaction.created_at < until,
                ),
                _day(Interaction.created_at),
            )
            created = await both(
                select(func.count().label("created")).where(Lead.created_at >= since, Lead.created_at < until),
                _day(Lead.created_at),
            )
            waited = func.extract("epoch", Lead.claimed_at - Lead.created_at)
            claimed = await both(
                select(
                    func.count().label("claimed"),
                    _percentile(0.5, waited).label("claim_p50"),
                    _percentile(0.95, waited).label("claim_p95"),
                ).where(Lead.claimed_at >= since, Lead.claimed_at < until),
                _day(Lead.claimed_at),
            )
        report: dict[str | None, dict[str, Any]] = {
            (since + timedelta(days=n)).date().isoformat(): _empty() for n in range(days)
        }
        report[None] = _empty()
        for day, channel, count in conversations:
            for key in (day, None):
                report[key]["dialogs"][channel] = report[key]["dialogs"].get(channel, 0) + count
        for day, count in sessions:
            for key in (day, None):
                report[key]["dialogs"][IN_PERSON] = report[key]["dialogs"].get(IN_PERSON, 0) + count
        for row in llm:
            entry = report[row[-1]]["llm"]
            entry.update(row._mapping)
            entry.pop("day", None)
            for name in ("p50", "p95", "first_token_p50"):
                entry[name] = _seconds(entry[name])
        for row in observations:
            entry = report[row[-1]]
            entry["observations"], entry["with_moves"], entry["degraded"] = row[0], row[1], row[2]
            entry["degraded_share"] = round(row[2] / row[1], 3) if row[1] else None
        for row in created:
            report[row[-1]]["leads"]["created"] = row[0]
        for row in claimed:
            leads = report[row[-1]]["leads"]
            leads["claimed"], leads["claim_p50"], leads["claim_p95"] = row[0], _seconds(row[1]), _seconds(row[2])
        total = report.pop(None)
        return {
            "since": since.date().isoformat(),
            "until": today.date().isoformat(),
            "days": [{"day": day, **entry} for day, entry in sorted(report.items(), reverse=True)],
            "total": total,
        }


def _empty() -> dict[str, Any]:
    return {
        "dialogs": {},
        "llm": {
            "calls": 0,
            "ok": 0,
            "fallback": 0,
            "failed": 0,
            "cancelled": 0,
            "p50": None,
            "p95": None,
            "first_token_p50": None,
            "prompt_tokens": 0,
            "completion_tokens": 0,
        },
        "observations": 0,
        "with_moves": 0,
        "degraded": 0,
        "degraded_share": None,
        "leads": {"created": 0, "claimed": 0, "claim_p50": None, "claim_p95": None},
    }
