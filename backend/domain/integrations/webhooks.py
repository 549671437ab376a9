"""Lead and client-file events to a CRM: outbound webhooks in the Standard Webhooks scheme, from a durable outbox.

An event is written as one delivery row per subscribed endpoint in the transaction of the change it announces
(committed together, or not at all: at least once). A sender loop posts due deliveries oldest first, in order per
endpoint (a delivery waiting for its retry holds the newer ones of its endpoint back), signs each
(``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>``),
retries with backoff (honouring ``Retry-After``) for about a day, marks each one delivered once, and logs every
attempt for the admins' delivery log, where a replay sends a delivery again with the same id (a receiver
deduplicating by ``webhook-id`` sees it once). Rows are taken ``FOR UPDATE SKIP LOCKED``: two processes never
send the same delivery at once. Bodies carry ids and status; names, contacts and chat text only for endpoints
whose admin enabled personal data. Bodies are stored encrypted.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import or_, select

from backend import metrics
from backend.crypto import DataCipher
from backend.db import Database
from backend.db.models import Client, Lead, WebhookDelivery, WebhookEndpoint
from backend.errors import InvalidInput
from backend.settings import CrmSettings

__all__ = ("EVENTS", "Webhooks", "client_event", "lead_event", "new_secret", "sign")

log = structlog.get_logger(__name__)

EVENTS = (
    "lead.created",
    "lead.claimed",
    "lead.replied",
    "lead.closed",
    "client.created",
    "client.updated",
    "client.archived",
)
# Seconds before try 2, 3, ...: about a day in all, then given up (the delivery log shows it; replay sends it again).
RETRY_DELAYS = (1.0, 5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 3 * 3600.0, 6 * 3600.0, 12 * 3600.0)
POLL_SECONDS = 2.0  # deliveries another process committed are found this soon
LOG_KEPT = 20  # attempts kept per delivery in its log


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 32 random bytes, base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value of these bytes."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def lead_event(lead: Lead, cipher: DataCipher, **more: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what any receiver may get, the personal part) of a lead."""
    data = lead.data or {}
    facts = {
        "lead_id": lead.id,
        "channel": lead.channel,
        "status": lead.status.value if lead.status else "new",
        "client_id": lead.client_id,
        "archetype": data.get("archetype"),
        "handover_reason": data.get("handover_reason"),
        "language": data.get("language"),
        "external_id": data.get("external_id"),  # a CRM's own id of a lead it created
        **more,
    }
    said = [{"from": t.get("from"), "text": t.get("text")} for t in lead.transcript or [] if t.get("kind") == "text"]
    personal = {"name": data.get("name"), "contact": cipher.decrypt(data.get("contact")), "transcript": said}
    return facts, personal


