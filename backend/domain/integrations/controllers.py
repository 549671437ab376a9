"""The CRM hand-off over HTTP: admins configure webhook endpoints, read their delivery log and replay a delivery;
a CRM or a website form creates a lead with an API key (``POST /integrations/leads``)."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from backend.db.models import Lead, OutboxMessage, WebhookDelivery, WebhookEndpoint
from backend.db.models import User as UserRow
from backend.domain.accounts.access import ADMIN_ONLY
from backend.domain.audit import add_entry
from backend.domain.integrations.webhooks import EVENTS, Webhooks, lead_event, new_secret
from backend.errors import InvalidInput, NotAuthenticated, NotFound, RateLimited
from backend.services import ServicesDep

__all__ = ("WebhookController", "inbound_lead")

URL = r"^https?://[^\s]{1,1990}$"


class EndpointIn(BaseModel):
    url: str = Field(pattern=URL, description="Where events are POSTed.")
    events: list[str] = Field(default=["*"], max_length=len(EVENTS), description=f"* or any of {', '.join(EVENTS)}")
    personal_data: bool = Field(default=False, description="Names, contacts and chat text in the bodies.")
    secret: str | None = Field(
        default=None, pattern=r"^whsec_[A-Za-z0-9+/]{32,}={0,2}$", description="whsec_…; unset: one is generated."
    )


class EndpointChange(BaseModel):
    url: str | None = Field(default=None, pattern=URL)
    events: list[str] | None = Field(default=None, max_length=len(EVENTS))
    personal_data: bool | None = None
    active: bool | None = None
    rotate_secret: bool = Field(default=False, description="A new signing secret (shown once, in this answer).")


class EndpointOut(BaseModel):
    id: int
    url: str
    events: list[str]
    personal_data: bool
    active: bool
    from_settings: bool
    secret: str | None = Field(default=None, description="Shown once, when the endpoint is created.")


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_type: str
    created_at: datetime
    attempts: int
    state: str = Field(description="delivered | retrying | failed | pending")
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    log: list[dict[str, Any]]


def endpoint_out(row: WebhookEndpoint, secret: str | None = None) -> EndpointOut:
    fields = ("id", "url", "events", "personal_data", "active", "from_settings")
    return EndpointOut(**{name: getattr(row, name) for name in fields}, secret=secret)


def delivery_out(row: WebhookDelivery) -> DeliveryOut:
    if row.delivered_at is not None:
        state = "delivered"
    elif row.failed_at is not None:
        state = "failed"
    else:
        state = "retrying" if row.attempts else "pending"
    fields = ("id", "event_id", "event_type", "created_at", "attempts", "delivered_at", "next_attempt_at")
    return DeliveryOut(
        **{name: getattr(row, name) for name in fields},
        state=state,
        last_status=row.last_status,
        last_error=row.last_error,
        log=list(row.log),
    )


class WebhookController(Controller):
    """Webhook endpoints of CRMs, for admins; every change is in the audit log."""

    path = "/integrations/webhooks"
    tags = ("integrations",)
    guards = (ADMIN_ONLY,)

    @get("/", summary="Webhook endpoints")
    async def endpoints(self, services: ServicesDep) -> list[EndpointOut]:
        async with services.db.sessions() as session:
            rows = (await session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))).all()
        return [endpoint_out(row) for row in rows]

    @post("/", status_code=HTTP_201_CREATED, summary="Add an endpoint (its secret is shown once)")
    async def add(
        self, data: JSONBody[EndpointIn], request: Request[UserRow, str, Any], services: ServicesDep
    ) -> EndpointOut:
        webhooks: Webhooks = services.webhooks
        secret = data.secret or new_secret()
        row = WebhookEndpoint(
            url=data.url,
            events=webhooks.check_events(data.events),
            personal_data=data.personal_data,
            secret=webhooks.cipher.encrypt(secret),
            active=True,
            from_settings=False,
        )
        async with services.db.transaction() as session:
            session.add(row)
            await session.flush()
            add_entry(session, request.user.id, "webhook_added", data.url, personal_data=data.personal_data)
        return endpoint_out(row, secret)

    @patch("/{endpoint_id:int}", summary="Change an endpoint; active=false pauses it (its events wait)")
    async def change(
        self,
        endpoint_id: FromPath[int],
        data: JSONBody[EndpointChange],
        request: Request[UserRow, str, Any],
        services: ServicesDep,
    ) -> EndpointOut:
        secret = new_secret() if data.rotate_secret else None
        async with services.db.transaction() as session:
            row = await self._endpoint(session, endpoint_id)
            changes = data.model_dump(exclude_none=True, exclude={"rotate_secret"})
            if "events" in changes:
                services.webhooks.check_events(changes["events"])
            for name, value in changes.items():
                setattr(row, name, value)
            if secret is not None:  # deliveries from now on are signed with it, waiting ones included
                row.secret = services.webhooks.cipher.encrypt(secret) or ""
            add_entry(session, request.user.id, "webhook_changed", row.url, rotated=secret is not None, **changes)
        services.webhooks.poke()  # reactivated: what waited is sent
        return endpoint_out(row, secret)

    @delete("/{endpoint_id:int}", status_code=HTTP_204_NO_CONTENT, summary="Remove an endpoint and its log")
    async def remove(
        self, endpoint_id: FromPath[int], request: Request[UserRow, str, Any], services: ServicesDep
    ) -> None:
        async with services.db.transaction() as session:
            row = await self._endpoint(session, endpoint_id)
            await session.delete(row)
            add_entry(session, request.user.id, "webhook_removed", row.url)

    @get("/{endpoint_id:int}/deliveries", summary="The delivery log of an endpoint, newest first")
    async def deliveries(
        self,
        endpoint_id: FromPath[int],
        services: ServicesDep,
        failed: Annotated[bool, QueryParameter()] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> list[DeliveryOut]:
        """``failed=true``: only those given up (to replay)."""
        query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        if failed:
            query = query.where(WebhookDelivery.failed_at.is_not(None))
        async with services.db.sessions() as session:
            await self._endpoint(session, endpoint_id)
            rows = (await session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit))).all()
        return [delivery_out(row) for row in rows]

    @post("/deliveries/{delivery_id:int}/replay", status_code=HTTP_200_OK, summary="Send a delivery again")
    async def replay(
        self, delivery_id: FromPath[int], request: Request[UserRow, str, Any], services: ServicesDep
    ) -> DeliveryOut:
        delivery = await services.webhooks.replay(delivery_id)
        if delivery is None:
            raise NotFound(f"No delivery {delivery_id}.")
        async with services.db.transaction() as session:
            add_entry(session, request.user.id, "webhook_replayed", delivery.event_id, event=delivery.event_type)
        return delivery_out(delivery)

    @staticmethod
    async def _endpoint(session: Any, endpoint_id: int) -> WebhookEndpoint:
        row: WebhookEndpoint | None = await session.get(WebhookEndpoint, endpoint_id)
        if row is None:
            raise NotFound(f"No webhook endpoint {endpoint_id}.")
        return row


class LeadIn(BaseModel):
    external_id: str = Field(min_length=1, max_length=120, description="The sender's id: the same id, one lead.")
    name: str = Field(default="", max_length=200)
    contact: str | None = Field(default=None, max_length=200, description="Phone or e-mail (stored encrypted).")
    message: str = Field(default="", max_length=4000, description="What the customer wrote (shown as their words).")
    language: str = Field(default="pl", pattern="^(pl|en)$")
    source: str = Field(default="crm", pattern=r"^[a-z][a-z0-9_-]{0,31}$", description="Shown as the lead's channel.")


class LeadCreated(BaseModel):
    lead_id: int
    created: bool = Field(description="False: a lead with this external_id existed (nothing changed).")


@post(
    "/integrations/leads",
    status_code=HTTP_201_CREATED,
    summary="Create a lead (a CRM, a web form)",
    tags=["integrations"],
)
async def inbound_lead(
    data: JSONBody[LeadIn], request: Request[Any, Any, Any], services: ServicesDep
) -> Response[LeadCreated]:
    """Authorization: Bearer <one of SUFLER_CRM_API_KEYS>. Idempotent by (source, external_id)."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    keys = services.settings.crm.keys()
    if not keys:
        raise NotFound("Inbound leads are off (SUFLER_CRM_API_KEYS is not set).")
    key = next((k for k in keys if hmac.compare_digest(given.encode(), k.encode())), None)
    if scheme.lower() != "bearer" or key is None:
        raise NotAuthenticated("A valid API key is needed (Authorization: Bearer …).")
    if not services.inbound_lead_rates.take(key):
        burst = services.settings.crm.leads_burst
        raise RateLimited(f"More than {burst} leads at once with this key; wait a second and send the rest.")
    cipher = services.clients.cipher
    collected: dict[str, Any] = {
        "name": data.name,
        "language": data.language,
        "handover_reason": "asked_for_contact",
        "external_id": data.external_id,
    }
    if data.contact:
        collected.update(contact=cipher.encrypt(data.contact), consent=True)
    transcript = [{"from": "customer", "kind": "text", "text": data.message}] if data.message else []
    if data.source in services.bots.channels:
        raise InvalidInput(f"source {data.source!r} is a bot channel's name; name the CRM or the form instead.")
    async with services.db.transaction() as session:
        lead = await session.scalar(
            insert(Lead)
            .values(
                channel=data.source, external_conversation_id=data.external_id, transcript=transcript, data=collected
            )
            .on_conflict_do_nothing(index_elements=["channel", "external_conversation_id"])
            .returning(Lead)
        )
        created = lead is not None
        if lead is not None:
            session.add(OutboxMessage(topic="lead", payload={"lead_id": lead.id, "channel": lead.channel}))
            await services.webhooks.announce(session, "lead.created", *lead_event(lead, cipher))
        else:
            lead = await session.scalar(
                select(Lead).where(Lead.channel == data.source, Lead.external_conversation_id == data.external_id)
            )
    assert lead is not None
    services.leads.poke()
    services.webhooks.poke()
    status = HTTP_201_CREATED if created else HTTP_200_OK
    return Response(LeadCreated(lead_id=lead.id, created=created), status_code=status)
