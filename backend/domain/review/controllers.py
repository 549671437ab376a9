"""``/review``: the sales lead's view of the team (leads and admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict

from backend.db.models import User
from backend.domain.accounts.access import TEAM_LEADS
from backend.domain.audit import record
from backend.domain.operations.daily import MAX_DAYS, OperationsReport
from backend.domain.review.team import TeamReview
from backend.services import ServicesDep

__all__ = ("ReviewController",)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]


def _review(services: ServicesDep) -> TeamReview:
    return TeamReview(services.db, services.clients.cipher)


class ReviewController(Controller):
    path = "/review"
    tags = ("review",)
    guards = (TEAM_LEADS,)

    @get("/clients", summary="The team's client files with filters, latest activity first")
    async def clients(
        self,
        request: Request[User, str, Any],
        services: ServicesDep,
        owner_id: Annotated[int | None, QueryParameter(description="Only this salesperson's")] = None,
        archetype: Annotated[str | None, QueryParameter(description="Leading archetype slug")] = None,
        indicator: Annotated[str | None, QueryParameter(description="Filter on this indicator's latest value")] = None,
        minimum: Annotated[int, QueryParameter(name="min", ge=0, le=100)] = 0,
        maximum: Annotated[int, QueryParameter(name="max", ge=0, le=100)] = 100,
        since: Annotated[datetime | None, QueryParameter(description="Active since (ISO 8601)")] = None,
        until: Annotated[datetime | None, QueryParameter(description="Active before (ISO 8601)")] = None,
        archived: Annotated[bool | None, QueryParameter()] = None,
    ) -> list[dict[str, Any]]:
        return await _review(services).clients(
            owner_id=owner_id,
            archetype=archetype,
            indicator=indicator,
            minimum=minimum,
            maximum=maximum,
            since=since,
            until=until,
            archived=archived,
        )

    @get("/sessions/{session_id:int}/timeline", summary="A session's full timeline")
    async def timeline(
        self, session_id: FromPath[int], request: Request[User, str, Any], services: ServicesDep
    ) -> dict[str, Any]:
        return await _review(services).timeline(session_id)

    @get("/feedback", summary="Thumbs up/down by archetype, suggestion kind, rule and day")
    async def feedback(
        self,
        request: Request[User, str, Any],
        services: ServicesDep,
        since: Annotated[datetime | None, QueryParameter()] = None,
        until: Annotated[datetime | None, QueryParameter()] = None,
    ) -> dict[str, Any]:
        return await _review(services).feedback_stats(since, until)

    @get("/proposals", summary="Top-rated suggestions proposed as new knowledge, not decided yet")
    async def proposals(self, request: Request[User, str, Any], services: ServicesDep) -> list[dict[str, Any]]:
        return await _review(services).proposals()

    @post("/proposals/{suggestion_id:str}", summary="Approve or reject a proposal", status_code=200)
    async def decide(
        self,
        suggestion_id: FromPath[str],
        data: JSONBody[Decision],
        request: Request[User, str, Any],
        services: ServicesDep,
    ) -> dict[str, Any]:
        return await _review(services).decide(suggestion_id, data.decision == "approve", request.user.id)

    @get("/operations", summary="Per day (UTC): dialogs by channel, LLM calls and times, degraded share, leads")
    async def operations(
        self,
        request: Request[User, str, Any],
        services: ServicesDep,
        days: Annotated[int, QueryParameter(ge=1, le=MAX_DAYS, description="The last N days, today included")] = 14,
    ) -> dict[str, Any]:
        return await OperationsReport(services.db).daily(days)

    @get("/export", summary="Rated suggestions as a fine-tuning data set (JSONL, chat format, no personal data)")
    async def export(
        self,
        request: Request[User, str, Any],
        services: ServicesDep,
        include_rejected: Annotated[bool, QueryParameter(description="Also thumbs-down examples")] = False,
    ) -> Response[str]:
        lines = await _review(services).fine_tuning_lines(positive_only=not include_rejected)
        await record(services.db, request.user.id, "export", "fine-tuning", examples=len(lines))
        return Response(
            "".join(f"{line}\n" for line in lines),
            media_type="application/x-ndjson",
            headers={"Content-Disposition": 'attachment; filename="sufler-fine-tuning.jsonl"'},
        )