def client_event(client: Client, cipher: DataCipher) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what any receiver may get, the personal part) of a client file."""
    facts = {
        "client_id": client.id,
        "owner_id": client.owner_id,
        "archetype": client.archetype,
        "archived": client.archived,
    }
    return facts, {"name": client.name, "contact": cipher.decrypt(client.contact_info)}


class Webhooks:
    def __init__(self, db: Database, cipher: DataCipher, http: httpx.AsyncClient | None = None) -> None:
        self.db = db
        self.cipher = cipher  # secrets and bodies are stored encrypted
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False)
        self._due = asyncio.Event()
        self._next_retry: float | None = None  # monotonic time of the earliest waiting retry
        self._loop: asyncio.Task[None] | None = None

    # ---- writing events (in the caller's transaction) ----------------------------------------------------

    async def announce(self, session: Any, event_type: str, data: dict[str, Any], personal: dict[str, Any]) -> None:
        """One delivery per endpoint subscribed to ``event_type``; ``personal`` (names, contacts, chat
        text) is added only for endpoints that take personal data. Call :meth:`poke` after the commit."""
        assert event_type in EVENTS, event_type
        # Paused endpoints too: their events wait, in order, until the admin turns them on again.
        endpoints = (await session.scalars(select(WebhookEndpoint))).all()
        now = datetime.now(UTC).isoformat()
        event_id = "evt_" + secrets.token_hex(12)  # one id for the event: the same at every endpoint, every retry
        for endpoint in endpoints:
            if "*" not in endpoint.events and event_type not in endpoint.events:
                continue
            body = {
                "type": event_type,
                "timestamp": now,
                "data": {**data, **(personal if endpoint.personal_data else {})},
            }
            text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            session.add(
                WebhookDelivery(
                    endpoint_id=endpoint.id, event_id=event_id, event_type=event_type, body=self.cipher.encrypt(text)
                )
            )

    def poke(self) -> None:
        self._due.set()

    # ---- endpoints ------------------------------------------------------------------------------------------

    async def sync_settings(self, crm: CrmSettings) -> None:
        """The endpoint of SUFLER_CRM_WEBHOOK_* as a row (kept in step at every start; removed when unset)."""
        async with self.db.transaction() as session:
            row = await session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.from_settings))
            if crm.webhook_url is None or crm.webhook_secret is None:
                if row is not None:  # no longer configured: gone, with its log (a paused one would collect events)
                    await session.delete(row)
                return
            row = row or WebhookEndpoint(from_settings=True)
            row.url = crm.webhook_url
            row.secret = self.cipher.encrypt(crm.webhook_secret.get_secret_value()) or ""
            row.events = crm.webhook_events.split(",")
            row.personal_data = crm.webhook_personal_data
            row.active = True
            session.add(row)

    def secret_of(self, endpoint: WebhookEndpoint) -> str:
        return self.cipher.decrypt(endpoint.secret) or ""

    @staticmethod
    def check_events(events: list[str]) -> list[str]:
        unknown = [e for e in events if e != "*" and e not in EVENTS]
        if unknown or not events:
            raise InvalidInput(f"Unknown events {unknown}; known: * or {', '.join(EVENTS)}.")
        return events

    # ---- sending -------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._due.set()
        self._loop = asyncio.create_task(self._send_loop())

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
        await self._http.aclose()

    async def _send_loop(self) -> None:
        while True:
            wait = POLL_SECONDS
            if self._next_retry is not None:
                wait = min(wait, max(0.0, self._next_retry - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), timeout=wait)
            self._due.clear()
            try:
                await self.send_due()
            except Exception:  # the database may be away: the deliveries stay for the next round
                log.warning("webhooks_not_sent", exc_info=True)

    async def send_due(self) -> int:
        """Send the deliveries that are due, oldest first, in order per endpoint; returns how many arrived."""
        now = datetime.now(UTC)
        pending = (WebhookDelivery.delivered_at.is_(None), WebhookDelivery.failed_at.is_(None))
        sent = 0
        retries: list[datetime] = []
        async with self.db.transaction() as session:
            waiting_rows = (
                await session.execute(
                    select(WebhookDelivery.endpoint_id, WebhookDelivery.next_attempt_at).where(
                        *pending, WebhookDelivery.next_attempt_at > now
                    )
                )
            ).all()
            waiting = {endpoint_id for endpoint_id, _ in waiting_rows}
            retries.extend(due for _, due in waiting_rows if due is not None)
            rows = (
                await session.execute(
                    select(WebhookDelivery, WebhookEndpoint)
                    .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                    .where(
                        *pending,
                        WebhookEndpoint.active,
                        or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
                    )
                    .order_by(WebhookDelivery.id)
                    .limit(200)
                    .with_for_update(of=WebhookDelivery, skip_locked=True)
                )
            ).all()
            for delivery, endpoint in rows:
                if endpoint.id in waiting:  # an older delivery of this endpoint waits: the order holds
                    continue
                retry_at = await self._attempt(delivery, endpoint)
                if retry_at is None:
                    sent += delivery.delivered_at is not None
                else:
                    waiting.add(endpoint.id)
                    retries.append(retry_at)
        soonest = min(retries, default=None)
        self._next_retry = None if soonest is None else time.monotonic() + (soonest - now).total_seconds()
        return sent

    async def _attempt(self, delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> datetime | None:
        """Post one delivery; the time of its retry when it is to be tried again, else None."""
        body = (self.cipher.decrypt(delivery.body) or "").encode()
        stamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "Sufler-Webhooks/1",
            "webhook-id": delivery.event_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(self.secret_of(endpoint), delivery.event_id, stamp, body),
        }
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        retry_after: float | None = None
        try:
            response = await self._http.post(endpoint.url, content=body, headers=headers)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
                retry_after = _retry_after(response.headers.get("retry-after"))
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        seconds = time.monotonic() - started
        now = datetime.now(UTC)
        delivery.attempts += 1
        delivery.last_status, delivery.last_error = status, error
        attempt = {"at": now.isoformat(), "status": status, "error": error, "ms": round(seconds * 1000, 1)}
        delivery.log = [*delivery.log, attempt][-LOG_KEPT:]
        outcome = "delivered" if error is None else "failed"
        metrics.WEBHOOK_DELIVERIES.labels(delivery.event_type, outcome).inc()
        if error is None:
            delivery.delivered_at = now
            metrics.WEBHOOK_DELIVERY_SECONDS.observe((now - delivery.created_at).total_seconds())
            return None
        if delivery.attempts > len(RETRY_DELAYS):
            delivery.failed_at = now
            log.warning("webhook_given_up", endpoint=endpoint.id, event_type=delivery.event_type, reason=error)
            return None
        delay = max(retry_after or 0.0, RETRY_DELAYS[delivery.attempts - 1])
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        log.info("webhook_retry", endpoint=endpoint.id, attempts=delivery.attempts, delay=delay, reason=error)
        return delivery.next_attempt_at

    async def replay(self, delivery_id: int) -> WebhookDelivery | None:
        """Send a delivery again (same id and body), whatever became of it."""
        async with self.db.transaction() as session:
            delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
            if delivery is None:
                return None
            delivery.delivered_at = delivery.failed_at = delivery.next_attempt_at = None
            delivery.attempts = 0
        self.poke()
        return delivery


def _retry_after(value: str | None) -> float | None:
    try:
        return min(float(value), 3600.0) if value else None  # seconds; a receiver cannot park us for days
    except ValueError:
        return None
