from __future__ import annotations

import asyncio
from typing import Any, Literal

from litestar import Request, Response, get
from pydantic import BaseModel

from backend import metrics
from backend.services import ServicesDep

CheckStatus = Literal["ok", "degraded", "down"]


class Health(BaseModel):
    status: CheckStatus
    checks: dict[str, CheckStatus]


@get(
    "/health",
    tags=["operations"],
    summary="Liveness: database, vector store, LLM; 503 only when the database is down",
)
async def health(request: Request[Any, Any, Any], services: ServicesDep) -> Response[Health]:
    checks: dict[str, CheckStatus] = {}
    try:
        await services.db.ping()
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "down"
    try:  # the knowledge retrieval's store (local files, or the Qdrant server)
        points = await asyncio.wait_for(asyncio.to_thread(services.copilot.engine.index.size), 2.0)
        metrics.KNOWLEDGE_INDEX_POINTS.set(points)
        checks["vector_store"] = "ok"
    except Exception:
        checks["vector_store"] = "down"
    llm = services.copilot.llm.status.state
    if llm != "off":  # no LLM configured is a choice, not a fault
        checks["llm"] = "ok" if llm == "up" else "degraded"
    # The database is essential: without it nothing typed can be stored, so the service is down. Without the
    # vector store or the LLM the cockpit still works (keywords, playbooks): degraded.
    if checks["database"] == "down":
        status: CheckStatus = "down"
    elif any(v != "ok" for v in checks.values()):
        status = "degraded"
    else:
        status = "ok"
    return Response(Health(status=status, checks=checks), status_code=503 if status == "down" else 200)
