"""``GET /metrics``: Prometheus text format, for one scrape per backend process (see backend/metrics.py).

Access: with ``SUFLER_METRICS_TOKEN`` set (required in production) only ``Authorization: Bearer <token>``; without
it, only from loopback (a laptop's own Prometheus). The database-read gauges are refreshed at each scrape.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import func, select

from backend import metrics
from backend.db.models import Lead, LeadStatus, OutboxMessage
from backend.errors import NotAuthenticated, PermissionDenied
from backend.services import Services, ServicesDep

LOOPBACK = frozenset({"127.0.0.1", "::1"})


def _check_access(request: Request[Any, Any, Any], services: Services) -> None:
    token = services.settings.metrics.token
    if token is None:
        if request.client is None or request.client.host not in LOOPBACK:
            raise PermissionDenied("Metrics are served to loopback only until SUFLER_METRICS_TOKEN is set.")
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode()):
        raise NotAuthenticated("Send the metrics token as Authorization: Bearer <SUFLER_METRICS_TOKEN>.")


async def _refresh(services: Services) -> None:
    """The gauges that are read, not counted: open leads, outbox backlog, pool use, rules, degraded time."""
    async with services.db.sessions() as session:
        open_leads = await session.scalar(select(func.count()).select_from(Lead).where(Lead.status == LeadStatus.NEW))
        backlog = (
            await session.execute(
                select(OutboxMessage.topic, func.count())
                .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None))
                .group_by(OutboxMessage.topic)
            )
        ).all()
    metrics.LEADS_OPEN.set(open_leads or 0)
    for topic in ("lead", "bot_reply"):
        metrics.OUTBOX_BACKLOG.labels(topic).set(0)
    for topic, count in backlog:
        metrics.OUTBOX_BACKLOG.labels(topic).set(count)
    metrics.DB_POOL_IN_USE.set(services.db.connections_in_use())
    metrics.RULE_FILE_ERRORS.set(1 if services.copilot.engine.rules.error is not None else 0)
    services.copilot.llm.degraded_clock.tick()


@get("/metrics", tags=["operations"], summary="Prometheus metrics of this process (token or loopback)")
async def metrics_endpoint(request: Request[Any, Any, Any], services: ServicesDep) -> Response[bytes]:
    _check_access(request, services)
    await _refresh(services)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
